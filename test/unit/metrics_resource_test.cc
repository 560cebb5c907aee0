// The kubelet's /metrics/resource: /proc parsing, log paths, and the
// Prometheus text read back by the server's scraper (metrics_api_scrape.h).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/apiserver/metrics_api_scrape.h"
#include "runtime/kubelet/resource_metrics.h"

namespace kubit::kubelet {
namespace {

using apiserver::PromSample;

const PromSample* Find(const std::vector<PromSample>& samples, const std::string& name, const std::string& pod = "") {
  for (const auto& s : samples)
    if (s.name == name && (pod.empty() || (s.labels.count("pod") && s.labels.at("pod") == pod))) return &s;
  return nullptr;
}

}  // namespace

TEST_CASE("metrics resource: /proc/stat busy time and /proc/meminfo working set") {
  double seconds = 0;
  // user nice system idle iowait irq softirq steal guest guest_nice
  REQUIRE(ParseProcStatCpu("cpu  100 20 30 5000 40 5 6 7 50 0\ncpu0 1 2 3 4 5 6 7 8 9 0\n", 100, &seconds));
  CHECK(seconds == doctest::Approx(1.68));  // 100+20+30+5+6+7 ticks, not idle nor iowait
  CHECK_FALSE(ParseProcStatCpu("cpu0 1 2 3\n", 100, &seconds));
  CHECK_FALSE(ParseProcStatCpu("cpu  1 2 3\n", 100, &seconds));  // too few fields

  uint64_t bytes = 0;
  REQUIRE(ParseMeminfoWorkingSet("MemTotal:       1000 kB\nMemFree:         300 kB\nInactive(file):  200 kB\n",
                                 &bytes));
  CHECK(bytes == 500 * 1024);
  REQUIRE(ParseMeminfoWorkingSet("MemTotal: 1000 kB\nMemFree: 300 kB\n", &bytes));
  CHECK(bytes == 700 * 1024);
  CHECK_FALSE(ParseMeminfoWorkingSet("MemFree: 300 kB\n", &bytes));
}

TEST_CASE("metrics resource: namespace and pod from the kubelet's log path") {
  std::string ns, pod;
  REQUIRE(PodOfLogPath("/var/lib/kubit/agent/logs/kube-system_coredns-5d8f_0b1c-22/coredns/0.log", &ns, &pod));
  CHECK(ns == "kube-system");
  CHECK(pod == "coredns-5d8f");
  CHECK_FALSE(PodOfLogPath("/var/lib/kubit/agent/logs/nounderscore/c/0.log", &ns, &pod));
  CHECK_FALSE(PodOfLogPath("0.log", &ns, &pod));
}

TEST_CASE("metrics resource: the text reads back with the kubelet's names, labels and timestamps") {
  ResourceUsage usage;
  usage.node = {true, 1234.5, 800 << 20, 1700000000123};
  usage.containers.push_back({"default", "web", "app", 1.25, 4 << 20, 1699999990.5, 1700000000100});
  usage.containers.push_back({"default", "web", "sidecar", 0.75, 1 << 20, 1699999991, 1700000000110});
  // Label values keep their escapes: a quote, a backslash, a newline.
  usage.containers.push_back({"odd\"ns", "p\\q", "c\nd", 2, 1024, 1699999992, 1700000000120});
  const std::string text = RenderResourceMetrics(usage);
  CHECK(text.find("# TYPE container_cpu_usage_seconds_total counter\n") != std::string::npos);
  CHECK(text.find("# TYPE node_memory_working_set_bytes gauge\n") != std::string::npos);
  CHECK(text.find("container_cpu_usage_seconds_total{container=\"app\",namespace=\"default\",pod=\"web\"} 1.25 "
                  "1700000000100\n") != std::string::npos);
  CHECK(text.find("pod=\"p\\\\q\"") != std::string::npos);
  CHECK(text.find("\nresource_scrape_error 0\n") != std::string::npos);

  std::vector<PromSample> samples;
  std::string error;
  REQUIRE_MESSAGE(apiserver::ParsePrometheusText(text, &samples, &error), error);
  const PromSample* node_cpu = Find(samples, "node_cpu_usage_seconds_total");
  REQUIRE(node_cpu);
  CHECK(node_cpu->value == 1234.5);
  CHECK(node_cpu->timestamp_ms == 1700000000123);
  CHECK(node_cpu->labels.empty());
  // Pods are their running containers' sums, at the latest read.
  const PromSample* pod_cpu = Find(samples, "pod_cpu_usage_seconds_total", "web");
  REQUIRE(pod_cpu);
  CHECK(pod_cpu->value == 2.0);
  CHECK(pod_cpu->timestamp_ms == 1700000000110);
  const PromSample* pod_mem = Find(samples, "pod_memory_working_set_bytes", "web");
  REQUIRE(pod_mem);
  CHECK(pod_mem->value == 5 << 20);
  const PromSample* odd = Find(samples, "container_memory_working_set_bytes", "p\\q");
  REQUIRE(odd);
  CHECK(odd->labels.at("namespace") == "odd\"ns");
  CHECK(odd->labels.at("container") == "c\nd");
  // A start time is stamped with itself.
  const PromSample* start = Find(samples, "container_start_time_seconds", "web");
  REQUIRE(start);
  CHECK(start->value == 1699999990.5);
  CHECK(start->timestamp_ms == 1699999990500);
  const PromSample* error_flag = Find(samples, "resource_scrape_error");
  REQUIRE(error_flag);
  CHECK(error_flag->timestamp_ms == -1);

  // And the scraper turns it into one node point and a point per container.
  apiserver::MetricsBatch batch;
  REQUIRE(apiserver::DecodeResourceMetrics("n1", text, 5, &batch, &error));
  REQUIRE(batch.nodes.count("n1"));
  CHECK(batch.nodes["n1"].cpu_ns == 1234500000000);
  CHECK(batch.nodes["n1"].timestamp_ns == 1700000000123000000);
  auto& web = batch.pods[{"default", "web"}];
  REQUIRE(web.size() == 2);
  CHECK(web["app"].cpu_ns == 1250000000);
  CHECK(web["app"].memory == 4 << 20);
  CHECK(web["app"].start_ns == 1699999990500000000);
  CHECK(web["sidecar"].timestamp_ns == 1700000000110000000);
  CHECK(batch.pods.count({"odd\"ns", "p\\q"}));
}

TEST_CASE("metrics resource: what is not known is left out") {
  ResourceUsage usage;
  usage.scrape_error = true;
  usage.containers.push_back({"default", "web", "app", 1, 1024, 0, 1700000000100});  // start not known
  const std::string text = RenderResourceMetrics(usage);
  CHECK(text.find("container_start_time_seconds{") == std::string::npos);
  CHECK(text.find("node_cpu_usage_seconds_total") == std::string::npos);
  CHECK(text.find("\nresource_scrape_error 1\n") != std::string::npos);
}

}  // namespace kubit::kubelet
