// ImageLocality: nodes that already hold the pod's images score higher,
// by image size, scaled down for images that many nodes hold (spreading
// pulls is no reason to pile pods onto one node).
#include <algorithm>

#include "core/scheduler/plugins.h"

namespace kubit::scheduler {
namespace {

constexpr int64_t kMiB = 1024 * 1024;
constexpr int64_t kMinThreshold = 23 * kMiB;
constexpr int64_t kMaxContainerThreshold = 1000 * kMiB;

}  // namespace

int64_t ScoreImageLocality(const PodInfo& pod, const NodeInfo& node, const Snapshot& snapshot) {
  if (pod.images.empty()) return 0;
  double total_nodes = double(snapshot.nodes().size());
  int64_t sum = 0;
  for (const auto& image : pod.images) {
    if (image.empty()) continue;
    std::string name = NormalizeImageName(image);
    auto it = node.image_sizes.find(name);
    if (it == node.image_sizes.end()) continue;
    double spread = double(snapshot.NodesWithImage(name)) / total_nodes;
    sum += int64_t(double(it->second) * spread);
  }
  int64_t max_threshold = kMaxContainerThreshold * int64_t(pod.images.size());
  sum = std::clamp(sum, kMinThreshold, max_threshold);
  return kMaxNodeScore * (sum - kMinThreshold) / (max_threshold - kMinThreshold);
}

}  // namespace kubit::scheduler
