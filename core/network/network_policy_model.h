// What networking.k8s.io/v1 NetworkPolicies mean for the pods of one node,
// as net/network_policy_rules.h's plain model: a pod is isolated for
// ingress (egress) once a policy of its namespace whose podSelector
// matches it has Ingress (Egress) among its policyTypes (defaulted as
// upstream when absent: Ingress, and Egress when egress rules exist);
// then the union of those policies' rules is what passes.
//
// Peers resolve to pod IPs anywhere in the cluster: podSelector alone
// (pods of the policy's namespace), namespaceSelector alone (every pod of
// the selected namespaces), both (the selected pods of the selected
// namespaces), ipBlock (a CIDR less its excepts; host bits are ignored).
// A rule with no peers allows every peer, with no ports every port.
// Ports: a number, a range (endPort), or a container port's name, looked
// up in the isolated pod for ingress and in each peer pod for egress (a
// name no pod has allows nothing; names are not resolved for ipBlock
// peers, as upstream leaves it to implementations). Pods without an IP,
// finished pods and hostNetwork pods are neither guarded nor peers.
#pragma once

#include <string>
#include <vector>

#include "core/client/informer.h"
#include "net/network_policy_rules.h"

namespace kubit::network {

std::vector<net::PodPolicy> NetworkPolicyModel(const std::vector<client::ObjectPtr>& policies,
                                               const std::vector<client::ObjectPtr>& pods,
                                               const std::vector<client::ObjectPtr>& namespaces,
                                               const std::string& node_name);

}  // namespace kubit::network
