// Request metrics in Prometheus text format at /metrics: counts by verb,
// resource and code, and latency histograms by verb, named as upstream's
// apiserver_request_total and apiserver_request_duration_seconds.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace kubit::apiserver {

class Metrics {
 public:
  // verb: upstream's spelling (GET, LIST, WATCH, POST, PUT, PATCH, DELETE).
  void Observe(const std::string& verb, const std::string& group, const std::string& resource,
               int code, double seconds);
  std::string Render() const;

 private:
  struct Histogram {
    std::vector<uint64_t> buckets;
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> durations_;
};

}  // namespace kubit::apiserver
