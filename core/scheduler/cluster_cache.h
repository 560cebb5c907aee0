// ClusterCache: the scheduler's view of nodes and the pods on them, fed by
// the informers, plus the pods it has assumed onto a node but whose
// binding is not yet written (or not yet seen back). Assuming first lets
// the next pod be scheduled at once without counting the same room twice.
// Nodes are copied on change, so Snapshot is cheap and stays valid.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "core/scheduler/framework.h"

namespace kubit::scheduler {

class ClusterCache {
 public:
  void AddOrUpdateNode(ObjectPtr node);
  void DeleteNode(const std::string& name);
  // A pod bound to a node (spec.nodeName), as the informer sees it:
  // replaces an assumed copy. Finished pods (Succeeded, Failed) hold
  // nothing and are dropped.
  void AddOrUpdatePod(std::shared_ptr<const PodInfo> pod);
  void DeletePod(const std::string& key);
  // The scheduler chose `node` for the pod; counted there until Forget or
  // until the informer shows the binding.
  void Assume(const std::shared_ptr<const PodInfo>& pod, const std::string& node);
  // The binding failed: the assumed pod leaves (a bound one stays).
  void Forget(const std::string& key);
  bool IsAssumed(const std::string& key) const;

  void SetNamespaceLabels(const std::string& ns, const Json& labels);
  void DeleteNamespace(const std::string& ns);

  // Every node that has a Node object, in name order.
  Snapshot TakeSnapshot() const;
  size_t PodCount() const;

 private:
  struct PodEntry {
    std::string node;
    bool assumed = false;
  };
  void AddPodLocked(std::shared_ptr<const PodInfo> pod, bool assumed);
  void RemovePodLocked(const std::string& key);
  // The node's NodeInfo, copied so that snapshots keep the old one.
  NodeInfo* MutableNodeLocked(const std::string& name);

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<NodeInfo>> nodes_;
  std::map<std::string, PodEntry> pods_;
  std::map<std::string, Json> namespace_labels_;
};

}  // namespace kubit::scheduler
