// What metrics-server reads from a kubelet: the Prometheus text of
// /metrics/resource (runtime/kubelet/resource_metrics.h) turned into
// points, one per node and per container, as its decodeBatch does: a point
// needs its CPU counter, its memory working set and a timestamp, else it is
// left out.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kubit::apiserver {

// One sample of the text exposition format: name{labels} value [timestamp].
struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
  int64_t timestamp_ms = -1;  // -1: none given
};

// Parses the text exposition format (comments, HELP and TYPE lines skipped;
// label escapes \\ \" \n; NaN and ±Inf). False with *error naming the line.
bool ParsePrometheusText(const std::string& text, std::vector<PromSample>* out, std::string* error);

struct MetricsPoint {
  int64_t start_ns = 0;      // the container's start; 0: not known
  int64_t timestamp_ns = 0;  // when it was read
  uint64_t cpu_ns = 0;       // cumulative CPU time
  uint64_t memory = 0;       // working set, bytes
};

struct PodRef {
  std::string ns, name;
  bool operator<(const PodRef& o) const { return ns != o.ns ? ns < o.ns : name < o.name; }
};

// The points of one scrape of every node.
struct MetricsBatch {
  std::map<std::string, MetricsPoint> nodes;
  std::map<PodRef, std::map<std::string, MetricsPoint>> pods;  // containers by name
};

// Adds what the /metrics/resource text of `node`, scraped at
// `scraped_ns`, holds to *batch. False with *error if the text does not
// parse.
bool DecodeResourceMetrics(const std::string& node, const std::string& text, int64_t scraped_ns,
                           MetricsBatch* batch, std::string* error);

}  // namespace kubit::apiserver
