#include "core/controllers/disruption_controller.h"

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/api/meta.h"
#include "core/api/selectors.h"
#include "core/controllers/controller_ref.h"
#include "core/controllers/pod_state.h"

namespace kubit::controllers {

using client::Json;
using client::ObjectPtr;
using client::Status;

namespace {

const client::Resource kBudgets{"policy", "v1", "poddisruptionbudgets"};
const client::Resource kPods{"", "v1", "pods"};
const client::Resource kReplicaSets{"apps", "v1", "replicasets"};
const client::Resource kDeployments{"apps", "v1", "deployments"};
const client::Resource kStatefulSets{"apps", "v1", "statefulsets"};
constexpr int64_t kDeletionTimeout = 120;  // an eviction not followed by a deletion is forgotten

// An int, or a percentage of `total` rounded up (GetScaledValueFromIntOrPercent).
bool Scaled(const Json& v, int64_t total, int64_t* out) {
  if (v.is_number_integer()) return *out = v.get<int64_t>(), true;
  if (!v.is_string()) return false;
  std::string s = v.get<std::string>();
  if (s.empty() || s.back() != '%') return false;
  *out = static_cast<int64_t>(std::ceil(atof(s.c_str()) * double(total) / 100.0));
  return true;
}

bool IsPercent(const Json& v) { return v.is_string(); }

}  // namespace

DisruptionController::DisruptionController(client::Client* client, client::SharedInformerFactory* informers,
                                           Logger log)
    : client_(client),
      budgets_(informers->For(kBudgets)),
      pods_(informers->For(kPods)),
      replicasets_(informers->For(kReplicaSets)),
      deployments_(informers->For(kDeployments)),
      statefulsets_(informers->For(kStatefulSets)),
      loop_("disruption-controller", [this](const std::string& key) { return Sync(key); }, log) {
  client::EventHandlers budget_events;
  budget_events.on_add = [this](const ObjectPtr& o) { loop_.queue().Add(client::ObjectKey(*o)); };
  budget_events.on_update = [this](const ObjectPtr&, const ObjectPtr& o) { loop_.queue().Add(client::ObjectKey(*o)); };
  budgets_->AddHandler(budget_events);
  client::EventHandlers pod_events;
  pod_events.on_add = [this](const ObjectPtr& p) { EnqueueFor(*p); };
  pod_events.on_update = [this](const ObjectPtr& old_pod, const ObjectPtr& p) {
    EnqueueFor(*old_pod);
    EnqueueFor(*p);
  };
  pod_events.on_delete = [this](const ObjectPtr& p, bool) { EnqueueFor(*p); };
  pods_->AddHandler(pod_events);
  // A controller's scale changes what its budgets expect.
  client::EventHandlers scale_events;
  scale_events.on_update = [this](const ObjectPtr& old_obj, const ObjectPtr& obj) {
    if (old_obj->value("spec", Json::object()).value("replicas", -1) == obj->value("spec", Json::object()).value("replicas", -1))
      return;
    std::string ns = obj->at("metadata").value("namespace", "");
    for (const ObjectPtr& b : budgets_->ByIndex(client::kNamespaceIndex, ns)) loop_.queue().Add(client::ObjectKey(*b));
  };
  for (client::Informer* inf : {replicasets_, deployments_, statefulsets_}) inf->AddHandler(scale_events);
}

void DisruptionController::EnqueueFor(const Json& pod) {
  const Json& meta = pod["metadata"];
  const std::string ns = meta.value("namespace", "");
  const Json labels = meta.value("labels", Json::object());
  for (const ObjectPtr& b : budgets_->ByIndex(client::kNamespaceIndex, ns)) {
    api::LabelSelector sel;
    std::string error;
    const Json spec = b->value("spec", Json::object());
    if (!spec.contains("selector") || !api::LabelSelector::FromJson(spec["selector"], &sel, &error)) continue;
    if (sel.Matches(labels)) loop_.queue().Add(client::ObjectKey(*b));
  }
}

void DisruptionController::Start(int workers) { loop_.Start(workers); }

void DisruptionController::Stop() { loop_.Stop(); }

Status DisruptionController::ExpectedScale(const std::vector<ObjectPtr>& pods, int64_t* expected) {
  *expected = 0;
  std::set<std::string> counted;
  for (const ObjectPtr& p : pods) {
    const Json ref = ControllerRefOf(*p);
    const std::string ns = p->at("metadata").value("namespace", "");
    if (ref.is_null()) return Status::Api(0, "", "found no controllers for pod \"" + p->at("metadata").value("name", "") + "\"");
    std::string kind = ref.value("kind", ""), name = ref.value("name", ""), uid = ref.value("uid", "");
    ObjectPtr owner;
    if (kind == "ReplicaSet") {
      owner = replicasets_->Get(ns, name);
      // A Deployment's ReplicaSets share its scale.
      if (owner) {
        Json dref = ControllerRefOf(*owner);
        if (!dref.is_null() && dref.value("kind", "") == "Deployment") {
          if (ObjectPtr d = deployments_->Get(ns, dref.value("name", ""))) owner = d, uid = dref.value("uid", "");
        }
      }
    } else if (kind == "StatefulSet") {
      owner = statefulsets_->Get(ns, name);
    } else if (kind == "Deployment") {
      owner = deployments_->Get(ns, name);
    }
    if (!owner) return Status::Api(0, "", "found no controllers for pod \"" + p->at("metadata").value("name", "") + "\"");
    if (!counted.insert(owner->at("metadata").value("uid", "")).second) continue;
    *expected += owner->value("spec", Json::object()).value("replicas", 1);
  }
  return Status();
}

Status DisruptionController::Sync(const std::string& key) {
  ObjectPtr budget = budgets_->Get(key);
  if (!budget) return Status();
  const Json& pdb = *budget;
  const std::string ns = pdb["metadata"].value("namespace", "");
  const Json spec = pdb.value("spec", Json::object());
  const std::string now = api::Now();
  const int64_t now_unix = NowUnix();

  // The selected pods; a budget without a selector selects none.
  std::vector<ObjectPtr> pods;
  api::LabelSelector sel;
  std::string error;
  if (spec.contains("selector") && api::LabelSelector::FromJson(spec["selector"], &sel, &error))
    for (const ObjectPtr& p : pods_->ByIndex(client::kNamespaceIndex, ns))
      if (sel.Matches(p->at("metadata").value("labels", Json::object()))) pods.push_back(p);

  int64_t expected = 0, desired = 0;
  Status failure;
  if (spec.contains("maxUnavailable")) {
    failure = ExpectedScale(pods, &expected);
    int64_t max_unavailable = 0;
    Scaled(spec["maxUnavailable"], expected, &max_unavailable);
    desired = std::max<int64_t>(expected - max_unavailable, 0);
  } else if (spec.contains("minAvailable")) {
    if (IsPercent(spec["minAvailable"])) {
      failure = ExpectedScale(pods, &expected);
      Scaled(spec["minAvailable"], expected, &desired);
    } else {
      expected = int64_t(pods.size());
      Scaled(spec["minAvailable"], expected, &desired);
    }
  }

  Json status = pdb.value("status", Json::object());
  // Evictions the API server recorded: forgotten once their pod is going
  // or gone, or after the timeout; the rest are not counted healthy.
  Json disrupted = Json::object();
  std::set<std::string> pending;
  int64_t requeue_in = -1;
  const Json recorded = status.value("disruptedPods", Json::object());
  for (auto it = recorded.begin(); it != recorded.end(); ++it) {
    const std::string pod_name = it.key();
    ObjectPtr p = pods_->Get(ns, pod_name);
    if (!p || BeingDeleted(*p)) continue;
    int64_t at = ParseTime(it.value().is_string() ? it.value().get<std::string>() : "");
    if (at + kDeletionTimeout <= now_unix) continue;
    disrupted[pod_name] = it.value();
    pending.insert(pod_name);
    int64_t left = at + kDeletionTimeout - now_unix;
    if (requeue_in < 0 || left < requeue_in) requeue_in = left;
  }
  int64_t healthy = 0;
  for (const ObjectPtr& p : pods)
    if (!BeingDeleted(*p) && IsPodReady(*p) && !pending.count(p->at("metadata").value("name", ""))) healthy++;

  const int64_t allowed = failure.ok() ? std::max<int64_t>(healthy - desired, 0) : 0;
  status["currentHealthy"] = healthy;
  status["desiredHealthy"] = desired;
  status["expectedPods"] = expected;
  status["disruptionsAllowed"] = allowed;
  status["observedGeneration"] = pdb["metadata"].value("generation", 0);
  if (disrupted.empty()) status.erase("disruptedPods");
  else status["disruptedPods"] = disrupted;
  // The condition as upstream words it; its time moves only when its status does.
  std::string cond_status = allowed > 0 ? "True" : "False";
  std::string reason = !failure.ok() ? "SyncFailed" : allowed > 0 ? "SufficientPods" : "InsufficientPods";
  std::string message = failure.ok() ? "" : failure.message();
  Json conds = Json::array();
  std::string since = now;
  for (const Json& c : status.value("conditions", Json::array())) {
    if (c.value("type", "") != "DisruptionAllowed") {
      conds.push_back(c);
      continue;
    }
    if (c.value("status", "") == cond_status) since = c.value("lastTransitionTime", now);
  }
  Json cond = {{"type", "DisruptionAllowed"}, {"status", cond_status}, {"reason", reason}, {"message", message},
               {"lastTransitionTime", since}, {"observedGeneration", pdb["metadata"].value("generation", 0)}};
  conds.push_back(cond);
  status["conditions"] = conds;

  if (requeue_in >= 0) loop_.queue().AddAfter(key, std::chrono::seconds(requeue_in + 1));
  if (status == pdb.value("status", Json::object())) return Status();
  Json updated = pdb;
  updated["status"] = status;
  Status s = client_->UpdateStatus(kBudgets, ns, updated);
  if (s.IsConflict() || s.IsNotFound()) return Status();  // newer news is queued
  return s;
}

}  // namespace kubit::controllers
