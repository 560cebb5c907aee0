#include "core/apiserver/metrics.h"

#include <cstdio>

namespace kubit::apiserver {
namespace {

const double kBuckets[] = {0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5,
                           2,     3,     4,    5,   6,   8,   10,  15,  20,  30,  45,  60};
constexpr size_t kNumBuckets = sizeof(kBuckets) / sizeof(kBuckets[0]);

std::string Num(double v) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

}  // namespace

void Metrics::Observe(const std::string& verb, const std::string& group,
                      const std::string& resource, int code, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  requests_[{verb, group, resource, code}]++;
  Histogram& h = durations_[verb];
  if (h.buckets.empty()) h.buckets.assign(kNumBuckets, 0);
  for (size_t i = 0; i < kNumBuckets; i++)
    if (seconds <= kBuckets[i]) h.buckets[i]++;
  h.count++;
  h.sum += seconds;
}

std::string Metrics::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out =
      "# HELP apiserver_request_total Counter of apiserver requests broken out for each verb, "
      "group, resource and HTTP response code.\n"
      "# TYPE apiserver_request_total counter\n";
  for (const auto& [k, n] : requests_) {
    const auto& [verb, group, resource, code] = k;
    out += "apiserver_request_total{code=\"" + std::to_string(code) + "\",group=\"" + group +
           "\",resource=\"" + resource + "\",verb=\"" + verb + "\"} " + std::to_string(n) + "\n";
  }
  out +=
      "# HELP apiserver_request_duration_seconds Response latency distribution in seconds for "
      "each verb.\n"
      "# TYPE apiserver_request_duration_seconds histogram\n";
  for (const auto& [verb, h] : durations_) {
    std::string l = "apiserver_request_duration_seconds";
    for (size_t i = 0; i < kNumBuckets; i++)
      out += l + "_bucket{verb=\"" + verb + "\",le=\"" + Num(kBuckets[i]) + "\"} " +
             std::to_string(h.buckets[i]) + "\n";
    out += l + "_bucket{verb=\"" + verb + "\",le=\"+Inf\"} " + std::to_string(h.count) + "\n";
    out += l + "_sum{verb=\"" + verb + "\"} " + Num(h.sum) + "\n";
    out += l + "_count{verb=\"" + verb + "\"} " + std::to_string(h.count) + "\n";
  }
  return out;
}

}  // namespace kubit::apiserver
