#include "core/client/discovery.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace kubit::client {

bool ApiResource::Supports(const std::string& verb) const {
  return std::find(verbs.begin(), verbs.end(), verb) != verbs.end();
}

namespace {

// The resources of one group version ("/api/v1" or "/apis/g/v").
Status ReadResources(Client& c, const std::string& group, const std::string& version,
                     std::vector<ApiResource>* out) {
  std::string path = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  Json list;
  Status s = c.Raw("GET", path, "", "", &list);
  if (!s.ok()) return s;
  if (!list.is_object() || !list.contains("resources") || !list["resources"].is_array())
    return Status::Transport("GET " + path + ": not an APIResourceList");
  for (const Json& r : list["resources"]) {
    if (!r.is_object()) continue;
    std::string name = r.value("name", "");
    if (name.empty() || name.find('/') != std::string::npos) continue;  // subresources
    ApiResource a;
    a.resource = {group, version, name};
    a.kind = r.value("kind", "");
    a.namespaced = r.value("namespaced", false);
    if (r.contains("verbs") && r["verbs"].is_array())
      for (const Json& v : r["verbs"])
        if (v.is_string()) a.verbs.push_back(v.get<std::string>());
    out->push_back(std::move(a));
  }
  return Status();
}

}  // namespace

Status ServerPreferredResources(Client& c, std::vector<ApiResource>* out,
                                std::map<std::string, std::string>* failed) {
  out->clear();
  failed->clear();
  Json core, groups;
  Status s = c.Raw("GET", "/api", "", "", &core);
  if (!s.ok()) return s;
  s = c.Raw("GET", "/apis", "", "", &groups);
  if (!s.ok()) return s;
  std::vector<std::pair<std::string, std::string>> wanted;  // group, version
  if (core.is_object() && core.contains("versions") && core["versions"].is_array() && !core["versions"].empty() &&
      core["versions"][0].is_string())
    wanted.emplace_back("", core["versions"][0].get<std::string>());
  if (groups.is_object() && groups.contains("groups") && groups["groups"].is_array())
    for (const Json& g : groups["groups"]) {
      if (!g.is_object()) continue;
      std::string name = g.value("name", "");
      Json preferred = g.value("preferredVersion", Json::object());
      std::string version = preferred.is_object() ? preferred.value("version", "") : "";
      if (!name.empty() && !version.empty()) wanted.emplace_back(name, version);
    }
  for (const auto& [group, version] : wanted) {
    s = ReadResources(c, group, version, out);
    if (!s.ok()) (*failed)[group.empty() ? version : group + "/" + version] = s.ToString();
  }
  return Status();
}

}  // namespace kubit::client
