// Object metadata rules shared by every kind: names, uids, timestamps and
// what the server sets on create and update.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "core/api/resources.h"

namespace kubit::api {

using Json = nlohmann::json;

// A field error as upstream reports it: "metadata.name: Invalid value: ...".
struct FieldError {
  std::string type;  // "Invalid value", "Required value", "Forbidden", ...
  std::string field;
  std::string detail;
  std::string value;  // quoted bad value, if any
  std::string ToString() const;
};

// DNS-1123 subdomain (most kinds) and label (namespaces) rules; empty
// result means valid. The messages are upstream's.
std::vector<std::string> IsDNS1123Subdomain(const std::string& v);
std::vector<std::string> IsDNS1123Label(const std::string& v);
// Label and annotation rules for metadata.
void ValidateObjectMeta(const ResourceType& t, const Json& meta, bool is_create,
                        std::vector<FieldError>* errs);

std::string NewUID();
// RFC 3339 in UTC with seconds precision, as Kubernetes prints it.
std::string Now();
// The same form, `seconds` from now (deletionTimestamp of a graceful delete).
std::string TimeAfter(int64_t seconds);
// "abcde": the random suffix for generateName.
std::string RandomSuffix(size_t n);

}  // namespace kubit::api
