#include "core/controllers/servicelb_controller.h"

#include <nlohmann/json.hpp>

#include "core/controllers/ingress_status_controller.h"
#include "core/controllers/json_fields.h"

namespace kubit::controllers {

using client::Json;
using client::ObjectPtr;

namespace {

const client::Resource kServices{"", "v1", "services"};
const client::Resource kNodes{"", "v1", "nodes"};

using fields::Field;

// What ServiceLB shows of a node: its Ready condition and addresses.
Json NodeView(const Json& node) {
  return Json{{"status", Field(Field(node, "status"), "conditions")},
              {"addresses", Field(Field(node, "status"), "addresses")},
              {"deleting", Field(node, "metadata").contains("deletionTimestamp")}};
}

}  // namespace

Json ServiceLoadBalancerIngress(const std::vector<ObjectPtr>& nodes) {
  // The same addresses as an Ingress of kubit's proxy: every Ready node's.
  Json out = IngressLoadBalancerStatus(nodes);
  for (Json& ing : out) ing["ipMode"] = "VIP";
  return out;
}

ServiceLBController::ServiceLBController(client::Client* client, client::SharedInformerFactory* informers, Logger log)
    : client_(client),
      services_(informers->For(kServices)),
      nodes_(informers->For(kNodes)),
      log_(log),
      loop_("servicelb", [this](const std::string& key) { return Sync(key); }, log) {
  client::EventHandlers svc;
  svc.on_add = [this](const ObjectPtr& o) { loop_.queue().Add(client::ObjectKey(*o)); };
  svc.on_update = [this](const ObjectPtr&, const ObjectPtr& o) { loop_.queue().Add(client::ObjectKey(*o)); };
  services_->AddHandler(svc);
  // Heartbeats leave the Services alone: only readiness and addresses count.
  client::EventHandlers nodes;
  nodes.on_add = [this](const ObjectPtr&) { EnqueueAll(); };
  nodes.on_update = [this](const ObjectPtr& old_obj, const ObjectPtr& new_obj) {
    Json a = NodeView(*old_obj), b = NodeView(*new_obj);
    // Conditions carry heartbeat times: compare the Ready status alone.
    auto ready = [](const Json& view) {
      for (const Json& c : view["status"].is_array() ? view["status"] : Json::array())
        if (c.value("type", "") == "Ready") return c.value("status", "");
      return std::string();
    };
    if (ready(a) != ready(b) || a["addresses"] != b["addresses"] || a["deleting"] != b["deleting"]) EnqueueAll();
  };
  nodes.on_delete = [this](const ObjectPtr&, bool) { EnqueueAll(); };
  nodes_->AddHandler(nodes);
}

void ServiceLBController::Start(int workers) { loop_.Start(workers); }

void ServiceLBController::Stop() { loop_.Stop(); }

void ServiceLBController::EnqueueAll() {
  for (const ObjectPtr& s : services_->List())
    if (Field(Field(*s, "spec"), "type") == "LoadBalancer") loop_.queue().Add(client::ObjectKey(*s));
}

client::Status ServiceLBController::Sync(const std::string& key) {
  ObjectPtr svc = services_->Get(key);
  if (!svc) return client::Status();
  const Json& spec = Field(*svc, "spec");
  const Json& cls = Field(spec, "loadBalancerClass");
  if (cls.is_string() && !cls.get<std::string>().empty()) return client::Status();  // another controller's
  bool lb = Field(spec, "type") == "LoadBalancer";
  const Json& have_lb = Field(Field(*svc, "status"), "loadBalancer");
  Json have = Field(have_lb, "ingress").is_array() ? have_lb["ingress"] : Json::array();
  Json want = lb ? ServiceLoadBalancerIngress(nodes_->List()) : Json::array();
  if (have == want) return client::Status();
  Json updated = *svc;
  if (want.empty())
    updated["status"]["loadBalancer"] = Json::object();
  else
    updated["status"]["loadBalancer"]["ingress"] = want;
  std::string ns, name;
  client::SplitKey(key, &ns, &name);
  client::Status s = client_->UpdateStatus(kServices, ns, updated);
  if (s.IsNotFound()) return client::Status();
  if (s.ok() && log_) log_(LogLevel::kDebug, "servicelb: " + key + " at " + want.dump());
  return s;
}

}  // namespace kubit::controllers
