#include "core/api/printers.h"

#include <time.h>

#include <functional>
#include <nlohmann/json.hpp>

namespace kubit::api {
namespace {

using Json = nlohmann::json;

struct Column {
  const char* name;
  const char* type;
  const char* format;
  int priority;
  const char* description;
  std::function<Json(const Json&)> cell;
};

std::string Str(const Json& o, std::initializer_list<const char*> path) {
  const Json* cur = &o;
  for (const char* p : path) {
    if (!cur->is_object() || !cur->contains(p)) return "";
    cur = &(*cur)[p];
  }
  if (cur->is_string()) return cur->get<std::string>();
  if (cur->is_number()) return cur->dump();
  return "";
}

size_t Count(const Json& o, const char* field) {
  return o.contains(field) && (o[field].is_object() || o[field].is_array()) ? o[field].size() : 0;
}

Column NameColumn() {
  return {"Name", "string", "name", 0,
          "Name must be unique within a namespace. Is required when creating resources, although "
          "some resources may allow a client to request the generation of an appropriate name "
          "automatically. Name is primarily intended for creation idempotence and configuration "
          "definition. Cannot be updated. More info: "
          "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
          [](const Json& o) { return Json(Str(o, {"metadata", "name"})); }};
}

Column AgeColumn() {
  return {"Age", "string", "", 0,
          "CreationTimestamp is a timestamp representing the server time when this object was "
          "created. It is not guaranteed to be set in happens-before order across separate "
          "operations. Clients may not set this value. It is represented in RFC3339 form and is "
          "in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
          "https://git.k8s.io/community/contributors/devel/sig-architecture/"
          "api-conventions.md#metadata",
          [](const Json& o) {
            std::string ts = Str(o, {"metadata", "creationTimestamp"});
            return Json(ts.empty() ? "<unknown>" : HumanDuration(SecondsSince(ts)));
          }};
}

std::vector<Column> ColumnsFor(const ResourceType& t) {
  std::vector<Column> c = {NameColumn()};
  const std::string& k = t.kind;
  if (k == "Namespace") {
    c.push_back({"Status", "string", "", 0, "The status of the namespace",
                 [](const Json& o) { return Json(Str(o, {"status", "phase"})); }});
  } else if (k == "ConfigMap") {
    c.push_back({"Data", "integer", "", 0, "Data contains the configuration data.",
                 [](const Json& o) { return Json(Count(o, "data") + Count(o, "binaryData")); }});
  } else if (k == "Secret") {
    c.push_back({"Type", "string", "", 0, "The type of the secret",
                 [](const Json& o) { return Json(Str(o, {"type"})); }});
    c.push_back({"Data", "integer", "", 0, "The number of data in the secret",
                 [](const Json& o) { return Json(Count(o, "data")); }});
  } else if (k == "ServiceAccount") {
    c.push_back({"Secrets", "string", "", 0, "Secrets is a list of the secrets in the same namespace",
                 [](const Json& o) { return Json(Count(o, "secrets")); }});
  } else if (k == "Lease") {
    c.push_back({"Holder", "string", "", 0, "The holder of the lease",
                 [](const Json& o) { return Json(Str(o, {"spec", "holderIdentity"})); }});
  } else if (k == "PriorityClass") {
    c.push_back({"Value", "integer", "", 0, "The priority value",
                 [](const Json& o) { return Json(o.value("value", 0)); }});
    c.push_back({"Global-Default", "boolean", "", 0, "Whether this is the global default",
                 [](const Json& o) { return Json(o.value("globalDefault", false)); }});
  }
  c.push_back(AgeColumn());
  return c;
}

}  // namespace

std::string HumanDuration(int64_t seconds) {
  char buf[32];
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return std::to_string(seconds) + "s";
  int64_t minutes = seconds / 60;
  if (minutes < 10) {
    int64_t s = seconds % 60;
    if (s == 0) return std::to_string(minutes) + "m";
    snprintf(buf, sizeof(buf), "%lldm%llds", (long long)minutes, (long long)s);
    return buf;
  }
  if (minutes < 180) return std::to_string(minutes) + "m";
  int64_t hours = seconds / 3600;
  if (hours < 8) {
    int64_t m = minutes % 60;
    if (m == 0) return std::to_string(hours) + "h";
    snprintf(buf, sizeof(buf), "%lldh%lldm", (long long)hours, (long long)m);
    return buf;
  }
  if (hours < 48) return std::to_string(hours) + "h";
  if (hours < 24 * 8) {
    int64_t h = hours % 24;
    if (h == 0) return std::to_string(hours / 24) + "d";
    snprintf(buf, sizeof(buf), "%lldd%lldh", (long long)(hours / 24), (long long)h);
    return buf;
  }
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24) + "d";
  if (hours < 24 * 365 * 8) {
    int64_t dy = (hours / 24) % 365;
    if (dy == 0) return std::to_string(hours / 24 / 365) + "y";
    snprintf(buf, sizeof(buf), "%lldy%lldd", (long long)(hours / 24 / 365), (long long)dy);
    return buf;
  }
  return std::to_string(hours / 24 / 365) + "y";
}

int64_t SecondsSince(const std::string& ts) {
  struct tm tm = {};
  if (!strptime(ts.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return 0;
  return static_cast<int64_t>(time(nullptr) - timegm(&tm));
}

Json ToTable(const ResourceType& type, const std::vector<Json>& objects,
             const std::string& include_object) {
  std::vector<Column> cols = ColumnsFor(type);
  Json defs = Json::array();
  for (const auto& c : cols)
    defs.push_back({{"name", c.name}, {"type", c.type}, {"format", c.format},
                    {"description", c.description}, {"priority", c.priority}});
  Json rows = Json::array();
  for (const auto& o : objects) {
    Json cells = Json::array();
    for (const auto& c : cols) cells.push_back(c.cell(o));
    Json row = {{"cells", cells}};
    if (include_object == "Object") {
      row["object"] = o;
    } else if (include_object != "None") {
      row["object"] = {{"kind", "PartialObjectMetadata"},
                       {"apiVersion", "meta.k8s.io/v1"},
                       {"metadata", o.contains("metadata") ? o["metadata"] : Json::object()}};
    }
    rows.push_back(std::move(row));
  }
  return {{"kind", "Table"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", Json::object()},
          {"columnDefinitions", defs}, {"rows", rows}};
}

}  // namespace kubit::api
