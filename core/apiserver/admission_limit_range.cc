// LimitRange admission (upstream's LimitRanger): defaults for new pods'
// containers, then min/max/ratio checks of pods and claims against every
// LimitRange of the namespace.
#include "core/api/limit_ranger.h"
#include "core/api/defaults.h"
#include "core/apiserver/admission.h"

namespace kubit::apiserver::rest_internal {
namespace {

const api::ResourceType& LimitRangeType() { return *api::FindType("", "v1", "limitranges"); }

}  // namespace

bool DefaultFromLimitRanges(Call& c, Json* pod, ApiError* err) {
  std::vector<Json> ranges;
  if (!ListInNamespace(c, LimitRangeType(), &ranges, err)) return false;
  if (ranges.empty()) return true;
  // The pod as upstream's decoding has defaulted it (requests from
  // limits), so that a default request never replaces a stated limit's.
  api::ApplyDefaults(c.type, pod);
  for (const Json& range : ranges) api::ApplyLimitRangeDefaults(range, pod);
  return true;
}

bool CheckLimitRanges(Call& c, const Json& o, ApiError* err) {
  std::vector<Json> ranges;
  if (!ListInNamespace(c, LimitRangeType(), &ranges, err)) return false;
  std::vector<std::string> errs;
  for (const Json& range : ranges) api::CheckLimitRange(range, c.type.kind, o, &errs);
  if (errs.empty()) return true;
  *err = AdmissionForbidden(c, o, api::AggregateMessages(errs));
  return false;
}

}  // namespace kubit::apiserver::rest_internal
