// NodeAuthorizer: what a node (user system:node:<name>, group
// system:nodes) may do, as upstream's Node authorizer and NodeRestriction
// admission decide it. A node reads the secrets, configmaps, claims and
// volumes only of pods bound to it, gets tokens only for their service
// accounts, writes only its own Node, Lease and the status of its own
// pods, deletes only its own pods; it also gets the TLS Secrets of the
// Ingresses that kubit's ingress proxy (on every node) serves. For nodes
// this authorizer decides alone: no RBAC binding widens it.
//
// Which pod uses what comes from a store watch of the pods (the "graph"),
// kept in memory like the RBAC cache.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>

#include "core/apiserver/rbac.h"
#include "store/store.h"

namespace kubit::apiserver {

class NodeAuthorizer {
 public:
  explicit NodeAuthorizer(store::Store* state) : state_(state) {}
  ~NodeAuthorizer();
  store::Status Start();
  void Stop();

  // The node's name if `user` is a node identity.
  static bool IsNode(const UserInfo& user, std::string* node);
  // The decision for a request of node `node`.
  bool Authorize(const std::string& node, const Attributes& a) const;

 private:
  // What one pod bound to a node refers to.
  struct PodRefs {
    std::string node, ns, service_account;
    std::set<std::string> secrets, configmaps, claims;
  };
  void Follow();
  void Apply(const std::string& key, const std::string* value);
  // Some pod of `node` in `ns` refers to `name` through `field`.
  bool Reaches(const std::string& node, const std::string& ns, const std::string& name,
               std::set<std::string> PodRefs::*field) const;
  bool ReachesServiceAccount(const std::string& node, const std::string& ns, const std::string& name) const;
  bool ReachesVolume(const std::string& node, const std::string& pv) const;
  bool PodOnNode(const std::string& node, const std::string& ns, const std::string& name) const;
  // Named for TLS by an Ingress that kubit's ingress proxy serves.
  bool IngressTLSSecret(const std::string& ns, const std::string& name) const;

  store::Store* state_;
  mutable std::shared_mutex mu_;
  std::map<std::string, PodRefs> pods_;  // "ns/name" -> refs
  std::unique_ptr<store::Watcher> watcher_;
  std::thread follower_;
  bool stop_ = false;
};

}  // namespace kubit::apiserver
