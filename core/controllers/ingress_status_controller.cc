#include "core/controllers/ingress_status_controller.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/network/ingress_class.h"

namespace kubit::controllers {

using client::Json;
using client::ObjectPtr;

namespace {

const client::Resource kIngresses{"networking.k8s.io", "v1", "ingresses"};
const client::Resource kIngressClasses{"networking.k8s.io", "v1", "ingressclasses"};
const client::Resource kNodes{"", "v1", "nodes"};

bool NodeReady(const Json& node) {
  const Json& status = node.contains("status") ? node["status"] : Json();
  for (const Json& c : status.contains("conditions") && status["conditions"].is_array() ? status["conditions"]
                                                                                         : Json::array())
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  return false;
}

std::vector<std::string> InternalIPs(const Json& node) {
  std::vector<std::string> out;
  const Json& status = node.contains("status") ? node["status"] : Json();
  for (const Json& a : status.contains("addresses") && status["addresses"].is_array() ? status["addresses"]
                                                                                     : Json::array())
    if (a.value("type", "") == "InternalIP" && !a.value("address", "").empty()) out.push_back(a["address"]);
  return out;
}

}  // namespace

Json IngressLoadBalancerStatus(const std::vector<ObjectPtr>& nodes) {
  std::vector<std::string> ips;
  for (const ObjectPtr& n : nodes)
    if (NodeReady(*n) && !(*n)["metadata"].contains("deletionTimestamp"))
      for (const auto& ip : InternalIPs(*n)) ips.push_back(ip);
  std::sort(ips.begin(), ips.end());
  ips.erase(std::unique(ips.begin(), ips.end()), ips.end());
  Json out = Json::array();
  for (const auto& ip : ips) out.push_back({{"ip", ip}});
  return out;
}

IngressStatusController::IngressStatusController(client::Client* client, client::SharedInformerFactory* informers,
                                                 Logger log)
    : client_(client),
      ingresses_(informers->For(kIngresses)),
      classes_(informers->For(kIngressClasses)),
      nodes_(informers->For(kNodes)),
      log_(log),
      loop_("ingress-status", [this](const std::string& key) { return Sync(key); }, log) {
  client::EventHandlers ing;
  ing.on_add = [this](const ObjectPtr& o) { loop_.queue().Add(client::ObjectKey(*o)); };
  ing.on_update = [this](const ObjectPtr&, const ObjectPtr& o) { loop_.queue().Add(client::ObjectKey(*o)); };
  ingresses_->AddHandler(ing);
  client::EventHandlers cls;
  cls.on_add = [this](const ObjectPtr&) { EnqueueAll(); };
  cls.on_update = [this](const ObjectPtr&, const ObjectPtr&) { EnqueueAll(); };
  cls.on_delete = [this](const ObjectPtr&, bool) { EnqueueAll(); };
  classes_->AddHandler(cls);
  // Only what the status shows: heartbeats leave the Ingresses alone.
  client::EventHandlers nodes;
  nodes.on_add = [this](const ObjectPtr&) { EnqueueAll(); };
  nodes.on_update = [this](const ObjectPtr& old_obj, const ObjectPtr& new_obj) {
    if (NodeReady(*old_obj) != NodeReady(*new_obj) || InternalIPs(*old_obj) != InternalIPs(*new_obj) ||
        (*old_obj)["metadata"].contains("deletionTimestamp") != (*new_obj)["metadata"].contains("deletionTimestamp"))
      EnqueueAll();
  };
  nodes.on_delete = [this](const ObjectPtr&, bool) { EnqueueAll(); };
  nodes_->AddHandler(nodes);
}

void IngressStatusController::Start(int workers) { loop_.Start(workers); }

void IngressStatusController::Stop() { loop_.Stop(); }

void IngressStatusController::EnqueueAll() {
  for (const std::string& key : ingresses_->Keys()) loop_.queue().Add(key);
}

client::Status IngressStatusController::Sync(const std::string& key) {
  ObjectPtr ing = ingresses_->Get(key);
  if (!ing) return client::Status();
  ObjectPtr cls = classes_->Get(network::kIngressClass);
  if (!network::ServedByKubit(*ing, cls.get())) return client::Status();  // another controller's
  Json want = IngressLoadBalancerStatus(nodes_->List());
  const Json& status = ing->contains("status") ? (*ing)["status"] : Json();
  const Json& lb = status.is_object() && status.contains("loadBalancer") ? status["loadBalancer"] : Json();
  Json have = lb.is_object() && lb.contains("ingress") ? lb["ingress"] : Json::array();
  if (have == want) return client::Status();
  Json updated = *ing;
  if (want.empty()) updated["status"]["loadBalancer"] = Json::object();
  else updated["status"]["loadBalancer"]["ingress"] = want;
  std::string ns, name;
  client::SplitKey(key, &ns, &name);
  client::Status s = client_->UpdateStatus(kIngresses, ns, updated);
  if (s.IsNotFound()) return client::Status();
  if (s.ok() && log_) log_(LogLevel::kDebug, "ingress-status: " + key + " at " + want.dump());
  return s;
}

}  // namespace kubit::controllers
