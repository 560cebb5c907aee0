// Validation of the built-in kinds, as upstream's validators check them on
// create and update: field paths, error types and messages as upstream
// writes them ("spec.containers[0].image: Required value", "spec.selector:
// Invalid value: v1.LabelSelector{...}: field is immutable", ...). The
// per-group rules are in core/api/validation_*.cc.
//
// ValidateObject expects an object ApplyDefaults has run on (upstream
// validates decoded, defaulted objects) and checks everything but the
// generic metadata rules of ValidateObjectMeta (core/api/meta.h). It does
// not check metadata.name either: the name rule of a kind is given by
// ValidateNameForKind, which the caller uses in place of the generic one.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "core/api/meta.h"
#include "core/api/resources.h"

namespace kubit::api {

// Appends the errors of `obj` to `errs`. `old` is the stored object on
// update (immutable fields, allowed transitions), null on create. Kinds
// without validation rules add nothing.
void ValidateObject(const ResourceType& type, const nlohmann::json& obj, const nlohmann::json* old,
                    std::vector<FieldError>* errs);

// The messages for metadata.name under the kind's name rule (DNS-1123
// subdomain for most kinds, DNS-1035 label for Services, DNS-1123 label for
// Namespaces and StatefulSets, a path segment for RBAC kinds); empty when
// valid. Each becomes `metadata.name: Invalid value: "<name>": <message>`.
std::vector<std::string> ValidateNameForKind(const ResourceType& type, const std::string& name);

}  // namespace kubit::api
