// The built-in resource types: their group, version, kind, names and scope,
// as discovery serves them and as REST paths and storage keys use them.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace kubit::api {

// A column of a custom resource's table (a CRD's additionalPrinterColumns).
struct PrinterColumn {
  std::string name, type, format, description, json_path;
  int priority = 0;
};

struct ResourceType {
  std::string group;    // "" for the core group
  std::string version;  // "v1"
  std::string kind;     // "ConfigMap"
  std::string plural;   // "configmaps"
  std::string singular; // "configmap"
  std::vector<std::string> short_names;
  bool namespaced = true;
  bool has_status = false;  // a status subresource
  bool has_scale = false;   // a scale subresource
  std::vector<std::string> verbs;
  std::vector<std::string> categories;  // "all" for `kubectl get all`
  // PUT of a missing object creates it (upstream's AllowCreateOnUpdate).
  bool create_on_update = false;
  // Reviews (access, token, self): only POSTed, answered, never stored.
  bool create_only = false;
  // The group whose storage holds the objects when several versions or
  // groups serve one resource (events.k8s.io events live with core events).
  std::string storage_group;

  // Custom resources (from a CustomResourceDefinition).
  bool custom = false;
  std::string crd_name;                           // "<plural>.<group>"
  std::string storage_version;  // the CRD's version with storage: true
  std::shared_ptr<const nlohmann::json> schema;   // this version's openAPIV3Schema
  std::vector<PrinterColumn> printer_columns;
  std::string spec_replicas_path, status_replicas_path, label_selector_path;  // scale

  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
  std::string list_kind() const { return kind + "List"; }
  // "/registry/<group>/<plural>/" (core is spelled "core").
  std::string storage_prefix() const;
  // Key of one object; `ns` is empty for cluster-scoped types.
  std::string storage_key(const std::string& ns, const std::string& name) const;
};

// Every built-in type, grouped by API group in discovery order.
const std::vector<ResourceType>& BuiltinTypes();
// The type served at group/version/plural (built-in or custom), or null.
const ResourceType* FindType(const std::string& group, const std::string& version,
                             const std::string& plural);

// Custom types, served from CustomResourceDefinitions: the API server
// replaces the whole set whenever a CRD changes. Pointers handed out stay
// valid for the life of the process; a retired type is no longer found.
void SetCustomTypes(const std::vector<ResourceType>& types);
// Every type served now: built-in, then custom.
std::vector<const ResourceType*> ServedTypes();
// The groups in discovery order, each with its versions (preferred first).
struct GroupVersions {
  std::string group;
  std::vector<std::string> versions;
};
std::vector<GroupVersions> BuiltinGroups();
// Built-in and custom groups.
std::vector<GroupVersions> ServedGroups();

}  // namespace kubit::api
