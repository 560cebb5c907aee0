// The schema of the built-in API types: every message of the Kubernetes
// v1.32 built-in groups with its fields (JSON name, protobuf number, type,
// JSON flags, strategic merge patch strategy and merge key, list and map
// types). It drives protobuf decoding of request bodies, the unknown-field
// check of strict decoding, strategic merge patch and the OpenAPI documents.
// The table itself is generated (core/api/builtin_schema.inc); this is the
// API over it.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace kubit::api::schema {

// The protobuf type of a field (or of a map's key and value).
enum class Kind : uint8_t {
  kString,
  kBool,
  kInt32,
  kInt64,
  kUint32,
  kUint64,
  kFloat,
  kDouble,
  kBytes,
  kMessage,
  kMap,
};

// How the API's JSON shows a message.
enum class Shape : uint8_t {
  kObject,        // a JSON object with the message's fields
  kStringList,    // a list wrapper ({repeated string items = 1}): ["a", "b"]
  kTime,          // meta.v1.Time: "2006-01-02T15:04:05Z"
  kMicroTime,     // meta.v1.MicroTime: "2006-01-02T15:04:05.000000Z"
  kDuration,      // meta.v1.Duration: "1h0m0s"
  kQuantity,      // resource.Quantity: "100m"
  kIntOrString,   // intstr.IntOrString: 8080 or "http"
  kRawExtension,  // runtime.RawExtension: any embedded JSON value
  kFieldsV1,      // meta.v1.FieldsV1: any JSON value
};

// How server-side apply and the OpenAPI's x-kubernetes-list-type treat a
// list (the +listType marker).
enum class ListType : uint8_t {
  kUnset,
  kAtomic,  // replaced as a whole
  kSet,     // scalars, each present once
  kMap,     // objects keyed by list_map_keys
};

// x-kubernetes-map-type of a map or struct (+mapType / +structType).
enum class MapType : uint8_t {
  kUnset,
  kAtomic,
  kGranular,
};

struct Message;

struct Field {
  std::string_view name;  // the JSON name
  int number = 0;         // the protobuf field number
  Kind kind = Kind::kString;
  bool repeated = false;
  bool omit_empty = false;           // the JSON leaves out its zero value (omitempty)
  bool pointer = false;              // optional in Go (a pointer): a zero value is still sent
  bool inlined = false;              // a message whose fields the JSON shows in the parent's object
  const Message* message = nullptr;  // kMessage, or a kMap's value when that is a message
  Kind map_key = Kind::kString;      // kMap only
  Kind map_value = Kind::kString;    // kMap only
  bool required = false;  // neither omitempty nor +optional: the OpenAPI's "required"

  // Strategic merge patch: the patchStrategy struct tag ("merge",
  // "retainKeys", "merge,retainKeys", "replace") and patchMergeKey.
  bool patch_merge = false;
  bool patch_retain_keys = false;
  bool patch_replace = false;
  std::string_view patch_merge_key;  // "name"; empty for lists of scalars
  // +listType, +listMapKey (in order), +mapType or field-level +structType.
  ListType list_type = ListType::kUnset;
  std::vector<std::string_view> list_map_keys;
  MapType map_type = MapType::kUnset;

  bool is_map() const { return kind == Kind::kMap; }
  // The patch strategy as the struct tag and x-kubernetes-patch-strategy
  // spell it: "merge", "retainKeys", "merge,retainKeys", "replace" or "".
  std::string patch_strategy() const;
};

struct Message {
  std::string_view full_name;  // "k8s.io.api.core.v1.Pod"
  Shape shape = Shape::kObject;
  bool is_kind = false;       // a top-level kind: its JSON carries apiVersion and kind
  MapType struct_type = MapType::kUnset;  // +structType on the type
  std::vector<Field> fields;  // by number

  // "Pod".
  std::string_view name() const;
  const Field* FieldByNumber(int number) const;
  // By JSON name, including the fields of inlined messages.
  const Field* FieldByName(std::string_view json_name) const;
};

// nullptr when unknown.
const Message* FindMessage(std::string_view full_name);
// The protobuf package of an API group version: "v1" -> "k8s.io.api.core.v1",
// "rbac.authorization.k8s.io/v1" -> "k8s.io.api.rbac.v1", "meta.k8s.io/v1"
// -> "k8s.io.apimachinery.pkg.apis.meta.v1". Empty if the apiVersion is
// malformed or its group, dotted but not under k8s.io, is a custom one.
std::string ProtoPackage(std::string_view api_version);
// The message of a kind: ("apps/v1", "Deployment") -> k8s.io.api.apps.v1.
// Deployment. The options kinds every group version serves (DeleteOptions,
// ListOptions, ...) and Status resolve to meta.v1. nullptr when unknown.
const Message* MessageForKind(std::string_view api_version, std::string_view kind);

size_t MessageCount();
size_t FieldCount();

// Appends the paths of the fields of `obj` that `m` does not have, as strict
// decoding names them: "spec.foo", "spec.containers[0].bar", and for values
// of maps of messages "spec.map.key.bar". apiVersion and kind are known at
// the top and in every kind. Values whose JSON is not an object of fields
// (Time, Quantity, IntOrString, RawExtension, FieldsV1, ...) are not walked
// into, and values of the wrong JSON type are left to other checks.
void UnknownFields(const Message& m, const nlohmann::json& obj, std::vector<std::string>* paths);

// The first field of `obj` whose JSON value has a type that `m`'s field
// cannot take, as Go's decoder reports it ("json: cannot unmarshal bool
// into Go struct field ExecAction.spec.containers.readinessProbe.exec.command
// of type string"); empty when there is none. null fits every field; the
// values with a shape of their own (Quantity, IntOrString, Time, ...) are
// left to their parsers.
std::string TypeError(const Message& m, const nlohmann::json& obj);
// Removes from `obj` the fields UnknownFields reports, as upstream drops
// the unknown fields of built-in kinds when it decodes them.
void PruneUnknownFields(const Message& m, nlohmann::json* obj);

}  // namespace kubit::api::schema
