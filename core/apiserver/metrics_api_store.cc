#include "core/apiserver/metrics_api_store.h"

namespace kubit::apiserver {

namespace {

// metrics-server's freshContainerMinMetricsResolution: younger containers
// wait for a second scrape (their first CPU burst would skew the rate).
constexpr int64_t kFreshContainerMinNs = 10'000'000'000;

}  // namespace

bool UsageBetween(const MetricsPoint& prev, const MetricsPoint& last, Usage* out) {
  if (last.cpu_ns < prev.cpu_ns || last.timestamp_ns <= prev.timestamp_ns) return false;
  out->window_ns = last.timestamp_ns - prev.timestamp_ns;
  out->timestamp_ns = last.timestamp_ns;
  out->nanocores = static_cast<uint64_t>(static_cast<double>(last.cpu_ns - prev.cpu_ns) * 1e9 /
                                         static_cast<double>(out->window_ns));
  out->memory = last.memory;
  return true;
}

void MetricsStore::Store(const MetricsBatch& batch) {
  std::lock_guard<std::mutex> l(mu_);
  std::map<std::string, MetricsPoint> prev_nodes;
  for (const auto& [name, point] : batch.nodes) {
    auto last = last_nodes_.find(name);
    if (last == last_nodes_.end()) continue;
    if (point.timestamp_ns > last->second.timestamp_ns) {
      prev_nodes[name] = last->second;
    } else if (auto prev = prev_nodes_.find(name);
               prev != prev_nodes_.end() && prev->second.timestamp_ns < point.timestamp_ns) {
      prev_nodes[name] = prev->second;
    }
  }
  last_nodes_ = batch.nodes;
  prev_nodes_ = std::move(prev_nodes);

  std::map<PodRef, std::map<std::string, MetricsPoint>> prev_pods;
  for (const auto& [ref, containers] : batch.pods) {
    auto last_pod = last_pods_.find(ref);
    auto prev_pod = prev_pods_.find(ref);
    for (const auto& [name, point] : containers) {
      const int64_t age = point.timestamp_ns - point.start_ns;
      if (point.start_ns > 0 && age > 0 && age < resolution_ns_ && age >= kFreshContainerMinNs) {
        MetricsPoint start = point;
        start.timestamp_ns = point.start_ns;
        start.cpu_ns = 0;
        prev_pods[ref][name] = start;
        continue;
      }
      if (last_pod == last_pods_.end()) continue;
      auto last = last_pod->second.find(name);
      // Another run of the container (it started after the stored point):
      // nothing to compare with.
      if (last == last_pod->second.end() || point.start_ns >= last->second.timestamp_ns) continue;
      if (point.timestamp_ns > last->second.timestamp_ns) {
        prev_pods[ref][name] = last->second;
      } else if (prev_pod != prev_pods_.end()) {
        auto prev = prev_pod->second.find(name);
        if (prev != prev_pod->second.end() && prev->second.timestamp_ns < point.timestamp_ns)
          prev_pods[ref][name] = prev->second;
      }
    }
  }
  last_pods_ = batch.pods;
  prev_pods_ = std::move(prev_pods);
}

bool MetricsStore::Node(const std::string& name, Usage* out) const {
  std::lock_guard<std::mutex> l(mu_);
  auto last = last_nodes_.find(name);
  auto prev = prev_nodes_.find(name);
  return last != last_nodes_.end() && prev != prev_nodes_.end() && UsageBetween(prev->second, last->second, out);
}

bool MetricsStore::Pod(const PodRef& ref, std::vector<std::pair<std::string, Usage>>* containers,
                       Usage* pod) const {
  std::lock_guard<std::mutex> l(mu_);
  auto last = last_pods_.find(ref);
  auto prev = prev_pods_.find(ref);
  if (last == last_pods_.end() || prev == prev_pods_.end()) return false;
  bool any = false;
  for (const auto& [name, point] : last->second) {
    auto p = prev->second.find(name);
    Usage u;
    if (p == prev->second.end() || !UsageBetween(p->second, point, &u)) continue;
    containers->emplace_back(name, u);
    if (!any || u.timestamp_ns < pod->timestamp_ns) *pod = u;
    any = true;
  }
  return any;
}

}  // namespace kubit::apiserver
