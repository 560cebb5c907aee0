#include "core/api/schema.h"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <unordered_map>

namespace kubit::api::schema {
namespace {

// The rows of the generated table (core/api/builtin_schema.inc).
struct MessageRow {
  const char* name;
  uint16_t first_field;
  uint16_t field_count;
  uint8_t flags = 0;  // kListWrapper | kIsKind
};

struct FieldRow {
  const char* name;
  uint16_t number;
  Kind kind;
  uint8_t flags;
  int16_t message = -1;  // index into kMessageRows
  Kind map_key = Kind::kString;
  Kind map_value = Kind::kString;
};

// Patch and list facts of the fields that have them.
struct FieldExtRow {
  uint16_t field;  // index into kFieldRows
  uint16_t flags;
  const char* merge_key = "";
  const char* list_map_keys = "";  // comma-separated
};

constexpr uint8_t kListWrapper = 1, kIsKind = 2, kAtomicStruct = 4, kGranularStruct = 8;
// Field flags.
constexpr uint8_t REP = 1, OE = 2, PTR = 4, IN = 8, REQ = 16;
// Field patch and list flags.
constexpr uint16_t PS_MERGE = 1, PS_RETAIN = 2, PS_REPLACE = 4, LT_ATOMIC = 8, LT_SET = 16,
                   LT_MAP = 32, MT_ATOMIC = 64, MT_GRANULAR = 128;
// Kinds, short for the table.
constexpr Kind S = Kind::kString, B = Kind::kBool, I32 = Kind::kInt32, I64 = Kind::kInt64,
               U32 = Kind::kUint32, U64 = Kind::kUint64, F = Kind::kFloat, D = Kind::kDouble,
               Y = Kind::kBytes, M = Kind::kMessage, MAP = Kind::kMap;

#include "core/api/builtin_schema.inc"

constexpr size_t kMessageCount = sizeof(kMessageRows) / sizeof(kMessageRows[0]);
constexpr size_t kFieldCount = sizeof(kFieldRows) / sizeof(kFieldRows[0]);
constexpr size_t kFieldExtCount = sizeof(kFieldExtRows) / sizeof(kFieldExtRows[0]);

// Messages the API's JSON shows as something other than an object of fields.
struct SpecialShape {
  std::string_view name;
  Shape shape;
};
constexpr SpecialShape kSpecialShapes[] = {
    {"k8s.io.apimachinery.pkg.apis.meta.v1.Time", Shape::kTime},
    {"k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime", Shape::kMicroTime},
    {"k8s.io.apimachinery.pkg.apis.meta.v1.Duration", Shape::kDuration},
    {"k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1", Shape::kFieldsV1},
    {"k8s.io.apimachinery.pkg.api.resource.Quantity", Shape::kQuantity},
    {"k8s.io.apimachinery.pkg.api.resource.QuantityValue", Shape::kQuantity},
    {"k8s.io.apimachinery.pkg.util.intstr.IntOrString", Shape::kIntOrString},
    {"k8s.io.apimachinery.pkg.runtime.RawExtension", Shape::kRawExtension},
};

constexpr std::string_view kMetaPackage = "k8s.io.apimachinery.pkg.apis.meta.v1";

// Kinds every group version serves, whose messages live in meta.v1.
constexpr std::string_view kMetaKinds[] = {
    "Status",
    "DeleteOptions",
    "ListOptions",
    "GetOptions",
    "CreateOptions",
    "UpdateOptions",
    "PatchOptions",
    "WatchEvent",
    "PartialObjectMetadata",
    "PartialObjectMetadataList",
};

struct Registry {
  std::vector<Message> messages;
  std::unordered_map<std::string_view, const Message*> by_name;
  size_t fields = 0;

  Registry() {
    messages.resize(kMessageCount);
    for (size_t i = 0; i < kMessageCount; i++) {
      const MessageRow& r = kMessageRows[i];
      Message& m = messages[i];
      m.full_name = r.name;
      m.shape = (r.flags & kListWrapper) ? Shape::kStringList : Shape::kObject;
      m.is_kind = (r.flags & kIsKind) != 0;
      if (r.flags & kAtomicStruct) m.struct_type = MapType::kAtomic;
      if (r.flags & kGranularStruct) m.struct_type = MapType::kGranular;
      for (const SpecialShape& s : kSpecialShapes)
        if (s.name == m.full_name) m.shape = s.shape;
      m.fields.reserve(r.field_count);
      for (size_t j = r.first_field; j < size_t(r.first_field) + r.field_count; j++) {
        const FieldRow& fr = kFieldRows[j];
        Field f;
        f.name = fr.name;
        f.number = fr.number;
        f.kind = fr.kind;
        f.repeated = fr.flags & REP;
        f.omit_empty = fr.flags & OE;
        f.pointer = fr.flags & PTR;
        f.inlined = fr.flags & IN;
        f.message = fr.message >= 0 ? &messages[fr.message] : nullptr;
        f.map_key = fr.map_key;
        f.map_value = fr.map_value;
        f.required = fr.flags & REQ;
        m.fields.push_back(f);
      }
      fields += m.fields.size();
      by_name.emplace(m.full_name, &m);
    }
    // The rows are in field order, as are the messages' fields.
    size_t x = 0;
    for (size_t i = 0; i < kMessageCount && x < kFieldExtCount; i++) {
      const MessageRow& r = kMessageRows[i];
      while (x < kFieldExtCount && kFieldExtRows[x].field < size_t(r.first_field) + r.field_count) {
        const FieldExtRow& e = kFieldExtRows[x++];
        Field& f = messages[i].fields[e.field - r.first_field];
        f.patch_merge = e.flags & PS_MERGE;
        f.patch_retain_keys = e.flags & PS_RETAIN;
        f.patch_replace = e.flags & PS_REPLACE;
        f.patch_merge_key = e.merge_key;
        if (e.flags & LT_ATOMIC) f.list_type = ListType::kAtomic;
        if (e.flags & LT_SET) f.list_type = ListType::kSet;
        if (e.flags & LT_MAP) f.list_type = ListType::kMap;
        if (e.flags & MT_ATOMIC) f.map_type = MapType::kAtomic;
        if (e.flags & MT_GRANULAR) f.map_type = MapType::kGranular;
        std::string_view keys = e.list_map_keys;
        while (!keys.empty()) {
          size_t comma = keys.find(',');
          f.list_map_keys.push_back(keys.substr(0, comma));
          keys = comma == std::string_view::npos ? std::string_view() : keys.substr(comma + 1);
        }
      }
    }
  }
};

const Registry& R() {
  static const Registry* r = new Registry();
  return *r;
}

void Walk(const Message& m, const nlohmann::json& obj, const std::string& prefix, bool top,
          std::vector<std::string>* paths);

// Walks into a field's value when its JSON is an object of fields.
void WalkValue(const Field& f, const nlohmann::json& v, const std::string& path,
               std::vector<std::string>* paths) {
  if (!f.message || f.message->shape != Shape::kObject) return;
  if (f.is_map()) {
    if (!v.is_object()) return;
    for (auto it = v.begin(); it != v.end(); ++it)
      if (it.value().is_object()) Walk(*f.message, it.value(), path + "." + it.key(), false, paths);
  } else if (f.repeated) {
    if (!v.is_array()) return;
    for (size_t i = 0; i < v.size(); i++)
      if (v[i].is_object())
        Walk(*f.message, v[i], path + "[" + std::to_string(i) + "]", false, paths);
  } else if (v.is_object()) {
    Walk(*f.message, v, path, false, paths);
  }
}

void Prune(const Message& m, nlohmann::json* obj, bool top);

void PruneValue(const Field& f, nlohmann::json* v) {
  if (!f.message || f.message->shape != Shape::kObject) return;
  if (f.is_map()) {
    if (!v->is_object()) return;
    for (auto it = v->begin(); it != v->end(); ++it)
      if (it.value().is_object()) Prune(*f.message, &it.value(), false);
  } else if (f.repeated) {
    if (!v->is_array()) return;
    for (auto& e : *v)
      if (e.is_object()) Prune(*f.message, &e, false);
  } else if (v->is_object()) {
    Prune(*f.message, v, false);
  }
}

void Prune(const Message& m, nlohmann::json* obj, bool top) {
  for (auto it = obj->begin(); it != obj->end();) {
    const std::string& key = it.key();
    if ((top || m.is_kind) && (key == "apiVersion" || key == "kind")) {
      ++it;
      continue;
    }
    const Field* f = m.FieldByName(key);
    if (!f) {
      it = obj->erase(it);
      continue;
    }
    PruneValue(*f, &it.value());
    ++it;
  }
}

void Walk(const Message& m, const nlohmann::json& obj, const std::string& prefix, bool top,
          std::vector<std::string>* paths) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string& key = it.key();
    if ((top || m.is_kind) && (key == "apiVersion" || key == "kind")) continue;
    std::string path = prefix.empty() ? key : prefix + "." + key;
    const Field* f = m.FieldByName(key);
    if (!f) {
      paths->push_back(std::move(path));
      continue;
    }
    WalkValue(*f, it.value(), path, paths);
  }
}

// Go's names: "string", "int32", "v1.ExecAction", "[]string", "map[string]string".
std::string GoScalar(Kind k) {
  switch (k) {
    case Kind::kString: return "string";
    case Kind::kBool: return "bool";
    case Kind::kInt32: return "int32";
    case Kind::kInt64: return "int64";
    case Kind::kUint32: return "uint32";
    case Kind::kUint64: return "uint64";
    case Kind::kFloat: return "float32";
    case Kind::kDouble: return "float64";
    case Kind::kBytes: return "[]uint8";
    default: return "";
  }
}

std::string GoMessage(const Message& m) {
  std::string_view full = m.full_name;
  size_t last = full.rfind('.');
  size_t pkg = last == std::string_view::npos ? std::string_view::npos : full.rfind('.', last - 1);
  return std::string(pkg == std::string_view::npos ? full : full.substr(pkg + 1));
}

std::string GoElement(const Field& f, Kind k) {
  return k == Kind::kMessage && f.message ? GoMessage(*f.message) : GoScalar(k);
}

std::string GoType(const Field& f) {
  if (f.is_map()) return "map[" + GoScalar(f.map_key) + "]" + GoElement(f, f.map_value);
  return (f.repeated ? "[]" : "") + GoElement(f, f.kind);
}

// How Go's decoder names a JSON value in its errors.
std::string JsonKind(const nlohmann::json& v) {
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "bool";
  if (v.is_number()) return "number";
  if (v.is_array()) return "array";
  return "object";
}

// Empty when `v` (not null) fits a single value of scalar kind `k`;
// otherwise how the error names it.
std::string ScalarMismatch(Kind k, const nlohmann::json& v) {
  switch (k) {
    case Kind::kString:
    case Kind::kBytes:
      return v.is_string() ? "" : JsonKind(v);
    case Kind::kBool:
      return v.is_boolean() ? "" : JsonKind(v);
    case Kind::kInt32:
    case Kind::kInt64:
    case Kind::kUint32:
    case Kind::kUint64: {
      if (!v.is_number()) return JsonKind(v);
      bool fits = v.is_number_integer();
      if (fits && (k == Kind::kUint32 || k == Kind::kUint64)) fits = v.is_number_unsigned();
      if (fits && k == Kind::kInt32) fits = v.get<int64_t>() >= INT32_MIN && v.get<int64_t>() <= INT32_MAX;
      if (fits && k == Kind::kUint32) fits = v.get<uint64_t>() <= UINT32_MAX;
      return fits ? "" : "number " + v.dump();
    }
    case Kind::kFloat:
    case Kind::kDouble:
      return v.is_number() ? "" : JsonKind(v);
    default:
      return "";
  }
}

std::string TypeWalk(const Message& m, const nlohmann::json& obj, const std::string& prefix, bool top);

// The error for one value of field `f` of message `m` at `path`.
std::string ValueTypeError(const Message& m, const Field& f, Kind k, const nlohmann::json& v,
                           const std::string& path, const std::string& go_type) {
  if (v.is_null()) return "";
  auto error = [&](const std::string& got) {
    return "json: cannot unmarshal " + got + " into Go struct field " + std::string(m.name()) + "." + path +
           " of type " + go_type;
  };
  if (k != Kind::kMessage) {
    std::string got = ScalarMismatch(k, v);
    return got.empty() ? "" : error(got);
  }
  if (!f.message || f.message->shape != Shape::kObject) return "";
  if (!v.is_object()) return error(JsonKind(v));
  return TypeWalk(*f.message, v, path, false);
}

std::string FieldTypeError(const Message& m, const Field& f, const nlohmann::json& v, const std::string& path) {
  if (v.is_null()) return "";
  if (f.is_map()) {
    if (!v.is_object()) return "json: cannot unmarshal " + JsonKind(v) + " into Go struct field " +
                               std::string(m.name()) + "." + path + " of type " + GoType(f);
    for (auto it = v.begin(); it != v.end(); ++it) {
      // Go's path names struct fields only, not map keys or list indexes.
      std::string e = ValueTypeError(m, f, f.map_value, it.value(), path, GoElement(f, f.map_value));
      if (!e.empty()) return e;
    }
    return "";
  }
  if (f.repeated && f.kind != Kind::kBytes) {
    // A list wrapper message (kStringList) is a list in the JSON too.
    if (!v.is_array()) return "json: cannot unmarshal " + JsonKind(v) + " into Go struct field " +
                              std::string(m.name()) + "." + path + " of type " + GoType(f);
    for (const auto& e : v) {
      std::string err = ValueTypeError(m, f, f.kind, e, path, GoElement(f, f.kind));
      if (!err.empty()) return err;
    }
    return "";
  }
  return ValueTypeError(m, f, f.kind, v, path, GoElement(f, f.kind));
}

std::string TypeWalk(const Message& m, const nlohmann::json& obj, const std::string& prefix, bool top) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string& key = it.key();
    if ((top || m.is_kind) && (key == "apiVersion" || key == "kind")) continue;
    const Field* f = m.FieldByName(key);
    if (!f) continue;  // unknown: UnknownFields' part
    std::string e = FieldTypeError(m, *f, it.value(), prefix.empty() ? key : prefix + "." + key);
    if (!e.empty()) return e;
  }
  return "";
}

}  // namespace

std::string Field::patch_strategy() const {
  std::string s;
  if (patch_merge) s = "merge";
  if (patch_retain_keys) s += s.empty() ? "retainKeys" : ",retainKeys";
  if (patch_replace) s += s.empty() ? "replace" : ",replace";
  return s;
}

std::string_view Message::name() const {
  size_t dot = full_name.rfind('.');
  return dot == std::string_view::npos ? full_name : full_name.substr(dot + 1);
}

const Field* Message::FieldByNumber(int number) const {
  for (const Field& f : fields)
    if (f.number == number) return &f;
  return nullptr;
}

const Field* Message::FieldByName(std::string_view json_name) const {
  for (const Field& f : fields)
    if (!f.inlined && f.name == json_name) return &f;
  for (const Field& f : fields)
    if (f.inlined && f.message)
      if (const Field* in = f.message->FieldByName(json_name)) return in;
  return nullptr;
}

const Message* FindMessage(std::string_view full_name) {
  const Registry& r = R();
  auto it = r.by_name.find(full_name);
  return it == r.by_name.end() ? nullptr : it->second;
}

std::string ProtoPackage(std::string_view api_version) {
  std::string_view group, version = api_version;
  size_t slash = api_version.find('/');
  if (slash != std::string_view::npos) {
    group = api_version.substr(0, slash);
    version = api_version.substr(slash + 1);
  }
  if (version.empty() || version.find('/') != std::string_view::npos) return "";
  if (group.empty() || group == "core") return "k8s.io.api.core." + std::string(version);
  if (group == "meta.k8s.io") return "k8s.io.apimachinery.pkg.apis.meta." + std::string(version);
  // "apps", "policy", "networking.k8s.io", "rbac.authorization.k8s.io": the
  // package is named after the group's first label. Other groups with dots
  // (every custom resource's, "apps.example.com") are not built in.
  constexpr std::string_view kK8sIo = ".k8s.io";
  if (group.find('.') != std::string_view::npos &&
      (group.size() <= kK8sIo.size() || group.substr(group.size() - kK8sIo.size()) != kK8sIo))
    return "";
  std::string_view first = group.substr(0, group.find('.'));
  if (first.empty()) return "";
  return "k8s.io.api." + std::string(first) + "." + std::string(version);
}

const Message* MessageForKind(std::string_view api_version, std::string_view kind) {
  if (kind.empty() || kind.find('.') != std::string_view::npos) return nullptr;
  std::string pkg = ProtoPackage(api_version);
  if (pkg.empty()) return nullptr;
  if (const Message* m = FindMessage(pkg + "." + std::string(kind))) return m;
  for (std::string_view k : kMetaKinds)
    if (k == kind) return FindMessage(std::string(kMetaPackage) + "." + std::string(kind));
  return nullptr;
}

size_t MessageCount() { return R().messages.size(); }
size_t FieldCount() { return R().fields; }

void UnknownFields(const Message& m, const nlohmann::json& obj, std::vector<std::string>* paths) {
  if (!obj.is_object()) return;
  Walk(m, obj, "", true, paths);
}

std::string TypeError(const Message& m, const nlohmann::json& obj) {
  return obj.is_object() ? TypeWalk(m, obj, "", true) : "";
}

void PruneUnknownFields(const Message& m, nlohmann::json* obj) {
  if (!obj || !obj->is_object()) return;
  Prune(m, obj, true);
}

}  // namespace kubit::api::schema
