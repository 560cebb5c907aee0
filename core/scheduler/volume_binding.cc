#include "core/scheduler/volume_binding.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/controllers/pv_binder_match.h"
#include "core/scheduler/plugins.h"

namespace kubit::scheduler {

using client::ObjectPtr;

namespace {

const client::Resource kClaims{"", "v1", "persistentvolumeclaims"};
const client::Resource kVolumes{"", "v1", "persistentvolumes"};
const client::Resource kClasses{"storage.k8s.io", "v1", "storageclasses"};
constexpr const char* kAnnSelectedNode = "volume.kubernetes.io/selected-node";
// Upstream's bindTimeoutSeconds default.
constexpr auto kBindTimeout = std::chrono::seconds(600);

const Json& Field(const Json& o, const char* key) {
  static const Json null;
  return o.is_object() && o.contains(key) ? o[key] : null;
}

std::string Str(const Json& o, const char* key) {
  const Json& v = Field(o, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

std::vector<std::string> Strings(const Json& a) {
  std::vector<std::string> out;
  for (const Json& v : a.is_array() ? a : Json::array())
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

std::vector<NodeSelectorRequirement> Requirements(const Json& list) {
  std::vector<NodeSelectorRequirement> out;
  for (const Json& r : list.is_array() ? list : Json::array())
    out.push_back({Str(r, "key"), Str(r, "operator"), Strings(Field(r, "values"))});
  return out;
}

// The pod's claims: persistentVolumeClaim volumes, and the claims of its
// generic ephemeral volumes (<pod>-<volume>).
std::vector<std::string> ClaimNames(const Json& pod) {
  std::vector<std::string> out;
  const Json& vols = Field(Field(pod, "spec"), "volumes");
  for (const Json& v : vols.is_array() ? vols : Json::array()) {
    std::string c = Str(Field(v, "persistentVolumeClaim"), "claimName");
    if (c.empty() && Field(v, "ephemeral").is_object()) c = Str(Field(pod, "metadata"), "name") + "-" + Str(v, "name");
    if (!c.empty()) out.push_back(c);
  }
  return out;
}

std::string ClassOf(const Json& claim) {
  std::string beta = Str(Field(Field(claim, "metadata"), "annotations"), "volume.beta.kubernetes.io/storage-class");
  return beta.empty() ? Str(Field(claim, "spec"), "storageClassName") : beta;
}

std::vector<NodeSelectorTerm> VolumeTerms(const Json& pv) {
  std::vector<NodeSelectorTerm> parsed;
  const Json& terms = Field(Field(Field(Field(pv, "spec"), "nodeAffinity"), "required"), "nodeSelectorTerms");
  for (const Json& t : terms.is_array() ? terms : Json::array())
    parsed.push_back({Requirements(Field(t, "matchExpressions")), Requirements(Field(t, "matchFields"))});
  return parsed;
}

bool Reaches(const std::vector<NodeSelectorTerm>& terms, const NodeInfo& node) {
  if (terms.empty()) return true;
  for (const auto& t : terms)
    if (MatchesNodeTerm(t, node)) return true;
  return false;
}

}  // namespace

Status FilterVolumeBinding(const VolumeState& state, const NodeInfo& node) {
  if (!state.unresolvable.empty()) return Status::Unresolvable(state.unresolvable);
  if (state.missing_volume) return Status::Unresolvable(kReasonVolumeMissing);
  for (const auto& terms : state.volume_affinities)
    if (!Reaches(terms, node)) return Status::Unresolvable(kReasonVolumeNodeConflict);
  for (const auto& candidates : state.static_candidates) {
    bool ok = false;
    for (const auto& terms : candidates) ok = ok || Reaches(terms, node);
    if (!ok) return Status::Unresolvable(kReasonBindConflict);
  }
  return Status();
}

VolumeBinding::VolumeBinding(client::Client* client, client::SharedInformerFactory* informers,
                             std::function<void()> changed)
    : client_(client),
      claims_(informers->For(kClaims)),
      volumes_(informers->For(kVolumes)),
      classes_(informers->For(kClasses)) {
  // New claims, volumes and classes are what waiting pods wait for.
  for (client::Informer* inf : this->informers()) {
    client::EventHandlers h;
    h.on_add = [changed](const ObjectPtr&) { changed(); };
    h.on_update = [changed](const ObjectPtr& a, const ObjectPtr& b) {
      if (Field(*a, "spec") != Field(*b, "spec") || Field(*a, "status") != Field(*b, "status")) changed();
    };
    inf->AddHandler(h);
  }
}

VolumeState VolumeBinding::PreFilter(const Json& pod) const {
  VolumeState st;
  std::string ns = Str(Field(pod, "metadata"), "namespace");
  for (const std::string& name : ClaimNames(pod)) {
    ObjectPtr claim = claims_->Get(ns, name);
    if (!claim) {
      st.unresolvable = "persistentvolumeclaim \"" + name + "\" not found";
      return st;
    }
    if (!Field(Field(*claim, "metadata"), "deletionTimestamp").is_null()) {
      st.unresolvable = "persistentvolumeclaim \"" + name + "\" is being deleted";
      return st;
    }
    std::string pv_name = Str(Field(*claim, "spec"), "volumeName");
    if (pv_name.empty()) {
      ObjectPtr cls = classes_->Get(ClassOf(*claim));
      if (!cls || Str(*cls, "volumeBindingMode") != "WaitForFirstConsumer") {
        st.unresolvable = kReasonUnboundImmediate;
        return st;
      }
      std::string provisioner = Str(*cls, "provisioner");
      if (!provisioner.empty() && provisioner != controllers::kNoProvisioner) continue;
      // Static volumes only: the nodes that reach a free one that fits.
      std::vector<std::vector<NodeSelectorTerm>> candidates;
      for (const ObjectPtr& v : volumes_->List()) {
        bool has_ref = Field(Field(*v, "spec"), "claimRef").is_object();
        std::string phase = Str(Field(*v, "status"), "phase");
        if (!Field(Field(*v, "metadata"), "deletionTimestamp").is_null() || phase == "Released" || phase == "Failed")
          continue;
        if ((has_ref && !controllers::ClaimRefMatches(*v, *claim)) || !controllers::VolumeSatisfiesClaim(*v, *claim))
          continue;
        candidates.push_back(VolumeTerms(*v));
      }
      st.static_candidates.push_back(std::move(candidates));
      continue;
    }
    ObjectPtr pv = volumes_->Get(pv_name);
    if (!pv) {
      st.missing_volume = true;
      continue;
    }
    std::vector<NodeSelectorTerm> terms = VolumeTerms(*pv);
    if (!terms.empty()) st.volume_affinities.push_back(std::move(terms));
  }
  return st;
}

bool VolumeBinding::PreBind(const Json& pod, const std::string& node, const std::function<bool()>& stopping,
                            std::string* error) {
  std::string ns = Str(Field(pod, "metadata"), "namespace");
  std::vector<std::string> waiting;
  for (const std::string& name : ClaimNames(pod)) {
    ObjectPtr claim = claims_->Get(ns, name);
    if (!claim || !Str(Field(*claim, "spec"), "volumeName").empty()) continue;
    ObjectPtr cls = classes_->Get(ClassOf(*claim));
    if (!cls || Str(*cls, "volumeBindingMode") != "WaitForFirstConsumer") {
      *error = kReasonUnboundImmediate;
      return false;
    }
    waiting.push_back(name);
    if (Str(Field(Field(*claim, "metadata"), "annotations"), kAnnSelectedNode) == node) continue;
    Json patch = {{"metadata", {{"annotations", {{kAnnSelectedNode, node}}}}}};
    client::Status s = client_->Patch(kClaims, ns, name, client::PatchType::kMerge, patch.dump());
    if (!s.ok()) {
      *error = "cannot name node " + node + " on persistentvolumeclaim \"" + name + "\": " + s.message();
      return false;
    }
  }
  // Upstream's PreBind waits for the provisioner and the binder.
  auto deadline = std::chrono::steady_clock::now() + kBindTimeout;
  while (!waiting.empty()) {
    ObjectPtr claim = claims_->Get(ns, waiting.back());
    if (!claim) {
      *error = "persistentvolumeclaim \"" + waiting.back() + "\" not found";
      return false;
    }
    if (!Str(Field(*claim, "spec"), "volumeName").empty() && Str(Field(*claim, "status"), "phase") == "Bound") {
      waiting.pop_back();
      continue;
    }
    if (stopping() || std::chrono::steady_clock::now() > deadline) {
      *error = "binding volumes: timed out waiting for the condition";
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

}  // namespace kubit::scheduler
