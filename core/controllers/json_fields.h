// Tolerant readers of API objects held as JSON, for controllers: a missing
// key or a value of another type reads as null, "" or an empty array and
// never throws (objects come from the API and may lack any field).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace kubit::controllers::fields {

inline const nlohmann::json& Field(const nlohmann::json& o, const char* key) {
  static const nlohmann::json kNull;
  if (!o.is_object()) return kNull;
  auto it = o.find(key);
  return it == o.end() ? kNull : *it;
}

inline const nlohmann::json& Array(const nlohmann::json& o, const char* key) {
  static const nlohmann::json kEmpty = nlohmann::json::array();
  const nlohmann::json& v = Field(o, key);
  return v.is_array() ? v : kEmpty;
}

inline std::string Str(const nlohmann::json& o, const char* key) {
  const nlohmann::json& v = Field(o, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

inline std::string Name(const nlohmann::json& o) { return Str(Field(o, "metadata"), "name"); }
inline std::string Ns(const nlohmann::json& o) { return Str(Field(o, "metadata"), "namespace"); }
inline std::string Uid(const nlohmann::json& o) { return Str(Field(o, "metadata"), "uid"); }
inline std::string Annotation(const nlohmann::json& o, const char* key) {
  return Str(Field(Field(o, "metadata"), "annotations"), key);
}
// metadata.deletionTimestamp is set.
inline bool Deleting(const nlohmann::json& o) { return !Field(Field(o, "metadata"), "deletionTimestamp").is_null(); }

}  // namespace kubit::controllers::fields
