// Shared pieces of the defaulting files (defaults_*.cc); not an API.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/api/resources.h"

namespace kubit::api::defaults {

using Json = nlohmann::json;

// Go's decode-then-encode of an object of `type` (core/api/defaults_encoding.cc):
// drops unknown fields and the empty values of omitempty fields, makes
// quantities canonical; with `fill_zeros`, adds the zero values Go always
// encodes (non-pointer structs, non-omitempty scalars, lists and pointers).
void Canonicalize(const ResourceType& type, Json* obj, bool fill_zeros);

// Small helpers over JSON objects.
inline bool Has(const Json& o, const char* key) { return o.is_object() && o.contains(key); }
inline bool IsObj(const Json& o, const char* key) { return Has(o, key) && o[key].is_object(); }
inline bool IsArr(const Json& o, const char* key) { return Has(o, key) && o[key].is_array(); }
inline std::string Str(const Json& o, const char* key) {
  return Has(o, key) && o[key].is_string() ? o[key].get<std::string>() : std::string();
}
// Sets o[key] = v unless present.
inline void SetIfMissing(Json* o, const char* key, Json v) {
  if (!o->contains(key)) (*o)[key] = std::move(v);
}
// o[key] as an object, created when missing; null when it is another type.
inline Json* Child(Json* o, const char* key) {
  if (!o->is_object()) return nullptr;
  Json& c = (*o)[key];
  if (c.is_null()) c = Json::object();
  return c.is_object() ? &c : nullptr;
}
// o[key] when it is an object, else null.
inline Json* ObjAt(Json* o, const char* key) {
  return o->is_object() && o->contains(key) && (*o)[key].is_object() ? &(*o)[key] : nullptr;
}
// Calls f on each object element of the array o[key].
template <typename F>
void EachObj(Json* o, const char* key, F f) {
  if (!o->is_object() || !o->contains(key) || !(*o)[key].is_array()) return;
  for (Json& e : (*o)[key])
    if (e.is_object()) f(&e);
}

// Pod defaults (defaults_pod.cc).
// SetDefaults_PodSpec and everything nested in a PodSpec (containers,
// volumes, probes); `restart_policy` false leaves restartPolicy alone.
void DefaultPodSpec(Json* spec, bool restart_policy = true);
// A PodTemplateSpec ({metadata, spec}).
void DefaultPodTemplate(Json* tmpl, bool restart_policy = true);
// SetDefaults_Pod on top of the spec defaults (Pod objects only).
void DefaultPod(Json* pod);
// PersistentVolumeClaimSpec (volumeMode Filesystem).
void DefaultPVCSpec(Json* spec);

// Per group (defaults_core.cc, defaults_workloads.cc, defaults_groups.cc).
// Each returns true when it handled the kind.
bool DefaultCoreKind(const ResourceType& t, Json* obj);
bool DefaultWorkloadKind(const ResourceType& t, Json* obj);
bool DefaultOtherKind(const ResourceType& t, Json* obj);

}  // namespace kubit::api::defaults
