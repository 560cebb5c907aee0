#include "runtime/kubelet/node_images.h"

#include <algorithm>
#include <map>

namespace kubit::kubelet {

using Json = nlohmann::json;

namespace {

// "docker.io/library/busybox:1" -> "docker.io/library/busybox".
std::string Repository(const std::string& name) {
  std::string repo = name.substr(0, name.find('@'));
  size_t slash = repo.rfind('/'), colon = repo.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) repo.resize(colon);
  return repo;
}

}  // namespace

Json NodeImages(const std::vector<runtime::image::ImageRecord>& records) {
  struct Entry {
    std::vector<std::string> names;
    int64_t size = 0;
  };
  std::map<std::string, Entry> by_id;  // config digest: one image, many names
  for (const auto& r : records) {
    Entry& e = by_id[r.config_digest.empty() ? r.digest : r.config_digest];
    std::string pinned = Repository(r.name) + "@" + r.digest;
    if (std::find(e.names.begin(), e.names.end(), pinned) == e.names.end()) e.names.push_back(pinned);
    if (r.name.find('@') == std::string::npos) e.names.push_back(r.name);
    e.size = std::max(e.size, r.size);
  }
  std::vector<Entry> list;
  for (auto& [id, e] : by_id) list.push_back(std::move(e));
  std::stable_sort(list.begin(), list.end(), [](const Entry& a, const Entry& b) { return a.size > b.size; });
  if (list.size() > kNodeStatusMaxImages) list.resize(kNodeStatusMaxImages);
  Json out = Json::array();
  for (const auto& e : list) out.push_back({{"names", e.names}, {"sizeBytes", e.size}});
  return out;
}

}  // namespace kubit::kubelet
