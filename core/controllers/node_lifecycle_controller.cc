#include "core/controllers/node_lifecycle_controller.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "core/api/meta.h"
#include "core/controllers/controller_ref.h"
#include "core/controllers/node_lifecycle_controller_taints.h"
#include "core/controllers/pod_state.h"

namespace kubit::controllers {

using client::Json;
using client::ObjectPtr;
using client::Status;

namespace {

const client::Resource kNodes{"", "v1", "nodes"};
const client::Resource kLeases{"coordination.k8s.io", "v1", "leases"};
const client::Resource kPods{"", "v1", "pods"};
const char* kLeaseNamespace = "kube-node-lease";
const char* kByNode = "spec.nodeName";
const char* kPassKey = "monitor";  // the one key: a pass over every node

Json* Condition(Json* status, const std::string& type) {
  if (!(*status)["conditions"].is_array()) (*status)["conditions"] = Json::array();
  for (Json& c : (*status)["conditions"])
    if (c.value("type", "") == type) return &c;
  return nullptr;
}

}  // namespace

NodeLifecycleController::NodeLifecycleController(client::Client* client, client::SharedInformerFactory* informers,
                                                 Logger log, std::chrono::milliseconds grace_period)
    : client_(client),
      nodes_(informers->For(kNodes)),
      leases_(informers->For(kLeases, kLeaseNamespace)),
      pods_(informers->For(kPods)),
      log_(log),
      grace_(grace_period),
      // Upstream checks every 5 s (--node-monitor-period); a short grace
      // period is checked more often, so it is kept to within a quarter.
      period_(std::clamp(grace_period / 4, std::chrono::milliseconds(100), std::chrono::milliseconds(5000))),
      recorder_(client, "node-controller"),
      loop_("node-lifecycle-controller", [this](const std::string&) { return Monitor(); }, log) {
  pods_->AddIndex(kByNode, [](const Json& pod) {
    std::string node = pod.value("spec", Json::object()).value("nodeName", "");
    return node.empty() ? std::vector<std::string>{} : std::vector<std::string>{node};
  });
  client::EventHandlers node_events;
  node_events.on_add = [this](const ObjectPtr&) { loop_.queue().Add(kPassKey); };
  node_events.on_update = [this](const ObjectPtr&, const ObjectPtr&) { loop_.queue().Add(kPassKey); };
  node_events.on_delete = [this](const ObjectPtr&, bool) { loop_.queue().Add(kPassKey); };
  nodes_->AddHandler(node_events);
}

void NodeLifecycleController::Start() {
  loop_.Start(1);  // one worker: the heartbeat map is its alone
  loop_.queue().Add(kPassKey);
}

void NodeLifecycleController::Stop() { loop_.Stop(); }

Status NodeLifecycleController::Monitor() {
  loop_.queue().AddAfter(kPassKey, period_);
  const int64_t now_unix = NowUnix();
  const std::string now = api::Now();
  Status result;
  std::set<std::string> names;
  for (const ObjectPtr& n : nodes_->List()) {
    names.insert(n->at("metadata").value("name", ""));
    Status s = MonitorNode(*n, now_unix, now);
    if (!s.ok()) result = s;
  }
  for (auto it = heartbeats_.begin(); it != heartbeats_.end();)
    it = names.count(it->first) ? std::next(it) : heartbeats_.erase(it);
  Status s = CollectOrphanPods();
  return result.ok() ? s : result;
}

Status NodeLifecycleController::MonitorNode(const Json& node_in, int64_t now_unix, const std::string& now) {
  const std::string name = node_in["metadata"].value("name", "");
  Json node = node_in;
  Json& status = node["status"];
  if (!status.is_object()) status = Json::object();

  // When did this controller last see a sign of life?
  std::string renew;
  if (ObjectPtr lease = leases_->Get(kLeaseNamespace, name))
    renew = lease->value("spec", Json::object()).value("renewTime", "");
  std::string heartbeat;
  if (Json* ready = Condition(&status, "Ready")) heartbeat = ready->value("lastHeartbeatTime", "");
  const auto steady_now = std::chrono::steady_clock::now();
  auto [it, fresh] = heartbeats_.try_emplace(name, Heartbeat{renew, heartbeat, steady_now});
  Heartbeat& hb = it->second;
  if (!fresh && (hb.lease_renew != renew || hb.ready_heartbeat != heartbeat)) hb = {renew, heartbeat, steady_now};

  if (steady_now - hb.seen > grace_) {
    bool changed = false;
    for (const char* type : {"Ready", "MemoryPressure", "DiskPressure", "PIDPressure"}) {
      Json* c = Condition(&status, type);
      if (!c) {
        status["conditions"].push_back({{"type", type},
                                        {"status", "Unknown"},
                                        {"reason", "NodeStatusNeverUpdated"},
                                        {"message", "Kubelet never posted node status."},
                                        {"lastHeartbeatTime", node["metadata"].value("creationTimestamp", now)},
                                        {"lastTransitionTime", now}});
        changed = true;
      } else if (c->value("status", "") != "Unknown") {
        (*c)["status"] = "Unknown";
        (*c)["reason"] = "NodeStatusUnknown";
        (*c)["message"] = "Kubelet stopped posting node status.";
        (*c)["lastTransitionTime"] = now;
        changed = true;
      }
    }
    if (changed) {
      Json written;
      Status s = client_->UpdateStatus(kNodes, "", node, &written);
      if (s.IsConflict() || s.IsNotFound()) return Status();  // newer news; the next pass sees it
      if (!s.ok()) return s;
      if (log_) log_(LogLevel::kInfo, "node-lifecycle-controller: node " + name + " stopped posting status");
      recorder_.Event(written, client::kEventTypeNormal, "NodeNotReady", "Node " + name + " status is now: NodeNotReady");
      node = written;
    }
  }

  Json taints;
  if (ReconcileTaints(node["spec"].value("taints", Json::array()), ConditionTaints(node), now, &taints)) {
    Json tainted = node;
    tainted["spec"]["taints"] = taints;
    if (taints.empty()) tainted["spec"].erase("taints");
    Json written;
    Status s = client_->Update(kNodes, "", tainted, &written);
    if (s.IsConflict() || s.IsNotFound()) return Status();
    if (!s.ok()) return s;
    node = written;
  }
  return HandlePods(node, now_unix, now);
}

Status NodeLifecycleController::HandlePods(const Json& node, int64_t now_unix, const std::string& now) {
  const std::string name = node["metadata"].value("name", "");
  const Json& conds = node["status"].value("conditions", Json::array());
  bool ready = std::any_of(conds.begin(), conds.end(), [](const Json& c) {
    return c.value("type", "") == "Ready" && c.value("status", "") == "True";
  });
  const Json taints = node["spec"].value("taints", Json::array());
  Status result;
  for (const ObjectPtr& p : pods_->ByIndex(kByNode, name)) {
    if (BeingDeleted(*p)) continue;
    const Json& meta = p->at("metadata");
    const std::string ns = meta.value("namespace", ""), pod_name = meta.value("name", "");
    const std::string phase = p->value("status", Json::object()).value("phase", "");
    if (phase == "Succeeded" || phase == "Failed") continue;
    // Its node cannot vouch for it: not Ready (upstream's MarkPodsNotReady).
    if (!ready && IsPodReady(*p)) {
      Json pod = *p;
      for (Json& c : pod["status"]["conditions"])
        if (c.value("type", "") == "Ready") c["status"] = "False", c["lastTransitionTime"] = now;
      Status s = client_->UpdateStatus(kPods, ns, pod);
      if (!s.ok() && !s.IsConflict() && !s.IsNotFound()) result = s;
    }
    int64_t delay = EvictionDelay(*p, taints, now_unix);
    if (delay != 0) continue;  // later passes look again; -1: tolerated for ever
    // As the taint manager: the reason first, then the deletion.
    Json patch = {{"status",
                   {{"conditions",
                     {{{"type", "DisruptionTarget"},
                       {"status", "True"},
                       {"reason", "DeletionByTaintManager"},
                       {"message", "Taint manager: deleting due to NoExecute taint"},
                       {"lastTransitionTime", now}}}}}}};
    client_->Patch(kPods, ns, pod_name, client::PatchType::kStrategicMerge, patch.dump(), nullptr, {}, "status");
    recorder_.Event(*p, client::kEventTypeNormal, "TaintManagerEviction", "Marking for deletion Pod " + ns + "/" + pod_name);
    client::DeleteOptions opts;
    opts.precondition_uid = meta.value("uid", "");
    Status s = client_->Delete(kPods, ns, pod_name, opts);
    if (!s.ok() && !s.IsNotFound() && !s.IsConflict()) result = s;
  }
  return result;
}

Status NodeLifecycleController::CollectOrphanPods() {
  Status result;
  std::map<std::string, bool> gone;  // node -> confirmed absent
  for (const ObjectPtr& p : pods_->List()) {
    const std::string node = p->value("spec", Json::object()).value("nodeName", "");
    if (node.empty() || nodes_->Get(node)) continue;
    auto it = gone.find(node);
    if (it == gone.end()) {
      // The cache may lag a node just made: ask before deleting its pods.
      Json n;
      it = gone.emplace(node, client_->Get(kNodes, "", node, &n).IsNotFound()).first;
    }
    if (!it->second) continue;
    const Json& meta = p->at("metadata");
    const std::string ns = meta.value("namespace", ""), name = meta.value("name", "");
    Json patch = {{"status",
                   {{"conditions",
                     {{{"type", "DisruptionTarget"},
                       {"status", "True"},
                       {"reason", "DeletionByPodGC"},
                       {"message", "PodGC: node no longer exists"},
                       {"lastTransitionTime", api::Now()}}}}}}};
    client_->Patch(kPods, ns, name, client::PatchType::kStrategicMerge, patch.dump(), nullptr, {}, "status");
    client::DeleteOptions opts;
    opts.grace_period_seconds = 0;  // no kubelet is left to confirm a graceful end
    opts.precondition_uid = meta.value("uid", "");
    Status s = client_->Delete(kPods, ns, name, opts);
    if (s.ok() && log_) log_(LogLevel::kInfo, "node-lifecycle-controller: deleted " + ns + "/" + name + " of gone node " + node);
    if (!s.ok() && !s.IsNotFound() && !s.IsConflict()) result = s;
  }
  return result;
}

}  // namespace kubit::controllers
