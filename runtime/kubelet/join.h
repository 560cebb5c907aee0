// Joining a cluster: what `kubit agent --server URL --token K10...` does
// before anything else. The CA is fetched from the server and checked
// against the hash in the token before any secret is sent; then the
// server issues this node's client certificate (CN=system:node:<name>,
// O=system:nodes). The result is written as <data-dir>/agent/kubelet.kubeconfig
// (0600), and reused on later starts while the server and certificate
// still fit. See core/apiserver/node_join.h for the server's side.
#pragma once

#include <string>

#include "core/client/config.h"

namespace kubit::kubelet {

struct JoinOptions {
  std::string server_url;  // "https://host:6443"
  std::string token;       // K10<sha256 of the CA>::server:<secret>
  std::string data_dir;
  std::string node_name;
};

// Joins (or reuses an earlier join) and fills *config for the kubelet's
// client. False with *error saying what failed: a malformed token, a CA
// that does not match the token ("the server's CA does not match the
// token: ..."), the server refusing the token or the node's name.
bool JoinCluster(const JoinOptions& opts, client::Config* config, std::string* error);

// The network settings every node shares with the server (its
// /v1-kubit/config), as the server's flags set them.
struct ClusterNetwork {
  std::string cluster_cidr;  // every node's pods, "10.42.0.0/16"
  std::string service_cidr;
  std::string cluster_dns;
  std::string cluster_domain;
  std::string flannel_backend;  // "vxlan" or "none"
};

// Asks the server (after JoinCluster: `config` trusts its CA) and keeps
// the answer in <data-dir>/agent/cluster-network.json; when the server
// cannot be reached, the kept answer is used, so an agent starts while the
// server is away. False with *error when neither is there.
bool FetchClusterNetwork(const JoinOptions& opts, const client::Config& config, ClusterNetwork* out,
                         std::string* error);

// Where the kubeconfig goes under a data dir.
std::string KubeletKubeconfigPath(const std::string& data_dir);

}  // namespace kubit::kubelet
