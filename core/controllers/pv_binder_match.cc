#include "core/controllers/pv_binder_match.h"

#include <cmath>

#include "core/api/defaults_quantity.h"
#include "core/api/selectors.h"
#include "core/controllers/json_fields.h"

namespace kubit::controllers {

using Json = nlohmann::json;

namespace {

using fields::Deleting;
using fields::Field;
using fields::Str;



std::string ModeOf(const Json& spec) {
  std::string m = Str(spec, "volumeMode");
  return m.empty() ? "Filesystem" : m;
}

}  // namespace

long double QuantityBytes(const Json& q) {
  std::optional<api::Quantity> v = api::QuantityFromJson(q);
  if (!v) return -1;
  long double n = std::stold(v->digits) * std::pow(10.0L, v->exp);
  return v->negative ? -n : n;
}

std::string ClaimClassName(const Json& claim) {
  std::string beta = Str(Field(Field(claim, "metadata"), "annotations"), "volume.beta.kubernetes.io/storage-class");
  if (!beta.empty()) return beta;
  return Str(Field(claim, "spec"), "storageClassName");
}

std::string VolumeClassName(const Json& volume) {
  std::string beta = Str(Field(Field(volume, "metadata"), "annotations"), "volume.beta.kubernetes.io/storage-class");
  if (!beta.empty()) return beta;
  return Str(Field(volume, "spec"), "storageClassName");
}

bool VolumeSatisfiesClaim(const Json& volume, const Json& claim, std::string* why) {
  auto fail = [why](const std::string& m) {
    if (why) *why = m;
    return false;
  };
  const Json& vs = Field(volume, "spec");
  const Json& cs = Field(claim, "spec");
  if (VolumeClassName(volume) != ClaimClassName(claim)) return fail("storageClassName does not match");
  if (ModeOf(vs) != ModeOf(cs)) return fail("volumeMode does not match");
  // Every mode the claim asks for must be one the volume offers.
  const Json& have = Field(vs, "accessModes");
  for (const Json& m : Field(cs, "accessModes").is_array() ? Field(cs, "accessModes") : Json::array()) {
    bool found = false;
    for (const Json& h : have.is_array() ? have : Json::array()) found = found || h == m;
    if (!found) return fail("access mode " + m.dump() + " is not offered");
  }
  long double want = QuantityBytes(Field(Field(Field(cs, "resources"), "requests"), "storage"));
  long double size = QuantityBytes(Field(Field(vs, "capacity"), "storage"));
  if (want < 0) want = 0;
  if (size < want) return fail("capacity is too small");
  const Json& sel = Field(cs, "selector");
  if (sel.is_object()) {
    api::LabelSelector s;
    std::string error;
    if (!api::LabelSelector::FromJson(sel, &s, &error)) return fail("invalid selector: " + error);
    if (!s.Matches(Field(Field(volume, "metadata"), "labels"))) return fail("selector does not match");
  }
  return true;
}

bool ClaimRefMatches(const Json& volume, const Json& claim) {
  const Json& ref = Field(Field(volume, "spec"), "claimRef");
  if (!ref.is_object()) return false;
  const Json& meta = Field(claim, "metadata");
  if (Str(ref, "name") != Str(meta, "name") || Str(ref, "namespace") != Str(meta, "namespace")) return false;
  std::string uid = Str(ref, "uid");
  return uid.empty() || uid == Str(meta, "uid");
}

bool VolumeReachableFrom(const Json& volume, const std::string& node) {
  const Json& terms = Field(Field(Field(Field(volume, "spec"), "nodeAffinity"), "required"), "nodeSelectorTerms");
  if (!terms.is_array() || terms.empty()) return true;
  // Terms are ORed; within a term every hostname requirement must hold.
  for (const Json& t : terms) {
    bool ok = true;
    const Json& exprs = Field(t, "matchExpressions");
    for (const Json& e : exprs.is_array() ? exprs : Json::array()) {
      if (Str(e, "key") != "kubernetes.io/hostname") continue;
      bool listed = false;
      const Json& vals = Field(e, "values");
      for (const Json& v : vals.is_array() ? vals : Json::array()) listed = listed || v == node;
      std::string op = Str(e, "operator");
      if ((op == "In" && !listed) || (op == "NotIn" && listed)) ok = false;
    }
    if (ok) return true;
  }
  return false;
}

const Json* FindMatchingVolume(const Json& claim, const std::vector<const Json*>& volumes) {
  const Json* best = nullptr;
  long double best_size = 0;
  for (const Json* v : volumes) {
    if (Deleting(*v)) continue;
    bool has_ref = Field(Field(*v, "spec"), "claimRef").is_object();
    if (has_ref) {
      // Pre-bound (by a user or a provisioner): taken as is, as upstream
      // does, when the volume can hold the claim.
      if (ClaimRefMatches(*v, claim) && VolumeSatisfiesClaim(*v, claim)) return v;
      continue;
    }
    std::string phase = Str(Field(*v, "status"), "phase");
    if (phase == "Released" || phase == "Failed") continue;
    if (!VolumeSatisfiesClaim(*v, claim)) continue;
    long double size = QuantityBytes(Field(Field(Field(*v, "spec"), "capacity"), "storage"));
    if (!best || size < best_size) {
      best = v;
      best_size = size;
    }
  }
  return best;
}

}  // namespace kubit::controllers
