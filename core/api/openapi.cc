#include "core/api/openapi.h"

#include <openssl/sha.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>
#include <vector>

#include "core/api/resources.h"
#include "core/api/schema.h"

namespace kubit::api {
namespace {

using Json = nlohmann::json;
using schema::Field;
using schema::Kind;
using schema::Message;
using schema::Shape;

constexpr std::string_view kMetaPackage = "k8s.io.apimachinery.pkg.apis.meta.v1";
constexpr const char* kSchemasRef = "#/components/schemas/";

// --- Names -----------------------------------------------------------------

// "k8s.io.api.core.v1.Pod" -> "io.k8s.api.core.v1.Pod".
std::string SchemaName(std::string_view full_name) {
  constexpr std::string_view kPrefix = "k8s.io.";
  if (full_name.substr(0, kPrefix.size()) == kPrefix)
    return "io.k8s." + std::string(full_name.substr(kPrefix.size()));
  return std::string(full_name);
}

// The API group of a built-in message package's first label ("rbac" ->
// "rbac.authorization.k8s.io").
std::string GroupOfPackageLabel(std::string_view label) {
  if (label == "core") return "";
  if (label == "apps" || label == "batch" || label == "autoscaling" || label == "policy")
    return std::string(label);
  if (label == "rbac") return "rbac.authorization.k8s.io";
  return std::string(label) + ".k8s.io";
}

// "Coordination", "RbacAuthorization", "Core" (for operation ids) and
// "coordination", "rbacAuthorization", "core" (for tags).
std::string GroupCamel(const std::string& group, bool upper_first) {
  std::string g = group.empty() ? "core" : group;
  constexpr std::string_view kK8sIo = ".k8s.io";
  if (g.size() > kK8sIo.size() && g.compare(g.size() - kK8sIo.size(), kK8sIo.size(), kK8sIo) == 0)
    g.resize(g.size() - kK8sIo.size());
  std::string out;
  bool up = upper_first;
  for (char c : g) {
    if (c == '.' || c == '-') {
      up = true;
      continue;
    }
    out += up ? char(toupper(static_cast<unsigned char>(c))) : c;
    up = false;
  }
  return out;
}

std::string Capitalized(std::string s) {
  if (!s.empty()) s[0] = char(toupper(static_cast<unsigned char>(s[0])));
  return s;
}

Json Gvk(const std::string& group, const std::string& version, const std::string& kind) {
  return {{"group", group}, {"kind", kind}, {"version", version}};
}

// --- Schemas ---------------------------------------------------------------

struct GroupVersion {
  std::string group, version;
  bool operator<(const GroupVersion& o) const {
    return group != o.group ? group < o.group : version < o.version;
  }
};

// Every built-in group version, sorted (core first).
std::vector<GroupVersion> AllGroupVersions() {
  std::set<GroupVersion> s;
  for (const GroupVersions& g : BuiltinGroups())
    for (const std::string& v : g.versions) s.insert({g.group, v});
  return {s.begin(), s.end()};
}

// The options kinds every group version serves.
bool IsOptionsKind(std::string_view name) {
  return name == "DeleteOptions" || name == "WatchEvent" || name == "ListOptions" ||
         name == "GetOptions" || name == "CreateOptions" || name == "UpdateOptions" ||
         name == "PatchOptions";
}

// The x-kubernetes-group-version-kind of a message: for kinds, theirs; the
// meta options kinds are every group version's. Null for other messages.
Json KindsOf(const Message& m) {
  std::string_view full = m.full_name;
  size_t dot = full.rfind('.');
  std::string_view pkg = full.substr(0, dot);
  std::string kind(m.name());
  if (pkg == kMetaPackage) {
    if (IsOptionsKind(kind)) {
      Json all = Json::array();
      for (const GroupVersion& gv : AllGroupVersions()) all.push_back(Gvk(gv.group, gv.version, kind));
      return all;
    }
    if (!m.is_kind) return nullptr;
    return Json::array({Gvk("", "v1", kind)});
  }
  if (!m.is_kind) return nullptr;
  // k8s.io.api.<group label>.<version>
  constexpr std::string_view kApi = "k8s.io.api.";
  if (pkg.substr(0, kApi.size()) != kApi) return nullptr;
  std::string_view rest = pkg.substr(kApi.size());
  size_t d = rest.find('.');
  if (d == std::string_view::npos) return nullptr;
  return Json::array(
      {Gvk(GroupOfPackageLabel(rest.substr(0, d)), std::string(rest.substr(d + 1)), kind)});
}

const char* ListTypeName(schema::ListType t) {
  switch (t) {
    case schema::ListType::kAtomic:
      return "atomic";
    case schema::ListType::kSet:
      return "set";
    case schema::ListType::kMap:
      return "map";
    default:
      return nullptr;
  }
}

const char* MapTypeName(schema::MapType t) {
  switch (t) {
    case schema::MapType::kAtomic:
      return "atomic";
    case schema::MapType::kGranular:
      return "granular";
    default:
      return nullptr;
  }
}

// Builds the schemas of a document: every message referenced, transitively.
class SchemaSet {
 public:
  // {"$ref": ...} to the message's schema, which the set will hold.
  Json Ref(const Message* m) {
    if (added_.insert(m).second) queue_.push_back(m);
    return {{"$ref", kSchemasRef + SchemaName(m->full_name)}};
  }
  Json RefByName(const std::string& name) { return {{"$ref", kSchemasRef + name}}; }

  // Adds a schema that is not a message's (kinds without one).
  void AddExtra(const std::string& name, Json s) { extra_[name] = std::move(s); }

  // The schemas, the messages' closure built.
  Json Build() {
    Json out = Json::object();
    while (!queue_.empty()) {
      const Message* m = queue_.back();
      queue_.pop_back();
      out[SchemaName(m->full_name)] = MessageSchema(*m);
    }
    for (auto& [name, s] : extra_) out[name] = s;
    return out;
  }

 private:
  // The schema of a scalar of protobuf kind `k`.
  static Json Scalar(Kind k) {
    switch (k) {
      case Kind::kString:
        return {{"type", "string"}};
      case Kind::kBool:
        return {{"type", "boolean"}};
      case Kind::kInt32:
      case Kind::kUint32:
        return {{"type", "integer"}, {"format", "int32"}};
      case Kind::kInt64:
      case Kind::kUint64:
        return {{"type", "integer"}, {"format", "int64"}};
      case Kind::kFloat:
      case Kind::kDouble:
        return {{"type", "number"}, {"format", "double"}};
      case Kind::kBytes:
        return {{"type", "string"}, {"format", "byte"}};
      default:
        return Json::object();
    }
  }

  // The zero value upstream gives as the default of a Go value that is not
  // a pointer: {} for structs, "" / false / 0 for scalars (not []byte).
  static Json ZeroScalar(Kind k) {
    switch (k) {
      case Kind::kString:
        return "";
      case Kind::kBool:
        return false;
      case Kind::kInt32:
      case Kind::kUint32:
      case Kind::kInt64:
      case Kind::kUint64:
      case Kind::kFloat:
      case Kind::kDouble:
        return 0;
      default:
        return nullptr;
    }
  }

  // A struct value that is not a pointer defaults to {} (Duration, an int64
  // underneath, and the list wrappers, slices, do not).
  static bool StructDefault(const Message& m) {
    return m.shape != Shape::kStringList && m.shape != Shape::kDuration;
  }

  // An array of strings, the JSON of a list wrapper message.
  static Json StringArray() {
    return {{"type", "array"}, {"items", {{"type", "string"}, {"default", ""}}}};
  }

  // The schema of one value (an element, a map value) of kind `k` or
  // message `m`, not a pointer.
  Json Value(Kind k, const Message* m) {
    if (k != Kind::kMessage) {
      Json s = Scalar(k);
      Json zero = ZeroScalar(k);
      if (!zero.is_null()) s["default"] = zero;
      return s;
    }
    if (!m) return Json::object();
    if (m->shape == Shape::kStringList) return StringArray();
    if (!StructDefault(*m)) return Ref(m);
    return {{"allOf", Json::array({Ref(m)})}, {"default", Json::object()}};
  }

  // The schema of a field.
  Json Property(const Field& f) {
    Json s;
    if (f.is_map()) {
      s = {{"type", "object"},
           {"additionalProperties", f.map_value == Kind::kMessage ? Value(Kind::kMessage, f.message)
                                                                 : Value(f.map_value, nullptr)}};
    } else if (f.repeated) {
      s = {{"type", "array"}, {"items", Value(f.kind, f.message)}};
    } else if (f.kind == Kind::kMessage && f.message) {
      if (f.message->shape == Shape::kStringList) {
        s = StringArray();
      } else {
        // As upstream, whose properties all carry a description beside the
        // reference.
        s = {{"allOf", Json::array({Ref(f.message)})}};
        if (!f.pointer && StructDefault(*f.message)) s["default"] = Json::object();
      }
    } else {
      s = Scalar(f.kind);
      if (!f.pointer && !f.omit_empty) {
        Json zero = ZeroScalar(f.kind);
        if (!zero.is_null()) s["default"] = zero;
      }
    }
    std::string strategy = f.patch_strategy();
    if (!strategy.empty()) s["x-kubernetes-patch-strategy"] = strategy;
    if (!f.patch_merge_key.empty()) s["x-kubernetes-patch-merge-key"] = std::string(f.patch_merge_key);
    if (const char* lt = ListTypeName(f.list_type)) s["x-kubernetes-list-type"] = lt;
    if (!f.list_map_keys.empty()) {
      Json keys = Json::array();
      for (std::string_view k : f.list_map_keys) keys.push_back(std::string(k));
      s["x-kubernetes-list-map-keys"] = keys;
    }
    if (const char* mt = MapTypeName(f.map_type)) s["x-kubernetes-map-type"] = mt;
    return s;
  }

  // The properties and required fields of a message, inlined messages'
  // fields included.
  void Fields(const Message& m, Json* properties, Json* required) {
    for (const Field& f : m.fields) {
      if (f.inlined) {
        if (f.message) Fields(*f.message, properties, required);
        continue;
      }
      std::string name(f.name);
      (*properties)[name] = Property(f);
      if (f.required) required->push_back(name);
    }
  }

  Json MessageSchema(const Message& m) {
    switch (m.shape) {
      case Shape::kTime:
      case Shape::kMicroTime:
        return {{"type", "string"}, {"format", "date-time"}};
      case Shape::kDuration:
        return {{"type", "string"}};
      case Shape::kQuantity:
        return {{"oneOf", Json::array({{{"type", "string"}}, {{"type", "number"}}})}};
      case Shape::kIntOrString:
        return {{"format", "int-or-string"},
                {"oneOf", Json::array({{{"type", "integer"}}, {{"type", "string"}}})}};
      case Shape::kRawExtension:
      case Shape::kFieldsV1:
        return {{"type", "object"}};
      case Shape::kStringList:
        return StringArray();
      case Shape::kObject:
        break;
    }
    Json s = {{"type", "object"}};
    Json properties = Json::object(), required = Json::array();
    Json kinds = KindsOf(m);
    if (m.is_kind) {
      properties["apiVersion"] = {{"type", "string"}};
      properties["kind"] = {{"type", "string"}};
    }
    Fields(m, &properties, &required);
    if (!properties.empty()) s["properties"] = properties;
    if (!required.empty()) s["required"] = required;
    if (!kinds.is_null()) s["x-kubernetes-group-version-kind"] = kinds;
    if (const char* mt = MapTypeName(m.struct_type)) s["x-kubernetes-map-type"] = mt;
    return s;
  }

  std::set<const Message*> added_;
  std::vector<const Message*> queue_;
  std::map<std::string, Json> extra_;
};

// --- Paths -----------------------------------------------------------------

Json Param(const char* name, const char* type, const char* in = "query") {
  Json p = {{"in", in}, {"name", name}, {"schema", {{"type", type}, {"uniqueItems", true}}}};
  if (std::string_view(in) == "path") p["required"] = true;
  return p;
}

Json Params(std::initializer_list<std::pair<const char*, const char*>> list) {
  Json out = Json::array();
  for (const auto& [name, type] : list) out.push_back(Param(name, type));
  return out;
}

Json ListParams() {
  return Params({{"allowWatchBookmarks", "boolean"},
                 {"continue", "string"},
                 {"fieldSelector", "string"},
                 {"labelSelector", "string"},
                 {"limit", "integer"},
                 {"resourceVersion", "string"},
                 {"resourceVersionMatch", "string"},
                 {"sendInitialEvents", "boolean"},
                 {"timeoutSeconds", "integer"},
                 {"watch", "boolean"}});
}

Json WriteParams(bool patch) {
  Json p = Params({{"dryRun", "string"}, {"fieldManager", "string"}, {"fieldValidation", "string"}});
  if (patch) p.push_back(Param("force", "boolean"));
  return p;
}

Json DeleteParams(bool collection) {
  Json p = Params({{"dryRun", "string"},
                   {"gracePeriodSeconds", "integer"},
                   {"ignoreStoreReadErrorWithClusterBreakingPotential", "boolean"},
                   {"orphanDependents", "boolean"},
                   {"propagationPolicy", "string"}});
  if (collection)
    for (const Json& l : Params({{"continue", "string"},
                                 {"fieldSelector", "string"},
                                 {"labelSelector", "string"},
                                 {"limit", "integer"},
                                 {"resourceVersion", "string"},
                                 {"resourceVersionMatch", "string"},
                                 {"sendInitialEvents", "boolean"},
                                 {"timeoutSeconds", "integer"}}))
      p.push_back(l);
  return p;
}

// A response's content: the same schema in each media type.
Json Content(const Json& schema_ref, bool stream) {
  Json c = Json::object();
  for (const char* type : {"application/json", "application/yaml", "application/vnd.kubernetes.protobuf"})
    c[type] = {{"schema", schema_ref}};
  if (stream) {
    c["application/json;stream=watch"] = {{"schema", schema_ref}};
    c["application/vnd.kubernetes.protobuf;stream=watch"] = {{"schema", schema_ref}};
  }
  return c;
}

Json Responses(const Json& schema_ref, std::initializer_list<const char*> codes, bool stream = false) {
  Json r = {{"401", {{"description", "Unauthorized"}}}};
  for (std::string_view code : codes) {
    const char* text = code == "200" ? "OK" : code == "201" ? "Created" : "Accepted";
    r[std::string(code)] = {{"description", text}, {"content", Content(schema_ref, stream)}};
  }
  return r;
}

struct OpenApiBuilder {
  GroupVersion gv;
  SchemaSet schemas;
  Json paths = Json::object();

  std::string GvCamel() const { return GroupCamel(gv.group, true) + Capitalized(gv.version); }
  std::string Tag() const { return GroupCamel(gv.group, false) + "_" + gv.version; }
  std::string Prefix() const {
    return gv.group.empty() ? "/api/" + gv.version : "/apis/" + gv.group + "/" + gv.version;
  }

  Json Operation(const std::string& id, const char* action, const Json& gvk, Json params,
                 Json responses) {
    Json op = {{"operationId", id},
               {"tags", Json::array({Tag()})},
               {"responses", std::move(responses)},
               {"x-kubernetes-action", action}};
    if (!gvk.is_null()) op["x-kubernetes-group-version-kind"] = gvk;
    if (!params.empty()) op["parameters"] = std::move(params);
    return op;
  }

  static Json Body(const Json& schema_ref, bool required) {
    Json b = {{"content", {{"*/*", {{"schema", schema_ref}}}}}};
    if (required) b["required"] = true;
    return b;
  }

  Json PatchBody() {
    Json ref = MetaRef("Patch");
    Json c = Json::object();
    for (const char* type : {"application/apply-patch+yaml", "application/json-patch+json",
                             "application/merge-patch+json", "application/strategic-merge-patch+json"})
      c[type] = {{"schema", ref}};
    return {{"content", c}, {"required", true}};
  }

  Json MetaRef(const char* name) {
    const Message* m = schema::FindMessage(std::string(kMetaPackage) + "." + name);
    return m ? schemas.Ref(m) : Json::object();
  }

  // The schema name upstream gives a kind the built-in schema does not
  // have (CustomResourceDefinition).
  static std::string ExtraName(const ResourceType& t, const std::string& kind) {
    if (t.group == "apiextensions.k8s.io")
      return "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions." + t.version + "." + kind;
    std::string first = t.group.substr(0, t.group.find('.'));
    return "io.k8s.api." + (first.empty() ? std::string("core") : first) + "." + t.version + "." + kind;
  }

  // The schema of a resource type's kind (or its list): a placeholder
  // object with open spec and status for kinds without a message.
  Json KindRef(const ResourceType& t, bool list) {
    std::string kind = list ? t.list_kind() : t.kind;
    if (const Message* m = schema::MessageForKind(t.api_version(), kind)) return schemas.Ref(m);
    Json props = {{"apiVersion", {{"type", "string"}}}, {"kind", {{"type", "string"}}}};
    if (list) {
      Json item = KindRef(t, false);
      props["metadata"] = {{"allOf", Json::array({MetaRef("ListMeta")})}, {"default", Json::object()}};
      props["items"] = {{"type", "array"},
                        {"items", {{"allOf", Json::array({item})}, {"default", Json::object()}}}};
    } else {
      Json open = {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
      props["metadata"] = {{"allOf", Json::array({MetaRef("ObjectMeta")})}, {"default", Json::object()}};
      props["spec"] = open;
      props["status"] = open;
    }
    Json s = {{"type", "object"},
              {"properties", props},
              {"x-kubernetes-group-version-kind", Json::array({Gvk(t.group, t.version, kind)})}};
    if (list) s["required"] = Json::array({"items"});
    std::string name = ExtraName(t, kind);
    schemas.AddExtra(name, s);
    return schemas.RefByName(name);
  }

  static bool Can(const ResourceType& t, const char* verb) {
    return std::find(t.verbs.begin(), t.verbs.end(), verb) != t.verbs.end();
  }

  void AddType(const ResourceType& t) {
    Json gvk = Gvk(t.group, t.version, t.kind);
    Json kind = KindRef(t, false);
    std::string ns = t.namespaced ? "Namespaced" : "";
    std::string base = Prefix();
    std::string coll = base + (t.namespaced ? "/namespaces/{namespace}/" : "/") + t.plural;
    std::string item = coll + "/{name}";
    Json ns_param = Param("namespace", "string", "path");
    Json name_param = Param("name", "string", "path");
    Json pretty = Param("pretty", "string");
    auto path_params = [&](bool named) {
      Json p = Json::array();
      if (named) p.push_back(name_param);
      if (t.namespaced) p.push_back(ns_param);
      p.push_back(pretty);
      return p;
    };
    std::string id = GvCamel() + ns + t.kind;

    // The collection.
    Json c = Json::object();
    if (t.create_only || Can(t, "create")) {
      Json op = Operation("create" + id, "post", gvk, WriteParams(false),
                          Responses(kind, {"200", "201", "202"}));
      op["requestBody"] = Body(kind, true);
      c["post"] = op;
    }
    if (!t.create_only) {
      if (Can(t, "list"))
        c["get"] = Operation("list" + id, "list", gvk, ListParams(),
                             Responses(KindRef(t, true), {"200"}, true));
      if (Can(t, "deletecollection")) {
        Json op = Operation("delete" + GvCamel() + "Collection" + ns + t.kind, "deletecollection",
                            gvk, DeleteParams(true), Responses(MetaRef("Status"), {"200"}));
        op["requestBody"] = Body(MetaRef("DeleteOptions"), false);
        c["delete"] = op;
      }
    }
    if (!c.empty()) {
      c["parameters"] = path_params(false);
      paths[coll] = c;
    }
    if (t.create_only) return;

    // One object, its status and scale.
    auto object_path = [&](const std::string& path, const std::string& suffix, const Json& ref,
                           const Json& op_gvk, bool deletable) {
      Json p = Json::object();
      std::string oid = GvCamel() + ns + t.kind + suffix;
      if (Can(t, "get"))
        p["get"] = Operation("read" + oid, "get", op_gvk, Json::array(), Responses(ref, {"200"}));
      if (Can(t, "update")) {
        Json op = Operation("replace" + oid, "put", op_gvk, WriteParams(false),
                            Responses(ref, {"200", "201"}));
        op["requestBody"] = Body(ref, true);
        p["put"] = op;
      }
      if (Can(t, "patch")) {
        Json op = Operation("patch" + oid, "patch", op_gvk, WriteParams(true),
                            Responses(ref, {"200", "201"}));
        op["requestBody"] = PatchBody();
        p["patch"] = op;
      }
      if (deletable && Can(t, "delete")) {
        Json op = Operation("delete" + oid, "delete", op_gvk, DeleteParams(false),
                            Responses(MetaRef("Status"), {"200", "202"}));
        op["requestBody"] = Body(MetaRef("DeleteOptions"), false);
        p["delete"] = op;
      }
      if (p.empty()) return;
      p["parameters"] = path_params(true);
      paths[path] = p;
    };
    object_path(item, "", kind, gvk, true);
    if (t.has_status) object_path(item + "/status", "Status", kind, gvk, false);
    if (t.has_scale) {
      const Message* scale = schema::FindMessage("k8s.io.api.autoscaling.v1.Scale");
      if (scale)
        object_path(item + "/scale", "Scale", schemas.Ref(scale), Gvk("autoscaling", "v1", "Scale"),
                    false);
    }

    // Every namespace's objects, and the watch paths.
    if (!Can(t, "list")) return;
    auto list_path = [&](const std::string& path, const std::string& id, const char* action,
                         const Json& ref, bool named, bool in_namespace) {
      Json params = ListParams();
      if (named) params.push_back(name_param);
      if (in_namespace) params.push_back(ns_param);
      params.push_back(pretty);
      paths[path] = {{"get", Operation(id, action, gvk, Json::array(), Responses(ref, {"200"}, true))},
                     {"parameters", params}};
    };
    if (t.namespaced)
      list_path(base + "/" + t.plural, "list" + GvCamel() + t.kind + "ForAllNamespaces", "list",
                KindRef(t, true), false, false);
    if (!Can(t, "watch")) return;
    Json event = MetaRef("WatchEvent");
    std::string watch = base + "/watch" + (t.namespaced ? "/namespaces/{namespace}/" : "/") + t.plural;
    list_path(watch, "watch" + id + "List", "watchlist", event, false, t.namespaced);
    list_path(watch + "/{name}", "watch" + id, "watch", event, true, t.namespaced);
    if (t.namespaced)
      list_path(base + "/watch/" + t.plural, "watch" + GvCamel() + t.kind + "ListForAllNamespaces",
                "watchlist", event, false, false);
  }

  Json Build() {
    paths[Prefix() + "/"] = {
        {"get", Operation("get" + GvCamel() + "APIResources", "get", nullptr, Json::array(),
                          Responses(MetaRef("APIResourceList"), {"200"}))}};
    paths[Prefix() + "/"]["get"].erase("x-kubernetes-action");
    for (const ResourceType& t : BuiltinTypes())
      if (t.group == gv.group && t.version == gv.version) AddType(t);
    return {{"openapi", "3.0.0"},
            {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0"}}},
            {"paths", paths},
            {"components", {{"schemas", schemas.Build()}}}};
  }
};

std::string HexSha512(const std::string& data) {
  unsigned char digest[SHA512_DIGEST_LENGTH];
  SHA512(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::string GvPath(const GroupVersion& gv) {
  return gv.group.empty() ? "api/" + gv.version : "apis/" + gv.group + "/" + gv.version;
}

struct Document {
  std::string json, hash;
};

// The documents made so far, by path, and the root once made.
struct Cache {
  std::mutex mu;
  std::map<std::string, Document> docs;
  std::string root;
};

Cache& TheCache() {
  static Cache* c = new Cache();
  return *c;
}

// The document at `path` (the cache's lock held), made on first use.
const Document* DocumentLocked(Cache& c, const std::string& path) {
  auto it = c.docs.find(path);
  if (it != c.docs.end()) return &it->second;
  for (const GroupVersion& gv : AllGroupVersions()) {
    if (GvPath(gv) != path) continue;
    OpenApiBuilder b;
    b.gv = gv;
    Document d;
    d.json = b.Build().dump();
    d.hash = HexSha512(d.json);
    return &c.docs.emplace(path, std::move(d)).first->second;
  }
  return nullptr;
}

}  // namespace

std::string OpenApiV3Root() {
  Cache& c = TheCache();
  std::lock_guard<std::mutex> lock(c.mu);
  if (c.root.empty()) {
    Json paths = Json::object();
    for (const GroupVersion& gv : AllGroupVersions()) {
      std::string path = GvPath(gv);
      const Document* d = DocumentLocked(c, path);
      if (d) paths[path] = {{"serverRelativeURL", "/openapi/v3/" + path + "?hash=" + d->hash}};
    }
    c.root = Json{{"paths", paths}}.dump();
  }
  return c.root;
}

bool OpenApiV3Document(const std::string& gv_path, std::string* json, std::string* hash) {
  Cache& c = TheCache();
  std::lock_guard<std::mutex> lock(c.mu);
  const Document* d = DocumentLocked(c, gv_path);
  if (!d) return false;
  if (json) *json = d->json;
  if (hash) *hash = d->hash;
  return true;
}

}  // namespace kubit::api
