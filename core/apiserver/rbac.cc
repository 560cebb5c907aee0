#include "core/apiserver/rbac.h"

#include <nlohmann/json.hpp>

#include "core/api/meta.h"
#include "core/api/resources.h"

namespace kubit::apiserver {
namespace {

using api::Json;

const std::string kRbacPrefix = "/registry/rbac.authorization.k8s.io/";

bool Has(const std::vector<std::string>& v, const std::string& x) {
  for (const auto& e : v)
    if (e == x) return true;
  return false;
}

std::vector<std::string> Strings(const Json& j, const char* field) {
  std::vector<std::string> out;
  if (j.contains(field) && j[field].is_array())
    for (const auto& e : j[field])
      if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

// ---- upstream's bootstrap policy, without aggregation ----

Json Rule(std::vector<std::string> groups, std::vector<std::string> resources,
          std::vector<std::string> verbs) {
  return {{"apiGroups", groups}, {"resources", resources}, {"verbs", verbs}};
}
Json UrlRule(std::vector<std::string> urls, std::vector<std::string> verbs) {
  return {{"nonResourceURLs", urls}, {"verbs", verbs}};
}

const std::vector<std::string> kRead = {"get", "list", "watch"};
const std::vector<std::string> kWrite = {"create", "delete", "deletecollection", "patch", "update"};
const std::vector<std::string> kReadWrite = {"create", "delete", "deletecollection", "get",
                                             "list",   "patch",  "update",           "watch"};

// system:aggregated-metrics-reader's rule, which upstream aggregates into
// view, edit and admin (kubectl top).
Json MetricsReaderRule() { return Rule({"metrics.k8s.io"}, {"pods", "nodes"}, kRead); }

// What `view` may read, per group.
std::vector<Json> ViewRules() {
  return {
      Rule({""},
           {"configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status",
            "pods", "pods/log", "pods/status", "replicationcontrollers",
            "replicationcontrollers/scale", "replicationcontrollers/status", "serviceaccounts",
            "services", "services/status", "bindings", "events", "limitranges",
            "resourcequotas", "resourcequotas/status", "namespaces", "namespaces/status"},
           kRead),
      Rule({"apps"},
           {"controllerrevisions", "daemonsets", "daemonsets/status", "deployments",
            "deployments/scale", "deployments/status", "replicasets", "replicasets/scale",
            "replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status"},
           kRead),
      Rule({"autoscaling"}, {"horizontalpodautoscalers", "horizontalpodautoscalers/status"}, kRead),
      Rule({"batch"}, {"cronjobs", "cronjobs/status", "jobs", "jobs/status"}, kRead),
      Rule({"policy"}, {"poddisruptionbudgets", "poddisruptionbudgets/status"}, kRead),
      Rule({"networking.k8s.io"}, {"ingresses", "ingresses/status", "networkpolicies"}, kRead),
      Rule({"discovery.k8s.io"}, {"endpointslices"}, kRead),
      MetricsReaderRule(),
  };
}

std::vector<Json> EditRules() {
  std::vector<Json> r = ViewRules();
  r.push_back(Rule({""},
                   {"configmaps", "endpoints", "persistentvolumeclaims", "pods",
                    "replicationcontrollers", "replicationcontrollers/scale", "secrets",
                    "serviceaccounts", "services", "services/proxy"},
                   kWrite));
  r.push_back(Rule({""}, {"secrets"}, kRead));
  r.push_back(Rule({""}, {"pods/attach", "pods/exec", "pods/portforward", "pods/proxy"},
                   {"create", "get"}));
  r.push_back(Rule({""}, {"pods/eviction", "serviceaccounts/token"}, {"create"}));
  r.push_back(Rule({""}, {"serviceaccounts"}, {"impersonate"}));
  r.push_back(Rule({"apps"},
                   {"daemonsets", "deployments", "deployments/rollback", "deployments/scale",
                    "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"},
                   kWrite));
  r.push_back(Rule({"autoscaling"}, {"horizontalpodautoscalers"}, kWrite));
  r.push_back(Rule({"batch"}, {"cronjobs", "jobs"}, kWrite));
  r.push_back(Rule({"policy"}, {"poddisruptionbudgets"}, kWrite));
  r.push_back(Rule({"networking.k8s.io"}, {"ingresses", "networkpolicies"}, kWrite));
  r.push_back(Rule({"discovery.k8s.io"}, {"endpointslices"}, kWrite));
  r.push_back(Rule({"coordination.k8s.io"}, {"leases"}, kReadWrite));
  return r;
}

std::vector<Json> AdminRules() {
  std::vector<Json> r = EditRules();
  r.push_back(Rule({"rbac.authorization.k8s.io"}, {"rolebindings", "roles"}, kReadWrite));
  r.push_back(Rule({"authorization.k8s.io"}, {"localsubjectaccessreviews"}, {"create"}));
  return r;
}

std::vector<Json> NodeRules() {
  return {
      Rule({""}, {"nodes"}, {"create", "get", "list", "watch", "patch", "update", "delete"}),
      Rule({""}, {"nodes/status"}, {"patch", "update"}),
      Rule({""}, {"pods"}, {"get", "list", "watch", "create", "delete"}),
      Rule({""}, {"pods/status"}, {"patch", "update"}),
      Rule({""}, {"pods/eviction"}, {"create"}),
      Rule({""}, {"services", "endpoints", "configmaps", "secrets", "persistentvolumeclaims",
                  "persistentvolumes"},
           kRead),
      Rule({""}, {"events"}, {"create", "patch", "update"}),
      Rule({"events.k8s.io"}, {"events"}, {"create", "patch", "update"}),
      Rule({""}, {"serviceaccounts/token"}, {"create"}),
      Rule({"coordination.k8s.io"}, {"leases"}, {"create", "delete", "get", "patch", "update"}),
      Rule({"discovery.k8s.io"}, {"endpointslices"}, kRead),
      Rule({"storage.k8s.io"}, {"storageclasses"}, kRead),
      Rule({"networking.k8s.io"}, {"networkpolicies", "ingresses"}, kRead),
  };
}

// system:kube-scheduler as upstream has it, plus priorityclasses: kubit has
// no Priority admission, so the scheduler resolves priorityClassName itself.
std::vector<Json> SchedulerRules() {
  return {
      Rule({"", "events.k8s.io"}, {"events"}, {"create", "patch", "update"}),
      Rule({"coordination.k8s.io"}, {"leases"}, {"create", "get", "update"}),
      Rule({""}, {"nodes"}, kRead),
      Rule({""}, {"pods"}, {"delete", "get", "list", "watch"}),
      Rule({""}, {"bindings", "pods/binding"}, {"create"}),
      Rule({""}, {"pods/status"}, {"patch", "update"}),
      Rule({""}, {"replicationcontrollers", "services", "namespaces", "persistentvolumeclaims",
                  "persistentvolumes"},
           {"get", "list", "watch"}),
      Rule({"apps"}, {"replicasets", "statefulsets"}, {"get", "list", "watch"}),
      Rule({"policy"}, {"poddisruptionbudgets"}, {"get", "list", "watch"}),
      Rule({"scheduling.k8s.io"}, {"priorityclasses"}, kRead),
      Rule({"storage.k8s.io"}, {"storageclasses", "csinodes", "csidrivers", "csistoragecapacities"}, kRead),
      Rule({"authentication.k8s.io"}, {"tokenreviews"}, {"create"}),
      Rule({"authorization.k8s.io"}, {"subjectaccessreviews"}, {"create"}),
  };
}

struct DefaultRole {
  const char* name;
  std::vector<Json> rules;
};

std::vector<DefaultRole> DefaultClusterRoles() {
  return {
      {"cluster-admin", {Rule({"*"}, {"*"}, {"*"}), UrlRule({"*"}, {"*"})}},
      {"admin", AdminRules()},
      {"edit", EditRules()},
      {"view", ViewRules()},
      {"system:discovery",
       {UrlRule({"/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi",
                 "/openapi/*", "/readyz", "/version", "/version/"},
                {"get"})}},
      {"system:basic-user",
       {Rule({"authentication.k8s.io"}, {"selfsubjectreviews"}, {"create"}),
        Rule({"authorization.k8s.io"}, {"selfsubjectaccessreviews", "selfsubjectrulesreviews"},
             {"create"})}},
      {"system:public-info-viewer",
       {UrlRule({"/healthz", "/livez", "/readyz", "/version", "/version/"}, {"get"})}},
      {"system:node", NodeRules()},
      {"system:kube-scheduler", SchedulerRules()},
      // The scheduler's VolumeBinding names the node on delayed-binding claims.
      {"system:volume-scheduler",
       {Rule({""}, {"persistentvolumes"}, {"get", "list", "patch", "update", "watch"}),
        Rule({"storage.k8s.io"}, {"storageclasses"}, {"get", "list", "watch"}),
        Rule({""}, {"persistentvolumeclaims"}, {"get", "list", "patch", "update", "watch"})}},
      {"system:aggregated-metrics-reader", {MetricsReaderRule()}},
  };
}

struct DefaultBinding {
  const char* name;
  const char* role;
  std::vector<const char*> groups;
  std::vector<const char*> users;
};

const std::vector<DefaultBinding> kDefaultBindings = {
    {"cluster-admin", "cluster-admin", {"system:masters"}},
    {"system:discovery", "system:discovery", {"system:authenticated"}},
    {"system:basic-user", "system:basic-user", {"system:authenticated"}},
    {"system:public-info-viewer", "system:public-info-viewer",
     {"system:authenticated", "system:unauthenticated"}},
    {"system:kube-scheduler", "system:kube-scheduler", {}, {"system:kube-scheduler"}},
    {"system:volume-scheduler", "system:volume-scheduler", {}, {"system:kube-scheduler"}},
};

Json BootstrapMeta(const std::string& name) {
  return {{"name", name},
          {"uid", api::NewUID()},
          {"creationTimestamp", api::Now()},
          {"labels", {{"kubernetes.io/bootstrapping", "rbac-defaults"}}},
          {"annotations", {{"rbac.authorization.kubernetes.io/autoupdate", "true"}}}};
}

bool Matches(const std::vector<std::string>& allowed, const std::string& v) {
  return Has(allowed, "*") || Has(allowed, v);
}

}  // namespace

std::string ForbiddenMessage(const Attributes& a) {
  std::string who = "User \"" + a.user.name + "\"";
  if (!a.resource_request) return "forbidden: " + who + " cannot " + a.verb + " path \"" + a.path + "\"";
  std::string res = a.resource + (a.subresource.empty() ? "" : "/" + a.subresource);
  std::string group_res = a.resource + (a.api_group.empty() ? "" : "." + a.api_group);
  std::string head = group_res + (a.name.empty() ? "" : " \"" + a.name + "\"") + " is forbidden: ";
  std::string scope = a.ns.empty() ? " at the cluster scope" : " in the namespace \"" + a.ns + "\"";
  return head + who + " cannot " + a.verb + " resource \"" + res + "\" in API group \"" +
         a.api_group + "\"" + scope;
}

RbacAuthorizer::RbacAuthorizer(store::Store* state) : state_(state) {}

RbacAuthorizer::~RbacAuthorizer() { Stop(); }

void RbacAuthorizer::Stop() {
  stop_ = true;
  if (watcher_) watcher_->Cancel();
  if (follower_.joinable()) follower_.join();
  watcher_.reset();
}

store::Status RbacAuthorizer::Start() {
  const std::string crole = kRbacPrefix + "clusterroles/", cbind = kRbacPrefix + "clusterrolebindings/";
  for (const auto& r : DefaultClusterRoles()) {
    Json o = {{"apiVersion", "rbac.authorization.k8s.io/v1"},
              {"kind", "ClusterRole"},
              {"metadata", BootstrapMeta(r.name)},
              {"rules", r.rules}};
    // The labels metrics-server's manifest gives it.
    if (std::string(r.name) == "system:aggregated-metrics-reader")
      for (const char* to : {"admin", "edit", "view"})
        o["metadata"]["labels"][std::string("rbac.authorization.k8s.io/aggregate-to-") + to] = "true";
    store::Status s = state_->Create(crole + r.name, o.dump());
    if (!s.ok() && !s.IsAlreadyExists()) return s;
  }
  for (const auto& b : kDefaultBindings) {
    Json subjects = Json::array();
    for (const char* g : b.groups)
      subjects.push_back({{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Group"}, {"name", g}});
    for (const char* u : b.users)
      subjects.push_back({{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "User"}, {"name", u}});
    Json o = {{"apiVersion", "rbac.authorization.k8s.io/v1"},
              {"kind", "ClusterRoleBinding"},
              {"metadata", BootstrapMeta(b.name)},
              {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", b.role}}},
              {"subjects", subjects}};
    store::Status s = state_->Create(cbind + b.name, o.dump());
    if (!s.ok() && !s.IsAlreadyExists()) return s;
  }
  store::ListResult all;
  store::Status s = state_->List(kRbacPrefix, {}, &all);
  if (!s.ok()) return s;
  for (const auto& kv : all.items) Apply(kv->key, &kv->value);
  s = state_->Watch(kRbacPrefix, all.revision + 1, &watcher_);
  if (!s.ok()) return s;
  follower_ = std::thread([this] { Follow(0); });
  return store::Status::Ok();
}

void RbacAuthorizer::Follow(store::Revision) {
  while (!stop_) {
    std::vector<store::EventPtr> events;
    store::Status s = watcher_->Next(&events, std::chrono::milliseconds(1000));
    if (!s.ok()) {
      if (stop_) return;
      // Fell behind or history compacted: load everything again.
      store::ListResult all;
      if (!state_->List(kRbacPrefix, {}, &all).ok()) continue;
      {
        std::unique_lock<std::shared_mutex> lock(mu_);
        cluster_roles_.clear();
        roles_.clear();
        bindings_.clear();
      }
      for (const auto& kv : all.items) Apply(kv->key, &kv->value);
      state_->Watch(kRbacPrefix, all.revision + 1, &watcher_);
      continue;
    }
    for (const auto& ev : events)
      Apply(ev->kv->key, ev->type == store::Event::Type::kDeleted ? nullptr : &ev->kv->value);
  }
}

void RbacAuthorizer::Apply(const std::string& key, const std::string* value) {
  // key: <prefix><plural>/[<ns>/]<name>
  std::string rest = key.substr(kRbacPrefix.size());
  std::string plural = rest.substr(0, rest.find('/'));
  std::string id = rest.substr(plural.size() + 1);
  std::unique_lock<std::shared_mutex> lock(mu_);
  if (!value) {
    if (plural == "clusterroles") cluster_roles_.erase(id);
    if (plural == "roles") roles_.erase(id);
    bindings_.erase(key);
    return;
  }
  Json o;
  try {
    o = Json::parse(*value);
  } catch (...) {
    return;
  }
  if (plural == "clusterroles" || plural == "roles") {
    std::vector<Rule> rules;
    if (o.contains("rules") && o["rules"].is_array())
      for (const auto& r : o["rules"])
        rules.push_back({Strings(r, "verbs"), Strings(r, "apiGroups"), Strings(r, "resources"),
                         Strings(r, "resourceNames"), Strings(r, "nonResourceURLs")});
    (plural == "clusterroles" ? cluster_roles_ : roles_)[id] = std::move(rules);
  } else if (plural == "clusterrolebindings" || plural == "rolebindings") {
    Binding b;
    if (plural == "rolebindings") b.ns = id.substr(0, id.find('/'));
    const Json& ref = o.value("roleRef", Json::object());
    b.role_kind = ref.value("kind", "");
    b.role_name = ref.value("name", "");
    if (o.contains("subjects") && o["subjects"].is_array())
      for (const auto& s : o["subjects"]) {
        std::string kind = s.value("kind", ""), name = s.value("name", "");
        if (kind == "ServiceAccount") {
          std::string ns = s.value("namespace", b.ns);
          name = "system:serviceaccount:" + ns + ":" + name;
        }
        b.subjects.emplace_back(kind, name);
      }
    bindings_[key] = std::move(b);
  }
}

bool RbacAuthorizer::Allows(const std::vector<Rule>& rules, const Attributes& a) const {
  std::string res = a.resource + (a.subresource.empty() ? "" : "/" + a.subresource);
  for (const auto& r : rules) {
    if (!Matches(r.verbs, a.verb)) continue;
    if (!a.resource_request) {
      for (const auto& u : r.non_resource_urls)
        if (u == "*" || u == a.path || (u.size() > 1 && u.back() == '*' &&
                                        a.path.compare(0, u.size() - 1, u, 0, u.size() - 1) == 0))
          return true;
      continue;
    }
    if (!Matches(r.api_groups, a.api_group)) continue;
    bool res_ok = Has(r.resources, "*") || Has(r.resources, res) ||
                  (!a.subresource.empty() && Has(r.resources, "*/" + a.subresource));
    if (!res_ok) continue;
    if (!r.resource_names.empty() && !Has(r.resource_names, a.name)) continue;
    return true;
  }
  return false;
}

template <typename Fn>
void RbacAuthorizer::ForEachRuleSet(const UserInfo& user, const std::string& ns, Fn fn) const {
  auto subject_matches = [&](const std::pair<std::string, std::string>& s) {
    if (s.first == "User" || s.first == "ServiceAccount") return s.second == user.name;
    if (s.first == "Group") return Has(user.groups, s.second);
    return false;
  };
  std::shared_lock<std::shared_mutex> lock(mu_);
  for (const auto& [key, b] : bindings_) {
    if (!b.ns.empty() && b.ns != ns) continue;
    bool subject = false;
    for (const auto& s : b.subjects) subject = subject || subject_matches(s);
    if (!subject) continue;
    const std::vector<Rule>* rules = nullptr;
    if (b.role_kind == "ClusterRole") {
      auto it = cluster_roles_.find(b.role_name);
      if (it != cluster_roles_.end()) rules = &it->second;
    } else if (b.role_kind == "Role") {
      auto it = roles_.find(b.ns + "/" + b.role_name);
      if (it != roles_.end()) rules = &it->second;
    }
    if (rules && fn(*rules)) return;
  }
}

bool RbacAuthorizer::Authorize(const Attributes& a) const {
  bool allowed = false;
  // Non-resource URLs are granted by cluster-wide bindings only.
  ForEachRuleSet(a.user, a.resource_request ? a.ns : "", [&](const std::vector<Rule>& rules) {
    allowed = Allows(rules, a);
    return allowed;
  });
  return allowed;
}

std::vector<RbacAuthorizer::Rule> RbacAuthorizer::RulesFor(const UserInfo& user,
                                                          const std::string& ns) const {
  std::vector<Rule> out;
  ForEachRuleSet(user, ns, [&](const std::vector<Rule>& rules) {
    out.insert(out.end(), rules.begin(), rules.end());
    return false;
  });
  return out;
}

}  // namespace kubit::apiserver
