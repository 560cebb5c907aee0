// MetricsStore: CPU as the rate between a node's or container's last two
// points, with metrics-server's rules for restarts and fresh containers.
#include <doctest/doctest.h>

#include <chrono>

#include "core/apiserver/metrics_api_store.h"

namespace kubit::apiserver {
namespace {

constexpr int64_t kSecond = 1000000000;

MetricsPoint Point(int64_t t_s, double cpu_s, uint64_t memory, int64_t start_s = 1) {
  return {start_s * kSecond, t_s * kSecond, static_cast<uint64_t>(cpu_s * kSecond), memory};
}

MetricsBatch Pod(const PodRef& ref, std::map<std::string, MetricsPoint> containers) {
  MetricsBatch b;
  b.pods[ref] = std::move(containers);
  return b;
}

}  // namespace

TEST_CASE("metrics store: usage between two points") {
  Usage u;
  REQUIRE(UsageBetween(Point(100, 10, 1), Point(110, 15, 2048), &u));
  CHECK(u.nanocores == 500000000);  // 5 s of CPU in 10 s: half a core
  CHECK(u.window_ns == 10 * kSecond);
  CHECK(u.timestamp_ns == 110 * kSecond);
  CHECK(u.memory == 2048);
  CHECK_FALSE(UsageBetween(Point(100, 10, 1), Point(110, 9, 1), &u));  // the counter went back
  CHECK_FALSE(UsageBetween(Point(100, 10, 1), Point(100, 11, 1), &u));  // no time passed
}

TEST_CASE("metrics store: nodes need two scrapes, and only the latest scrape's are kept") {
  MetricsStore store(std::chrono::seconds(15));
  Usage u;
  MetricsBatch first;
  first.nodes["n1"] = Point(100, 1000, 500);
  store.Store(first);
  CHECK_FALSE(store.Node("n1", &u));
  MetricsBatch second;
  second.nodes["n1"] = Point(115, 1015, 600);
  store.Store(second);
  REQUIRE(store.Node("n1", &u));
  CHECK(u.nanocores == 1000000000);
  CHECK(u.memory == 600);
  // The same point again (a kubelet that did not read anew) keeps the rate.
  store.Store(second);
  REQUIRE(store.Node("n1", &u));
  CHECK(u.nanocores == 1000000000);
  // A node missing from a scrape is gone.
  store.Store(MetricsBatch());
  CHECK_FALSE(store.Node("n1", &u));
}

TEST_CASE("metrics store: pods, restarts and fresh containers") {
  MetricsStore store(std::chrono::seconds(15));
  const PodRef web{"default", "web"};
  std::vector<std::pair<std::string, Usage>> containers;
  Usage pod;
  store.Store(Pod(web, {{"app", Point(100, 10, 1000)}, {"side", Point(101, 1, 10)}}));
  CHECK_FALSE(store.Pod(web, &containers, &pod));

  store.Store(Pod(web, {{"app", Point(110, 12, 2000)}, {"side", Point(111, 1.5, 20)}}));
  REQUIRE(store.Pod(web, &containers, &pod));
  REQUIRE(containers.size() == 2);
  CHECK(containers[0].first == "app");
  CHECK(containers[0].second.nanocores == 200000000);
  CHECK(containers[1].second.nanocores == 50000000);
  CHECK(pod.timestamp_ns == 110 * kSecond);  // the earliest of its containers'
  CHECK(pod.window_ns == 10 * kSecond);

  SUBCASE("a container that restarted shows no usage until its second point") {
    // "app" started again at 115: its counter dropped to 0.3 s. (At 130
    // it is 15 s old: not fresh any more, so the 120 point is its previous.)
    store.Store(Pod(web, {{"app", Point(120, 0.3, 500, 115)}, {"side", Point(121, 2, 20)}}));
    containers.clear();
    REQUIRE(store.Pod(web, &containers, &pod));
    REQUIRE(containers.size() == 1);
    CHECK(containers[0].first == "side");
    store.Store(Pod(web, {{"app", Point(130, 1.3, 500, 115)}, {"side", Point(131, 2.5, 20)}}));
    containers.clear();
    REQUIRE(store.Pod(web, &containers, &pod));
    REQUIRE(containers.size() == 2);
    CHECK(containers[0].second.nanocores == 100000000);
  }
  SUBCASE("a pod missing a container shows the others; a pod missing from a scrape is gone") {
    store.Store(Pod(web, {{"side", Point(121, 2, 20)}}));
    containers.clear();
    REQUIRE(store.Pod(web, &containers, &pod));
    REQUIRE(containers.size() == 1);
    CHECK(containers[0].first == "side");
    store.Store(MetricsBatch());
    containers.clear();
    CHECK_FALSE(store.Pod(web, &containers, &pod));
  }
  SUBCASE("a container between 10 s and one resolution old counts from its start") {
    const PodRef fresh{"default", "fresh"};
    store.Store(Pod(fresh, {{"c", Point(130, 6, 100, 118)}}));  // 12 s old, 6 s of CPU
    containers.clear();
    REQUIRE(store.Pod(fresh, &containers, &pod));
    REQUIRE(containers.size() == 1);
    CHECK(containers[0].second.nanocores == 500000000);
    CHECK(containers[0].second.window_ns == 12 * kSecond);
    // Younger than 10 s: it waits for a second point.
    const PodRef young{"default", "young"};
    store.Store(Pod(young, {{"c", Point(130, 1, 100, 125)}}));
    containers.clear();
    CHECK_FALSE(store.Pod(young, &containers, &pod));
  }
}

}  // namespace kubit::apiserver
