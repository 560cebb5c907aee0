#include "core/apiserver/admission.h"

namespace kubit::apiserver::rest_internal {

bool MutateOnAdmission(Call& c, Json* o, ApiError* err) {
  if (!c.info.subresource.empty() || c.type.custom) return true;
  // Pods only: their containers cannot change after create, and claims
  // get no defaults from a LimitRange.
  if (c.type.group.empty() && c.type.kind == "Pod") return DefaultFromLimitRanges(c, o, err);
  return true;
}

bool ValidateOnAdmission(Call& c, const Json& o, const Json* old, ApiError* err) {
  if (!c.info.subresource.empty() || !c.type.namespaced) return true;
  bool core = c.type.group.empty() && !c.type.custom;
  bool limited = core && ((c.type.kind == "Pod" && !old) || c.type.kind == "PersistentVolumeClaim");
  if (limited && !CheckLimitRanges(c, o, err)) return false;
  return ChargeQuotas(c, o, old, err);
}

ApiError AdmissionForbidden(Call& c, const Json& o, const std::string& why) {
  std::string name = o.contains("metadata") && o["metadata"].is_object() ? o["metadata"].value("name", "") : "";
  std::string resource = c.type.plural + (c.type.group.empty() ? "" : "." + c.type.group);
  ApiError e = ApiError::Forbidden(resource + " \"" + name + "\" is forbidden: " + why);
  e.details_name = name;
  e.details_group = c.type.group;
  e.details_kind = c.type.plural;
  return e;
}

bool ListInNamespace(Call& c, const api::ResourceType& t, std::vector<Json>* out, ApiError* err) {
  store::ListResult r;
  store::Status s = c.state->List(t.storage_prefix() + c.info.ns + "/", {}, &r);
  if (!s.ok()) {
    *err = ApiError::FromStore(s, t, "");
    return false;
  }
  for (const auto& kv : r.items) out->push_back(Decode(*kv));
  return true;
}

}  // namespace kubit::apiserver::rest_internal
