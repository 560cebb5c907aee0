// NodeResourcesFit (requests against what is left of allocatable, pod
// slots; LeastAllocated score) and NodeResourcesBalancedAllocation.
#include <cmath>

#include "core/scheduler/plugins.h"

namespace kubit::scheduler {

std::vector<std::string> InsufficientResources(const PodInfo& pod, const NodeInfo& node) {
  std::vector<std::string> out;
  if (int64_t(node.pods.size()) + 1 > node.allocatable.pods) out.push_back("Too many pods");
  const Resources& want = pod.requests;
  if (want.IsZero()) return out;
  const Resources& have = node.allocatable;
  const Resources& used = node.requested;
  if (want.milli_cpu > 0 && want.milli_cpu > have.milli_cpu - used.milli_cpu)
    out.push_back("Insufficient cpu");
  if (want.memory > 0 && want.memory > have.memory - used.memory) out.push_back("Insufficient memory");
  if (want.ephemeral_storage > 0 && want.ephemeral_storage > have.ephemeral_storage - used.ephemeral_storage)
    out.push_back("Insufficient ephemeral-storage");
  for (const auto& [name, amount] : want.scalar)
    if (amount > 0 && amount > have.Get(name) - used.Get(name)) out.push_back("Insufficient " + name);
  return out;
}

Status FilterNodeResourcesFit(const PodInfo& pod, const NodeInfo& node) {
  std::vector<std::string> reasons = InsufficientResources(pod, node);
  if (reasons.empty()) return {};
  return {Code::kUnschedulable, std::move(reasons)};
}

int64_t ScoreLeastAllocated(const PodInfo& pod, const NodeInfo& node) {
  const int64_t requested[] = {node.non_zero_requested.milli_cpu + pod.non_zero_requests.milli_cpu,
                               node.non_zero_requested.memory + pod.non_zero_requests.memory};
  const int64_t capacity[] = {node.allocatable.milli_cpu, node.allocatable.memory};
  int64_t sum = 0, weights = 0;
  for (int i = 0; i < 2; i++) {
    if (capacity[i] == 0) continue;
    int64_t score = requested[i] > capacity[i] ? 0 : (capacity[i] - requested[i]) * kMaxNodeScore / capacity[i];
    sum += score;
    weights++;
  }
  return weights == 0 ? 0 : sum / weights;
}

std::optional<int64_t> ScoreBalancedAllocation(const PodInfo& pod, const NodeInfo& node) {
  // A pod asking for nothing would otherwise pile onto one node
  // (kubernetes#129138).
  if (pod.requests.milli_cpu == 0 && pod.requests.memory == 0) return std::nullopt;
  const int64_t requested[] = {node.requested.milli_cpu + pod.requests.milli_cpu,
                               node.requested.memory + pod.requests.memory};
  const int64_t capacity[] = {node.allocatable.milli_cpu, node.allocatable.memory};
  std::vector<double> fractions;
  for (int i = 0; i < 2; i++) {
    if (capacity[i] == 0) continue;
    fractions.push_back(std::min(1.0, double(requested[i]) / double(capacity[i])));
  }
  double std_dev = fractions.size() == 2 ? std::fabs((fractions[0] - fractions[1]) / 2) : 0.0;
  return int64_t((1 - std_dev) * double(kMaxNodeScore));
}

}  // namespace kubit::scheduler
