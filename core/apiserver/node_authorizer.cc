#include "core/apiserver/node_authorizer.h"

#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/api/resources.h"

namespace kubit::apiserver {
namespace {

using Json = nlohmann::json;

const std::string& PodsPrefix() {
  static const std::string p = api::FindType("", "v1", "pods")->storage_prefix();
  return p;
}

bool ReadVerb(const std::string& v) { return v == "get" || v == "list" || v == "watch"; }

void AddName(std::set<std::string>* to, const Json& obj, const char* field) {
  if (obj.is_object() && obj.contains(field) && obj[field].is_string() && !obj[field].get<std::string>().empty())
    to->insert(obj[field].get<std::string>());
}

const Json& Member(const Json& o, const char* k) {
  static const Json null;
  return o.is_object() && o.contains(k) ? o[k] : null;
}

// A node may read a PersistentVolume the local-path provisioner placed on
// it, or learn that one is gone: its kubelet removes the directory of a
// deleted local volume (runtime/kubelet/volumes_local_path.h), and after
// the claim's pods have left no pod of the node reaches the volume.
bool LocalVolumeOfNodeOrGone(store::Store* state, const std::string& node, const std::string& pv) {
  static const api::ResourceType& volumes = *api::FindType("", "v1", "persistentvolumes");
  store::KeyValue kv;
  store::Status s = state->Get(volumes.storage_key("", pv), &kv);
  if (s.IsNotFound()) return true;
  if (!s.ok()) return false;
  Json v = Json::parse(kv.value, nullptr, false);
  return Member(Member(Member(v, "metadata"), "annotations"), "local.path.provisioner/selected-node") == node;
}

}  // namespace

NodeAuthorizer::~NodeAuthorizer() { Stop(); }

bool NodeAuthorizer::IsNode(const UserInfo& user, std::string* node) {
  const std::string prefix = "system:node:";
  if (user.name.rfind(prefix, 0) != 0 || user.name.size() == prefix.size()) return false;
  for (const auto& g : user.groups)
    if (g == "system:nodes") {
      *node = user.name.substr(prefix.size());
      return true;
    }
  return false;
}

store::Status NodeAuthorizer::Start() {
  store::ListResult all;
  store::Status s = state_->List(PodsPrefix(), {}, &all);
  if (!s.ok()) return s;
  for (const auto& kv : all.items) Apply(kv->key, &kv->value);
  s = state_->Watch(PodsPrefix(), all.revision + 1, &watcher_);
  if (!s.ok()) return s;
  follower_ = std::thread([this] { Follow(); });
  return store::Status::Ok();
}

void NodeAuthorizer::Stop() {
  stop_ = true;
  if (watcher_) watcher_->Cancel();
  if (follower_.joinable()) follower_.join();
  watcher_.reset();
}

void NodeAuthorizer::Follow() {
  while (!stop_) {
    std::vector<store::EventPtr> events;
    store::Status s = watcher_->Next(&events, std::chrono::milliseconds(1000));
    if (!s.ok()) {
      if (stop_) return;
      // Fell behind or history compacted: load everything again.
      store::ListResult all;
      if (!state_->List(PodsPrefix(), {}, &all).ok()) continue;
      {
        std::unique_lock<std::shared_mutex> lock(mu_);
        pods_.clear();
      }
      for (const auto& kv : all.items) Apply(kv->key, &kv->value);
      state_->Watch(PodsPrefix(), all.revision + 1, &watcher_);
      continue;
    }
    for (const auto& ev : events)
      Apply(ev->kv->key, ev->type == store::Event::Type::kDeleted ? nullptr : &ev->kv->value);
  }
}

void NodeAuthorizer::Apply(const std::string& key, const std::string* value) {
  std::string id = key.substr(PodsPrefix().size());
  Json pod = value ? Json::parse(*value, nullptr, false) : Json();
  std::string node;
  if (pod.is_object()) node = Member(Member(pod, "spec"), "nodeName").is_string()
                                  ? pod["spec"]["nodeName"].get<std::string>() : "";
  if (node.empty()) {
    std::unique_lock<std::shared_mutex> lock(mu_);
    pods_.erase(id);
    return;
  }
  const Json& spec = pod["spec"];
  PodRefs r;
  r.node = node;
  r.ns = id.substr(0, id.find('/'));
  r.service_account = spec.value("serviceAccountName", "default");
  for (const auto& v : Member(spec, "volumes").is_array() ? spec["volumes"] : Json::array()) {
    AddName(&r.secrets, Member(v, "secret"), "secretName");
    AddName(&r.configmaps, Member(v, "configMap"), "name");
    AddName(&r.claims, Member(v, "persistentVolumeClaim"), "claimName");
    if (Member(v, "ephemeral").is_object())
      r.claims.insert(id.substr(id.find('/') + 1) + "-" + v.value("name", ""));
    for (const auto& src : Member(Member(v, "projected"), "sources").is_array()
                               ? v["projected"]["sources"] : Json::array()) {
      AddName(&r.secrets, Member(src, "secret"), "name");
      AddName(&r.configmaps, Member(src, "configMap"), "name");
    }
  }
  for (const char* list : {"initContainers", "containers", "ephemeralContainers"})
    for (const auto& c : Member(spec, list).is_array() ? spec[list] : Json::array()) {
      for (const auto& e : Member(c, "env").is_array() ? c["env"] : Json::array()) {
        AddName(&r.secrets, Member(Member(e, "valueFrom"), "secretKeyRef"), "name");
        AddName(&r.configmaps, Member(Member(e, "valueFrom"), "configMapKeyRef"), "name");
      }
      for (const auto& e : Member(c, "envFrom").is_array() ? c["envFrom"] : Json::array()) {
        AddName(&r.secrets, Member(e, "secretRef"), "name");
        AddName(&r.configmaps, Member(e, "configMapRef"), "name");
      }
    }
  for (const auto& s : Member(spec, "imagePullSecrets").is_array() ? spec["imagePullSecrets"] : Json::array())
    AddName(&r.secrets, s, "name");
  // The service account token volume needs the namespace's root CA.
  if (spec.value("automountServiceAccountToken", true)) r.configmaps.insert("kube-root-ca.crt");
  std::unique_lock<std::shared_mutex> lock(mu_);
  pods_[id] = std::move(r);
}

bool NodeAuthorizer::Reaches(const std::string& node, const std::string& ns, const std::string& name,
                             std::set<std::string> PodRefs::*field) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  for (auto it = pods_.lower_bound(ns + "/"); it != pods_.end() && it->first.rfind(ns + "/", 0) == 0; ++it)
    if (it->second.node == node && (it->second.*field).count(name)) return true;
  return false;
}

bool NodeAuthorizer::ReachesServiceAccount(const std::string& node, const std::string& ns,
                                           const std::string& name) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  for (auto it = pods_.lower_bound(ns + "/"); it != pods_.end() && it->first.rfind(ns + "/", 0) == 0; ++it)
    if (it->second.node == node && it->second.service_account == name) return true;
  return false;
}

// A PersistentVolume is the node's when a claim of one of its pods is bound to it.
bool NodeAuthorizer::ReachesVolume(const std::string& node, const std::string& pv) const {
  std::vector<std::pair<std::string, std::string>> claims;
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    for (const auto& [id, r] : pods_)
      if (r.node == node)
        for (const auto& c : r.claims) claims.emplace_back(r.ns, c);
  }
  const api::ResourceType& pvc = *api::FindType("", "v1", "persistentvolumeclaims");
  for (const auto& [ns, name] : claims) {
    store::KeyValue kv;
    if (!state_->Get(pvc.storage_key(ns, name), &kv).ok()) continue;
    Json c = Json::parse(kv.value, nullptr, false);
    if (c.is_object() && Member(Member(c, "spec"), "volumeName") == pv) return true;
  }
  return false;
}

// A Secret that an Ingress of kubit's ingress proxy names for TLS: every
// node runs the proxy (while IngressClass kubit exists) and serves its
// certificates. The class rule is core/network/ingress_class.h's (class
// "kubit" by spec.ingressClassName or the kubernetes.io/ingress.class
// annotation, or none while "kubit" is the default class); read from the
// store at each request, as these are rare (a node reads each such Secret
// every few seconds at most).
bool NodeAuthorizer::IngressTLSSecret(const std::string& ns, const std::string& name) const {
  static const api::ResourceType& ingresses = *api::FindType("networking.k8s.io", "v1", "ingresses");
  static const api::ResourceType& classes = *api::FindType("networking.k8s.io", "v1", "ingressclasses");
  store::ListResult list;
  if (ns.empty() || !state_->List(ingresses.storage_key(ns, ""), {}, &list).ok()) return false;
  // IngressClass kubit: -1 not read yet, 0 absent, 1 present, 2 present and the default.
  int kubit_class = -1;
  for (const auto& kv : list.items) {
    Json ing = Json::parse(kv->value, nullptr, false);
    if (!ing.is_object()) continue;
    const Json& spec = Member(ing, "spec");
    bool names_it = false;
    for (const auto& t : Member(spec, "tls").is_array() ? spec["tls"] : Json::array())
      names_it = names_it || Member(t, "secretName") == name;
    if (!names_it) continue;
    std::string cls = Member(spec, "ingressClassName").is_string() ? spec["ingressClassName"].get<std::string>() : "";
    const Json& ann = Member(Member(ing, "metadata"), "annotations");
    if (cls.empty() && Member(ann, "kubernetes.io/ingress.class").is_string())
      cls = ann["kubernetes.io/ingress.class"].get<std::string>();
    if (!cls.empty() && cls != "kubit") continue;
    if (kubit_class < 0) {
      store::KeyValue c;
      kubit_class = 0;
      if (state_->Get(classes.storage_key("", "kubit"), &c).ok()) {
        Json obj = Json::parse(c.value, nullptr, false);
        kubit_class = Member(Member(Member(obj, "metadata"), "annotations"),
                             "ingressclass.kubernetes.io/is-default-class") == "true" ? 2 : 1;
      }
    }
    if (cls == "kubit" ? kubit_class >= 1 : kubit_class == 2) return true;
  }
  return false;
}

bool NodeAuthorizer::PodOnNode(const std::string& node, const std::string& ns, const std::string& name) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  auto it = pods_.find(ns + "/" + name);
  return it != pods_.end() && it->second.node == node;
}

bool NodeAuthorizer::Authorize(const std::string& node, const Attributes& a) const {
  const std::string &verb = a.verb, &group = a.api_group, &res = a.resource, &sub = a.subresource;
  if (!a.resource_request) {
    // Discovery and health, as every authenticated user.
    const std::string& p = a.path;
    return verb == "get" && (p == "/api" || p.rfind("/api/", 0) == 0 || p == "/apis" ||
                             p.rfind("/apis/", 0) == 0 || p == "/version" || p == "/healthz" ||
                             p == "/livez" || p == "/readyz" || p.rfind("/openapi/", 0) == 0 ||
                             p.rfind("/v1-kubit/tunnel", 0) == 0);
  }
  bool named = !a.name.empty();
  if (group.empty()) {
    if (res == "secrets" && sub.empty())
      return named && ((ReadVerb(verb) && Reaches(node, a.ns, a.name, &PodRefs::secrets)) ||
                       (verb == "get" && IngressTLSSecret(a.ns, a.name)));
    if (res == "configmaps" && sub.empty())
      return ReadVerb(verb) && named && Reaches(node, a.ns, a.name, &PodRefs::configmaps);
    if (res == "persistentvolumeclaims" && sub.empty())
      return ReadVerb(verb) && named && Reaches(node, a.ns, a.name, &PodRefs::claims);
    if (res == "persistentvolumes" && sub.empty())
      return verb == "get" && named && (ReachesVolume(node, a.name) || LocalVolumeOfNodeOrGone(state_, node, a.name));
    // The kubelet reads its pods' ServiceAccounts (automountServiceAccountToken).
    if (res == "serviceaccounts" && sub.empty())
      return ReadVerb(verb) && named && ReachesServiceAccount(node, a.ns, a.name);
    if (res == "serviceaccounts" && sub == "token")
      return verb == "create" && ReachesServiceAccount(node, a.ns, a.name);
    if (res == "pods") {
      if (sub.empty() && ReadVerb(verb)) return true;
      if (sub.empty() && verb == "create") return true;  // mirror pods of static pods
      if (sub.empty() && verb == "delete") return PodOnNode(node, a.ns, a.name);
      if (sub == "status" && (verb == "update" || verb == "patch" || verb == "get"))
        return PodOnNode(node, a.ns, a.name);
      if (sub == "eviction" && verb == "create") return PodOnNode(node, a.ns, a.name);
      return false;
    }
    if (res == "nodes") {
      if (sub.empty() && (ReadVerb(verb) || verb == "create")) return true;
      if ((sub.empty() || sub == "status") && (verb == "update" || verb == "patch" || verb == "delete" || verb == "get"))
        return a.name == node;
      return false;
    }
    if (res == "events") return verb == "create" || verb == "patch" || verb == "update";
    if (res == "services" || res == "endpoints") return ReadVerb(verb);
    // The node's cluster DNS knows which namespaces exist (CoreDNS's role
    // system:coredns reads them too).
    if (res == "namespaces" && sub.empty()) return ReadVerb(verb);
    return false;
  }
  if (group == "coordination.k8s.io" && res == "leases")
    return a.ns == "kube-node-lease" && (verb == "create" || (a.name == node && (verb == "get" || verb == "update" ||
                                                                                verb == "patch" || verb == "delete")));
  if (group == "events.k8s.io" && res == "events") return verb == "create" || verb == "patch" || verb == "update";
  if (group == "discovery.k8s.io" && res == "endpointslices") return ReadVerb(verb);
  if (group == "storage.k8s.io" && (res == "storageclasses" || res == "csidrivers" || res == "csinodes"))
    return ReadVerb(verb);
  if (group == "node.k8s.io" && res == "runtimeclasses") return ReadVerb(verb);
  if (group == "networking.k8s.io" && (res == "networkpolicies" || res == "ingresses" || res == "ingressclasses"))
    return ReadVerb(verb);
  if ((group == "authentication.k8s.io" && (res == "tokenreviews" || res == "selfsubjectreviews")) ||
      (group == "authorization.k8s.io" && (res == "subjectaccessreviews" || res == "selfsubjectaccessreviews" ||
                                          res == "selfsubjectrulesreviews")))
    return verb == "create";
  return false;
}

}  // namespace kubit::apiserver
