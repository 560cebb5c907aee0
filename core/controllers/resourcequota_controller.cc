#include "core/controllers/resourcequota_controller.h"

#include <nlohmann/json.hpp>

#include "core/api/quota_usage.h"
#include "core/controllers/pod_state.h"

namespace kubit::controllers {

using client::Json;
using client::ObjectPtr;
using client::Status;

namespace {

const client::Resource kQuotas{"", "v1", "resourcequotas"};
const client::Resource kPods{"", "v1", "pods"};
const client::Resource kServices{"", "v1", "services"};
const client::Resource kClaims{"", "v1", "persistentvolumeclaims"};
const client::Resource kConfigMaps{"", "v1", "configmaps"};

const Json& Hard(const Json& quota, const char* part) {
  static const Json kEmpty = Json::object();
  if (!quota.contains(part) || !quota[part].is_object() || !quota[part].contains("hard")) return kEmpty;
  return quota[part]["hard"];
}

bool SameResources(const Json& a, const Json& b) {
  api::ResourceList la = api::ResourceListFromJson(a), lb = api::ResourceListFromJson(b);
  if (api::ResourceNames(la) != api::ResourceNames(lb)) return false;
  for (const auto& [name, q] : la)
    if (api::CompareQuantity(q, lb[name]) != 0) return false;
  return true;
}

bool Finished(const Json& pod) {
  std::string phase = pod.contains("status") ? pod["status"].value("phase", "") : "";
  return phase == "Succeeded" || phase == "Failed";
}

}  // namespace

ResourceQuotaController::ResourceQuotaController(client::Client* client, client::SharedInformerFactory* informers,
                                                 Logger log, std::chrono::milliseconds resync)
    : client_(client),
      quotas_(informers->For(kQuotas)),
      resync_(resync),
      loop_("resourcequota-controller", [this](const std::string& key) { return Sync(key); }, log) {
  client::EventHandlers quota_events;
  quota_events.on_add = [this](const ObjectPtr& q) { loop_.queue().Add(client::ObjectKey(*q)); };
  // Status changes are this controller's and admission's own: only a new
  // spec.hard asks for a recount (the resync catches the rest).
  quota_events.on_update = [this](const ObjectPtr& old_q, const ObjectPtr& q) {
    if (!SameResources(Hard(*old_q, "spec"), Hard(*q, "spec"))) loop_.queue().Add(client::ObjectKey(*q));
  };
  quotas_->AddHandler(quota_events);
  // What a deleted object used is given back; a finished pod stops using
  // compute resources.
  client::EventHandlers freed;
  freed.on_delete = [this](const ObjectPtr& o, bool) { EnqueueNamespace(*o); };
  for (const auto& r : {kServices, kClaims, kConfigMaps}) informers->For(r)->AddHandler(freed);
  client::EventHandlers pod_events = freed;
  pod_events.on_update = [this](const ObjectPtr& old_pod, const ObjectPtr& pod) {
    if (!Finished(*old_pod) && Finished(*pod)) EnqueueNamespace(*pod);
  };
  informers->For(kPods)->AddHandler(pod_events);
}

void ResourceQuotaController::EnqueueNamespace(const Json& obj) {
  std::string ns = obj.at("metadata").value("namespace", "");
  for (const ObjectPtr& q : quotas_->ByIndex(client::kNamespaceIndex, ns)) loop_.queue().Add(client::ObjectKey(*q));
}

void ResourceQuotaController::Start(int workers) { loop_.Start(workers); }
void ResourceQuotaController::Stop() { loop_.Stop(); }

Status ResourceQuotaController::PreferredVersion(const std::string& group, std::string* version) {
  if (group.empty()) return *version = "v1", Status();
  Json g;
  Status s = client_->Raw("GET", "/apis/" + group, "", "", &g);
  if (!s.ok()) return s;
  *version = g.contains("preferredVersion") ? g["preferredVersion"].value("version", "") : "";
  if (version->empty()) return Status::Api(0, "", "group " + group + " has no preferred version");
  return Status();
}

Status ResourceQuotaController::Sync(const std::string& key) {
  std::string ns, name;
  client::SplitKey(key, &ns, &name);
  Json quota;
  Status s = client_->Get(kQuotas, ns, name, &quota);
  if (s.IsNotFound()) return Status();
  if (!s.ok()) return s;
  Status list_failure;
  api::ListObjects list = [&](const api::GroupResource& gr, std::vector<Json>* out, std::string* error) {
    std::string version;
    Json items;
    Status ls = PreferredVersion(gr.group, &version);
    if (ls.ok()) ls = client_->List({gr.group, version, gr.resource}, ns, {}, &items);
    // A resource nobody serves (a CRD not there yet) has nothing to count.
    if (ls.IsNotFound()) return true;
    if (!ls.ok()) {
      list_failure = ls;
      *error = ls.ToString();
      return false;
    }
    for (auto& o : items["items"]) out->push_back(std::move(o));
    return true;
  };
  api::ResourceList used;
  std::string error;
  if (!api::CalculateQuotaUsage(quota, list, NowUnix(), &used, &error))
    return list_failure.ok() ? Status::Api(0, "", error) : list_failure;
  Json next = quota;
  next["status"]["hard"] = Hard(quota, "spec");
  next["status"]["used"] = api::ResourceListToJson(used);
  const Json old_status = quota.value("status", Json::object());
  bool dirty = !SameResources(old_status.value("hard", Json::object()), next["status"]["hard"]) ||
               !SameResources(old_status.value("used", Json::object()), next["status"]["used"]) ||
               !old_status.contains("hard") || !old_status.contains("used");
  if (dirty) s = client_->UpdateStatus(kQuotas, ns, next);
  // Counted again every resync period: deletions of what no informer
  // here watches (secrets, custom objects) are given back then.
  if (s.ok() || s.IsNotFound()) loop_.queue().AddAfter(key, resync_);
  return s.IsNotFound() ? Status() : s;
}

}  // namespace kubit::controllers
