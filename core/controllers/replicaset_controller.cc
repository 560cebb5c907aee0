#include "core/controllers/replicaset_controller.h"

#include <algorithm>
#include <set>
#include <nlohmann/json.hpp>

#include "core/api/meta.h"
#include "core/api/selectors.h"
#include "core/controllers/controller_ref.h"
#include "core/controllers/pod_state.h"
#include "core/controllers/replicaset_pod_ranking.h"
#include "core/controllers/slow_start.h"

namespace kubit::controllers {

using client::Json;
using client::ObjectPtr;
using client::Status;

namespace {

const client::Resource kReplicaSets{"apps", "v1", "replicasets"};
const client::Resource kPods{"", "v1", "pods"};
constexpr const char* kComponent = "replicaset-controller";

const Json& Meta(const Json& o) { return o["metadata"]; }
std::string Ns(const Json& o) { return Meta(o).value("namespace", ""); }
std::string Name(const Json& o) { return Meta(o).value("name", ""); }

int64_t Replicas(const Json& rs) {
  const Json spec = rs.value("spec", Json::object());
  return spec.contains("replicas") && spec["replicas"].is_number() ? spec["replicas"].get<int64_t>() : 1;
}

int64_t MinReadySeconds(const Json& rs) { return rs.value("spec", Json::object()).value("minReadySeconds", int64_t{0}); }

bool ParseSelector(const Json& owner, api::LabelSelector* out) {
  const Json spec = owner.value("spec", Json::object());
  std::string error;
  // A missing selector selects nothing (upstream's rule for controllers).
  if (!spec.contains("selector") || !spec["selector"].is_object()) return false;
  return api::LabelSelector::FromJson(spec["selector"], out, &error) && !out->empty();
}

bool TerminatingNamespaceError(const Status& s) {
  return s.IsForbidden() && s.message().find("being terminated") != std::string::npos;
}

bool HasLabels(const Json& labels, const Json& want) {
  if (!want.is_object()) return true;
  for (auto it = want.begin(); it != want.end(); ++it)
    if (!labels.is_object() || !labels.contains(it.key()) || labels[it.key()] != it.value()) return false;
  return true;
}

}  // namespace

Json PodFromTemplate(const Json& tmpl, const Json& owner, const std::string& generate_name) {
  const Json tmeta = tmpl.value("metadata", Json::object());
  Json meta = {{"generateName", generate_name}, {"ownerReferences", Json::array({ControllerRefFor(owner)})}};
  for (const char* f : {"labels", "annotations", "finalizers"})
    if (tmeta.contains(f) && !tmeta[f].is_null()) meta[f] = tmeta[f];
  return {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", meta}, {"spec", tmpl.value("spec", Json::object())}};
}

ReplicaSetController::ReplicaSetController(client::Client* client, client::SharedInformerFactory* informers,
                                           Logger log, int burst)
    : client_(client),
      replicasets_(informers->For(kReplicaSets)),
      pods_(informers->For(kPods)),
      log_(log),
      burst_(burst),
      events_(client, kComponent),
      loop_(kComponent, [this](const std::string& key) { return Sync(key); }, log) {
  client::EventHandlers rs_events;
  rs_events.on_add = [this](const ObjectPtr& o) { loop_.queue().Add(client::ObjectKey(*o)); };
  rs_events.on_update = [this](const ObjectPtr&, const ObjectPtr& o) { loop_.queue().Add(client::ObjectKey(*o)); };
  rs_events.on_delete = [this](const ObjectPtr& o, bool) { expectations_.DeleteExpectations(client::ObjectKey(*o)); };
  replicasets_->AddHandler(rs_events);
  client::EventHandlers pod_events;
  pod_events.on_add = [this](const ObjectPtr& o) { OnPodAdd(o); };
  pod_events.on_update = [this](const ObjectPtr& old_obj, const ObjectPtr& o) { OnPodUpdate(old_obj, o); };
  pod_events.on_delete = [this](const ObjectPtr& o, bool) { OnPodDelete(o); };
  pods_->AddHandler(pod_events);
}

void ReplicaSetController::Start(int workers) { loop_.Start(workers); }

void ReplicaSetController::Stop() { loop_.Stop(); }

void ReplicaSetController::EnqueueOwner(const Json& pod) {
  std::string key = ControllerKeyOf(pod, "ReplicaSet");
  if (!key.empty() && replicasets_->Get(key)) loop_.queue().Add(key);
}

// An orphan may be adopted by any ReplicaSet whose selector takes it.
void ReplicaSetController::EnqueueMatching(const Json& pod) {
  const Json labels = Meta(pod).value("labels", Json::object());
  for (const ObjectPtr& rs : replicasets_->ByIndex(client::kNamespaceIndex, Ns(pod))) {
    api::LabelSelector sel;
    if (ParseSelector(*rs, &sel) && sel.Matches(labels)) loop_.queue().Add(client::ObjectKey(*rs));
  }
}

void ReplicaSetController::OnPodAdd(const ObjectPtr& pod) {
  if (BeingDeleted(*pod)) {  // e.g. seen first after a restart: it will go
    OnPodDelete(pod);
    return;
  }
  std::string key = ControllerKeyOf(*pod, "ReplicaSet");
  if (!key.empty()) {
    if (!replicasets_->Get(key)) return;
    expectations_.CreationObserved(key);
    loop_.queue().Add(key);
    return;
  }
  if (ControllerRefOf(*pod).is_null()) EnqueueMatching(*pod);
}

void ReplicaSetController::OnPodUpdate(const ObjectPtr& old_pod, const ObjectPtr& pod) {
  if (Meta(*old_pod).value("resourceVersion", "") == Meta(*pod).value("resourceVersion", "")) return;
  // A pod being deleted no longer counts: its deletion is as good as seen.
  if (BeingDeleted(*pod) && !BeingDeleted(*old_pod)) {
    std::string key = ControllerKeyOf(*pod, "ReplicaSet");
    if (!key.empty()) expectations_.DeletionObserved(key, client::ObjectKey(*pod));
  }
  Json old_ref = ControllerRefOf(*old_pod), ref = ControllerRefOf(*pod);
  if (old_ref != ref && !old_ref.is_null()) EnqueueOwner(*old_pod);
  if (!ref.is_null()) {
    EnqueueOwner(*pod);
    std::string key = ControllerKeyOf(*pod, "ReplicaSet");
    // Available minReadySeconds after turning ready: look again then.
    if (!key.empty() && !IsPodReady(*old_pod) && IsPodReady(*pod))
      if (ObjectPtr rs = replicasets_->Get(key); rs && MinReadySeconds(*rs) > 0)
        loop_.queue().AddAfter(key, std::chrono::seconds(MinReadySeconds(*rs) + 1));
    return;
  }
  if (Meta(*old_pod).value("labels", Json()) != Meta(*pod).value("labels", Json()) || old_ref != ref)
    EnqueueMatching(*pod);
}

void ReplicaSetController::OnPodDelete(const ObjectPtr& pod) {
  std::string key = ControllerKeyOf(*pod, "ReplicaSet");
  if (key.empty()) return;
  expectations_.DeletionObserved(key, client::ObjectKey(*pod));
  loop_.queue().Add(key);
}

Status ReplicaSetController::Sync(const std::string& key) {
  ObjectPtr rs = replicasets_->Get(key);
  if (!rs) {
    expectations_.DeleteExpectations(key);
    return Status();
  }
  const bool needs_sync = expectations_.SatisfiedExpectations(key);
  api::LabelSelector selector;
  if (!ParseSelector(*rs, &selector)) return Status();  // validation keeps these out; nothing to do

  std::vector<ObjectPtr> active;
  for (const ObjectPtr& p : pods_->ByIndex(client::kNamespaceIndex, Ns(*rs)))
    if (IsPodActive(*p)) active.push_back(p);
  ClaimOptions claim;
  claim.resource = kPods;
  const std::string uid = Meta(*rs).value("uid", "");
  claim.can_adopt = [this, rs, uid]() {
    Json fresh;
    Status s = client_->Get(kReplicaSets, Ns(*rs), Name(*rs), &fresh);
    if (!s.ok()) return s;
    if (Meta(fresh).value("uid", "") != uid || BeingDeleted(fresh))
      return Status::Api(409, "Conflict", "replicaset " + Name(*rs) + " is gone or being deleted: not adopting");
    return Status();
  };
  std::vector<ObjectPtr> pods;
  Status s = ClaimObjects(client_, *rs, selector, active, claim, &pods);
  if (!s.ok()) return s;

  Status manage;
  if (needs_sync && !BeingDeleted(*rs)) manage = ManageReplicas(*rs, pods);
  Status st = UpdateStatus(*rs, pods, manage);
  if (!manage.ok()) return manage;
  return st;
}

Status ReplicaSetController::ManageReplicas(const Json& rs, const std::vector<ObjectPtr>& pods) {
  const int64_t diff = static_cast<int64_t>(pods.size()) - Replicas(rs);
  if (diff < 0) return CreatePods(rs, static_cast<int>(std::min<int64_t>(-diff, burst_)));
  if (diff > 0) return DeletePods(rs, pods, static_cast<int>(std::min<int64_t>(diff, burst_)));
  return Status();
}

Status ReplicaSetController::CreatePods(const Json& rs, int count) {
  const std::string key = client::ObjectKey(rs);
  expectations_.ExpectCreations(key, count);
  const Json tmpl = rs["spec"].value("template", Json::object());
  const Json pod = PodFromTemplate(tmpl, rs, Name(rs) + "-");
  Status failed;
  int created = SlowStartBatch(
      count,
      [&] {
        Json out;
        Status s = client_->Create(kPods, Ns(rs), pod, &out);
        if (s.ok()) events_.Event(rs, client::kEventTypeNormal, "SuccessfulCreate", "Created pod: " + Name(out));
        return s;
      },
      &failed);
  if (failed.ok()) return Status();
  // Those that failed and those never tried will not be observed.
  expectations_.LowerCreations(key, count - created);
  if (TerminatingNamespaceError(failed)) return Status();
  events_.Event(rs, client::kEventTypeWarning, "FailedCreate", "Error creating: " + failed.message());
  return failed;
}

Status ReplicaSetController::DeletePods(const Json& rs, const std::vector<ObjectPtr>& pods, int count) {
  // Rank against the whole workload: every ReplicaSet of the same Deployment.
  std::vector<ObjectPtr> related = pods;
  Json ref = ControllerRefOf(rs);
  if (!ref.is_null()) {
    related.clear();
    std::set<std::string> siblings;
    for (const ObjectPtr& other : replicasets_->ByIndex(client::kNamespaceIndex, Ns(rs)))
      if (ControllerRefOf(*other).value("uid", "") == ref.value("uid", ""))
        siblings.insert(Meta(*other).value("uid", ""));
    for (const ObjectPtr& p : pods_->ByIndex(client::kNamespaceIndex, Ns(rs)))
      if (IsPodActive(*p) && siblings.count(ControllerRefOf(*p).value("uid", ""))) related.push_back(p);
  }
  std::vector<ObjectPtr> victims = RankPodsForDeletion(pods, related, NowUnix());
  victims.resize(count);
  const std::string key = client::ObjectKey(rs);
  std::vector<std::string> keys;
  for (const ObjectPtr& p : victims) keys.push_back(client::ObjectKey(*p));
  expectations_.ExpectDeletions(key, keys);
  Status failed;
  for (const ObjectPtr& p : victims) {
    Status s = client_->Delete(kPods, Ns(*p), Name(*p));
    if (s.ok()) {
      events_.Event(rs, client::kEventTypeNormal, "SuccessfulDelete", "Deleted pod: " + Name(*p));
      continue;
    }
    expectations_.DeletionObserved(key, client::ObjectKey(*p));  // no event will come for it
    if (s.IsNotFound()) continue;
    events_.Event(rs, client::kEventTypeWarning, "FailedDelete", "Error deleting: " + s.message());
    if (failed.ok()) failed = s;
  }
  return failed;
}

Status ReplicaSetController::UpdateStatus(const Json& rs, const std::vector<ObjectPtr>& pods,
                                          const Status& manage_error) {
  const Json tmpl_labels = rs["spec"].value("template", Json::object()).value("metadata", Json::object()).value("labels", Json::object());
  const int64_t now = NowUnix(), min_ready = MinReadySeconds(rs);
  int64_t fully = 0, ready = 0, available = 0;
  for (const ObjectPtr& p : pods) {
    if (HasLabels(Meta(*p).value("labels", Json::object()), tmpl_labels)) fully++;
    if (IsPodReady(*p)) ready++;
    if (IsPodAvailable(*p, min_ready, now)) available++;
  }
  const Json old = rs.value("status", Json::object());
  Json status = old.is_object() ? old : Json::object();
  status["replicas"] = static_cast<int64_t>(pods.size());
  status["fullyLabeledReplicas"] = fully;
  status["readyReplicas"] = ready;
  status["availableReplicas"] = available;
  status["observedGeneration"] = Meta(rs).value("generation", int64_t{0});
  Json conds = Json::array();
  for (const Json& c : status.value("conditions", Json::array()))
    if (c.value("type", "") != "ReplicaFailure") conds.push_back(c);
  if (!manage_error.ok()) {
    Json prev;
    for (const Json& c : status.value("conditions", Json::array()))
      if (c.value("type", "") == "ReplicaFailure") prev = c;
    const bool creating = static_cast<int64_t>(pods.size()) < Replicas(rs);
    const std::string since = prev.is_object() ? prev.value("lastTransitionTime", api::Now()) : api::Now();
    conds.push_back(Json{{"type", "ReplicaFailure"},
                         {"status", "True"},
                         {"lastTransitionTime", since},
                         {"reason", creating ? "FailedCreate" : "FailedDelete"},
                         {"message", manage_error.message()}});
  }
  if (conds.empty()) status.erase("conditions");
  else status["conditions"] = conds;

  // The server leaves zero counts out: compare with zeros filled in, or
  // every sync would write again.
  auto same = [&](const char* f) { return old.value(f, int64_t{0}) == status.value(f, int64_t{0}); };
  const bool unchanged = same("replicas") && same("fullyLabeledReplicas") && same("readyReplicas") &&
                         same("availableReplicas") && same("observedGeneration") &&
                         old.value("conditions", Json::array()) == status.value("conditions", Json::array());
  if (!unchanged) {
    Json next = rs;
    next["status"] = status;
    Status s = client_->UpdateStatus(kReplicaSets, Ns(rs), next);
    // A conflict: a newer ReplicaSet is on its way through the informer,
    // and its event syncs again.
    if (s.IsNotFound() || s.IsConflict()) return Status();
    if (!s.ok()) return s;
  }
  // Pods ready but not yet available become so later: look again then.
  if (manage_error.ok() && min_ready > 0 && ready == Replicas(rs) && available != ready)
    loop_.queue().AddAfter(client::ObjectKey(rs), std::chrono::seconds(min_ready));
  return Status();
}

}  // namespace kubit::controllers
