#include "manifests/kinds.h"

#include <nlohmann/json.hpp>

namespace kubit::manifests {

KindResolver::Result KindResolver::Resolve(const std::string& api_version, const std::string& kind,
                                           ResolvedKind* out, std::string* error) {
  std::lock_guard<std::mutex> lock(mu_);
  auto gv = cache_.find(api_version);
  if (gv != cache_.end()) {
    auto k = gv->second.find(kind);
    if (k != gv->second.end()) {
      *out = k->second;
      return kResolved;
    }
  }
  // Not known, or not known when the group version was last read: read it
  // again (a CRD may have been established since).
  size_t slash = api_version.find('/');
  std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
  std::string version = slash == std::string::npos ? api_version : api_version.substr(slash + 1);
  std::string path = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  client::Json list;
  client::Status s = client_->Raw("GET", path, "", "", &list);
  if (s.IsNotFound()) {
    *error = "the server does not serve " + api_version;
    return kUnknown;
  }
  if (!s.ok()) {
    *error = "discovery of " + api_version + ": " + s.message();
    return kError;
  }
  std::map<std::string, ResolvedKind> kinds;
  if (list.contains("resources") && list["resources"].is_array()) {
    for (const auto& r : list["resources"]) {
      std::string name = r.value("name", "");
      if (name.empty() || name.find('/') != std::string::npos) continue;  // subresources
      ResolvedKind rk;
      rk.resource = {group, version, name};
      rk.namespaced = r.value("namespaced", false);
      kinds.emplace(r.value("kind", ""), rk);
    }
  }
  cache_[api_version] = kinds;
  auto k = kinds.find(kind);
  if (k == kinds.end()) {
    *error = "no kind \"" + kind + "\" in " + api_version;
    return kUnknown;
  }
  *out = k->second;
  return kResolved;
}

}  // namespace kubit::manifests
