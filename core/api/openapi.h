// OpenAPI v3 of the built-in API, as kube-apiserver serves it under
// /openapi/v3, generated from the built-in schema (core/api/schema.h) and
// the served resource types (core/api/resources.h). There are no
// descriptions; the rest is what kubectl reads: the operations of each
// resource path with their x-kubernetes-group-version-kind and
// x-kubernetes-action and query parameters (kubectl looks for
// "fieldValidation" among a PATCH's), and a schema per message named as
// upstream names it (io.k8s.api.core.v1.Pod) with typed properties and the
// x-kubernetes-patch-strategy / -patch-merge-key, -list-type /
// -list-map-keys and -map-type extensions kubectl apply computes strategic
// merge patches from and kubectl explain shows.
//
// Each document is generated once, on first use, and kept; all functions
// are safe to call from any thread.
#pragma once

#include <string>

namespace kubit::api {

// The body of GET /openapi/v3: {"paths":{"api/v1":{"serverRelativeURL":
// "/openapi/v3/api/v1?hash=<HASH>"},"apis/apps/v1":{...},...}}, one entry
// per built-in group version, HASH being the document's (upper-case hex
// SHA-512, as upstream's ETag).
std::string OpenApiV3Root();

// The document of a group version: `gv_path` is "api/v1" or
// "apis/<group>/<version>". False when no built-in group version is served
// there.
bool OpenApiV3Document(const std::string& gv_path, std::string* json, std::string* hash);

}  // namespace kubit::api
