#include "core/scheduler/node_info.h"

#include <algorithm>

namespace kubit::scheduler {

void NodeInfo::SetNode(ObjectPtr n) {
  node = std::move(n);
  const Json& obj = *node;
  labels = Json::object();
  taints.clear();
  image_sizes.clear();
  unschedulable = false;
  if (auto m = obj.find("metadata"); m != obj.end() && m->is_object()) {
    name = m->value("name", "");
    if (auto l = m->find("labels"); l != m->end() && l->is_object()) labels = *l;
  }
  if (auto s = obj.find("spec"); s != obj.end() && s->is_object()) {
    unschedulable = s->value("unschedulable", false);
    if (auto t = s->find("taints"); t != s->end() && t->is_array())
      for (const auto& taint : *t)
        if (taint.is_object())
          taints.push_back({taint.value("key", ""), taint.value("value", ""), taint.value("effect", "")});
  }
  allocatable = NodeAllocatable(obj);
  if (auto s = obj.find("status"); s != obj.end() && s->is_object())
    if (auto imgs = s->find("images"); imgs != s->end() && imgs->is_array())
      for (const auto& img : *imgs) {
        if (!img.is_object()) continue;
        int64_t size = img.value("sizeBytes", int64_t{0});
        if (auto names = img.find("names"); names != img.end() && names->is_array())
          for (const auto& n : *names)
            if (n.is_string()) image_sizes[NormalizeImageName(n.get<std::string>())] = size;
      }
}

void NodeInfo::AddPod(std::shared_ptr<const PodInfo> pod) {
  requested.Add(pod->requests);
  non_zero_requested.Add(pod->non_zero_requests);
  used_ports.insert(used_ports.end(), pod->host_ports.begin(), pod->host_ports.end());
  if (!pod->required_affinity.empty() || !pod->required_anti_affinity.empty() ||
      !pod->preferred_affinity.empty() || !pod->preferred_anti_affinity.empty())
    pods_with_affinity++;
  if (!pod->required_anti_affinity.empty()) pods_with_required_anti_affinity++;
  pods.push_back(std::move(pod));
}

bool NodeInfo::RemovePod(const std::string& key) {
  auto it = std::find_if(pods.begin(), pods.end(), [&](const auto& p) { return p->key == key; });
  if (it == pods.end()) return false;
  std::shared_ptr<const PodInfo> pod = *it;
  pods.erase(it);
  requested.Subtract(pod->requests);
  non_zero_requested.Subtract(pod->non_zero_requests);
  for (const auto& hp : pod->host_ports) {
    auto u = std::find_if(used_ports.begin(), used_ports.end(), [&](const HostPort& x) {
      return x.ip == hp.ip && x.protocol == hp.protocol && x.port == hp.port;
    });
    if (u != used_ports.end()) used_ports.erase(u);
  }
  if (!pod->required_affinity.empty() || !pod->required_anti_affinity.empty() ||
      !pod->preferred_affinity.empty() || !pod->preferred_anti_affinity.empty())
    pods_with_affinity--;
  if (!pod->required_anti_affinity.empty()) pods_with_required_anti_affinity--;
  return true;
}

bool NodeInfo::Label(const std::string& key, std::string* value) const {
  auto it = labels.find(key);
  if (it == labels.end() || !it->is_string()) return false;
  *value = it->get<std::string>();
  return true;
}

std::string NormalizeImageName(const std::string& image) {
  std::string name = image;
  size_t slash = name.rfind('/');
  std::string last = slash == std::string::npos ? name : name.substr(slash + 1);
  if (last.find(':') == std::string::npos && last.find('@') == std::string::npos) name += ":latest";
  size_t first = name.find('/');
  std::string domain = first == std::string::npos ? "" : name.substr(0, first);
  bool has_domain = !domain.empty() && (domain.find('.') != std::string::npos ||
                                        domain.find(':') != std::string::npos || domain == "localhost");
  if (!has_domain) name = (first == std::string::npos ? "docker.io/library/" : "docker.io/") + name;
  return name;
}

}  // namespace kubit::scheduler
