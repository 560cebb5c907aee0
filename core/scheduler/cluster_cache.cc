#include "core/scheduler/cluster_cache.h"

namespace kubit::scheduler {
namespace {

bool Finished(const PodInfo& pod) {
  std::string phase = pod.pod->value("status", Json::object()).value("phase", "");
  return phase == "Succeeded" || phase == "Failed";
}

}  // namespace

NodeInfo* ClusterCache::MutableNodeLocked(const std::string& name) {
  std::shared_ptr<NodeInfo>& n = nodes_[name];
  if (!n) {
    n = std::make_shared<NodeInfo>();
    n->name = name;
  } else if (n.use_count() > 1) {
    n = std::make_shared<NodeInfo>(*n);  // a snapshot holds the old one
  }
  return n.get();
}

void ClusterCache::AddOrUpdateNode(ObjectPtr node) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string name = (*node)["metadata"].value("name", "");
  MutableNodeLocked(name)->SetNode(std::move(node));
}

void ClusterCache::DeleteNode(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(name);
  if (it == nodes_.end()) return;
  // Pods still bound to it keep their entry until they go themselves.
  if (it->second->pods.empty()) {
    nodes_.erase(it);
  } else {
    NodeInfo* n = MutableNodeLocked(name);
    n->node = nullptr;
  }
}

void ClusterCache::AddPodLocked(std::shared_ptr<const PodInfo> pod, bool assumed) {
  pods_[pod->key] = {pod->node_name, assumed};
  MutableNodeLocked(pod->node_name)->AddPod(std::move(pod));
}

void ClusterCache::RemovePodLocked(const std::string& key) {
  auto it = pods_.find(key);
  if (it == pods_.end()) return;
  std::string node = it->second.node;
  pods_.erase(it);
  auto n = nodes_.find(node);
  if (n == nodes_.end()) return;
  NodeInfo* info = MutableNodeLocked(node);
  info->RemovePod(key);
  if (!info->node && info->pods.empty()) nodes_.erase(node);
}

void ClusterCache::AddOrUpdatePod(std::shared_ptr<const PodInfo> pod) {
  std::lock_guard<std::mutex> lock(mu_);
  RemovePodLocked(pod->key);
  if (pod->node_name.empty() || Finished(*pod)) return;
  AddPodLocked(std::move(pod), false);
}

void ClusterCache::DeletePod(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  RemovePodLocked(key);
}

void ClusterCache::Assume(const std::shared_ptr<const PodInfo>& pod, const std::string& node) {
  auto copy = std::make_shared<PodInfo>(*pod);
  copy->node_name = node;
  std::lock_guard<std::mutex> lock(mu_);
  RemovePodLocked(pod->key);
  AddPodLocked(std::move(copy), true);
}

void ClusterCache::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pods_.find(key);
  if (it != pods_.end() && it->second.assumed) RemovePodLocked(key);
}

bool ClusterCache::IsAssumed(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pods_.find(key);
  return it != pods_.end() && it->second.assumed;
}

void ClusterCache::SetNamespaceLabels(const std::string& ns, const Json& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  namespace_labels_[ns] = labels.is_object() ? labels : Json::object();
}

void ClusterCache::DeleteNamespace(const std::string& ns) {
  std::lock_guard<std::mutex> lock(mu_);
  namespace_labels_.erase(ns);
}

Snapshot ClusterCache::TakeSnapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<const NodeInfo>> nodes;
  nodes.reserve(nodes_.size());
  for (const auto& [name, n] : nodes_)
    if (n->node) nodes.push_back(n);
  return Snapshot(std::move(nodes), namespace_labels_);
}

size_t ClusterCache::PodCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pods_.size();
}

}  // namespace kubit::scheduler
