// Addons: how the auto-deploy directory's files are tracked in the cluster,
// as k3s tracks them: one Addon (k3s.cattle.io/v1, namespace kube-system)
// per file, named after it, with spec.source (the file) and spec.checksum
// (sha256 of what was last applied in full), so `kubectl get addons -A`
// and scripts written for k3s see the same. kubit also keeps the objects
// the file made in status.objects, to delete those the file drops.
#pragma once

#include <string>
#include <vector>

#include "core/client/client.h"

namespace kubit::manifests {

inline constexpr const char* kAddonNamespace = "kube-system";
extern const client::Resource kAddons;

// One object a manifest made: enough to delete it again.
struct ObjectRef {
  std::string api_version, kind, ns, name;
  bool operator==(const ObjectRef&) const = default;
  bool operator<(const ObjectRef& o) const;
};

struct Addon {
  std::string name;
  std::string source;    // the file's path
  std::string checksum;  // empty until a version of the file applied in full
  std::vector<ObjectRef> objects;
};

// The Addon CustomResourceDefinition, created if absent; true once the
// server serves addons (established).
bool EnsureAddonDefinition(client::Client* client, std::string* error);

// The Addon's name for a file name: its base name without the extension,
// lower-cased, other characters than [a-z0-9.-] as '-' (a DNS-1123
// subdomain, as object names must be).
std::string AddonName(const std::string& file_name);

client::Json AddonObject(const Addon& addon);
Addon AddonFrom(const client::Json& obj);

}  // namespace kubit::manifests
