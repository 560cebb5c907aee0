#include "core/api/custom_resources.h"

#include <nlohmann/json.hpp>
#include <regex>

#include "core/api/printers.h"

namespace kubit::api {
namespace {

std::string TypeName(const Json& v) {
  if (v.is_string()) return "string";
  if (v.is_number_integer()) return "integer";
  if (v.is_number()) return "number";
  if (v.is_boolean()) return "boolean";
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  return "null";
}

std::string Quote(const Json& v) { return v.is_string() ? "\"" + v.get<std::string>() + "\"" : v.dump(); }

// Walks `schema` over `v` at `path`: defaults, pruning, then checks.
void Walk(const Json& schema, Json* v, const std::string& path, std::vector<FieldError>* errs,
          std::vector<std::string>* pruned) {
  if (!schema.is_object()) return;
  if (v->is_null()) {
    if (!schema.value("nullable", false))
      errs->push_back({"Invalid value", path, path + " in body must be of type " +
                                                  schema.value("type", "object") + ": \"null\"",
                       "\"null\""});
    return;
  }
  bool int_or_string = schema.value("x-kubernetes-int-or-string", false);
  std::string type = schema.value("type", "");
  if (int_or_string) {
    if (!v->is_string() && !v->is_number_integer())
      errs->push_back({"Invalid value", path, path + " in body must be of type integer or string: \"" + TypeName(*v) + "\"", "\"" + TypeName(*v) + "\""});
    return;
  }
  if (!type.empty()) {
    bool ok = type == "object"    ? v->is_object()
              : type == "array"   ? v->is_array()
              : type == "string"  ? v->is_string()
              : type == "integer" ? v->is_number_integer()
              : type == "number"  ? v->is_number()
              : type == "boolean" ? v->is_boolean()
                                  : true;
    if (!ok) {
      errs->push_back({"Invalid value", path,
                       path + " in body must be of type " + type + ": \"" + TypeName(*v) + "\"",
                       "\"" + TypeName(*v) + "\""});
      return;
    }
  }
  if (schema.contains("enum") && schema["enum"].is_array()) {
    bool found = false;
    for (const auto& e : schema["enum"]) found |= e == *v;
    if (!found) {
      std::string supported;
      for (const auto& e : schema["enum"]) supported += (supported.empty() ? "" : ", ") + Quote(e);
      errs->push_back({"Unsupported value", path, "supported values: " + supported, Quote(*v)});
    }
  }
  if (v->is_number()) {
    double x = v->get<double>();
    if (schema.contains("minimum") && x < schema["minimum"].get<double>())
      errs->push_back({"Invalid value", path,
                       path + " in body should be greater than or equal to " + schema["minimum"].dump(),
                       v->dump()});
    if (schema.contains("maximum") && x > schema["maximum"].get<double>())
      errs->push_back({"Invalid value", path,
                       path + " in body should be less than or equal to " + schema["maximum"].dump(),
                       v->dump()});
  }
  if (v->is_string()) {
    std::string s = v->get<std::string>();
    if (schema.contains("minLength") && s.size() < schema["minLength"].get<size_t>())
      errs->push_back({"Invalid value", path,
                       path + " in body should be at least " + schema["minLength"].dump() + " chars long",
                       Quote(*v)});
    if (schema.contains("maxLength") && s.size() > schema["maxLength"].get<size_t>())
      errs->push_back({"Too long", path, "may not be longer than " + schema["maxLength"].dump(), ""});
    if (schema.contains("pattern") && schema["pattern"].is_string()) {
      try {
        if (!std::regex_search(s, std::regex(schema["pattern"].get<std::string>())))
          errs->push_back({"Invalid value", path,
                           path + " in body should match '" + schema["pattern"].get<std::string>() + "'",
                           Quote(*v)});
      } catch (const std::regex_error&) {
      }
    }
  }
  if (v->is_array()) {
    if (schema.contains("minItems") && v->size() < schema["minItems"].get<size_t>())
      errs->push_back({"Invalid value", path,
                       path + " in body should have at least " + schema["minItems"].dump() + " items",
                       std::to_string(v->size())});
    if (schema.contains("maxItems") && v->size() > schema["maxItems"].get<size_t>())
      errs->push_back({"Too many", path, "must have at most " + schema["maxItems"].dump() + " items", ""});
    if (schema.contains("items"))
      for (size_t i = 0; i < v->size(); i++)
        Walk(schema["items"], &(*v)[i], path + "[" + std::to_string(i) + "]", errs, pruned);
  }
  if (v->is_object()) {
    bool preserve = schema.value("x-kubernetes-preserve-unknown-fields", false);
    const Json props = schema.value("properties", Json::object());
    const Json additional = schema.value("additionalProperties", Json());
    // Defaults for absent properties.
    for (const auto& [k, ps] : props.items())
      if (!v->contains(k) && ps.is_object() && ps.contains("default")) (*v)[k] = ps["default"];
    std::vector<std::string> drop;
    for (auto& [k, child] : v->items()) {
      std::string p = path.empty() ? k : path + "." + k;
      if (props.contains(k)) {
        Walk(props[k], &child, p, errs, pruned);
      } else if (additional.is_object()) {
        Walk(additional, &child, p, errs, pruned);
      } else if (!preserve && !(additional.is_boolean() && additional.get<bool>())) {
        drop.push_back(k);  // structural pruning, as upstream
        if (pruned) pruned->push_back(p);
      }
    }
    for (const auto& k : drop) v->erase(k);
    if (schema.contains("required") && schema["required"].is_array())
      for (const auto& r : schema["required"])
        if (r.is_string() && !v->contains(r.get<std::string>()))
          errs->push_back({"Required value", path.empty() ? r.get<std::string>() : path + "." + r.get<std::string>(), "", ""});
  }
}

}  // namespace

std::vector<ResourceType> TypesFromCRD(const Json& crd) {
  std::vector<ResourceType> out;
  const Json spec = crd.value("spec", Json::object());
  const Json names = spec.value("names", Json::object());
  std::string storage_version;
  for (const auto& v : spec.value("versions", Json::array()))
    if (v.value("storage", false)) storage_version = v.value("name", "");
  for (const auto& v : spec.value("versions", Json::array())) {
    if (!v.value("served", false)) continue;
    ResourceType t;
    t.group = spec.value("group", "");
    t.version = v.value("name", "");
    t.kind = names.value("kind", "");
    t.plural = names.value("plural", "");
    t.singular = names.value("singular", "");
    if (t.singular.empty())
      for (char c : t.kind) t.singular += static_cast<char>(tolower(static_cast<unsigned char>(c)));
    for (const auto& s : names.value("shortNames", Json::array()))
      if (s.is_string()) t.short_names.push_back(s.get<std::string>());
    for (const auto& s : names.value("categories", Json::array()))
      if (s.is_string()) t.categories.push_back(s.get<std::string>());
    t.namespaced = spec.value("scope", "Namespaced") == "Namespaced";
    t.verbs = {"delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"};
    t.storage_group = t.group;
    t.custom = true;
    t.crd_name = crd["metadata"].value("name", "");
    t.storage_version = storage_version;
    const Json sub = v.value("subresources", Json::object());
    t.has_status = sub.contains("status");
    if (sub.contains("scale")) {
      t.has_scale = true;
      const Json sc = sub["scale"];
      t.spec_replicas_path = sc.value("specReplicasPath", "");
      t.status_replicas_path = sc.value("statusReplicasPath", "");
      t.label_selector_path = sc.value("labelSelectorPath", "");
    }
    const Json schema = v.value("schema", Json::object());
    if (schema.contains("openAPIV3Schema"))
      t.schema = std::make_shared<const Json>(schema["openAPIV3Schema"]);
    for (const auto& c : v.value("additionalPrinterColumns", Json::array())) {
      PrinterColumn pc;
      pc.name = c.value("name", "");
      pc.type = c.value("type", "string");
      pc.format = c.value("format", "");
      pc.description = c.value("description", "");
      pc.json_path = c.value("jsonPath", "");
      pc.priority = c.value("priority", 0);
      t.printer_columns.push_back(pc);
    }
    out.push_back(std::move(t));
  }
  return out;
}

void ValidateCRD(const Json& crd, std::vector<FieldError>* errs) {
  const Json spec = crd.value("spec", Json::object());
  const Json names = spec.value("names", Json::object());
  std::string group = spec.value("group", ""), plural = names.value("plural", "");
  std::string name = crd.value("metadata", Json::object()).value("name", "");
  if (group.empty()) errs->push_back({"Required value", "spec.group", "", ""});
  else if (group.find('.') == std::string::npos)
    errs->push_back({"Invalid value", "spec.group", "should be a domain with at least one dot", "\"" + group + "\""});
  if (plural.empty()) errs->push_back({"Required value", "spec.names.plural", "", ""});
  if (names.value("kind", "").empty()) errs->push_back({"Required value", "spec.names.kind", "", ""});
  if (!plural.empty() && !group.empty() && name != plural + "." + group)
    errs->push_back({"Invalid value", "metadata.name", "must be spec.names.plural+\".\"+spec.group", "\"" + name + "\""});
  std::string scope = spec.value("scope", "");
  if (scope != "Namespaced" && scope != "Cluster")
    errs->push_back({"Unsupported value", "spec.scope", "supported values: \"Cluster\", \"Namespaced\"", "\"" + scope + "\""});
  const Json versions = spec.value("versions", Json::array());
  if (versions.empty()) errs->push_back({"Invalid value", "spec.versions", "must have exactly one version marked as storage version", "null"});
  int storage = 0;
  for (size_t i = 0; i < versions.size(); i++) {
    const Json& v = versions[i];
    std::string p = "spec.versions[" + std::to_string(i) + "]";
    if (v.value("storage", false)) storage++;
    if (v.value("name", "").empty()) errs->push_back({"Required value", p + ".name", "", ""});
    const Json schema = v.value("schema", Json::object());
    if (!schema.contains("openAPIV3Schema"))
      errs->push_back({"Required value", p + ".schema.openAPIV3Schema", "schemas are required", ""});
  }
  if (!versions.empty() && storage != 1)
    errs->push_back({"Invalid value", "spec.versions", "must have exactly one version marked as storage version", "[]"});
}

void ValidateCustomObject(const ResourceType& t, Json* obj, std::vector<FieldError>* errs,
                          std::vector<std::string>* pruned) {
  if (!t.schema) return;
  // apiVersion, kind and metadata belong to the API, not the schema; they
  // stay where they are (callers hold references into metadata).
  Json body = *obj;
  for (const char* k : {"apiVersion", "kind", "metadata"}) body.erase(k);
  Walk(*t.schema, &body, "", errs, pruned);
  std::vector<std::string> keys;
  for (const auto& [k, v] : obj->items())
    if (k != "apiVersion" && k != "kind" && k != "metadata") keys.push_back(k);
  for (const auto& k : keys) obj->erase(k);
  for (auto& [k, v] : body.items()) (*obj)[k] = std::move(v);
}

Json CustomResourceTable(const ResourceType& t, const std::vector<Json>& objects,
                         const std::string& include_object) {
  std::vector<PrinterColumn> cols = t.printer_columns;
  if (cols.empty()) cols.push_back({"Age", "date", "", "", ".metadata.creationTimestamp", 0});
  Json defs = Json::array();
  defs.push_back({{"name", "Name"}, {"type", "string"}, {"format", "name"},
                  {"description", "Name must be unique within a namespace."}, {"priority", 0}});
  for (const auto& c : cols)
    defs.push_back({{"name", c.name}, {"type", c.type}, {"format", c.format},
                    {"description", c.description}, {"priority", c.priority}});
  Json rows = Json::array();
  for (const auto& o : objects) {
    Json cells = Json::array();
    cells.push_back(o["metadata"].value("name", ""));
    for (const auto& c : cols) {
      std::string v = EvalJsonPath(o, c.json_path);
      if (v.empty()) {
        cells.push_back(nullptr);
      } else if (c.type == "date") {
        cells.push_back(HumanDuration(SecondsSince(v)));
      } else if (c.type == "integer" || c.type == "number" || c.type == "boolean") {
        Json parsed = Json::parse(v, nullptr, false);
        cells.push_back(parsed.is_discarded() ? Json(v) : parsed);
      } else {
        cells.push_back(v);
      }
    }
    Json row = {{"cells", cells}};
    if (include_object == "Object") {
      row["object"] = o;
    } else if (include_object != "None") {
      row["object"] = {{"kind", "PartialObjectMetadata"},
                       {"apiVersion", "meta.k8s.io/v1"},
                       {"metadata", o["metadata"]}};
    }
    rows.push_back(row);
  }
  return {{"kind", "Table"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", Json::object()},
          {"columnDefinitions", defs}, {"rows", rows}};
}

std::string CustomOpenApiDocument(const std::vector<const ResourceType*>& types) {
  Json paths = Json::object(), schemas = Json::object();
  for (const ResourceType* t : types) {
    std::string group_rev;  // "stable.example.com" -> "com.example.stable"
    for (size_t end = t->group.size(); end != std::string::npos && end > 0;) {
      size_t dot = t->group.rfind('.', end - 1);
      std::string part = t->group.substr(dot == std::string::npos ? 0 : dot + 1,
                                         end - (dot == std::string::npos ? 0 : dot + 1));
      group_rev += (group_rev.empty() ? "" : ".") + part;
      end = dot;
    }
    std::string schema_name = group_rev + "." + t->version + "." + t->kind;
    Json gvk = Json::array({{{"group", t->group}, {"version", t->version}, {"kind", t->kind}}});
    Json s = t->schema ? *t->schema : Json{{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
    s["properties"]["apiVersion"] = {{"type", "string"}};
    s["properties"]["kind"] = {{"type", "string"}};
    s["properties"]["metadata"] = {{"type", "object"}};
    s["x-kubernetes-group-version-kind"] = gvk;
    schemas[schema_name] = s;
    Json params = Json::array();
    for (const char* p : {"dryRun", "fieldManager", "fieldValidation", "force"})
      params.push_back({{"name", p}, {"in", "query"}, {"schema", {{"type", "string"}}}});
    Json ref = {{"$ref", "#/components/schemas/" + schema_name}};
    Json ok = {{"200", {{"description", "OK"}, {"content", {{"application/json", {{"schema", ref}}}}}}}};
    Json op = {{"x-kubernetes-group-version-kind", gvk[0]}, {"parameters", params}, {"responses", ok}};
    std::string base = "/apis/" + t->group + "/" + t->version + "/" +
                       (t->namespaced ? "namespaces/{namespace}/" : "") + t->plural;
    Json item_op = op, list_op = op;
    item_op["x-kubernetes-action"] = "patch";
    paths[base + "/{name}"]["patch"] = item_op;
    Json get = op;
    get["x-kubernetes-action"] = "get";
    paths[base + "/{name}"]["get"] = get;
    paths[base + "/{name}"]["put"] = op;
    list_op["x-kubernetes-action"] = "post";
    paths[base]["post"] = list_op;
  }
  return Json{{"openapi", "3.0.0"},
              {"info", {{"title", "Kubernetes CRD Swagger"}, {"version", "v0.1.0"}}},
              {"paths", paths},
              {"components", {{"schemas", schemas}}}}
      .dump();
}

std::string EvalJsonPath(const Json& obj, const std::string& path_in) {
  std::string path = path_in;
  if (!path.empty() && path.front() == '{' && path.back() == '}') path = path.substr(1, path.size() - 2);
  const Json* cur = &obj;
  size_t i = 0;
  if (i < path.size() && path[i] == '.') i++;
  while (i < path.size() && cur) {
    if (path[i] == '[') {
      size_t close = path.find(']', i);
      if (close == std::string::npos) return "";
      std::string inner = path.substr(i + 1, close - i - 1);
      i = close + 1;
      if (!cur->is_array()) return "";
      if (inner.rfind("?(@.", 0) == 0) {  // [?(@.field=="value")]
        size_t eq = inner.find("==");
        if (eq == std::string::npos) return "";
        std::string field = inner.substr(4, eq - 4);
        std::string want = inner.substr(eq + 2);
        if (!want.empty() && want.back() == ')') want.pop_back();
        if (want.size() >= 2 && (want.front() == '"' || want.front() == '\'')) want = want.substr(1, want.size() - 2);
        const Json* match = nullptr;
        for (const auto& e : *cur)
          if (e.is_object() && e.contains(field) && e[field].is_string() && e[field] == want) {
            match = &e;
            break;
          }
        cur = match;
      } else {
        char* end = nullptr;
        long n = strtol(inner.c_str(), &end, 10);
        if (*end || n < 0 || static_cast<size_t>(n) >= cur->size()) return "";
        cur = &(*cur)[static_cast<size_t>(n)];
      }
      if (i < path.size() && path[i] == '.') i++;
      continue;
    }
    size_t next = path.find_first_of(".[", i);
    std::string field = path.substr(i, next == std::string::npos ? std::string::npos : next - i);
    i = next == std::string::npos ? path.size() : next;
    if (i < path.size() && path[i] == '.') i++;
    if (!cur->is_object() || !cur->contains(field)) return "";
    cur = &(*cur)[field];
  }
  if (!cur || cur->is_null()) return "";
  return cur->is_string() ? cur->get<std::string>() : cur->dump();
}

}  // namespace kubit::api
