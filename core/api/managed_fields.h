// Server-side apply and metadata.managedFields, as upstream's
// structured-merge-diff (sigs.k8s.io/structured-merge-diff/v4) and field
// manager (k8s.io/apimachinery/pkg/util/managedfields) do them:
//
//   - field sets, serialized as FieldsV1:
//       {"f:metadata":{"f:labels":{"f:app":{}}},
//        "f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{}}}}}
//     "f:<name>" a field, "k:{...}" an item of a map-list by its key fields,
//     "v:<json>" an item of a set, "." the item itself; atomic lists and
//     atomic maps are leaves;
//   - apply (PATCH with application/apply-patch+yaml): the applied
//     configuration merged into the live object by the list and map types
//     (map-lists by key, sets unioned, atomic values replaced), fields the
//     manager applied before and no longer applies removed unless someone
//     else owns them, conflicts with other managers (unless forced, which
//     takes the fields over), the kubectl client-side-apply upgrade path;
//   - every other write (create, update, patch): the fields that changed
//     become the writer's ("Update" entries), merged per manager, operation,
//     apiVersion and subresource, at most 10 Update entries (older ones are
//     merged into "ancient-changes").
//
// Types come from the built-in schema table (core/api/schema.h: +listType,
// +listMapKey, +mapType / +structType, falling back to the patch strategy
// and merge key) and from a custom resource's openAPIV3Schema
// (x-kubernetes-list-type, x-kubernetes-list-map-keys, x-kubernetes-map-type,
// x-kubernetes-preserve-unknown-fields); metadata is always ObjectMeta.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/api/resources.h"

namespace kubit::api {

namespace schema {
struct Message;
struct Field;
}  // namespace schema

// ---------------------------------------------------------------------------
// Types, as server-side apply sees them.

class SmdType {
 public:
  enum class Kind : uint8_t {
    kDeduced,  // no schema: scalars, atomic lists, granular maps of deduced values
    kScalar,
    kStruct,   // an object with declared fields
    kMap,      // an object of arbitrary keys, each a value of one type
    kList,
  };
  enum class ListKind : uint8_t { kAtomic, kSet, kMap };

  SmdType() = default;
  // The type of an object of `t`: its message in the built-in schema, or
  // for custom resources its openAPIV3Schema with metadata as ObjectMeta.
  // `t` (its schema) must outlive the type and everything walked with it.
  static SmdType ForResource(const ResourceType& t);
  static SmdType ForMessage(const schema::Message* m);
  // A custom resource's openAPIV3Schema (nullptr: none).
  static SmdType ForCustomResource(const nlohmann::json* openapi_v3_schema);
  static SmdType Deduced() { return SmdType(); }

  Kind kind() const { return kind_; }
  bool atomic() const { return atomic_; }
  ListKind list_kind() const { return list_kind_; }

  // Internal to the implementation: descending into values.
  SmdType FieldType(const std::string& name, bool* declared) const;
  SmdType ElementType() const;
  std::vector<std::string> ListKeys() const;
  // The default of a map-list key field an item leaves out (null: none).
  nlohmann::json KeyDefault(const std::string& key) const;
  bool nullable() const { return nullable_; }
  // A built-in struct: fields it does not declare are errors in applied
  // configurations.
  bool closed() const { return kind_ == Kind::kStruct && message_ != nullptr; }

 private:
  static SmdType FromField(const schema::Field& f);
  static SmdType FromOpenAPI(const nlohmann::json* node);

  Kind kind_ = Kind::kDeduced;
  bool atomic_ = false;
  bool nullable_ = false;
  bool cr_root_ = false;        // a custom resource: metadata is ObjectMeta
  bool extra_deduced_ = false;  // a struct that keeps unknown fields
  ListKind list_kind_ = ListKind::kAtomic;
  const schema::Message* message_ = nullptr;  // kStruct from the built-in schema
  const schema::Field* field_ = nullptr;      // kList/kMap from the built-in schema
  const nlohmann::json* node_ = nullptr;      // an OpenAPI schema node
};

// ---------------------------------------------------------------------------
// Field paths and sets.

struct PathElement {
  enum class Kind : uint8_t { kField, kKey, kValue, kIndex };
  Kind kind = Kind::kField;
  std::string field;                                   // kField
  std::vector<std::pair<std::string, nlohmann::json>> key;  // kKey, sorted by name
  nlohmann::json value;                                // kValue
  int64_t index = 0;                                   // kIndex

  static PathElement Field(std::string name);
  static PathElement Value(nlohmann::json v);
  static PathElement Key(std::vector<std::pair<std::string, nlohmann::json>> fields);
  static PathElement Index(int64_t i);

  // Upstream's order: fields, then keys, then values, then indexes.
  int Compare(const PathElement& o) const;
  bool operator==(const PathElement& o) const { return Compare(o) == 0; }
  bool operator<(const PathElement& o) const { return Compare(o) < 0; }
  // As error messages and conflicts show it: ".name", "[name=\"web\"]",
  // "[=\"a\"]", "[0]".
  std::string ToString() const;
  // As FieldsV1 keys: "f:name", "k:{\"name\":\"web\"}", "v:\"a\"", "i:0".
  std::string Serialize() const;
  // False with *error on a malformed key; *unknown set (and true returned)
  // for a key of an unknown kind, which upstream skips.
  static bool Deserialize(const std::string& s, PathElement* out, bool* unknown, std::string* error);
};

using FieldPath = std::vector<PathElement>;
// ".spec.containers[name=\"web\"].image"
std::string PathString(const FieldPath& p);

class FieldSet {
 public:
  FieldSet() = default;
  // The fields `obj` (an object of `t`, or an applied configuration) sets.
  FieldSet(const ResourceType& t, const nlohmann::json& obj);
  FieldSet(const SmdType& type, const nlohmann::json& value);

  // FieldsV1 (the JSON of metadata.managedFields[].fieldsV1).
  static bool FromFieldsV1(const nlohmann::json& fields, FieldSet* out, std::string* error);
  nlohmann::json ToFieldsV1() const;

  bool Empty() const { return entries_.empty(); }
  bool Has(const FieldPath& p) const;
  void Insert(const FieldPath& p);
  // The paths, in upstream's order (at each level the members, then the
  // children).
  std::vector<FieldPath> Paths() const;
  size_t Size() const;

  FieldSet Union(const FieldSet& o) const;
  FieldSet Intersection(const FieldSet& o) const;
  FieldSet Difference(const FieldSet& o) const;
  // Also drops everything below a member of `o`.
  FieldSet RecursiveDifference(const FieldSet& o) const;
  // The children of the element `pe`.
  FieldSet WithPrefix(const PathElement& pe) const;
  // Every declared field of a struct that has children becomes a member too
  // (prune's view, so that emptied structs go with their fields).
  FieldSet EnsureNamedFieldsAreMembers(const SmdType& type) const;

  bool operator==(const FieldSet& o) const;

  struct Entry {
    PathElement pe;
    bool member = false;
    std::vector<Entry> children;  // sorted by pe
  };
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  friend struct FieldSetBuilder;
  std::vector<Entry> entries_;  // sorted by pe; each a member or with children
};

// ---------------------------------------------------------------------------
// Apply and update.

struct ManagedFieldsOptions {
  // The time recorded in changed entries (RFC 3339, seconds); empty: now.
  std::string now;
  // Upstream's reset fields: top-level paths whose changes no manager owns.
  // Unset (the default): "status" for writes of the main resource of types
  // with a status subresource, "spec" for writes of the status subresource.
  bool custom_reset_fields = false;
  std::vector<FieldPath> reset_fields;
  // The subresource the apply is for ("" for the resource itself, "status").
  std::string subresource;
};

struct ApplyError {
  int code = 0;        // 409 conflicts, 400 bad request, 500 other failures
  std::string reason;  // "Conflict", "BadRequest", "" (upstream's Unknown)
  std::string message;
  // For conflicts, upstream's Status details.causes:
  // [{"reason":"FieldManagerConflict","message":"conflict with \"x\" using
  //   apps/v1","field":".spec.replicas"}, ...]
  nlohmann::json causes = nlohmann::json::array();
};

// Applies `applied` (the request's object, parsed) for `manager` to `live`
// (null when the object does not exist yet: the result is the new object).
// On success *result is the merged object with metadata.managedFields
// updated (not yet defaulted or validated; the strategy still has to reset
// what the subresource may not change, e.g. status in an apply of the main
// resource, whose changes no one owns). For the manager "kubectl" an
// existing kubectl.kubernetes.io/last-applied-configuration annotation is
// rewritten from the applied object, and conflicts on fields that kubectl's
// client-side apply last set are taken over, as upstream does to upgrade
// from client-side apply. An apply that changes nothing returns the live
// object (entry times unchanged). On failure false with *error:
// conflicts ("Apply failed with 1 conflict: conflict with
// \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"), an
// applied object of another kind or with managedFields (400), or one that
// does not fit the schema (500, as upstream: "failed to create typed patch
// object (ns/name; apps/v1, Kind=Deployment): .spec.foo: field not declared
// in schema").
bool ServerSideApply(const ResourceType& t, const nlohmann::json& live, const nlohmann::json& applied,
                     const std::string& manager, bool force, nlohmann::json* result,
                     ApplyError* error, const ManagedFieldsOptions& options = {});
// The same, any failure's message in *conflict_message.
bool ServerSideApply(const ResourceType& t, const nlohmann::json& live, const nlohmann::json& applied,
                     const std::string& manager, bool force, nlohmann::json* result,
                     std::string* conflict_message);

// Records an ordinary write (create: old == nullptr; update; patch) of `obj`
// by `manager` in obj's metadata.managedFields: the fields that changed
// from `old` become the manager's "Update" entry for the subresource ("" or
// "status", "scale", ...), and no one else's. Call it with the object as it
// will be stored after decoding and defaulting (server-set metadata such as
// resourceVersion, uid and generation is never tracked). The request's own
// managedFields are honoured as upstream: [] (or [{}]) resets them, a valid
// list replaces them, anything else keeps the old object's. An object that
// exists without managedFields stays untracked; a write that changes
// nothing leaves the entries as they were. An object that cannot be
// tracked (a map-list item without its key, values too deep) is stored
// without managedFields, as upstream v1.32 does.
void TrackUpdate(const ResourceType& t, const nlohmann::json* old, nlohmann::json* obj,
                 const std::string& manager, const std::string& subresource);
void TrackUpdate(const ResourceType& t, const nlohmann::json* old, nlohmann::json* obj,
                 const std::string& manager, const std::string& subresource,
                 const ManagedFieldsOptions& options);

// The manager of a write: the fieldManager query parameter when given,
// otherwise the User-Agent's program name (what precedes the first '/',
// without unprintable characters, at most 128 bytes): "kubectl/v1.32.0
// (linux/amd64) kubernetes/abc" -> "kubectl".
std::string FieldManagerFromUserAgent(const std::string& user_agent);
std::string RequestFieldManager(const std::string& field_manager_param, const std::string& user_agent);

// Go's encoding/json text of a value (keys sorted, <>& and U+2028/2029
// escaped), as upstream writes FieldsV1 keys and the last-applied
// annotation.
std::string GoJson(const nlohmann::json& v);

}  // namespace kubit::api
