// MetricsStore: the latest usage of nodes and pods, as metrics-server keeps
// it: the last two points of each node and container, and CPU as the rate
// between them. A new point moves the last one to previous only if it is
// newer and (containers) started before it, so a restarted container
// never shows its counter's drop as usage; a container that started less
// than one resolution ago (and at least 10 s ago) counts from its start
// at zero. Only what the latest scrape brought is kept: a node or pod
// gone from it is gone here. Safe for concurrent use.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/apiserver/metrics_api_scrape.h"

namespace kubit::apiserver {

struct Usage {
  int64_t timestamp_ns = 0;  // the newer point's
  int64_t window_ns = 0;     // the time between the two points
  uint64_t nanocores = 0;    // CPU rate
  uint64_t memory = 0;       // the newer point's working set
};

// The usage between two points of one counter; false if the counter went
// back or time did not move forward.
bool UsageBetween(const MetricsPoint& prev, const MetricsPoint& last, Usage* out);

class MetricsStore {
 public:
  explicit MetricsStore(std::chrono::nanoseconds resolution) : resolution_ns_(resolution.count()) {}

  void Store(const MetricsBatch& batch);

  bool Node(const std::string& name, Usage* out) const;
  // The pod's containers that have usage, by name; *pod gets the earliest
  // timestamp among them and its window. False if none has.
  bool Pod(const PodRef& ref, std::vector<std::pair<std::string, Usage>>* containers, Usage* pod) const;

 private:
  int64_t resolution_ns_;
  mutable std::mutex mu_;
  std::map<std::string, MetricsPoint> last_nodes_, prev_nodes_;
  std::map<PodRef, std::map<std::string, MetricsPoint>> last_pods_, prev_pods_;
};

}  // namespace kubit::apiserver
