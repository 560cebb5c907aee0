// RBAC: Roles, ClusterRoles and their bindings decide what a user may do,
// as upstream's RBAC authorizer (no aggregation). The default roles and
// bindings of upstream's bootstrap policy are created at start when
// missing. Decisions come from an in-memory copy of the RBAC objects that a
// store watch keeps current.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"

namespace kubit::apiserver {

struct UserInfo {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
};

struct Attributes {
  UserInfo user;
  std::string verb;
  bool resource_request = true;
  std::string api_group, resource, subresource, ns, name;  // resource requests
  std::string path;                                        // non-resource requests
};

// Upstream's Forbidden message for `a`: `configmaps "x" is forbidden: User
// "bob" cannot get resource "configmaps" in API group "" in the namespace "d"`.
std::string ForbiddenMessage(const Attributes& a);

class RbacAuthorizer {
 public:
  explicit RbacAuthorizer(store::Store* state);
  ~RbacAuthorizer();
  // Creates the default roles and bindings that are missing, loads every
  // RBAC object and starts following changes.
  store::Status Start();
  void Stop();
  bool Authorize(const Attributes& a) const;
  struct Rule;
  // Every rule that applies to `user` in namespace `ns` (SelfSubjectRulesReview).
  std::vector<Rule> RulesFor(const UserInfo& user, const std::string& ns) const;

  struct Rule {
    std::vector<std::string> verbs, api_groups, resources, resource_names, non_resource_urls;
  };
  struct Binding {
    std::string ns;  // "" for ClusterRoleBindings
    std::string role_kind, role_name;
    std::vector<std::pair<std::string, std::string>> subjects;  // (kind, name[/ns])
  };

 private:
  void Follow(store::Revision from);
  void Apply(const std::string& key, const std::string* value);
  bool Allows(const std::vector<Rule>& rules, const Attributes& a) const;
  // Calls fn with the rules of every binding that names `user` and applies
  // in `ns` ("" : cluster-wide only); fn returns true to stop.
  template <typename Fn>
  void ForEachRuleSet(const UserInfo& user, const std::string& ns, Fn fn) const;

  store::Store* state_;
  mutable std::shared_mutex mu_;
  std::map<std::string, std::vector<Rule>> cluster_roles_;  // name -> rules
  std::map<std::string, std::vector<Rule>> roles_;          // ns/name -> rules
  std::map<std::string, Binding> bindings_;                 // storage key -> binding
  std::unique_ptr<store::Watcher> watcher_;
  std::thread follower_;
  bool stop_ = false;
};

}  // namespace kubit::apiserver
