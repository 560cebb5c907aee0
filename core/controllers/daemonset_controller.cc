#include "core/controllers/daemonset_controller.h"

#include <algorithm>
#include <cmath>
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

const client::Resource kDaemonSets{"apps", "v1", "daemonsets"};
const client::Resource kPods{"", "v1", "pods"};
const client::Resource kNodes{"", "v1", "nodes"};
const client::Resource kRevisions{"apps", "v1", "controllerrevisions"};
const char* kByOwner = "daemonset";  // pods and revisions by their DaemonSet's key
const char* kHashLabel = "controller-revision-hash";

std::vector<std::string> OwnerKey(const Json& obj) {
  std::string key = ControllerKeyOf(obj, "DaemonSet");
  return key.empty() ? std::vector<std::string>{} : std::vector<std::string>{key};
}

std::string Label(const Json& obj, const char* name) {
  return obj["metadata"].value("labels", Json::object()).value(name, "");
}

// An int or a percentage of `total`, percentages rounded up (upstream's
// GetScaledValueFromIntOrPercent with roundUp).
int64_t Scaled(const Json& v, int64_t total, int64_t dflt) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (!s.empty() && s.back() == '%') return static_cast<int64_t>(std::ceil(atof(s.c_str()) * total / 100.0));
    return atoll(s.c_str());
  }
  return dflt;
}

std::string CreationTime(const ObjectPtr& p) { return p->at("metadata").value("creationTimestamp", ""); }

}  // namespace

DaemonSetController::DaemonSetController(client::Client* client, client::SharedInformerFactory* informers,
                                         Logger log)
    : client_(client),
      sets_(informers->For(kDaemonSets)),
      pods_(informers->For(kPods)),
      nodes_(informers->For(kNodes)),
      revisions_(informers->For(kRevisions)),
      log_(log),
      recorder_(client, "daemonset-controller"),
      loop_("daemonset-controller", [this](const std::string& key) { return Sync(key); }, log) {
  revisions_->AddIndex(kByOwner, OwnerKey);
  client::EventHandlers set_events;
  set_events.on_add = [this](const ObjectPtr& o) { loop_.queue().Add(client::ObjectKey(*o)); };
  set_events.on_update = [this](const ObjectPtr&, const ObjectPtr& o) { loop_.queue().Add(client::ObjectKey(*o)); };
  set_events.on_delete = [this](const ObjectPtr& o, bool) {
    expectations_.DeleteExpectations(client::ObjectKey(*o));
  };
  sets_->AddHandler(set_events);
  client::EventHandlers pod_events;
  pod_events.on_add = [this](const ObjectPtr& p) {
    std::string key = ControllerKeyOf(*p, "DaemonSet");
    if (key.empty()) return EnqueueMatching(*p);
    expectations_.CreationObserved(key);
    loop_.queue().Add(key);
  };
  pod_events.on_update = [this](const ObjectPtr& old_pod, const ObjectPtr& p) {
    std::string key = ControllerKeyOf(*p, "DaemonSet"), old_key = ControllerKeyOf(*old_pod, "DaemonSet");
    if (!old_key.empty() && old_key != key) loop_.queue().Add(old_key);  // released
    if (key.empty()) return EnqueueMatching(*p);
    if (BeingDeleted(*p)) expectations_.DeletionObserved(key, client::ObjectKey(*p));
    loop_.queue().Add(key);
  };
  pod_events.on_delete = [this](const ObjectPtr& p, bool) {
    std::string key = ControllerKeyOf(*p, "DaemonSet");
    if (key.empty()) return;
    expectations_.DeletionObserved(key, client::ObjectKey(*p));
    loop_.queue().Add(key);
  };
  pods_->AddHandler(pod_events);
  // Any node change may change where every DaemonSet runs.
  client::EventHandlers node_events;
  node_events.on_add = [this](const ObjectPtr&) { EnqueueAll(); };
  node_events.on_update = [this](const ObjectPtr& old_node, const ObjectPtr& node) {
    auto placement = [](const Json& n) {
      return Json{n["metadata"].value("labels", Json::object()), n["spec"].value("taints", Json::array())};
    };
    if (placement(*old_node) != placement(*node)) EnqueueAll();
  };
  node_events.on_delete = [this](const ObjectPtr&, bool) { EnqueueAll(); };
  nodes_->AddHandler(node_events);
}

void DaemonSetController::EnqueueMatching(const Json& pod) {
  if (!ControllerRefOf(pod).is_null()) return;  // another controller's
  const std::string ns = pod["metadata"].value("namespace", "");
  const Json labels = pod["metadata"].value("labels", Json::object());
  for (const ObjectPtr& ds : sets_->ByIndex(client::kNamespaceIndex, ns)) {
    api::LabelSelector selector;
    std::string error;
    if (api::LabelSelector::FromJson(ds->value("spec", Json::object()).value("selector", Json::object()), &selector, &error) &&
        selector.Matches(labels))
      loop_.queue().Add(client::ObjectKey(*ds));
  }
}

void DaemonSetController::EnqueueAll() {
  for (const std::string& key : sets_->Keys()) loop_.queue().Add(key);
}

void DaemonSetController::Start(int workers) { loop_.Start(workers); }

void DaemonSetController::Stop() { loop_.Stop(); }

Status DaemonSetController::Sync(const std::string& key) {
  ObjectPtr ds_ptr = sets_->Get(key);
  if (!ds_ptr) {
    expectations_.DeleteExpectations(key);
    return Status();
  }
  const Json& ds = *ds_ptr;
  if (BeingDeleted(ds)) return Status();  // the garbage collector takes the pods
  const std::string uid = ds["metadata"].value("uid", "");
  std::string hash;
  Status s = EnsureRevision(ds, key, &hash);
  if (!s.ok() || hash.empty()) return s;

  const Json tmpl = DaemonPodTemplate(ds);
  const int64_t min_ready = ds["spec"].value("minReadySeconds", 0);
  const int64_t now = NowUnix();
  // Its pods: those it controls that its selector still matches, and
  // orphans the selector matches (adopted), as upstream's ControllerRefManager.
  const std::string ns = ds["metadata"].value("namespace", ""), name = ds["metadata"].value("name", "");
  api::LabelSelector selector;
  std::string error;
  if (!api::LabelSelector::FromJson(ds["spec"].value("selector", Json::object()), &selector, &error)) return Status();
  Json owner = ds;  // the ownerReference needs the kind, which a list's items may lack
  owner["apiVersion"] = "apps/v1";
  owner["kind"] = "DaemonSet";
  ClaimOptions claim;
  claim.resource = kPods;
  claim.can_adopt = [this, ns, name, uid]() {
    Json fresh;
    Status gs = client_->Get(kDaemonSets, ns, name, &fresh);
    if (!gs.ok()) return gs;
    if (fresh["metadata"].value("uid", "") != uid || BeingDeleted(fresh))
      return Status::Api(409, "Conflict", "daemonset " + name + " is gone or being deleted: not adopting");
    return Status();
  };
  std::vector<ObjectPtr> all_pods;
  s = ClaimObjects(client_, owner, selector, pods_->ByIndex(client::kNamespaceIndex, ns), claim, &all_pods);
  if (!s.ok()) return s;
  std::map<std::string, std::vector<ObjectPtr>> by_node;  // every pod of the set, terminating ones too
  for (const ObjectPtr& p : all_pods) {
    by_node[TargetNodeName(*p)].push_back(p);
  }

  std::vector<std::string> create_on;
  std::vector<ObjectPtr> to_delete;
  int64_t desired = 0, current = 0, misscheduled = 0, ready = 0, available = 0, updated = 0;
  struct NodeState {
    std::string name;
    ObjectPtr old_pod, new_pod;
  };
  std::vector<NodeState> rolling;  // nodes that should run the pod, one running pod or an old and a new
  std::vector<std::string> node_names;
  for (const ObjectPtr& n : nodes_->List()) {
    const std::string name = n->at("metadata").value("name", "");
    node_names.push_back(name);
    Placement place = NodeShouldRunDaemonPod(*n, tmpl);
    auto it = by_node.find(name);
    const bool exists = it != by_node.end() && !it->second.empty();
    if (place.should_run) desired++;
    if (!place.should_continue) {
      if (exists) {
        misscheduled++;
        for (const ObjectPtr& p : it->second)
          if (!BeingDeleted(*p)) to_delete.push_back(p);
      }
      continue;
    }
    if (!exists) {
      if (place.should_run) create_on.push_back(name);
      continue;
    }
    if (place.should_run) current++;
    else misscheduled++;
    std::vector<ObjectPtr> running;
    for (const ObjectPtr& p : it->second) {
      if (BeingDeleted(*p)) continue;
      if (p->value("status", Json::object()).value("phase", "") == "Failed") {
        recorder_.Event(ds, client::kEventTypeWarning, "FailedDaemonPod",
                        "Found failed daemon pod " + client::ObjectKey(*p) + " on node " + name +
                            ", will try to kill it");
        to_delete.push_back(p);
        continue;
      }
      running.push_back(p);
    }
    std::sort(running.begin(), running.end(),
              [](const ObjectPtr& a, const ObjectPtr& b) { return CreationTime(a) < CreationTime(b); });
    NodeState st{name, nullptr, nullptr};
    for (const ObjectPtr& p : running) {
      ObjectPtr& slot = Label(*p, kHashLabel) == hash ? st.new_pod : st.old_pod;
      if (slot) to_delete.push_back(p);  // one of each is all a node may hold
      else slot = p;
    }
    for (const ObjectPtr& p : {st.new_pod, st.old_pod}) {
      if (!p) continue;
      if (IsPodReady(*p)) ready++;
      if (IsPodAvailable(*p, min_ready, now)) available++;
    }
    if (st.new_pod) updated++;
    if (st.old_pod || st.new_pod) rolling.push_back(st);
  }
  // Pods for nodes that are gone.
  for (auto& [node, pods] : by_node)
    if (std::find(node_names.begin(), node_names.end(), node) == node_names.end())
      for (const ObjectPtr& p : pods)
        if (!BeingDeleted(*p)) to_delete.push_back(p);

  // The update strategy decides which old pods go (or get a new pod beside them).
  const Json strategy = ds["spec"].value("updateStrategy", Json::object());
  if (strategy.value("type", "RollingUpdate") == "RollingUpdate") {
    const Json ru = strategy.value("rollingUpdate", Json::object());
    const int64_t max_surge = Scaled(ru.value("maxSurge", Json(0)), desired, 0);
    int64_t max_unavailable = Scaled(ru.value("maxUnavailable", Json(1)), desired, 1);
    if (max_surge == 0 && max_unavailable == 0) max_unavailable = 1;
    int64_t unavailable = int64_t(create_on.size()), surging = 0;
    std::vector<ObjectPtr> replaceable, candidates;
    for (const NodeState& st : rolling) {
      if (st.new_pod && !IsPodAvailable(*st.new_pod, min_ready, now)) unavailable++;
      if (st.old_pod && st.new_pod) {
        surging++;
        if (IsPodAvailable(*st.new_pod, min_ready, now)) to_delete.push_back(st.old_pod);
        continue;
      }
      if (!st.old_pod) continue;
      if (!IsPodAvailable(*st.old_pod, min_ready, now)) replaceable.push_back(st.old_pod);
      else candidates.push_back(st.old_pod);
    }
    to_delete.insert(to_delete.end(), replaceable.begin(), replaceable.end());
    if (max_surge > 0) {
      // The new pod first, beside the old one.
      for (const ObjectPtr& p : candidates)
        if (surging < max_surge) create_on.push_back(TargetNodeName(*p)), surging++;
    } else {
      for (const ObjectPtr& p : candidates)
        if (unavailable < max_unavailable) to_delete.push_back(p), unavailable++;
    }
  }

  if (expectations_.SatisfiedExpectations(key)) {
    s = DeletePods(ds, key, to_delete);
    Status cs = CreatePods(ds, key, hash, create_on);
    if (s.ok()) s = cs;
  }
  Status rs = CleanupRevisions(ds, key, all_pods, hash);
  if (s.ok()) s = rs;

  Json status = ds.value("status", Json::object());
  status["desiredNumberScheduled"] = desired;
  status["currentNumberScheduled"] = current;
  status["numberMisscheduled"] = misscheduled;
  status["numberReady"] = ready;
  status["numberAvailable"] = available;
  status["numberUnavailable"] = std::max<int64_t>(desired - available, 0);
  status["updatedNumberScheduled"] = updated;
  status["observedGeneration"] = ds["metadata"].value("generation", 0);
  if (status["numberAvailable"] == 0) status.erase("numberAvailable");
  if (status["numberUnavailable"] == 0) status.erase("numberUnavailable");
  if (status != ds.value("status", Json::object())) {
    Json updated_ds = ds;
    updated_ds["status"] = status;
    Status us = client_->UpdateStatus(kDaemonSets, ds["metadata"].value("namespace", ""), updated_ds);
    if (!us.ok() && !us.IsConflict() && !us.IsNotFound() && s.ok()) s = us;
  }
  // Availability comes with time, not with an event.
  if (s.ok() && min_ready > 0 && available < desired) loop_.queue().AddAfter(key, std::chrono::seconds(min_ready));
  return s;
}

Status DaemonSetController::EnsureRevision(const Json& ds, const std::string& key, std::string* hash) {
  const Json& meta = ds["metadata"];
  const std::string ns = meta.value("namespace", ""), uid = meta.value("uid", "");
  const int64_t collisions = ds.value("status", Json::object()).value("collisionCount", 0);
  const Json tmpl = ds["spec"].value("template", Json::object());
  *hash = TemplateHash(tmpl, collisions);
  const std::string name = meta.value("name", "") + "-" + *hash;
  Json template_patch = tmpl;
  template_patch["$patch"] = "replace";
  const Json data = {{"spec", {{"template", template_patch}}}};
  int64_t max_revision = 0;
  ObjectPtr existing;
  for (const ObjectPtr& r : revisions_->ByIndex(kByOwner, key)) {
    if (ControllerRefOf(*r).value("uid", "") != uid) continue;
    max_revision = std::max<int64_t>(max_revision, r->value("revision", 0));
    if (r->at("metadata").value("name", "") == name) existing = r;
  }
  if (existing) {
    if (existing->value("data", Json()) != data) goto collision;
    // A rollback to an older template makes that revision the newest.
    if (existing->value("revision", 0) < max_revision) {
      Json bumped = *existing;
      bumped["revision"] = max_revision + 1;
      Status s = client_->Update(kRevisions, ns, bumped);
      if (!s.ok() && !s.IsConflict()) return s;
    }
    return Status();
  }
  {
    Json labels = tmpl.value("metadata", Json::object()).value("labels", Json::object());
    labels[kHashLabel] = *hash;
    Json rev = {{"apiVersion", "apps/v1"},
                {"kind", "ControllerRevision"},
                {"metadata",
                 {{"name", name},
                  {"labels", labels},
                  {"ownerReferences",
                   {ControllerRefFor({{"apiVersion", "apps/v1"}, {"kind", "DaemonSet"}, {"metadata", meta}})}}}},
                {"data", data},
                {"revision", max_revision + 1}};
    Json got;
    Status s = client_->Create(kRevisions, ns, rev, &got);
    if (s.ok()) return s;
    if (!s.IsAlreadyExists()) return s;
    // Not in the cache yet, or someone else's of that name.
    s = client_->Get(kRevisions, ns, name, &got);
    if (!s.ok()) return s;
    if (ControllerRefOf(got).value("uid", "") == uid && got.value("data", Json()) == data) return Status();
  }
collision:
  {
    // Another template hashed to this name: count the collision, which
    // changes the hash, and sync again.
    Json bumped = ds;
    bumped["status"]["collisionCount"] = collisions + 1;
    hash->clear();
    Status s = client_->UpdateStatus(kDaemonSets, ns, bumped);
    return s.IsConflict() ? Status() : s;
  }
}

Status DaemonSetController::CleanupRevisions(const Json& ds, const std::string& key,
                                             const std::vector<ObjectPtr>& pods, const std::string& hash) {
  const int64_t limit = ds["spec"].value("revisionHistoryLimit", 10);
  const std::string uid = ds["metadata"].value("uid", "");
  std::vector<ObjectPtr> old;
  for (const ObjectPtr& r : revisions_->ByIndex(kByOwner, key)) {
    if (ControllerRefOf(*r).value("uid", "") != uid) continue;
    const std::string rh = Label(*r, kHashLabel);
    if (rh == hash) continue;
    bool in_use = std::any_of(pods.begin(), pods.end(), [&](const ObjectPtr& p) { return Label(*p, kHashLabel) == rh; });
    if (!in_use) old.push_back(r);
  }
  if (int64_t(old.size()) <= limit) return Status();
  std::sort(old.begin(), old.end(),
            [](const ObjectPtr& a, const ObjectPtr& b) { return a->value("revision", 0) < b->value("revision", 0); });
  for (size_t i = 0; i < old.size() - size_t(std::max<int64_t>(limit, 0)); i++) {
    Status s = client_->Delete(kRevisions, ds["metadata"].value("namespace", ""), old[i]->at("metadata").value("name", ""));
    if (!s.ok() && !s.IsNotFound()) return s;
  }
  return Status();
}

Status DaemonSetController::CreatePods(const Json& ds, const std::string& key, const std::string& hash,
                                       const std::vector<std::string>& nodes) {
  if (nodes.empty()) return Status();
  const Json& meta = ds["metadata"];
  const std::string ns = meta.value("namespace", "");
  const Json tmpl = DaemonPodTemplate(ds);
  expectations_.ExpectCreations(key, int(nodes.size()));
  for (size_t i = 0; i < nodes.size(); i++) {
    Json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", Json::object()}, {"spec", tmpl["spec"]}};
    Json& pm = pod["metadata"];
    const Json tmeta = tmpl.value("metadata", Json::object());
    pm["generateName"] = meta.value("name", "") + "-";
    pm["labels"] = tmeta.value("labels", Json::object());
    pm["labels"][kHashLabel] = hash;
    pm["labels"]["pod-template-generation"] = std::to_string(meta.value("generation", 0));
    if (tmeta.contains("annotations")) pm["annotations"] = tmeta["annotations"];
    pm["ownerReferences"] =
        Json::array({ControllerRefFor({{"apiVersion", "apps/v1"}, {"kind", "DaemonSet"}, {"metadata", meta}})});
    pod["spec"].erase("nodeName");  // the scheduler binds it, by the affinity below
    PinToNode(&pod["spec"], nodes[i]);
    Json created;
    Status s = client_->Create(kPods, ns, pod, &created);
    if (!s.ok()) {
      expectations_.LowerCreations(key, int(nodes.size() - i));
      if (s.IsForbidden() && s.message().find("being terminated") != std::string::npos) return Status();
      recorder_.Event(ds, client::kEventTypeWarning, "FailedCreate", "Error creating: " + s.message());
      return s;
    }
    recorder_.Event(ds, client::kEventTypeNormal, "SuccessfulCreate",
                    "Created pod: " + created["metadata"].value("name", ""));
  }
  return Status();
}

Status DaemonSetController::DeletePods(const Json& ds, const std::string& key, const std::vector<ObjectPtr>& pods) {
  if (pods.empty()) return Status();
  std::vector<std::string> keys;
  for (const ObjectPtr& p : pods) keys.push_back(client::ObjectKey(*p));
  expectations_.ExpectDeletions(key, keys);
  Status result;
  for (const ObjectPtr& p : pods) {
    const Json& meta = p->at("metadata");
    client::DeleteOptions opts;
    opts.precondition_uid = meta.value("uid", "");
    Status s = client_->Delete(kPods, meta.value("namespace", ""), meta.value("name", ""), opts);
    if (!s.ok()) {
      expectations_.DeletionObserved(key, client::ObjectKey(*p));
      if (s.IsNotFound() || s.IsConflict()) continue;
      recorder_.Event(ds, client::kEventTypeWarning, "FailedDelete", "Error deleting: " + s.message());
      result = s;
      continue;
    }
    recorder_.Event(ds, client::kEventTypeNormal, "SuccessfulDelete", "Deleted pod: " + meta.value("name", ""));
  }
  return result;
}

}  // namespace kubit::controllers
