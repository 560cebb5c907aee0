// The server's side of a scrape: the Prometheus text parser and the
// points it makes of a kubelet's /metrics/resource, as metrics-server's
// decodeBatch.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/apiserver/metrics_api_scrape.h"

namespace kubit::apiserver {

TEST_CASE("metrics scrape: the text exposition format") {
  std::vector<PromSample> samples;
  std::string error;
  const std::string text =
      "# HELP x_total A counter.\n"
      "# TYPE x_total counter\n"
      "\n"
      "x_total 3\n"
      "  spaced_metric { a = \"1\" , b=\"two\", } 4.5e3   1700000000000  \n"
      "esc{v=\"a\\\\b\\\"c\\nd\"} -1\r\n"
      "special{k=\"\"} NaN\n"
      "inf +Inf 12\n"
      "neg -Inf\n";
  REQUIRE_MESSAGE(ParsePrometheusText(text, &samples, &error), error);
  REQUIRE(samples.size() == 6);
  CHECK(samples[0].name == "x_total");
  CHECK(samples[0].value == 3);
  CHECK(samples[0].timestamp_ms == -1);
  CHECK(samples[1].name == "spaced_metric");
  CHECK(samples[1].labels == std::map<std::string, std::string>{{"a", "1"}, {"b", "two"}});
  CHECK(samples[1].value == 4500);
  CHECK(samples[1].timestamp_ms == 1700000000000);
  CHECK(samples[2].labels.at("v") == "a\\b\"c\nd");
  CHECK(samples[2].value == -1);
  CHECK(samples[3].labels.at("k").empty());
  CHECK(std::isnan(samples[3].value));
  CHECK(std::isinf(samples[4].value));
  CHECK(samples[4].timestamp_ms == 12);
  CHECK(samples[5].value < 0);
}

TEST_CASE("metrics scrape: a malformed line is an error that names it") {
  std::vector<PromSample> samples;
  std::string error;
  CHECK_FALSE(ParsePrometheusText("ok 1\nbad{a=\"1\" 2\n", &samples, &error));
  CHECK(error.find("line 2") != std::string::npos);
  CHECK_FALSE(ParsePrometheusText("m{a=\"unterminated} 1\n", &samples, &error));
  CHECK_FALSE(ParsePrometheusText("m{a=\"1\",a=\"2\"} 1\n", &samples, &error));
  CHECK(error.find("label a once") != std::string::npos);
  CHECK_FALSE(ParsePrometheusText("m one\n", &samples, &error));
  CHECK_FALSE(ParsePrometheusText("m 1 later\n", &samples, &error));
  CHECK_FALSE(ParsePrometheusText("9m 1\n", &samples, &error));
  CHECK_FALSE(ParsePrometheusText("m\n", &samples, &error));
}

TEST_CASE("metrics scrape: points as metrics-server decodes them") {
  const std::string text =
      "container_cpu_usage_seconds_total{container=\"a\",namespace=\"ns\",pod=\"p\"} 2 1000\n"
      "container_memory_working_set_bytes{container=\"a\",namespace=\"ns\",pod=\"p\"} 4096 1001\n"
      "container_start_time_seconds{container=\"a\",namespace=\"ns\",pod=\"p\"} 0.5 1001\n"
      // No timestamps: taken at the scrape's time.
      "container_cpu_usage_seconds_total{container=\"b\",namespace=\"ns\",pod=\"q\"} 1\n"
      "container_memory_working_set_bytes{container=\"b\",namespace=\"ns\",pod=\"q\"} 10\n"
      // One container of pod r reads zero memory: the whole pod waits.
      "container_cpu_usage_seconds_total{container=\"x\",namespace=\"ns\",pod=\"r\"} 1 1000\n"
      "container_memory_working_set_bytes{container=\"x\",namespace=\"ns\",pod=\"r\"} 10 1000\n"
      "container_cpu_usage_seconds_total{container=\"y\",namespace=\"ns\",pod=\"r\"} 1 1000\n"
      "container_memory_working_set_bytes{container=\"y\",namespace=\"ns\",pod=\"r\"} 0 1000\n"
      // Pod s has only a start time for its container: left out.
      "container_start_time_seconds{container=\"z\",namespace=\"ns\",pod=\"s\"} 1 1000\n"
      // Other families and a sample without the pod's labels are ignored.
      "pod_cpu_usage_seconds_total{namespace=\"ns\",pod=\"p\"} 2 1000\n"
      "container_cpu_usage_seconds_total{container=\"c\"} 2 1000\n"
      "node_cpu_usage_seconds_total 10.5 2000\n"
      "node_memory_working_set_bytes 1048576 2001\n";
  MetricsBatch batch;
  std::string error;
  REQUIRE_MESSAGE(DecodeResourceMetrics("n1", text, 777, &batch, &error), error);
  REQUIRE(batch.nodes.count("n1"));
  CHECK(batch.nodes["n1"].cpu_ns == 10500000000);
  CHECK(batch.nodes["n1"].memory == 1048576);
  CHECK(batch.nodes["n1"].timestamp_ns == 2001000000);
  CHECK(batch.pods.size() == 2);
  const MetricsPoint a = batch.pods[{"ns", "p"}]["a"];
  CHECK(a.cpu_ns == 2000000000);
  CHECK(a.memory == 4096);
  CHECK(a.timestamp_ns == 1001000000);
  CHECK(a.start_ns == 500000000);
  CHECK(batch.pods[{"ns", "q"}]["b"].timestamp_ns == 777);
  CHECK_FALSE(batch.pods.count({"ns", "r"}));
  CHECK_FALSE(batch.pods.count({"ns", "s"}));

  // A node whose counter reads zero is left out; bad text is an error.
  MetricsBatch none;
  REQUIRE(DecodeResourceMetrics("n2", "node_cpu_usage_seconds_total 0 1\nnode_memory_working_set_bytes 5 1\n", 0,
                                &none, &error));
  CHECK(none.nodes.empty());
  CHECK_FALSE(DecodeResourceMetrics("n2", "{}\n", 0, &none, &error));
}

}  // namespace kubit::apiserver
