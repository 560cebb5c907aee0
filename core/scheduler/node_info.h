// NodeInfo: one node as the scheduler sees it: the Node object read once
// (labels, taints, allocatable, images) and the pods on it, bound or
// assumed, with their requests and host ports summed. Copied on change, so
// a snapshot can hold it while the cache moves on.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/scheduler/pod_info.h"
#include "core/scheduler/resources.h"

namespace kubit::scheduler {

struct NodeInfo {
  ObjectPtr node;  // null while only pods name the node
  std::string name;
  Json labels = Json::object();
  std::vector<Taint> taints;
  bool unschedulable = false;
  Resources allocatable;
  std::map<std::string, int64_t> image_sizes;  // every name of an image -> its size

  std::vector<std::shared_ptr<const PodInfo>> pods;
  Resources requested;           // sum of the pods' requests
  Resources non_zero_requested;  // the same with cpu/memory defaults for pods asking none
  std::vector<HostPort> used_ports;
  int pods_with_affinity = 0;               // pods with any pod (anti-)affinity
  int pods_with_required_anti_affinity = 0;

  // Replaces the Node object (the pods stay).
  void SetNode(ObjectPtr node);
  void AddPod(std::shared_ptr<const PodInfo> pod);
  // False if no pod of that key is here.
  bool RemovePod(const std::string& key);

  // The node's label value, if it has the label.
  bool Label(const std::string& key, std::string* value) const;
};

// Normalized image name as the kubelet reports it and as ImageLocality
// compares them: a missing tag is ":latest" and Docker Hub short names are
// expanded ("nginx" -> "docker.io/library/nginx:latest").
std::string NormalizeImageName(const std::string& image);

}  // namespace kubit::scheduler
