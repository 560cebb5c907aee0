// CustomResourceDefinitions: what a CRD serves (one ResourceType per served
// version), the CRD's own validation, and custom objects checked against
// their version's openAPIV3Schema: type errors, required fields, enums and
// bounds as upstream words them, defaults applied, unknown fields pruned
// (unless x-kubernetes-preserve-unknown-fields).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "core/api/meta.h"
#include "core/api/resources.h"

namespace kubit::api {

// The types a CRD serves; empty if it serves none.
std::vector<ResourceType> TypesFromCRD(const nlohmann::json& crd);
// Upstream's CRD validation for the fields that matter to serving it.
void ValidateCRD(const nlohmann::json& crd, std::vector<FieldError>* errs);
// Applies schema defaults, prunes unknown fields and validates `obj` (a
// custom object) against `t.schema`.
// `pruned` (optional) gets the paths of the unknown fields removed.
void ValidateCustomObject(const ResourceType& t, nlohmann::json* obj, std::vector<FieldError>* errs,
                          std::vector<std::string>* pruned = nullptr);
// The table of custom objects: NAME, then the CRD's additionalPrinterColumns
// (or AGE when it has none), date columns shown as ages, as upstream.
nlohmann::json CustomResourceTable(const ResourceType& t, const std::vector<nlohmann::json>& objects,
                                   const std::string& include_object);
// The OpenAPI v3 document of one custom group/version (its served types):
// PATCH operations naming fieldValidation (so kubectl leaves validation to
// the server) and each kind's openAPIV3Schema.
std::string CustomOpenApiDocument(const std::vector<const ResourceType*>& types);
// A simple JSONPath ("{.spec.replicas}", ".status.conditions[?(@.type=="Ready")].status",
// ".items[0].name") evaluated on `obj`; "" when it selects nothing.
std::string EvalJsonPath(const nlohmann::json& obj, const std::string& path);

}  // namespace kubit::api
