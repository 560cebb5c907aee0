#include "core/controllers/statefulset_controller.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "core/api/selectors.h"
#include "core/controllers/controller_ref.h"
#include "core/controllers/daemonset_controller_nodes.h"
#include "core/controllers/pod_state.h"

namespace kubit::controllers {

using client::Json;
using client::ObjectPtr;
using client::Status;

namespace {

const client::Resource kStatefulSets{"apps", "v1", "statefulsets"};
const client::Resource kPods{"", "v1", "pods"};
const client::Resource kClaims{"", "v1", "persistentvolumeclaims"};
const client::Resource kRevisions{"apps", "v1", "controllerrevisions"};
const char* kByOwner = "statefulset";  // pods and revisions by their StatefulSet's key
const char* kHashLabel = "controller-revision-hash";

std::vector<std::string> OwnerKey(const Json& obj) {
  std::string key = ControllerKeyOf(obj, "StatefulSet");
  return key.empty() ? std::vector<std::string>{} : std::vector<std::string>{key};
}

std::string Label(const Json& obj, const char* name) {
  return obj["metadata"].value("labels", Json::object()).value(name, "");
}

// The ordinal of a pod named <set>-<n>, or -1.
int64_t Ordinal(const std::string& set, const std::string& pod) {
  if (pod.size() <= set.size() + 1 || pod.compare(0, set.size() + 1, set + "-") != 0) return -1;
  int64_t n = 0;
  for (size_t i = set.size() + 1; i < pod.size(); i++) {
    if (pod[i] < '0' || pod[i] > '9' || n > 1000000000) return -1;
    n = n * 10 + (pod[i] - '0');
  }
  return n;
}

bool Healthy(const Json& pod) {
  return !BeingDeleted(pod) && pod["status"].value("phase", "") == "Running" && IsPodReady(pod);
}

Json OwnerRef(const Json& set) {
  return ControllerRefFor({{"apiVersion", "apps/v1"}, {"kind", "StatefulSet"}, {"metadata", set["metadata"]}});
}

}  // namespace

StatefulSetController::StatefulSetController(client::Client* client, client::SharedInformerFactory* informers,
                                             Logger log)
    : client_(client),
      sets_(informers->For(kStatefulSets)),
      pods_(informers->For(kPods)),
      claims_(informers->For(kClaims)),
      revisions_(informers->For(kRevisions)),
      log_(log),
      recorder_(client, "statefulset-controller"),
      loop_("statefulset-controller", [this](const std::string& key) { return Sync(key); }, log) {
  revisions_->AddIndex(kByOwner, OwnerKey);
  client::EventHandlers set_events;
  set_events.on_add = [this](const ObjectPtr& o) { loop_.queue().Add(client::ObjectKey(*o)); };
  set_events.on_update = [this](const ObjectPtr&, const ObjectPtr& o) { loop_.queue().Add(client::ObjectKey(*o)); };
  set_events.on_delete = [this](const ObjectPtr& o, bool) { expectations_.DeleteExpectations(client::ObjectKey(*o)); };
  sets_->AddHandler(set_events);
  client::EventHandlers pod_events;
  pod_events.on_add = [this](const ObjectPtr& p) {
    std::string key = ControllerKeyOf(*p, "StatefulSet");
    if (key.empty()) return EnqueueMatching(*p);
    expectations_.CreationObserved(key);
    loop_.queue().Add(key);
  };
  pod_events.on_update = [this](const ObjectPtr& old_pod, const ObjectPtr& p) {
    std::string key = ControllerKeyOf(*p, "StatefulSet"), old_key = ControllerKeyOf(*old_pod, "StatefulSet");
    if (!old_key.empty() && old_key != key) loop_.queue().Add(old_key);  // released
    if (key.empty()) return EnqueueMatching(*p);
    if (BeingDeleted(*p)) expectations_.DeletionObserved(key, client::ObjectKey(*p));
    loop_.queue().Add(key);
  };
  pod_events.on_delete = [this](const ObjectPtr& p, bool) {
    std::string key = ControllerKeyOf(*p, "StatefulSet");
    if (key.empty()) return;
    expectations_.DeletionObserved(key, client::ObjectKey(*p));
    loop_.queue().Add(key);
  };
  pods_->AddHandler(pod_events);
}

void StatefulSetController::EnqueueMatching(const Json& pod) {
  if (!ControllerRefOf(pod).is_null()) return;  // another controller's
  const std::string ns = pod["metadata"].value("namespace", "");
  const Json labels = pod["metadata"].value("labels", Json::object());
  for (const ObjectPtr& set : sets_->ByIndex(client::kNamespaceIndex, ns)) {
    api::LabelSelector selector;
    std::string error;
    if (api::LabelSelector::FromJson(set->value("spec", Json::object()).value("selector", Json::object()), &selector, &error) &&
        selector.Matches(labels))
      loop_.queue().Add(client::ObjectKey(*set));
  }
}

void StatefulSetController::Start(int workers) { loop_.Start(workers); }

void StatefulSetController::Stop() { loop_.Stop(); }

Status StatefulSetController::Sync(const std::string& key) {
  ObjectPtr set_ptr = sets_->Get(key);
  if (!set_ptr) {
    expectations_.DeleteExpectations(key);
    return Status();
  }
  const Json& set = *set_ptr;
  if (BeingDeleted(set)) return Status();
  const Json& spec = set["spec"];
  const std::string name = set["metadata"].value("name", ""), uid = set["metadata"].value("uid", "");
  std::string update_revision;
  Status s = EnsureRevision(set, key, &update_revision);
  if (!s.ok() || update_revision.empty()) return s;
  const Json old_status = set.value("status", Json::object());
  std::string current_revision = old_status.value("currentRevision", "");
  if (current_revision.empty()) current_revision = update_revision;

  const int64_t replicas = spec.value("replicas", 1);
  const int64_t start = spec.value("ordinals", Json::object()).value("start", 0);
  const bool parallel = spec.value("podManagementPolicy", "OrderedReady") == "Parallel";
  const Json strategy = spec.value("updateStrategy", Json::object());
  const bool rolling = strategy.value("type", "RollingUpdate") == "RollingUpdate";
  const int64_t partition = strategy.value("rollingUpdate", Json::object()).value("partition", 0);
  const int64_t min_ready = spec.value("minReadySeconds", 0);

  // Its pods: those it controls that its selector still matches, and
  // orphans the selector matches (adopted), as upstream's ControllerRefManager.
  const std::string ns = set["metadata"].value("namespace", "");
  api::LabelSelector selector;
  std::string error;
  if (!api::LabelSelector::FromJson(spec.value("selector", Json::object()), &selector, &error)) return Status();
  Json owner = set;  // the ownerReference needs the kind, which a list's items may lack
  owner["apiVersion"] = "apps/v1";
  owner["kind"] = "StatefulSet";
  ClaimOptions claim;
  claim.resource = kPods;
  claim.can_adopt = [this, ns, name, uid]() {
    Json fresh;
    Status gs = client_->Get(kStatefulSets, ns, name, &fresh);
    if (!gs.ok()) return gs;
    if (fresh["metadata"].value("uid", "") != uid || BeingDeleted(fresh))
      return Status::Api(409, "Conflict", "statefulset " + name + " is gone or being deleted: not adopting");
    return Status();
  };
  std::vector<ObjectPtr> owned;
  s = ClaimObjects(client_, owner, selector, pods_->ByIndex(client::kNamespaceIndex, ns), claim, &owned);
  if (!s.ok()) return s;
  std::vector<ObjectPtr> slots(size_t(std::max<int64_t>(replicas, 0)));  // by index (ordinal - start)
  std::vector<ObjectPtr> condemned;
  for (const ObjectPtr& p : owned) {
    int64_t ord = Ordinal(name, p->at("metadata").value("name", ""));
    if (ord >= start && ord < start + replicas) slots[size_t(ord - start)] = p;
    else if (ord >= 0) condemned.push_back(p);
  }
  std::sort(condemned.begin(), condemned.end(), [&](const ObjectPtr& a, const ObjectPtr& b) {
    return Ordinal(name, a->at("metadata").value("name", "")) > Ordinal(name, b->at("metadata").value("name", ""));
  });

  // One step at a time under OrderedReady: the first thing that must wait stops the pass.
  auto act = [&]() -> Status {
    if (!expectations_.SatisfiedExpectations(key)) return Status();
    for (size_t i = 0; i < slots.size(); i++) {
      const ObjectPtr& p = slots[i];
      if (!p) {
        // Below the partition (or OnDelete) new pods keep the current revision.
        bool updated = rolling && int64_t(i) >= partition;
        Status cs = CreatePod(set, key, updated ? update_revision : current_revision, start + int64_t(i));
        if (!cs.ok() || !parallel) return cs;
        continue;
      }
      if (p->value("status", Json::object()).value("phase", "") == "Failed" && !BeingDeleted(*p)) {
        Status ds = DeletePod(set, key, *p);
        if (!ds.ok() || !parallel) return ds;
        continue;
      }
      if (!parallel && !Healthy(*p)) return Status();  // wait for it
    }
    for (const ObjectPtr& p : condemned) {
      if (BeingDeleted(*p)) {
        if (!parallel) return Status();
        continue;
      }
      if (!parallel && !std::all_of(slots.begin(), slots.end(), [](const ObjectPtr& q) { return q && Healthy(*q); }))
        return Status();
      Status ds = DeletePod(set, key, *p);
      if (!ds.ok() || !parallel) return ds;
    }
    if (!rolling) return Status();
    // From the highest ordinal down to the partition: one pod at a time,
    // once every pod is Running and Ready.
    for (const ObjectPtr& p : slots)
      if (!p || !Healthy(*p)) return Status();
    for (int64_t i = int64_t(slots.size()) - 1; i >= partition; i--)
      if (Label(*slots[size_t(i)], kHashLabel) != update_revision) return DeletePod(set, key, *slots[size_t(i)]);
    return Status();
  };
  s = act();

  Json status = old_status;
  int64_t count = 0, ready = 0, available = 0, current = 0, updated = 0;
  const int64_t now = NowUnix();
  for (const auto* group : {&slots, &condemned})
    for (const ObjectPtr& p : *group) {
      if (!p || BeingDeleted(*p)) continue;
      count++;
      if (IsPodReady(*p)) ready++;
      if (IsPodAvailable(*p, min_ready, now)) available++;
      const std::string rev = Label(*p, kHashLabel);
      if (rev == current_revision) current++;
      if (rev == update_revision) updated++;
    }
  if (rolling && updated == replicas && ready == replicas) {
    // The rollout is done: the update revision is the current one.
    current_revision = update_revision;
    current = updated;
  }
  status["replicas"] = count;
  status["readyReplicas"] = ready;
  status["availableReplicas"] = available;
  status["currentReplicas"] = current;
  status["updatedReplicas"] = updated;
  status["currentRevision"] = current_revision;
  status["updateRevision"] = update_revision;
  status["observedGeneration"] = set["metadata"].value("generation", 0);
  if (!status.contains("collisionCount")) status["collisionCount"] = 0;
  if (status != old_status) {
    Json updated_set = set;
    updated_set["status"] = status;
    Status us = client_->UpdateStatus(kStatefulSets, set["metadata"].value("namespace", ""), updated_set);
    if (!us.ok() && !us.IsConflict() && !us.IsNotFound() && s.ok()) s = us;
  }
  if (s.ok() && min_ready > 0 && available < ready) loop_.queue().AddAfter(key, std::chrono::seconds(min_ready));
  return s;
}

Status StatefulSetController::CreatePod(const Json& set, const std::string& key, const std::string& revision,
                                        int64_t ordinal) {
  const Json& meta = set["metadata"];
  const std::string ns = meta.value("namespace", ""), set_name = meta.value("name", "");
  const std::string pod_name = set_name + "-" + std::to_string(ordinal);
  // The template of that revision: the set's own, or an older one kept in its ControllerRevision.
  Json tmpl = set["spec"].value("template", Json::object());
  if (ObjectPtr rev = revisions_->Get(ns, revision))
    tmpl = rev->value("data", Json::object()).value("spec", Json::object()).value("template", tmpl);
  tmpl.erase("$patch");

  // Claims first: a pod whose claim is missing would not start.
  const Json retention = set["spec"].value("persistentVolumeClaimRetentionPolicy", Json::object());
  Json volumes = tmpl["spec"].value("volumes", Json::array());
  for (const Json& ct : set["spec"].value("volumeClaimTemplates", Json::array())) {
    const std::string tname = ct["metadata"].value("name", "");
    const std::string claim = tname + "-" + pod_name;
    if (!claims_->Get(ns, claim)) {
      Json labels = ct["metadata"].value("labels", Json::object());
      const Json selector = set["spec"]["selector"].value("matchLabels", Json::object());
      for (auto it = selector.begin(); it != selector.end(); ++it) labels[it.key()] = it.value();
      Json pvc = {{"apiVersion", "v1"},
                  {"kind", "PersistentVolumeClaim"},
                  {"metadata", {{"name", claim}, {"labels", labels}}},
                  {"spec", ct.value("spec", Json::object())}};
      if (ct["metadata"].contains("annotations")) pvc["metadata"]["annotations"] = ct["metadata"]["annotations"];
      if (retention.value("whenDeleted", "Retain") == "Delete") pvc["metadata"]["ownerReferences"] = {OwnerRef(set)};
      Status s = client_->Create(kClaims, ns, pvc);
      if (!s.ok() && !s.IsAlreadyExists()) {
        recorder_.Event(set, client::kEventTypeWarning, "FailedCreate",
                        "create Claim " + claim + " for Pod " + pod_name + " in StatefulSet " + set_name +
                            " failed error: " + s.message());
        return s;
      }
      if (s.ok())
        recorder_.Event(set, client::kEventTypeNormal, "SuccessfulCreate",
                        "create Claim " + claim + " Pod " + pod_name + " in StatefulSet " + set_name + " success");
    }
    Json vol = {{"name", tname}, {"persistentVolumeClaim", {{"claimName", claim}}}};
    auto it = std::find_if(volumes.begin(), volumes.end(), [&](const Json& v) { return v.value("name", "") == tname; });
    if (it != volumes.end()) *it = vol;
    else volumes.push_back(vol);
  }

  Json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", Json::object()}, {"spec", tmpl["spec"]}};
  Json& pm = pod["metadata"];
  const Json tmeta = tmpl.value("metadata", Json::object());
  pm["name"] = pod_name;
  pm["labels"] = tmeta.value("labels", Json::object());
  pm["labels"][kHashLabel] = revision;
  pm["labels"]["statefulset.kubernetes.io/pod-name"] = pod_name;
  pm["labels"]["apps.kubernetes.io/pod-index"] = std::to_string(ordinal);
  if (tmeta.contains("annotations")) pm["annotations"] = tmeta["annotations"];
  pm["ownerReferences"] = Json::array({OwnerRef(set)});
  pod["spec"]["hostname"] = pod_name;
  const std::string service = set["spec"].value("serviceName", "");
  if (!service.empty()) pod["spec"]["subdomain"] = service;
  if (!volumes.empty()) pod["spec"]["volumes"] = volumes;
  expectations_.ExpectCreations(key, 1);
  Status s = client_->Create(kPods, ns, pod);
  if (!s.ok()) {
    expectations_.LowerCreations(key, 1);
    if (s.IsAlreadyExists()) return Status();  // the cache lags; its event follows
    recorder_.Event(set, client::kEventTypeWarning, "FailedCreate",
                    "create Pod " + pod_name + " in StatefulSet " + set_name + " failed error: " + s.message());
    return s;
  }
  recorder_.Event(set, client::kEventTypeNormal, "SuccessfulCreate",
                  "create Pod " + pod_name + " in StatefulSet " + set_name + " successful");
  return Status();
}

Status StatefulSetController::DeletePod(const Json& set, const std::string& key, const Json& pod) {
  const Json& meta = pod["metadata"];
  const std::string pod_name = meta.value("name", ""), set_name = set["metadata"].value("name", "");
  expectations_.ExpectDeletions(key, {client::ObjectKey(pod)});
  client::DeleteOptions opts;
  opts.precondition_uid = meta.value("uid", "");
  Status s = client_->Delete(kPods, meta.value("namespace", ""), pod_name, opts);
  if (!s.ok()) {
    expectations_.DeletionObserved(key, client::ObjectKey(pod));
    if (s.IsNotFound() || s.IsConflict()) return Status();
    recorder_.Event(set, client::kEventTypeWarning, "FailedDelete",
                    "delete Pod " + pod_name + " in StatefulSet " + set_name + " failed error: " + s.message());
    return s;
  }
  recorder_.Event(set, client::kEventTypeNormal, "SuccessfulDelete",
                  "delete Pod " + pod_name + " in StatefulSet " + set_name + " successful");
  return Status();
}

Status StatefulSetController::EnsureRevision(const Json& set, const std::string& key, std::string* revision) {
  const Json& meta = set["metadata"];
  const std::string ns = meta.value("namespace", ""), uid = meta.value("uid", "");
  const int64_t collisions = set.value("status", Json::object()).value("collisionCount", 0);
  const Json tmpl = set["spec"].value("template", Json::object());
  const std::string hash = TemplateHash(tmpl, collisions);
  *revision = meta.value("name", "") + "-" + hash;
  Json template_patch = tmpl;
  template_patch["$patch"] = "replace";
  const Json data = {{"spec", {{"template", template_patch}}}};
  int64_t max_revision = 0;
  ObjectPtr existing;
  for (const ObjectPtr& r : revisions_->ByIndex(kByOwner, key)) {
    if (ControllerRefOf(*r).value("uid", "") != uid) continue;
    max_revision = std::max<int64_t>(max_revision, r->value("revision", 0));
    if (r->at("metadata").value("name", "") == *revision) existing = r;
  }
  Json got;
  if (existing) {
    got = *existing;
  } else {
    Json labels = tmpl.value("metadata", Json::object()).value("labels", Json::object());
    labels[kHashLabel] = *revision;
    Json rev = {{"apiVersion", "apps/v1"},
                {"kind", "ControllerRevision"},
                {"metadata", {{"name", *revision}, {"labels", labels}, {"ownerReferences", {OwnerRef(set)}}}},
                {"data", data},
                {"revision", max_revision + 1}};
    Status s = client_->Create(kRevisions, ns, rev, &got);
    if (s.IsAlreadyExists()) s = client_->Get(kRevisions, ns, *revision, &got);
    if (!s.ok()) return s;
  }
  if (ControllerRefOf(got).value("uid", "") == uid && got.value("data", Json()) == data) {
    // A rollback to an older template makes that revision the newest.
    if (existing && got.value("revision", 0) < max_revision) {
      got["revision"] = max_revision + 1;
      Status s = client_->Update(kRevisions, ns, got);
      if (!s.ok() && !s.IsConflict()) return s;
    }
    return Status();
  }
  // Another template hashed to this name: count the collision (which
  // changes the hash) and sync again.
  Json bumped = set;
  bumped["status"]["collisionCount"] = collisions + 1;
  revision->clear();
  Status s = client_->UpdateStatus(kStatefulSets, ns, bumped);
  return s.IsConflict() ? Status() : s;
}

}  // namespace kubit::controllers
