#include "core/controllers/deployment_controller.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/api/selectors.h"
#include "core/controllers/controller_ref.h"
#include "core/controllers/deployment_util.h"

namespace kubit::controllers {

using client::Json;
using client::ObjectPtr;
using client::Status;

namespace {

const client::Resource kDeployments{"apps", "v1", "deployments"};
const client::Resource kReplicaSets{"apps", "v1", "replicasets"};
const client::Resource kPods{"", "v1", "pods"};
constexpr const char* kComponent = "deployment-controller";

std::string Ns(const Json& o) { return o["metadata"].value("namespace", ""); }
std::string Name(const Json& o) { return o["metadata"].value("name", ""); }
std::string Uid(const Json& o) { return o["metadata"].value("uid", ""); }
std::string Quote(const std::string& s) { return "\"" + s + "\""; }

bool ParseSelector(const Json& d, api::LabelSelector* out) {
  const Json spec = d.value("spec", Json::object());
  std::string error;
  if (!spec.contains("selector") || !spec["selector"].is_object()) return false;
  return api::LabelSelector::FromJson(spec["selector"], out, &error) && !out->empty();
}

bool OlderFirst(const Json& a, const Json& b) {
  const std::string ta = a["metadata"].value("creationTimestamp", ""), tb = b["metadata"].value("creationTimestamp", "");
  return ta != tb ? ta < tb : Name(a) < Name(b);
}

}  // namespace

std::vector<Json> DeploymentController::State::Olds() const {
  std::vector<Json> out;
  for (size_t i = 0; i < rss.size(); i++)
    if (static_cast<int>(i) != new_rs) out.push_back(rss[i]);
  return out;
}

DeploymentController::DeploymentController(client::Client* client, client::SharedInformerFactory* informers,
                                           Logger log)
    : client_(client),
      deployments_(informers->For(kDeployments)),
      replicasets_(informers->For(kReplicaSets)),
      pods_(informers->For(kPods)),
      log_(log),
      events_(client, kComponent),
      loop_(kComponent,
            [this](const std::string& key) {
              // A conflict means the cache was behind the server: the newer
              // object's watch event queues the key again, so no back-off
              // (and no warning) is needed.
              Status s = Sync(key);
              return s.IsConflict() ? Status() : s;
            },
            log) {
  client::EventHandlers d_events;
  d_events.on_add = [this](const ObjectPtr& o) { loop_.queue().Add(client::ObjectKey(*o)); };
  d_events.on_update = [this](const ObjectPtr&, const ObjectPtr& o) { loop_.queue().Add(client::ObjectKey(*o)); };
  d_events.on_delete = [this](const ObjectPtr& o, bool) { loop_.queue().Add(client::ObjectKey(*o)); };
  deployments_->AddHandler(d_events);
  client::EventHandlers rs_events;
  rs_events.on_add = [this](const ObjectPtr& o) {
    if (ControllerRefOf(*o).is_null()) EnqueueMatching(*o);
    else EnqueueOwner(*o);
  };
  rs_events.on_update = [this](const ObjectPtr& old_obj, const ObjectPtr& o) {
    Json old_ref = ControllerRefOf(*old_obj), ref = ControllerRefOf(*o);
    if (old_ref != ref && !old_ref.is_null()) EnqueueOwner(*old_obj);
    if (!ref.is_null()) EnqueueOwner(*o);
    else if (old_ref != ref || (*old_obj)["metadata"].value("labels", Json()) != (*o)["metadata"].value("labels", Json()))
      EnqueueMatching(*o);
  };
  rs_events.on_delete = [this](const ObjectPtr& o, bool) { EnqueueOwner(*o); };
  replicasets_->AddHandler(rs_events);
  // Recreate waits for the old pods to be gone.
  client::EventHandlers pod_events;
  pod_events.on_delete = [this](const ObjectPtr& pod, bool) {
    std::string rs_key = ControllerKeyOf(*pod, "ReplicaSet");
    ObjectPtr rs = rs_key.empty() ? nullptr : replicasets_->Get(rs_key);
    if (!rs) return;
    std::string d_key = ControllerKeyOf(*rs, "Deployment");
    ObjectPtr d = d_key.empty() ? nullptr : deployments_->Get(d_key);
    if (d && !IsRollingUpdate(*d)) loop_.queue().Add(d_key);
  };
  pods_->AddHandler(pod_events);
}

void DeploymentController::Start(int workers) { loop_.Start(workers); }

void DeploymentController::Stop() { loop_.Stop(); }

void DeploymentController::EnqueueOwner(const Json& rs) {
  std::string key = ControllerKeyOf(rs, "Deployment");
  if (!key.empty() && deployments_->Get(key)) loop_.queue().Add(key);
}

void DeploymentController::EnqueueMatching(const Json& rs) {
  const Json labels = rs["metadata"].value("labels", Json::object());
  for (const ObjectPtr& d : deployments_->ByIndex(client::kNamespaceIndex, Ns(rs))) {
    api::LabelSelector sel;
    if (ParseSelector(*d, &sel) && sel.Matches(labels)) loop_.queue().Add(client::ObjectKey(*d));
  }
}

Status DeploymentController::ClaimReplicaSets(const Json& d, std::vector<Json>* out) {
  api::LabelSelector selector;
  if (!ParseSelector(d, &selector)) return Status();
  ClaimOptions claim;
  claim.resource = kReplicaSets;
  claim.can_adopt = [this, d]() {
    Json fresh;
    Status s = client_->Get(kDeployments, Ns(d), Name(d), &fresh);
    if (!s.ok()) return s;
    if (Uid(fresh) != Uid(d) || BeingDeleted(fresh))
      return Status::Api(409, "Conflict", "deployment " + Name(d) + " is gone or being deleted: not adopting");
    return Status();
  };
  std::vector<ObjectPtr> claimed;
  Status s = ClaimObjects(client_, d, selector, replicasets_->ByIndex(client::kNamespaceIndex, Ns(d)), claim, &claimed);
  if (!s.ok()) return s;
  for (const ObjectPtr& rs : claimed) out->push_back(*rs);
  std::sort(out->begin(), out->end(), OlderFirst);
  return Status();
}

Status DeploymentController::Sync(const std::string& key) {
  ObjectPtr dp = deployments_->Get(key);
  if (!dp) return Status();
  State st;
  st.d = *dp;
  api::LabelSelector selector;
  if (!ParseSelector(st.d, &selector)) return Status();  // validation requires one
  Status s = ClaimReplicaSets(st.d, &st.rss);
  if (!s.ok()) return s;
  if (BeingDeleted(st.d)) return SyncStatusOnly(&st);
  s = CheckPausedConditions(&st);
  if (!s.ok()) return s;
  if (st.d["spec"].value("paused", false)) return SyncScaleOnly(&st);
  s = FindOrCreateNewRS(&st, false);
  if (!s.ok()) return s;
  if (IsScalingEvent(st)) return SyncScaleOnly(&st);
  if (!IsRollingUpdate(st.d)) return RolloutRecreate(&st);
  return RolloutRolling(&st);
}

Status DeploymentController::FindOrCreateNewRS(State* st, bool create) {
  Json& d = st->d;
  const Json tmpl = d["spec"].value("template", Json::object());
  st->new_rs = -1;
  for (size_t i = 0; i < st->rss.size(); i++)
    if (EqualIgnoreHash(st->rss[i]["spec"].value("template", Json::object()), tmpl)) {
      st->new_rs = static_cast<int>(i);
      break;
    }
  const int64_t new_revision = MaxRevision(st->Olds()) + 1;
  const int64_t min_ready = d["spec"].value("minReadySeconds", int64_t{0});

  if (st->new_rs >= 0) {
    Json rs = st->rss[st->new_rs];
    bool changed = SetNewReplicaSetAnnotations(d, &rs, new_revision, true);
    if (rs["spec"].value("minReadySeconds", int64_t{0}) != min_ready) {
      rs["spec"]["minReadySeconds"] = min_ready;
      changed = true;
    }
    if (changed) {
      Json out;
      Status s = client_->Update(kReplicaSets, Ns(rs), rs, &out);
      if (!s.ok()) return s;
      st->rss[st->new_rs] = out;
    }
    Status s = WriteRevision(st, Revision(st->rss[st->new_rs]));
    if (!s.ok()) return s;
    if (HasProgressDeadline(d) && GetCondition(d.value("status", Json::object()), "Progressing").is_null()) {
      Json status = d.value("status", Json::object());
      if (!status.is_object()) status = Json::object();
      SetCondition(&status, NewCondition("Progressing", "True", kFoundNewRSReason,
                                         "Found new replica set " + Quote(Name(st->rss[st->new_rs]))));
      return WriteStatus(st, status);
    }
    return Status();
  }
  if (!create) return Status();

  const int64_t collisions = StatusInt(d, "collisionCount");
  Json new_tmpl = tmpl;
  const std::string hash = ComputeHash(tmpl, collisions);
  new_tmpl["metadata"]["labels"][kPodTemplateHashLabel] = hash;
  Json selector = d["spec"]["selector"];
  selector["matchLabels"][kPodTemplateHashLabel] = hash;
  Json rs = {{"apiVersion", "apps/v1"},
             {"kind", "ReplicaSet"},
             {"metadata",
              {{"name", Name(d) + "-" + hash},
               {"namespace", Ns(d)},
               {"labels", new_tmpl["metadata"]["labels"]},
               {"ownerReferences", Json::array({ControllerRefFor(d)})}}},
             {"spec", {{"replicas", 0}, {"minReadySeconds", min_ready}, {"selector", selector}, {"template", new_tmpl}}}};
  std::vector<Json> all = st->Olds();
  all.push_back(rs);
  const int64_t replicas = NewRSNewReplicas(d, all, rs);
  rs["spec"]["replicas"] = replicas;
  SetNewReplicaSetAnnotations(d, &rs, new_revision, false);
  Json created;
  Status s = client_->Create(kReplicaSets, Ns(d), rs, &created);
  bool already_exists = false;
  if (s.IsAlreadyExists()) {
    Json existing;
    Status g = client_->Get(kReplicaSets, Ns(d), Name(rs), &existing);
    if (!g.ok()) return g;
    if (ControllerRefOf(existing).value("uid", "") == Uid(d) &&
        EqualIgnoreHash(existing["spec"].value("template", Json::object()), tmpl)) {
      created = existing;  // made by an earlier sync the cache has not shown yet
      already_exists = true;
    } else {
      // Someone else's ReplicaSet has this name: hash again with another count.
      Json status = d.value("status", Json::object());
      if (!status.is_object()) status = Json::object();
      status["collisionCount"] = collisions + 1;
      Status w = WriteStatus(st, status);
      if (!w.ok()) return w;
      return Status::Api(409, "Conflict", "hash collision for replica set " + Name(rs) + "; collisionCount is now " +
                                              std::to_string(collisions + 1));
    }
  } else if (!s.ok()) {
    const std::string msg = "Failed to create new replica set " + Quote(Name(rs)) + ": " + s.message();
    if (HasProgressDeadline(d)) {
      Json status = d.value("status", Json::object());
      if (!status.is_object()) status = Json::object();
      SetCondition(&status, NewCondition("Progressing", "False", kFailedRSCreateReason, msg));
      WriteStatus(st, status);
    }
    events_.Event(d, client::kEventTypeWarning, kFailedRSCreateReason, msg);
    return s;
  }
  st->rss.push_back(created);
  st->new_rs = static_cast<int>(st->rss.size()) - 1;
  if (!already_exists && replicas > 0)
    events_.Event(d, client::kEventTypeNormal, "ScalingReplicaSet",
                  "Scaled up replica set " + Name(created) + " from 0 to " + std::to_string(replicas));
  s = WriteRevision(st, new_revision);
  if (!s.ok()) return s;
  if (!already_exists && HasProgressDeadline(d)) {
    Json status = d.value("status", Json::object());
    if (!status.is_object()) status = Json::object();
    SetCondition(&status, NewCondition("Progressing", "True", kNewRSCreatedReason,
                                       "Created new replica set " + Quote(Name(created))));
    return WriteStatus(st, status);
  }
  return Status();
}

Status DeploymentController::WriteRevision(State* st, int64_t revision) {
  const std::string want = std::to_string(revision);
  Json annotations = st->d["metadata"].value("annotations", Json::object());
  if (annotations.is_object() && annotations.value(kRevisionAnnotation, "") == want) return Status();
  Json patch = {{"metadata", {{"annotations", {{kRevisionAnnotation, want}}}}}};
  Json out;
  Status s = client_->Patch(kDeployments, Ns(st->d), Name(st->d), client::PatchType::kMerge, patch.dump(), &out);
  if (s.ok()) st->d = out;
  return s;
}

Status DeploymentController::WriteStatus(State* st, const Json& status) {
  Json next = st->d;
  next["status"] = status;
  if (status.value("conditions", Json::array()).empty()) next["status"].erase("conditions");
  Json out;
  Status s = client_->UpdateStatus(kDeployments, Ns(next), next, &out);
  if (s.ok()) st->d = out;
  return s;
}

Status DeploymentController::CheckPausedConditions(State* st) {
  Json& d = st->d;
  if (!HasProgressDeadline(d)) return Status();
  Json status = d.value("status", Json::object());
  if (!status.is_object()) status = Json::object();
  Json cond = GetCondition(status, "Progressing");
  if (!cond.is_null() && cond.value("reason", "") == kTimedOutReason) return Status();  // stays failed
  const bool paused_cond = !cond.is_null() && cond.value("reason", "") == kPausedReason;
  const bool paused = d["spec"].value("paused", false);
  if (paused && !paused_cond)
    SetCondition(&status, NewCondition("Progressing", "Unknown", kPausedReason, "Deployment is paused"));
  else if (!paused && paused_cond)
    SetCondition(&status, NewCondition("Progressing", "Unknown", kResumedReason, "Deployment is resumed"));
  else
    return Status();
  return WriteStatus(st, status);
}

bool DeploymentController::IsScalingEvent(const State& st) const {
  for (const Json& rs : st.rss) {
    int64_t desired;
    if (SpecReplicas(rs) > 0 && DesiredReplicasAnnotation(rs, &desired) && desired != SpecReplicas(st.d)) return true;
  }
  return false;
}

Status DeploymentController::ScaleReplicaSet(State* st, int index, int64_t size, const std::string& operation) {
  const Json& d = st->d;
  Json rs = st->rss[index];
  const int64_t before = SpecReplicas(rs);
  const bool resize = before != size;
  if (!resize && !ReplicasAnnotationsNeedUpdate(rs, SpecReplicas(d), SpecReplicas(d) + MaxSurge(d))) return Status();
  rs["spec"]["replicas"] = size;
  SetReplicasAnnotations(&rs, SpecReplicas(d), SpecReplicas(d) + MaxSurge(d));
  Json out;
  Status s = client_->Update(kReplicaSets, Ns(rs), rs, &out);
  if (!s.ok()) return s;
  st->rss[index] = out;
  if (resize)
    events_.Event(d, client::kEventTypeNormal, "ScalingReplicaSet",
                  "Scaled " + operation + " replica set " + Name(rs) + " from " + std::to_string(before) + " to " +
                      std::to_string(size));
  return Status();
}

Status DeploymentController::ScaleAndRecord(State* st, int index, int64_t size, bool* scaled) {
  const int64_t before = SpecReplicas(st->rss[index]);
  *scaled = false;
  if (before == size) return Status();
  Status s = ScaleReplicaSet(st, index, size, before < size ? "up" : "down");
  *scaled = s.ok();
  return s;
}

}  // namespace kubit::controllers
