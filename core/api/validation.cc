#include "core/api/validation.h"

#include "core/api/validation_internal.h"

namespace kubit::api {

void ValidateObject(const ResourceType& type, const nlohmann::json& obj, const nlohmann::json* old,
                    std::vector<FieldError>* errs) {
  using namespace validation;
  if (!obj.is_object()) return;
  if (old && !old->is_object()) old = nullptr;
  try {
    if (ValidateCoreKind(type, obj, old, errs)) return;
    if (ValidateAppsKind(type, obj, old, errs)) return;
    if (ValidateBatchKind(type, obj, old, errs)) return;
    if (ValidateNetworkingKind(type, obj, old, errs)) return;
    ValidateOtherKind(type, obj, old, errs);
  } catch (const nlohmann::json::exception&) {
    // Values of the wrong JSON type are the decoder's to reject; the
    // validators only guard against them.
  }
}

std::vector<std::string> ValidateNameForKind(const ResourceType& type, const std::string& name) {
  using namespace validation;
  const std::string& k = type.kind;
  if (type.group == "rbac.authorization.k8s.io") return IsValidPathSegmentName(name);
  if (type.group.empty() && k == "Service") return IsDNS1035Label(name);
  if (type.group.empty() && k == "Namespace") return validation::IsDNS1123Label(name);
  if (type.group == "apps" && k == "StatefulSet") return validation::IsDNS1123Label(name);
  // core/v1 Events are not held to a name rule.
  if (type.group.empty() && k == "Event") return {};
  return validation::IsDNS1123Subdomain(name);
}

}  // namespace kubit::api
