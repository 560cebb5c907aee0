// What a node's network policy controller reads, through the Node
// authorizer (which decides alone for nodes): NetworkPolicies, Pods and
// Namespaces of the whole cluster, read only, as kube-router's role in
// k3s reads them (peers are selected among every node's pods).
#include <doctest/doctest.h>

#include "core/apiserver/node_authorizer.h"

using kubit::apiserver::Attributes;
using kubit::apiserver::NodeAuthorizer;

namespace {

Attributes Request(const std::string& verb, const std::string& group, const std::string& resource,
                   const std::string& ns = "", const std::string& name = "") {
  Attributes a;
  a.user.name = "system:node:n1";
  a.user.groups = {"system:nodes"};
  a.verb = verb;
  a.api_group = group;
  a.resource = resource;
  a.ns = ns;
  a.name = name;
  return a;
}

}  // namespace

TEST_CASE("netpol authz: a node lists and watches networkpolicies, pods and namespaces cluster-wide, and writes none") {
  NodeAuthorizer authz(nullptr);  // these decisions need no pod graph
  for (const char* verb : {"list", "watch", "get"}) {
    CHECK(authz.Authorize("n1", Request(verb, "networking.k8s.io", "networkpolicies")));
    CHECK(authz.Authorize("n1", Request(verb, "networking.k8s.io", "networkpolicies", "other")));
    CHECK(authz.Authorize("n1", Request(verb, "", "pods")));  // every node's pods: peers of selectors
    CHECK(authz.Authorize("n1", Request(verb, "", "namespaces")));
  }
  for (const char* verb : {"create", "update", "patch", "delete", "deletecollection"}) {
    CHECK(!authz.Authorize("n1", Request(verb, "networking.k8s.io", "networkpolicies", "default", "np")));
    CHECK(!authz.Authorize("n1", Request(verb, "", "namespaces", "", "default")));
  }
  // Not another node's pods to change.
  CHECK(!authz.Authorize("n1", Request("update", "", "pods", "default", "p")));
}
