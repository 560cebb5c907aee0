#include "core/scheduler/scheduler.h"

#include <nlohmann/json.hpp>

#include "core/api/meta.h"
#include "core/scheduler/fit_error.h"

namespace kubit::scheduler {
namespace {

using client::Json;
using client::ObjectPtr;

const client::Resource kPods{"", "v1", "pods"};
const client::Resource kNodes{"", "v1", "nodes"};
const client::Resource kNamespaces{"", "v1", "namespaces"};
const client::Resource kPriorityClasses{"scheduling.k8s.io", "v1", "priorityclasses"};
const client::Resource kBudgets{"policy", "v1", "poddisruptionbudgets"};
const client::Resource kServices{"", "v1", "services"};
const client::Resource kReplicaSets{"apps", "v1", "replicasets"};
const client::Resource kStatefulSets{"apps", "v1", "statefulsets"};

const Json& Field(const Json& obj, const char* name) {
  static const Json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(name);
  return it == obj.end() ? kNull : *it;
}

std::string Str(const Json& obj, const char* name) {
  const Json& v = Field(obj, name);
  return v.is_string() ? v.get<std::string>() : "";
}

std::string NodeName(const Json& pod) { return Str(Field(pod, "spec"), "nodeName"); }

// Waits for a node: not bound, not going away, not finished, not gated.
bool Pending(const Json& pod) {
  const Json& spec = Field(pod, "spec");
  if (!NodeName(pod).empty() || Field(Field(pod, "metadata"), "deletionTimestamp").is_string()) return false;
  std::string phase = Str(Field(pod, "status"), "phase");
  if (phase == "Succeeded" || phase == "Failed") return false;
  const Json& gates = Field(spec, "schedulingGates");
  return !(gates.is_array() && !gates.empty());
}

// Whether a node change can make a pod fit that did not (heartbeats and
// conditions alone cannot).
bool NodeChangeMatters(const Json& a, const Json& b) {
  return Field(Field(a, "metadata"), "labels") != Field(Field(b, "metadata"), "labels") ||
         Field(a, "spec") != Field(b, "spec") ||
         Field(Field(a, "status"), "allocatable") != Field(Field(b, "status"), "allocatable");
}

// A plain map selector (a Service's) as a label selector.
bool MapSelectorMatches(const Json& sel, const Json& labels) {
  if (!sel.is_object() || sel.empty()) return false;
  for (const auto& [k, v] : sel.items())
    if (!labels.contains(k) || labels[k] != v) return false;
  return true;
}

}  // namespace

Scheduler::Scheduler(client::Client* client, client::SharedInformerFactory* informers, SchedulerOptions options)
    : client_(client),
      factory_(informers),
      opts_(std::move(options)),
      queue_(opts_.queue),
      events_(client, opts_.scheduler_name) {}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Log(bool error, const std::string& message) const {
  if (opts_.log) opts_.log(error, message);
}

bool Scheduler::Responsible(const Json& pod) const {
  std::string name = Str(Field(pod, "spec"), "schedulerName");
  return name == opts_.scheduler_name || (name.empty() && opts_.scheduler_name == kDefaultSchedulerName);
}

PodInfo::Priority Scheduler::ResolvePriority(const Json& pod) const {
  PodInfo::Priority p;
  const Json& spec = Field(pod, "spec");
  std::string policy = Str(spec, "preemptionPolicy");
  // The API server's Priority admission sets spec.priority upstream;
  // where it has not, the class decides.
  ObjectPtr cls;
  if (std::string name = Str(spec, "priorityClassName"); !name.empty()) {
    cls = priority_classes_ ? priority_classes_->Get(name) : nullptr;
    if (!cls && name == "system-node-critical") p.value = 2000001000;
    if (!cls && name == "system-cluster-critical") p.value = 2000000000;
  } else if (priority_classes_ && !Field(spec, "priority").is_number_integer()) {
    for (const auto& c : priority_classes_->List())
      if (Field(*c, "globalDefault") == true && (!cls || Field(*c, "value") > Field(*cls, "value"))) cls = c;
  }
  if (cls) {
    p.value = Field(*cls, "value").is_number_integer() ? Field(*cls, "value").get<int32_t>() : 0;
    if (policy.empty()) policy = Str(*cls, "preemptionPolicy");
  }
  if (const Json& v = Field(spec, "priority"); v.is_number_integer()) p.value = v.get<int32_t>();
  p.preempt_never = policy == "Never";
  return p;
}

std::optional<api::LabelSelector> Scheduler::DefaultSpreadSelector(const PodInfo& pod) const {
  Json merged = {{"matchLabels", Json::object()}, {"matchExpressions", Json::array()}};
  bool any = false;
  for (size_t i = 0; i < spreaders_.size(); i++) {
    bool map_selector = spreaders_[i]->resource().group.empty();  // Services
    for (const auto& obj : spreaders_[i]->ByIndex(client::kNamespaceIndex, pod.ns)) {
      const Json& sel = Field(Field(*obj, "spec"), "selector");
      if (map_selector) {
        if (!MapSelectorMatches(sel, pod.labels)) continue;
        merged["matchLabels"].update(sel);
      } else {
        api::LabelSelector s;
        std::string error;
        if (!sel.is_object() || !api::LabelSelector::FromJson(sel, &s, &error) || s.empty() ||
            !s.Matches(pod.labels))
          continue;
        if (sel.contains("matchLabels")) merged["matchLabels"].update(sel["matchLabels"]);
        if (sel.contains("matchExpressions"))
          for (const auto& e : sel["matchExpressions"]) merged["matchExpressions"].push_back(e);
      }
      any = true;
    }
  }
  if (!any) return std::nullopt;
  api::LabelSelector out;
  std::string error;
  if (!api::LabelSelector::FromJson(merged, &out, &error)) return std::nullopt;
  return out;
}

std::vector<DisruptionBudget> Scheduler::Budgets() const {
  std::vector<DisruptionBudget> out;
  for (const auto& b : budgets_->List()) out.push_back(ReadDisruptionBudget(*b));
  return out;
}

// ---- informer handlers ----

void Scheduler::HandlePodAdd(const ObjectPtr& pod) {
  if (!NodeName(*pod).empty()) {
    cache_.AddOrUpdatePod(NewPodInfo(pod, ResolvePriority(*pod)));
    queue_.MoveAllToActiveOrBackoff();
  } else if (Responsible(*pod) && Pending(*pod)) {
    queue_.AddOrUpdate(NewPodInfo(pod, ResolvePriority(*pod)));
  }
}

void Scheduler::HandlePodUpdate(const ObjectPtr& old_pod, const ObjectPtr& pod) {
  auto info = NewPodInfo(pod, ResolvePriority(*pod));
  if (!NodeName(*pod).empty()) {
    bool newly_bound = NodeName(*old_pod).empty();
    if (newly_bound) queue_.Delete(info->key);
    cache_.AddOrUpdatePod(info);
    const Json& old_meta = Field(*old_pod, "metadata");
    const Json& meta = Field(*pod, "metadata");
    if (newly_bound || Field(old_meta, "labels") != Field(meta, "labels") ||
        Field(old_meta, "deletionTimestamp") != Field(meta, "deletionTimestamp") ||
        Str(Field(*old_pod, "status"), "phase") != Str(Field(*pod, "status"), "phase"))
      queue_.MoveAllToActiveOrBackoff();
  } else if (Responsible(*pod) && Pending(*pod)) {
    queue_.AddOrUpdate(std::move(info));
  } else {
    queue_.Delete(info->key);
  }
}

void Scheduler::HandlePodDelete(const ObjectPtr& pod) {
  std::string key = client::ObjectKey(*pod);
  queue_.Delete(key);
  cache_.DeletePod(key);
  if (!NodeName(*pod).empty()) queue_.MoveAllToActiveOrBackoff();
}

void Scheduler::Start() {
  if (started_.exchange(true)) return;
  pods_ = factory_->For(kPods);
  nodes_ = factory_->For(kNodes);
  namespaces_ = factory_->For(kNamespaces);
  priority_classes_ = factory_->For(kPriorityClasses);
  budgets_ = factory_->For(kBudgets);
  for (const auto& r : {kServices, kReplicaSets, kStatefulSets}) spreaders_.push_back(factory_->For(r));
  volume_binding_ = std::make_unique<VolumeBinding>(client_, factory_, [this] { queue_.MoveAllToActiveOrBackoff(); });

  client::EventHandlers nodes;
  nodes.on_add = [this](const ObjectPtr& n) {
    cache_.AddOrUpdateNode(n);
    queue_.MoveAllToActiveOrBackoff();
  };
  nodes.on_update = [this](const ObjectPtr& old_node, const ObjectPtr& n) {
    cache_.AddOrUpdateNode(n);
    if (NodeChangeMatters(*old_node, *n)) queue_.MoveAllToActiveOrBackoff();
  };
  nodes.on_delete = [this](const ObjectPtr& n, bool) { cache_.DeleteNode(Str(Field(*n, "metadata"), "name")); };
  nodes_->AddHandler(std::move(nodes));

  client::EventHandlers ns;
  ns.on_add = [this](const ObjectPtr& n) {
    cache_.SetNamespaceLabels(Str(Field(*n, "metadata"), "name"), Field(Field(*n, "metadata"), "labels"));
  };
  ns.on_update = [this](const ObjectPtr&, const ObjectPtr& n) {
    cache_.SetNamespaceLabels(Str(Field(*n, "metadata"), "name"), Field(Field(*n, "metadata"), "labels"));
  };
  ns.on_delete = [this](const ObjectPtr& n, bool) { cache_.DeleteNamespace(Str(Field(*n, "metadata"), "name")); };
  namespaces_->AddHandler(std::move(ns));

  client::EventHandlers pods;
  pods.on_add = [this](const ObjectPtr& p) { HandlePodAdd(p); };
  pods.on_update = [this](const ObjectPtr& a, const ObjectPtr& b) { HandlePodUpdate(a, b); };
  pods.on_delete = [this](const ObjectPtr& p, bool) { HandlePodDelete(p); };
  pods_->AddHandler(std::move(pods));

  factory_->Start();
  worker_ = std::thread([this] { Run(); });
  for (int i = 0; i < std::max(1, opts_.binders); i++) binders_.emplace_back([this] { BindLoop(); });
}

void Scheduler::Stop() {
  queue_.Close();
  {
    std::lock_guard<std::mutex> lock(bind_mu_);
    stopping_ = true;
  }
  bind_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  for (auto& t : binders_)
    if (t.joinable()) t.join();
  binders_.clear();
}

// ---- the scheduling loop ----

void Scheduler::Run() {
  // Scheduling against a half-listed cluster would misplace pods.
  std::vector<client::Informer*> all = {pods_, nodes_, namespaces_, priority_classes_, budgets_};
  all.insert(all.end(), spreaders_.begin(), spreaders_.end());
  for (auto* inf : volume_binding_->informers()) all.push_back(inf);
  for (auto* inf : all)
    while (!inf->WaitForSync(std::chrono::milliseconds(200))) {
      std::lock_guard<std::mutex> lock(bind_mu_);
      if (stopping_) return;
    }
  Log(false, "caches synced; scheduling");
  SchedulingQueue::Item item;
  while (queue_.Pop(&item)) ScheduleOne(item);
}

void Scheduler::ScheduleOne(const SchedulingQueue::Item& item) {
  ObjectPtr current = pods_->Get(item.pod->key);
  if (!current || !Pending(*current) || Str(Field(*current, "metadata"), "uid") != item.pod->uid) {
    queue_.Done(item.pod->key);
    return;
  }
  // Read again: the PriorityClass may have arrived after the pod did.
  std::shared_ptr<const PodInfo> pod = NewPodInfo(current, ResolvePriority(*current));
  Snapshot snapshot = cache_.TakeSnapshot();
  CycleState state;
  if (pod->spread_constraints.empty()) state.default_spread_selector = DefaultSpreadSelector(*pod);
  state.volumes = volume_binding_->PreFilter(*current);
  NominatedPods nominated = queue_.Nominated();
  Diagnosis diagnosis;
  ScheduleResult result = algorithm_.Schedule(*pod, snapshot, nominated, &state, &diagnosis);
  if (!result.node.empty()) {
    cache_.Assume(pod, result.node);
    {
      std::lock_guard<std::mutex> lock(bind_mu_);
      bindings_.push_back({{pod, item.attempts, item.cycle}, result.node});
    }
    bind_cv_.notify_one();
    return;
  }
  if (snapshot.nodes().empty()) {
    HandleFailure(item, "Unschedulable", "no nodes available to schedule pods", std::string(), true);
    return;
  }
  PreemptionResult preemption =
      Preempt(*pod, snapshot, nominated, state, diagnosis, Budgets(), std::random_device{}());
  std::optional<std::string> nominate;
  if (!preemption.node.empty()) {
    PreemptVictims(*pod, preemption.node, preemption.victims, nominated);
    nominate = preemption.node;
  } else {
    diagnosis.post_filter_message = preemption.message;
    if (preemption.clear_nomination) nominate = "";
  }
  if (nominate) queue_.Nominate(pod->key, *nominate);
  HandleFailure(item, "Unschedulable", FitErrorMessage(snapshot.nodes().size(), diagnosis), nominate, true);
}

void Scheduler::HandleFailure(const SchedulingQueue::Item& item, const std::string& reason,
                              const std::string& message, const std::optional<std::string>& nominated_node,
                              bool unschedulable) {
  const PodInfo& pod = *item.pod;
  Log(false, "unable to schedule pod " + pod.key + ": " + message);
  if (client::Status s = events_.Record(*pod.pod, "Warning", "FailedScheduling", message); !s.ok())
    Log(true, "event for pod " + pod.key + ": " + s.ToString());

  // The condition, unless it already says just this.
  ObjectPtr current = pods_->Get(pod.key);
  const Json& cur = current ? *current : *pod.pod;
  const Json& status = Field(cur, "status");
  Json old_cond;
  if (const Json& conds = Field(status, "conditions"); conds.is_array())
    for (const auto& c : conds)
      if (Str(c, "type") == "PodScheduled") old_cond = c;
  bool same_cond = Str(old_cond, "status") == "False" && Str(old_cond, "reason") == reason &&
                   Str(old_cond, "message") == message;
  bool same_nomination = !nominated_node || Str(status, "nominatedNodeName") == *nominated_node;
  if (!current || (same_cond && same_nomination)) {
    queue_.Requeue(item, unschedulable);
    return;
  }
  Json cond = {{"type", "PodScheduled"}, {"status", "False"}, {"reason", reason},
               {"message", message}, {"lastProbeTime", nullptr}};
  if (Str(old_cond, "status") != "False") cond["lastTransitionTime"] = api::Now();
  Json patch = {{"status", {{"conditions", Json::array({cond})}}}};
  if (nominated_node)
    patch["status"]["nominatedNodeName"] = nominated_node->empty() ? Json(nullptr) : Json(*nominated_node);
  client::Status s = client_->Patch(kPods, pod.ns, pod.name, client::PatchType::kStrategicMerge, patch.dump(),
                                    nullptr, {}, "status");
  if (!s.ok() && !s.IsNotFound()) Log(true, "status of pod " + pod.key + ": " + s.ToString());
  queue_.Requeue(item, unschedulable);
}

void Scheduler::PreemptVictims(const PodInfo& pod, const std::string& node,
                               const std::vector<std::shared_ptr<const PodInfo>>& victims,
                               const NominatedPods& nominated) {
  const std::string why = opts_.scheduler_name + ": preempting to accommodate a higher priority pod";
  for (const auto& v : victims) {
    if (!v->terminating) {
      Json cond = {{"type", "DisruptionTarget"}, {"status", "True"}, {"reason", "PreemptionByScheduler"},
                   {"message", why}, {"lastTransitionTime", api::Now()}};
      Json patch = {{"status", {{"conditions", Json::array({cond})}}}};
      client::Status s = client_->Patch(kPods, v->ns, v->name, client::PatchType::kStrategicMerge,
                                        patch.dump(), nullptr, {}, "status");
      if (!s.ok() && !s.IsNotFound()) Log(true, "preemption: condition of " + v->key + ": " + s.ToString());
    }
    client::Status s = client_->Delete(kPods, v->ns, v->name);
    if (!s.ok() && !s.IsNotFound()) {
      Log(true, "preemption: deleting " + v->key + ": " + s.ToString());
      continue;
    }
    Log(false, "pod " + pod.key + " preempted " + v->key + " on node " + node);
    events_.Record(*v->pod, "Normal", "Preempted", "Preempted by pod " + pod.uid + " on node " + node);
  }
  // Pods of lower priority nominated here would no longer fit.
  if (auto it = nominated.find(node); it != nominated.end())
    for (const auto& p : it->second) {
      if (p->key == pod.key || p->priority >= pod.priority) continue;
      queue_.Nominate(p->key, "");
      client_->Patch(kPods, p->ns, p->name, client::PatchType::kMerge, R"({"status":{"nominatedNodeName":null}})",
                     nullptr, {}, "status");
    }
}

// ---- binding ----

void Scheduler::BindLoop() {
  for (;;) {
    Binding b;
    {
      std::unique_lock<std::mutex> lock(bind_mu_);
      bind_cv_.wait(lock, [&] { return stopping_ || !bindings_.empty(); });
      if (stopping_) return;
      b = std::move(bindings_.front());
      bindings_.pop_front();
    }
    Bind(b);
  }
}

void Scheduler::Bind(const Binding& b) {
  const PodInfo& pod = *b.item.pod;
  std::string volume_error;
  auto stopping = [this] {
    std::lock_guard<std::mutex> lock(bind_mu_);
    return stopping_;
  };
  if (!volume_binding_->PreBind(*pod.pod, b.node, stopping, &volume_error)) {
    cache_.Forget(pod.key);
    HandleFailure(b.item, "SchedulerError", volume_error, std::nullopt, false);
    return;
  }
  Json binding = {{"apiVersion", "v1"},
                  {"kind", "Binding"},
                  {"metadata", {{"name", pod.name}, {"namespace", pod.ns}, {"uid", pod.uid}}},
                  {"target", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", b.node}}}};
  client::Status s = client_->CreateSubresource(kPods, pod.ns, pod.name, "binding", binding);
  if (s.ok()) {
    queue_.Done(pod.key);
    std::string msg = "Successfully assigned " + pod.key + " to " + b.node;
    Log(false, msg);
    if (client::Status e = events_.Record(*pod.pod, "Normal", "Scheduled", msg); !e.ok())
      Log(true, "event for pod " + pod.key + ": " + e.ToString());
    return;
  }
  cache_.Forget(pod.key);
  if (s.IsNotFound()) {
    queue_.Done(pod.key);
    return;
  }
  HandleFailure(b.item, "SchedulerError", "binding rejected: " + s.message(), std::nullopt, false);
}

}  // namespace kubit::scheduler
