// Admission of writes, in upstream's two phases, for the REST verbs of
// rest.cc: the mutating phase (LimitRange defaults for new pods) runs on
// the defaulted object before validation; the validating phase (LimitRange
// min/max, ResourceQuota) after validation, just before the write. Both skip
// subresources. Refusals are 403 Forbidden in upstream's words
// (`pods "x" is forbidden: exceeded quota: ...`).
#pragma once

#include "core/apiserver/rest_internal.h"

namespace kubit::apiserver::rest_internal {

// May change `o` (a new object of c.type).
bool MutateOnAdmission(Call& c, Json* o, ApiError* err);
// `old` is null on create. A quota admission charges the quotas'
// status.used before the object is written (not for dry runs), so two
// writers never both take the last of a quota.
bool ValidateOnAdmission(Call& c, const Json& o, const Json* old, ApiError* err);

// The pieces, in admission_limit_range.cc and admission_quota.cc.
bool DefaultFromLimitRanges(Call& c, Json* pod, ApiError* err);
bool CheckLimitRanges(Call& c, const Json& o, ApiError* err);
bool ChargeQuotas(Call& c, const Json& o, const Json* old, ApiError* err);
// 403 `<plural>[.<group>] "<name>" is forbidden: <why>` for the object `o`.
ApiError AdmissionForbidden(Call& c, const Json& o, const std::string& why);
// The objects of `t` in the request's namespace.
bool ListInNamespace(Call& c, const api::ResourceType& t, std::vector<Json>* out, ApiError* err);

}  // namespace kubit::apiserver::rest_internal
