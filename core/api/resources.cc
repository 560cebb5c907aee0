#include "core/api/resources.h"

#include <deque>
#include <mutex>
#include <shared_mutex>

namespace kubit::api {
namespace {

const std::vector<std::string> kAllVerbs = {"create", "delete", "deletecollection", "get",
                                            "list",   "patch",  "update",           "watch"};
const std::vector<std::string> kNoCollectionDelete = {"create", "delete", "get", "list",
                                                      "patch",  "update", "watch"};

ResourceType T(std::string group, std::string version, std::string kind, std::string plural,
               std::vector<std::string> shorts, bool namespaced) {
  ResourceType t;
  t.group = std::move(group);
  t.version = std::move(version);
  t.kind = std::move(kind);
  t.plural = std::move(plural);
  t.singular.reserve(t.kind.size());
  for (char c : t.kind) t.singular += static_cast<char>(tolower(static_cast<unsigned char>(c)));
  t.short_names = std::move(shorts);
  t.namespaced = namespaced;
  t.verbs = kAllVerbs;
  t.storage_group = t.group;
  return t;
}

ResourceType WithStatus(ResourceType t) {
  t.has_status = true;
  return t;
}
ResourceType WithScale(ResourceType t) {
  t.has_status = t.has_scale = true;
  return t;
}
ResourceType InAll(ResourceType t) {
  t.categories = {"all"};
  return t;
}
ResourceType CreateOnUpdate(ResourceType t) {
  t.create_on_update = true;
  return t;
}

std::vector<ResourceType> MakeTypes() {
  std::vector<ResourceType> v;
  // core/v1
  auto ns = WithStatus(T("", "v1", "Namespace", "namespaces", {"ns"}, false));
  ns.verbs = {"create", "delete", "get", "list", "patch", "update", "watch"};
  v.push_back(ns);
  v.push_back(CreateOnUpdate(WithStatus(T("", "v1", "Node", "nodes", {"no"}, false))));
  v.push_back(InAll(WithStatus(T("", "v1", "Pod", "pods", {"po"}, true))));
  auto svc = InAll(WithStatus(T("", "v1", "Service", "services", {"svc"}, true)));
  svc.verbs = kNoCollectionDelete;
  v.push_back(svc);
  v.push_back(CreateOnUpdate(T("", "v1", "Endpoints", "endpoints", {"ep"}, true)));
  v.back().singular = "endpoints";
  v.push_back(T("", "v1", "ConfigMap", "configmaps", {"cm"}, true));
  v.push_back(T("", "v1", "Secret", "secrets", {}, true));
  v.push_back(T("", "v1", "ServiceAccount", "serviceaccounts", {"sa"}, true));
  v.push_back(CreateOnUpdate(T("", "v1", "Event", "events", {"ev"}, true)));
  v.push_back(WithStatus(T("", "v1", "PersistentVolume", "persistentvolumes", {"pv"}, false)));
  v.push_back(
      WithStatus(T("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", {"pvc"}, true)));
  v.push_back(WithStatus(T("", "v1", "ResourceQuota", "resourcequotas", {"quota"}, true)));
  v.push_back(T("", "v1", "LimitRange", "limitranges", {"limits"}, true));
  // apps/v1
  v.push_back(InAll(WithScale(T("apps", "v1", "Deployment", "deployments", {"deploy"}, true))));
  v.push_back(InAll(WithScale(T("apps", "v1", "ReplicaSet", "replicasets", {"rs"}, true))));
  v.push_back(InAll(WithScale(T("apps", "v1", "StatefulSet", "statefulsets", {"sts"}, true))));
  v.push_back(InAll(WithStatus(T("apps", "v1", "DaemonSet", "daemonsets", {"ds"}, true))));
  v.push_back(T("apps", "v1", "ControllerRevision", "controllerrevisions", {}, true));
  // batch/v1
  v.push_back(InAll(WithStatus(T("batch", "v1", "Job", "jobs", {}, true))));
  v.push_back(InAll(WithStatus(T("batch", "v1", "CronJob", "cronjobs", {"cj"}, true))));
  // autoscaling
  v.push_back(InAll(WithStatus(
      T("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", {"hpa"}, true))));
  v.push_back(InAll(WithStatus(
      T("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", {"hpa"}, true))));
  // networking.k8s.io/v1
  v.push_back(WithStatus(T("networking.k8s.io", "v1", "Ingress", "ingresses", {"ing"}, true)));
  v.push_back(T("networking.k8s.io", "v1", "IngressClass", "ingressclasses", {}, false));
  v.push_back(T("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", {"netpol"}, true));
  // discovery.k8s.io/v1
  v.push_back(T("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", {}, true));
  // storage.k8s.io/v1
  v.push_back(T("storage.k8s.io", "v1", "StorageClass", "storageclasses", {"sc"}, false));
  // rbac.authorization.k8s.io/v1
  const std::string rbac = "rbac.authorization.k8s.io";
  v.push_back(T(rbac, "v1", "ClusterRole", "clusterroles", {}, false));
  v.push_back(T(rbac, "v1", "ClusterRoleBinding", "clusterrolebindings", {}, false));
  v.push_back(T(rbac, "v1", "Role", "roles", {}, true));
  v.push_back(T(rbac, "v1", "RoleBinding", "rolebindings", {}, true));
  // coordination.k8s.io/v1
  v.push_back(T("coordination.k8s.io", "v1", "Lease", "leases", {}, true));
  // policy/v1
  v.push_back(WithStatus(T("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", {"pdb"}, true)));
  // scheduling.k8s.io/v1
  v.push_back(T("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", {"pc"}, false));
  // events.k8s.io/v1: the same objects as core/v1 events
  auto ev = CreateOnUpdate(T("events.k8s.io", "v1", "Event", "events", {}, true));
  ev.storage_group = "";
  v.push_back(ev);
  // Reviews: answered on create, never stored.
  auto review = [](std::string group, std::string kind, std::string plural, bool namespaced) {
    ResourceType r = T(std::move(group), "v1", std::move(kind), std::move(plural), {}, namespaced);
    r.verbs = {"create"};
    r.create_only = true;
    return r;
  };
  v.push_back(review("authentication.k8s.io", "SelfSubjectReview", "selfsubjectreviews", false));
  v.push_back(review("authentication.k8s.io", "TokenReview", "tokenreviews", false));
  v.push_back(review("authorization.k8s.io", "LocalSubjectAccessReview",
                     "localsubjectaccessreviews", true));
  v.push_back(review("authorization.k8s.io", "SelfSubjectAccessReview",
                     "selfsubjectaccessreviews", false));
  v.push_back(review("authorization.k8s.io", "SelfSubjectRulesReview",
                     "selfsubjectrulesreviews", false));
  v.push_back(review("authorization.k8s.io", "SubjectAccessReview", "subjectaccessreviews", false));
  // apiextensions.k8s.io/v1
  v.push_back(WithStatus(T("apiextensions.k8s.io", "v1", "CustomResourceDefinition",
                           "customresourcedefinitions", {"crd", "crds"}, false)));
  return v;
}

}  // namespace

std::string ResourceType::storage_prefix() const {
  return "/registry/" + (storage_group.empty() ? std::string("core") : storage_group) + "/" +
         plural + "/";
}

std::string ResourceType::storage_key(const std::string& ns, const std::string& name) const {
  return storage_prefix() + (namespaced ? ns + "/" : "") + name;
}

const std::vector<ResourceType>& BuiltinTypes() {
  static const std::vector<ResourceType> types = MakeTypes();
  return types;
}

namespace {

struct CustomTypes {
  std::shared_mutex mu;
  std::deque<ResourceType> all;  // never shrinks: pointers stay valid
  std::vector<const ResourceType*> served;
};

CustomTypes& Custom() {
  static CustomTypes c;
  return c;
}

std::vector<GroupVersions> GroupsOf(const std::vector<const ResourceType*>& types) {
  std::vector<GroupVersions> out;
  for (const ResourceType* tp : types) {
    const ResourceType& t = *tp;
    GroupVersions* g = nullptr;
    for (auto& x : out)
      if (x.group == t.group) g = &x;
    if (!g) {
      out.push_back({t.group, {}});
      g = &out.back();
    }
    bool have = false;
    for (const auto& v : g->versions) have |= v == t.version;
    if (!have) g->versions.push_back(t.version);
  }
  return out;
}

}  // namespace

const ResourceType* FindType(const std::string& group, const std::string& version,
                             const std::string& plural) {
  for (const auto& t : BuiltinTypes())
    if (t.group == group && t.version == version && t.plural == plural) return &t;
  CustomTypes& c = Custom();
  std::shared_lock<std::shared_mutex> lock(c.mu);
  for (const ResourceType* t : c.served)
    if (t->group == group && t->version == version && t->plural == plural) return t;
  return nullptr;
}

void SetCustomTypes(const std::vector<ResourceType>& types) {
  CustomTypes& c = Custom();
  std::unique_lock<std::shared_mutex> lock(c.mu);
  c.served.clear();
  for (const auto& t : types) {
    c.all.push_back(t);
    c.served.push_back(&c.all.back());
  }
}

std::vector<const ResourceType*> ServedTypes() {
  std::vector<const ResourceType*> out;
  for (const auto& t : BuiltinTypes()) out.push_back(&t);
  CustomTypes& c = Custom();
  std::shared_lock<std::shared_mutex> lock(c.mu);
  out.insert(out.end(), c.served.begin(), c.served.end());
  return out;
}

std::vector<GroupVersions> BuiltinGroups() {
  std::vector<const ResourceType*> types;
  for (const auto& t : BuiltinTypes()) types.push_back(&t);
  return GroupsOf(types);
}

std::vector<GroupVersions> ServedGroups() { return GroupsOf(ServedTypes()); }

}  // namespace kubit::api
