#include "core/api/defaults.h"

#include <nlohmann/json.hpp>

#include "core/api/defaults_internal.h"

namespace kubit::api {

void ApplyDefaults(const ResourceType& type, nlohmann::json* obj) {
  if (!obj || !obj->is_object()) return;
  try {
    // As decoded: nulls and empty optional values are unset, so the
    // defaulters below see them as missing.
    defaults::Canonicalize(type, obj, false);
    if (!defaults::DefaultCoreKind(type, obj) && !defaults::DefaultWorkloadKind(type, obj))
      defaults::DefaultOtherKind(type, obj);
    // As encoded back.
    defaults::Canonicalize(type, obj, true);
  } catch (const nlohmann::json::exception&) {
    // Values of the wrong JSON type are the decoder's to reject; the
    // defaulters only guard against them.
  }
}

}  // namespace kubit::api
