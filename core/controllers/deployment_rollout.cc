// The strategies of DeploymentController (see deployment_controller.h):
// rolling update and recreate, scaling (proportional mid-rollout), the
// cleanup of old ReplicaSets, and the rollout status with its conditions.
#include <algorithm>
#include <set>
#include <nlohmann/json.hpp>

#include "core/controllers/controller_ref.h"
#include "core/controllers/deployment_controller.h"
#include "core/controllers/deployment_util.h"
#include "core/controllers/pod_state.h"

namespace kubit::controllers {

using client::Json;
using client::ObjectPtr;
using client::Status;

namespace {

std::string Name(const Json& o) { return o["metadata"].value("name", ""); }
std::string Quote(const std::string& s) { return "\"" + s + "\""; }

bool StatusEqual(const Json& a, const Json& b) {
  for (const char* f : {"observedGeneration", "replicas", "updatedReplicas", "readyReplicas", "availableReplicas",
                        "unavailableReplicas", "collisionCount"})
    if (a.value(f, int64_t{0}) != b.value(f, int64_t{0})) return false;
  return a.value("conditions", Json::array()) == b.value("conditions", Json::array());
}

Json StatusOf(const Json& d) {
  Json s = d.value("status", Json::object());
  return s.is_object() ? s : Json::object();
}

std::string CreatedAt(const Json& o) { return o["metadata"].value("creationTimestamp", ""); }

}  // namespace

Status DeploymentController::SyncStatusOnly(State* st) {
  Status s = FindOrCreateNewRS(st, false);
  if (!s.ok()) return s;
  Json status = CalculateStatus(st->d, st->rss, st->NewRS());
  if (StatusEqual(StatusOf(st->d), status)) return Status();
  return WriteStatus(st, status);
}

// Paused, or resized: scale only (upstream's sync).
Status DeploymentController::SyncScaleOnly(State* st) {
  Status s = FindOrCreateNewRS(st, false);
  if (!s.ok()) return s;
  s = Scale(st);
  if (!s.ok()) return s;
  if (st->d["spec"].value("paused", false)) {
    s = CleanupDeployment(st);
    if (!s.ok()) return s;
  }
  Json status = CalculateStatus(st->d, st->rss, st->NewRS());
  if (StatusEqual(StatusOf(st->d), status)) return Status();
  return WriteStatus(st, status);
}

Status DeploymentController::Scale(State* st) {
  const Json& d = st->d;
  const int64_t want = SpecReplicas(d);
  std::vector<int> olds;  // newest first
  for (size_t i = 0; i < st->rss.size(); i++)
    if (static_cast<int>(i) != st->new_rs) olds.push_back(static_cast<int>(i));
  std::sort(olds.begin(), olds.end(), [st](int a, int b) { return CreatedAt(st->rss[a]) > CreatedAt(st->rss[b]); });
  std::vector<int> active;
  if (st->new_rs >= 0 && SpecReplicas(st->rss[st->new_rs]) > 0) active.push_back(st->new_rs);
  for (int i : olds)
    if (SpecReplicas(st->rss[i]) > 0) active.push_back(i);

  // One active ReplicaSet (or none: the newest) takes the whole size.
  int only = -1;
  if (active.size() == 1) only = active[0];
  else if (active.empty() && st->new_rs >= 0) only = st->new_rs;
  else if (active.empty() && !olds.empty()) only = olds[0];
  bool scaled;
  if (active.size() <= 1) {
    if (only < 0 || SpecReplicas(st->rss[only]) == want) return Status();
    return ScaleAndRecord(st, only, want, &scaled);
  }
  // The new ReplicaSet is saturated: the old ones go to zero.
  int64_t desired = -1;
  const Json* nrs = st->NewRS();
  if (nrs && SpecReplicas(*nrs) == want && DesiredReplicasAnnotation(*nrs, &desired) && desired == want &&
      StatusInt(*nrs, "availableReplicas") == want) {
    for (int i : olds)
      if (SpecReplicas(st->rss[i]) > 0) {
        Status s = ScaleAndRecord(st, i, 0, &scaled);
        if (!s.ok()) return s;
      }
    return Status();
  }
  if (!IsRollingUpdate(d)) return Status();
  // Mid-rollout resize: every active ReplicaSet in proportion.
  int64_t current = 0;
  for (int i : active) current += SpecReplicas(st->rss[i]);
  const int64_t allowed = want > 0 ? want + MaxSurge(d) : 0;
  const int64_t to_add = allowed - current;
  const std::string op = to_add > 0 ? "up" : "down";
  // Larger first; on a tie newer first when growing, older when shrinking.
  std::sort(active.begin(), active.end(), [st, to_add](int a, int b) {
    int64_t sa = SpecReplicas(st->rss[a]), sb = SpecReplicas(st->rss[b]);
    if (sa != sb) return sa > sb;
    return to_add > 0 ? CreatedAt(st->rss[a]) > CreatedAt(st->rss[b]) : CreatedAt(st->rss[a]) < CreatedAt(st->rss[b]);
  });
  std::vector<int64_t> sizes;
  int64_t added = 0;
  for (int i : active) {
    int64_t p = to_add != 0 ? ReplicaSetProportion(st->rss[i], d, to_add, added) : 0;
    sizes.push_back(SpecReplicas(st->rss[i]) + p);
    added += p;
  }
  for (size_t k = 0; k < active.size(); k++) {
    if (k == 0 && to_add != 0) sizes[0] = std::max<int64_t>(0, sizes[0] + to_add - added);
    Status s = ScaleReplicaSet(st, active[k], sizes[k], op);
    if (!s.ok()) return s;
  }
  return Status();
}

Status DeploymentController::RolloutRolling(State* st) {
  Status s = FindOrCreateNewRS(st, true);
  if (!s.ok()) return s;
  bool scaled = false;
  s = ReconcileNewReplicaSet(st, &scaled);
  if (!s.ok()) return s;
  if (scaled) return SyncRolloutStatus(st);
  s = ReconcileOldReplicaSets(st, &scaled);
  if (!s.ok()) return s;
  if (scaled) return SyncRolloutStatus(st);
  if (DeploymentComplete(st->d, StatusOf(st->d))) {
    s = CleanupDeployment(st);
    if (!s.ok()) return s;
  }
  return SyncRolloutStatus(st);
}

Status DeploymentController::ReconcileNewReplicaSet(State* st, bool* scaled) {
  *scaled = false;
  if (st->new_rs < 0) return Status();
  const int64_t want = SpecReplicas(st->d), have = SpecReplicas(st->rss[st->new_rs]);
  if (have == want) return Status();
  if (have > want) return ScaleAndRecord(st, st->new_rs, want, scaled);
  return ScaleAndRecord(st, st->new_rs, NewRSNewReplicas(st->d, st->rss, st->rss[st->new_rs]), scaled);
}

Status DeploymentController::ReconcileOldReplicaSets(State* st, bool* scaled) {
  *scaled = false;
  const Json& d = st->d;
  std::vector<int> olds;  // active, oldest first
  for (size_t i = 0; i < st->rss.size(); i++)
    if (static_cast<int>(i) != st->new_rs && SpecReplicas(st->rss[i]) > 0) olds.push_back(static_cast<int>(i));
  std::sort(olds.begin(), olds.end(), [st](int a, int b) { return CreatedAt(st->rss[a]) < CreatedAt(st->rss[b]); });
  if (olds.empty()) return Status();
  int64_t all_pods = 0;
  for (const Json& rs : st->rss) all_pods += SpecReplicas(rs);
  const int64_t min_available = SpecReplicas(d) - MaxUnavailable(d);
  const Json* nrs = st->NewRS();
  const int64_t new_unavailable = nrs ? SpecReplicas(*nrs) - StatusInt(*nrs, "availableReplicas") : 0;
  const int64_t max_scaled_down = all_pods - min_available - new_unavailable;
  if (max_scaled_down <= 0) return Status();

  // Unhealthy old pods first: removing them costs no availability.
  int64_t cleaned = 0;
  for (int i : olds) {
    if (cleaned >= max_scaled_down) break;
    const int64_t spec = SpecReplicas(st->rss[i]);
    const int64_t unhealthy = spec - StatusInt(st->rss[i], "availableReplicas");
    if (spec == 0 || unhealthy <= 0) continue;
    const int64_t down = std::min(max_scaled_down - cleaned, unhealthy);
    bool did;
    Status s = ScaleAndRecord(st, i, spec - down, &did);
    if (!s.ok()) return s;
    cleaned += down;
  }
  // Then as many as availability allows.
  int64_t available = 0;
  for (const Json& rs : st->rss) available += StatusInt(rs, "availableReplicas");
  int64_t scaled_down = 0;
  if (available > min_available) {
    const int64_t total = available - min_available;
    for (int i : olds) {
      if (scaled_down >= total) break;
      const int64_t spec = SpecReplicas(st->rss[i]);
      if (spec == 0) continue;
      const int64_t down = std::min(spec, total - scaled_down);
      bool did;
      Status s = ScaleAndRecord(st, i, spec - down, &did);
      if (!s.ok()) return s;
      scaled_down += down;
    }
  }
  *scaled = cleaned + scaled_down > 0;
  return Status();
}

bool DeploymentController::OldPodsRunning(const State& st) const {
  std::set<std::string> old_uids;
  for (size_t i = 0; i < st.rss.size(); i++) {
    if (static_cast<int>(i) == st.new_rs) continue;
    if (StatusInt(st.rss[i], "replicas") > 0) return true;
    old_uids.insert(st.rss[i]["metadata"].value("uid", ""));
  }
  for (const ObjectPtr& p : pods_->ByIndex(client::kNamespaceIndex, st.d["metadata"].value("namespace", ""))) {
    if (!old_uids.count(ControllerRefOf(*p).value("uid", ""))) continue;
    const std::string phase = (*p).value("status", Json::object()).value("phase", "");
    if (phase != "Failed" && phase != "Succeeded") return true;
  }
  return false;
}

Status DeploymentController::RolloutRecreate(State* st) {
  Status s = FindOrCreateNewRS(st, false);
  if (!s.ok()) return s;
  bool any = false;
  for (size_t i = 0; i < st->rss.size(); i++) {
    if (static_cast<int>(i) == st->new_rs || SpecReplicas(st->rss[i]) == 0) continue;
    bool scaled;
    s = ScaleAndRecord(st, static_cast<int>(i), 0, &scaled);
    if (!s.ok()) return s;
    any = any || scaled;
  }
  // New pods start only once every old one is gone (pod deletions queue
  // the Deployment again).
  if (any || OldPodsRunning(*st)) return SyncRolloutStatus(st);
  if (st->new_rs < 0) {
    s = FindOrCreateNewRS(st, true);
    if (!s.ok()) return s;
  }
  if (DeploymentComplete(st->d, StatusOf(st->d))) {
    s = CleanupDeployment(st);
    if (!s.ok()) return s;
  }
  bool scaled;
  s = ScaleAndRecord(st, st->new_rs, SpecReplicas(st->d), &scaled);
  if (!s.ok()) return s;
  return SyncRolloutStatus(st);
}

Status DeploymentController::CleanupDeployment(State* st) {
  const Json spec = st->d["spec"];
  if (!spec.contains("revisionHistoryLimit") || !spec["revisionHistoryLimit"].is_number()) return Status();
  const int64_t limit = spec["revisionHistoryLimit"].get<int64_t>();
  std::vector<Json> cleanable;
  for (const Json& rs : st->Olds())
    if (!BeingDeleted(rs)) cleanable.push_back(rs);
  int64_t diff = static_cast<int64_t>(cleanable.size()) - limit;
  if (diff <= 0) return Status();
  std::sort(cleanable.begin(), cleanable.end(), [](const Json& a, const Json& b) {
    if (Revision(a) != Revision(b)) return Revision(a) < Revision(b);
    return CreatedAt(a) < CreatedAt(b);
  });
  for (int64_t i = 0; i < diff; i++) {
    const Json& rs = cleanable[i];
    // Only empty ones whose status is current.
    if (StatusInt(rs, "replicas") != 0 || SpecReplicas(rs) != 0 ||
        rs["metadata"].value("generation", int64_t{0}) > StatusInt(rs, "observedGeneration"))
      continue;
    client::DeleteOptions opts;
    opts.precondition_uid = rs["metadata"].value("uid", "");
    Status s = client_->Delete({"apps", "v1", "replicasets"}, rs["metadata"].value("namespace", ""), Name(rs), opts);
    if (!s.ok() && !s.IsNotFound() && !s.IsConflict()) return s;
  }
  return Status();
}

Status DeploymentController::SyncRolloutStatus(State* st) {
  const Json& d = st->d;
  const Json* nrs = st->NewRS();
  Json status = CalculateStatus(d, st->rss, nrs);
  if (!HasProgressDeadline(d)) RemoveCondition(&status, "Progressing");
  const Json cur = GetCondition(status, "Progressing");
  const bool complete = status.value("replicas", int64_t{0}) == status.value("updatedReplicas", int64_t{0}) &&
                        !cur.is_null() && cur.value("reason", "") == kNewRSAvailableReason;
  const std::string what = nrs ? "ReplicaSet " + Quote(Name(*nrs)) : "Deployment " + Quote(Name(d));
  if (HasProgressDeadline(d) && !complete) {
    if (DeploymentComplete(d, status)) {
      SetCondition(&status, NewCondition("Progressing", "True", kNewRSAvailableReason, what + " has successfully progressed."));
    } else if (DeploymentProgressing(d, status)) {
      // Progress moves lastUpdateTime, which the deadline counts from.
      Json cond = NewCondition("Progressing", "True", kReplicaSetUpdatedReason, what + " is progressing.");
      if (!cur.is_null() && cur.value("status", "") == "True") cond["lastTransitionTime"] = cur["lastTransitionTime"];
      RemoveCondition(&status, "Progressing");
      status["conditions"].push_back(cond);
    } else if (DeploymentTimedOut(d, status, NowUnix())) {
      SetCondition(&status, NewCondition("Progressing", "False", kTimedOutReason, what + " has timed out progressing."));
    }
  }
  // A ReplicaSet that cannot make its pods says why on the Deployment too.
  Json failure;
  if (nrs) failure = GetCondition(StatusOf(*nrs), "ReplicaFailure");
  for (size_t i = 0; i < st->rss.size() && failure.is_null(); i++)
    failure = GetCondition(StatusOf(st->rss[i]), "ReplicaFailure");
  if (!failure.is_null() && failure.value("status", "") == "True")
    SetCondition(&status, NewCondition("ReplicaFailure", "True", failure.value("reason", ""), failure.value("message", "")));
  else
    RemoveCondition(&status, "ReplicaFailure");

  if (!StatusEqual(StatusOf(d), status)) return WriteStatus(st, status);
  // Nothing changed: look again when the progress deadline would pass.
  const Json now_cond = GetCondition(status, "Progressing");
  if (HasProgressDeadline(d) && !now_cond.is_null() && now_cond.value("reason", "") != kNewRSAvailableReason &&
      now_cond.value("reason", "") != kTimedOutReason) {
    const int64_t after = ParseTime(now_cond.value("lastUpdateTime", "")) +
                          d["spec"]["progressDeadlineSeconds"].get<int64_t>() - NowUnix();
    loop_.queue().AddAfter(client::ObjectKey(d), std::chrono::seconds(std::max<int64_t>(after, 0) + 1));
  }
  return Status();
}

}  // namespace kubit::controllers
