#include "core/controllers/pv_binder_controller.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/controllers/json_fields.h"
#include "core/controllers/pv_binder_match.h"

namespace kubit::controllers {

using client::Json;
using client::ObjectPtr;
using client::Status;

namespace {

const client::Resource kVolumes{"", "v1", "persistentvolumes"};
const client::Resource kClaims{"", "v1", "persistentvolumeclaims"};
const client::Resource kClasses{"storage.k8s.io", "v1", "storageclasses"};
const client::Resource kPods{"", "v1", "pods"};
constexpr const char* kClaimIndex = "claims";  // pods by "<ns>/<claim>"

using fields::Annotation;
using fields::Deleting;
using fields::Field;
using fields::Name;
using fields::Ns;
using fields::Str;
using fields::Uid;


std::string Phase(const Json& o) { return Str(Field(o, "status"), "phase"); }

bool HasFinalizer(const Json& o, const std::string& f) {
  const Json& list = Field(Field(o, "metadata"), "finalizers");
  for (const Json& x : list.is_array() ? list : Json::array())
    if (x == f) return true;
  return false;
}

std::vector<std::string> ClaimsOfPod(const Json& pod) {
  std::vector<std::string> out;
  const Json& vols = Field(Field(pod, "spec"), "volumes");
  for (const Json& v : vols.is_array() ? vols : Json::array()) {
    std::string claim = Str(Field(v, "persistentVolumeClaim"), "claimName");
    // A generic ephemeral volume's claim is named <pod>-<volume>.
    if (claim.empty() && Field(v, "ephemeral").is_object()) claim = Name(pod) + "-" + Str(v, "name");
    if (!claim.empty()) out.push_back(Ns(pod) + "/" + claim);
  }
  return out;
}

Json ClaimRef(const Json& claim) {
  return {{"kind", "PersistentVolumeClaim"},
          {"namespace", Ns(claim)},
          {"name", Name(claim)},
          {"uid", Uid(claim)},
          {"apiVersion", "v1"},
          {"resourceVersion", Str(Field(claim, "metadata"), "resourceVersion")}};
}

}  // namespace

PersistentVolumeBinderController::PersistentVolumeBinderController(client::Client* client,
                                                                   client::SharedInformerFactory* informers,
                                                                   Logger log)
    : client_(client),
      volumes_(informers->For(kVolumes)),
      claims_(informers->For(kClaims)),
      classes_(informers->For(kClasses)),
      pods_(informers->For(kPods)),
      events_(client, "persistentvolume-controller"),
      log_(log),
      loop_("persistentvolume-binder", [this](const std::string& key) { return Sync(key); }, log) {
  pods_->AddIndex(kClaimIndex, [](const Json& pod) { return ClaimsOfPod(pod); });
  auto claim_changed = [this](const Json& c) {
    loop_.queue().Add("claim:" + client::ObjectKey(c));
    std::string pv = Str(Field(c, "spec"), "volumeName");
    if (!pv.empty()) loop_.queue().Add("volume:" + pv);
    // A volume pre-bound to the claim by name waits for it.
    for (const ObjectPtr& v : volumes_->List())
      if (ClaimRefMatches(*v, c)) loop_.queue().Add("volume:" + Name(*v));
  };
  client::EventHandlers ch;
  ch.on_add = [claim_changed](const ObjectPtr& o) { claim_changed(*o); };
  ch.on_update = [claim_changed](const ObjectPtr&, const ObjectPtr& o) { claim_changed(*o); };
  ch.on_delete = [claim_changed](const ObjectPtr& o, bool) { claim_changed(*o); };
  claims_->AddHandler(ch);
  auto volume_changed = [this](const Json& v, bool maybe_free) {
    loop_.queue().Add("volume:" + Name(v));
    const Json& ref = Field(Field(v, "spec"), "claimRef");
    if (ref.is_object()) loop_.queue().Add("claim:" + Str(ref, "namespace") + "/" + Str(ref, "name"));
    // A new or freed volume may be what a pending claim waits for.
    if (!maybe_free) return;
    for (const ObjectPtr& c : claims_->List())
      if (Str(Field(*c, "spec"), "volumeName").empty()) loop_.queue().Add("claim:" + client::ObjectKey(*c));
  };
  client::EventHandlers vh;
  vh.on_add = [volume_changed](const ObjectPtr& o) { volume_changed(*o, true); };
  vh.on_update = [volume_changed](const ObjectPtr& a, const ObjectPtr& b) {
    volume_changed(*b, Field(*a, "spec") != Field(*b, "spec") || (Phase(*a) != Phase(*b) && Phase(*b) == "Available"));
  };
  vh.on_delete = [volume_changed](const ObjectPtr& o, bool) { volume_changed(*o, false); };
  volumes_->AddHandler(vh);
  // A new default class reaches the claims that have none.
  client::EventHandlers sh;
  auto all_pending = [this](const ObjectPtr&) {
    for (const ObjectPtr& c : claims_->List())
      if (Phase(*c) != "Bound") loop_.queue().Add("claim:" + client::ObjectKey(*c));
  };
  sh.on_add = all_pending;
  sh.on_update = [all_pending](const ObjectPtr&, const ObjectPtr& o) { all_pending(o); };
  classes_->AddHandler(sh);
  // Pods decide whether a deleted claim may go, and which pods a
  // delayed claim waits for.
  client::EventHandlers ph;
  ph.on_add = [this](const ObjectPtr& o) { EnqueueClaimsOf(*o); };
  ph.on_update = [this](const ObjectPtr& a, const ObjectPtr& b) {
    // Scheduling and finishing are what claims hear of, not every status write.
    if (Str(Field(*a, "spec"), "nodeName") != Str(Field(*b, "spec"), "nodeName") || Phase(*a) != Phase(*b))
      EnqueueClaimsOf(*b);
  };
  ph.on_delete = [this](const ObjectPtr& o, bool) { EnqueueClaimsOf(*o); };
  pods_->AddHandler(ph);
}

void PersistentVolumeBinderController::Start(int workers) { loop_.Start(workers); }

void PersistentVolumeBinderController::Stop() { loop_.Stop(); }

void PersistentVolumeBinderController::EnqueueClaimsOf(const Json& pod) {
  for (const std::string& key : ClaimsOfPod(pod))
    if (ObjectPtr c = claims_->Get(key); c && (Deleting(*c) || Str(Field(*c, "spec"), "volumeName").empty()))
      loop_.queue().Add("claim:" + key);
}

Status PersistentVolumeBinderController::Sync(const std::string& key) {
  if (key.rfind("claim:", 0) == 0) return SyncClaim(key.substr(6));
  if (key.rfind("volume:", 0) == 0) return SyncVolume(key.substr(7));
  return Status();
}

bool PersistentVolumeBinderController::ClaimInUse(const Json& claim) const {
  for (const ObjectPtr& pod : pods_->ByIndex(kClaimIndex, client::ObjectKey(claim))) {
    std::string phase = Phase(*pod);
    if (phase != "Succeeded" && phase != "Failed") return true;
  }
  return false;
}

ObjectPtr PersistentVolumeBinderController::DefaultClass() const {
  // Upstream takes the newest of several defaults.
  ObjectPtr best;
  for (const ObjectPtr& c : classes_->List()) {
    if (Annotation(*c, kAnnDefaultClass) != "true" &&
        Annotation(*c, "storageclass.beta.kubernetes.io/is-default-class") != "true")
      continue;
    if (!best || Str(Field(*c, "metadata"), "creationTimestamp") > Str(Field(*best, "metadata"), "creationTimestamp"))
      best = c;
  }
  return best;
}

Status PersistentVolumeBinderController::SetFinalizer(const client::Resource& r, const Json& obj,
                                                      const std::string& finalizer, bool present, bool* changed) {
  *changed = false;
  if (HasFinalizer(obj, finalizer) == present) return Status();
  Json list = Json::array();
  const Json& have = Field(Field(obj, "metadata"), "finalizers");
  for (const Json& f : have.is_array() ? have : Json::array())
    if (f != finalizer) list.push_back(f);
  if (present) list.push_back(finalizer);
  // The resourceVersion makes it a compare-and-swap: others' finalizers are kept.
  Json patch = {{"metadata", {{"finalizers", list}, {"resourceVersion", Str(Field(obj, "metadata"), "resourceVersion")}}}};
  Status s = client_->Patch(r, Ns(obj), Name(obj), client::PatchType::kMerge, patch.dump());
  if (s.IsNotFound()) return Status();
  *changed = s.ok();
  return s;
}

Status PersistentVolumeBinderController::SetClaimPhase(const Json& claim, const std::string& phase) {
  if (Phase(claim) == phase) return Status();
  Json c = claim;
  c["status"]["phase"] = phase;
  if (phase != "Bound") {
    c["status"].erase("capacity");
    c["status"].erase("accessModes");
  }
  Status s = client_->UpdateStatus(kClaims, Ns(claim), c);
  return s.IsNotFound() ? Status() : s;
}

Status PersistentVolumeBinderController::SetVolumePhase(const Json& volume, const std::string& phase,
                                                        const std::string& message) {
  if (Phase(volume) == phase && Str(Field(volume, "status"), "message") == message) return Status();
  Json v = volume;
  v["status"]["phase"] = phase;
  if (message.empty()) v["status"].erase("message");
  else v["status"]["message"] = message;
  Status s = client_->UpdateStatus(kVolumes, "", v);
  return s.IsNotFound() ? Status() : s;
}

Status PersistentVolumeBinderController::Bind(const Json& volume, const Json& claim) {
  // The volume first: a claim never points at a volume not reserved for it.
  Json v = volume;
  if (!ClaimRefMatches(volume, claim) || Str(Field(Field(volume, "spec"), "claimRef"), "uid").empty()) {
    bool by_controller = !Field(Field(volume, "spec"), "claimRef").is_object();
    v["spec"]["claimRef"] = ClaimRef(claim);
    if (by_controller) v["metadata"]["annotations"][kAnnBoundByController] = "yes";
    Json out;
    if (Status s = client_->Update(kVolumes, "", v, &out); !s.ok()) return s;
    v = out;
  }
  if (Status s = SetVolumePhase(v, "Bound"); !s.ok()) return s;
  Json c = claim;
  if (Str(Field(claim, "spec"), "volumeName") != Name(volume) || Annotation(claim, kAnnBindCompleted) != "yes") {
    if (Str(Field(claim, "spec"), "volumeName").empty()) c["metadata"]["annotations"][kAnnBoundByController] = "yes";
    c["spec"]["volumeName"] = Name(volume);
    c["metadata"]["annotations"][kAnnBindCompleted] = "yes";
    Json out;
    if (Status s = client_->Update(kClaims, Ns(claim), c, &out); !s.ok()) return s;
    c = out;
  }
  const Json& vs = Field(v, "spec");
  if (Phase(c) == "Bound" && Field(Field(c, "status"), "capacity") == Field(vs, "capacity")) return Status();
  c["status"]["phase"] = "Bound";
  c["status"]["accessModes"] = Field(vs, "accessModes");
  c["status"]["capacity"] = Field(vs, "capacity");
  if (log_) log_(LogLevel::kInfo, "persistentvolume-binder: bound " + client::ObjectKey(claim) + " to " + Name(volume));
  Status s = client_->UpdateStatus(kClaims, Ns(claim), c);
  return s.IsNotFound() ? Status() : s;
}

Status PersistentVolumeBinderController::SyncClaim(const std::string& key) {
  ObjectPtr obj = claims_->Get(key);
  if (!obj) return Status();
  const Json& claim = *obj;
  bool changed = false;
  if (Deleting(claim)) {
    // pvc-protection: the claim goes once no unfinished pod uses it.
    if (HasFinalizer(claim, kPVCProtectionFinalizer) && !ClaimInUse(claim))
      return SetFinalizer(kClaims, claim, kPVCProtectionFinalizer, false, &changed);
    return Status();
  }
  if (Status s = SetFinalizer(kClaims, claim, kPVCProtectionFinalizer, true, &changed); !s.ok() || changed) return s;
  const Json& spec = Field(claim, "spec");
  std::string volume_name = Str(spec, "volumeName");
  if (volume_name.empty()) {
    // A claim with no class at all takes the default one.
    if (!Field(spec, "storageClassName").is_string() && ClaimClassName(claim).empty()) {
      if (ObjectPtr def = DefaultClass()) {
        Json patch = {{"spec", {{"storageClassName", Name(*def)}}}};
        Status s = client_->Patch(kClaims, Ns(claim), Name(claim), client::PatchType::kMerge, patch.dump());
        return s.IsNotFound() ? Status() : s;
      }
    }
    std::string class_name = ClaimClassName(claim);
    ObjectPtr cls = class_name.empty() ? nullptr : classes_->Get(class_name);
    // Delayed binding: until the scheduler picks a node, only a volume
    // pre-bound to the claim may take it; then the node must be the
    // volume's.
    bool delayed = cls && Str(*cls, "volumeBindingMode") == "WaitForFirstConsumer";
    std::string node = Annotation(claim, kAnnSelectedNode);
    std::vector<ObjectPtr> all = volumes_->List();
    std::vector<const Json*> candidates;
    for (const ObjectPtr& v : all)
      if (!delayed || ClaimRefMatches(*v, claim) || (!node.empty() && VolumeReachableFrom(*v, node)))
        candidates.push_back(v.get());
    if (const Json* v = FindMatchingVolume(claim, candidates)) return Bind(*v, claim);
    if (Status s = SetClaimPhase(claim, "Pending"); !s.ok()) return s;
    if (class_name.empty()) {
      events_.Event(claim, client::kEventTypeNormal, "FailedBinding",
                    "no persistent volumes available for this claim and no storage class is set");
      return Status();
    }
    if (!cls) {
      events_.Event(claim, client::kEventTypeWarning, "ProvisioningFailed",
                    "storageclass.storage.k8s.io \"" + class_name + "\" not found");
      return Status();
    }
    if (delayed && node.empty()) {
      // Upstream names the pods the claim waits for, once there are some.
      std::vector<std::string> unscheduled;
      for (const ObjectPtr& pod : pods_->ByIndex(kClaimIndex, key))
        if (Str(Field(*pod, "spec"), "nodeName").empty() && Field(Field(*pod, "metadata"), "deletionTimestamp").is_null())
          unscheduled.push_back(Name(*pod));
      std::sort(unscheduled.begin(), unscheduled.end());
      std::string pods;
      for (const std::string& p : unscheduled) pods += (pods.empty() ? "" : ",") + p;
      if (unscheduled.empty())
        events_.Event(claim, client::kEventTypeNormal, "WaitForFirstConsumer",
                      "waiting for first consumer to be created before binding");
      else
        events_.Event(claim, client::kEventTypeNormal, "WaitForPodScheduled",
                      std::string(unscheduled.size() > 1 ? "waiting for pods " : "waiting for pod ") + pods +
                          " to be scheduled");
      return Status();
    }
    std::string provisioner = Str(*cls, "provisioner");
    if (provisioner.empty() || provisioner == kNoProvisioner) return Status();
    if (Annotation(claim, kAnnStorageProvisioner) != provisioner) {
      Json patch = {{"metadata",
                     {{"annotations", {{kAnnStorageProvisioner, provisioner}, {kAnnBetaStorageProvisioner, provisioner}}}}}};
      Status s = client_->Patch(kClaims, Ns(claim), Name(claim), client::PatchType::kMerge, patch.dump());
      if (!s.ok()) return s.IsNotFound() ? Status() : s;
    }
    events_.Event(claim, client::kEventTypeNormal, "ExternalProvisioning",
                  "Waiting for a volume to be created either by the external provisioner '" + provisioner +
                      "' or manually by the system administrator. If volume creation is delayed, please verify "
                      "that the provisioner is running and correctly registered.");
    return Status();
  }
  // The claim names its volume (bound before, or asked for by the user).
  ObjectPtr volume = volumes_->Get(volume_name);
  if (!volume) {
    if (Phase(claim) == "Bound" || Phase(claim) == "Lost") {
      if (Phase(claim) != "Lost")
        events_.Event(claim, client::kEventTypeWarning, "ClaimLost",
                      "Bound claim has lost its PersistentVolume. Data on the volume is lost!");
      return SetClaimPhase(claim, "Lost");
    }
    return SetClaimPhase(claim, "Pending");
  }
  const Json& ref = Field(Field(*volume, "spec"), "claimRef");
  if (!ref.is_object() || ClaimRefMatches(*volume, claim)) {
    std::string why;
    if (!ref.is_object() && !VolumeSatisfiesClaim(*volume, claim, &why)) {
      events_.Event(claim, client::kEventTypeWarning, "VolumeMismatch", "Cannot bind to requested volume \"" +
                                                                          volume_name + "\": " + why);
      return SetClaimPhase(claim, "Pending");
    }
    return Bind(*volume, claim);
  }
  if (Phase(claim) == "Bound" || Phase(claim) == "Lost") {
    if (Phase(claim) != "Lost")
      events_.Event(claim, client::kEventTypeWarning, "ClaimMisbound",
                    "Two claims are bound to the same volume, this one is bound incorrectly");
    return SetClaimPhase(claim, "Lost");
  }
  events_.Event(claim, client::kEventTypeWarning, "FailedBinding",
                "volume \"" + volume_name + "\" already bound to a different claim.");
  return SetClaimPhase(claim, "Pending");
}

Status PersistentVolumeBinderController::SyncVolume(const std::string& name) {
  ObjectPtr obj = volumes_->Get(name);
  if (!obj) return Status();
  const Json& volume = *obj;
  bool changed = false;
  if (Deleting(volume)) {
    // pv-protection: a volume goes once no claim is bound to it.
    if (HasFinalizer(volume, kPVProtectionFinalizer) && Phase(volume) != "Bound")
      return SetFinalizer(kVolumes, volume, kPVProtectionFinalizer, false, &changed);
    return Status();
  }
  if (Status s = SetFinalizer(kVolumes, volume, kPVProtectionFinalizer, true, &changed); !s.ok() || changed) return s;
  const Json& ref = Field(Field(volume, "spec"), "claimRef");
  if (!ref.is_object() || Str(ref, "uid").empty()) {
    // Free, or pre-bound to a claim that has yet to come.
    if (Phase(volume) == "Failed" || Phase(volume) == "Released") return Status();
    return SetVolumePhase(volume, "Available");
  }
  ObjectPtr claim = claims_->Get(Str(ref, "namespace"), Str(ref, "name"));
  if (claim && Uid(*claim) == Str(ref, "uid")) {
    std::string bound_to = Str(Field(*claim, "spec"), "volumeName");
    if (bound_to == name) return SetVolumePhase(volume, "Bound");
    if (bound_to.empty()) return SetVolumePhase(volume, Phase(volume) == "Bound" ? "Bound" : "Available");
    // The claim went to another volume: give this one back if we took it.
    if (Annotation(volume, kAnnBoundByController) != "yes") return SetVolumePhase(volume, "Available");
    Json v = volume;
    v["spec"].erase("claimRef");
    if (v["metadata"]["annotations"].is_object()) v["metadata"]["annotations"].erase(kAnnBoundByController);
    Json out;
    if (Status s = client_->Update(kVolumes, "", v, &out); !s.ok()) return s.IsNotFound() ? Status() : s;
    return SetVolumePhase(out, "Available");
  }
  // The claim is gone: reclaim.
  if (Phase(volume) == "Failed") return Status();
  if (Phase(volume) != "Released") return SetVolumePhase(volume, "Released");
  std::string policy = Str(Field(volume, "spec"), "persistentVolumeReclaimPolicy");
  if (policy == "Retain" || policy.empty()) return Status();
  if (policy == "Recycle") {
    events_.Event(volume, client::kEventTypeWarning, "VolumeFailedRecycle", "No recycler plugin found for the volume!");
    return SetVolumePhase(volume, "Failed", "No recycler plugin found for the volume!");
  }
  // Delete: the provisioner that made the volume deletes it with its data.
  if (!Annotation(volume, kAnnProvisionedBy).empty()) return Status();
  std::string msg = "error getting deleter volume plugin for volume \"" + name + "\": no deletable volume plugin matched";
  events_.Event(volume, client::kEventTypeWarning, "VolumeFailedDelete", msg);
  return SetVolumePhase(volume, "Failed", msg);
}

}  // namespace kubit::controllers
