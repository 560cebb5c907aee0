// Unit tests of the crash-loop back-off (runtime/kubelet/backoff.h) and
// the names the kubelet gives containers (pod_naming.h).
#include "runtime/kubelet/backoff.h"

#include <doctest/doctest.h>

#include <vector>

#include "runtime/kubelet/pod_naming.h"

namespace {

using kubit::kubelet::BackOff;
using std::chrono::minutes;
using std::chrono::seconds;

TEST_CASE("kubelet backoff: 10 s doubling to 5 min, counted from the event") {
  BackOff b(seconds(10), minutes(5));
  auto t0 = BackOff::Clock::now();
  // The first crash restarts at once; it starts the delay.
  CHECK_FALSE(b.InBackOffSince("p/c", t0, t0));
  b.Next("p/c", t0);
  CHECK(b.Get("p/c") == seconds(10));
  auto t1 = t0 + seconds(1);
  CHECK(b.InBackOffSince("p/c", t1, t1 + seconds(9)));
  CHECK_FALSE(b.InBackOffSince("p/c", t1, t1 + seconds(10)));
  std::vector<long> delays;
  auto t = t1;
  for (int i = 0; i < 7; i++) {
    b.Next("p/c", t);
    delays.push_back(static_cast<long>(std::chrono::duration_cast<seconds>(b.Get("p/c")).count()));
    t += seconds(1);
  }
  CHECK(delays == std::vector<long>{20, 40, 80, 160, 300, 300, 300});
  CHECK(b.Get("other") == seconds(0));
}

TEST_CASE("kubelet backoff: starts over after 2 x max without an event (10 min of running)") {
  BackOff b(seconds(10), minutes(5));
  auto t0 = BackOff::Clock::now();
  b.Next("k", t0);
  b.Next("k", t0 + seconds(5));
  CHECK(b.Get("k") == seconds(20));
  auto later = t0 + seconds(5) + minutes(10) + seconds(1);
  CHECK_FALSE(b.InBackOffSince("k", later, later));
  b.Next("k", later);
  CHECK(b.Get("k") == seconds(10));
  b.Reset("k");
  CHECK(b.Get("k") == seconds(0));
}

TEST_CASE("kubelet backoff: durations as Go prints them") {
  CHECK(kubit::kubelet::FormatDuration(seconds(10)) == "10s");
  CHECK(kubit::kubelet::FormatDuration(seconds(160)) == "2m40s");
  CHECK(kubit::kubelet::FormatDuration(minutes(5)) == "5m0s");
}

TEST_CASE("kubelet pod naming: container ids round-trip; others are not ours") {
  using namespace kubit::kubelet;
  std::string uid = "7b7ef049-2fd5-4f75-bfcf-aecaefb1851e";
  std::string id = ContainerId(uid, "web-1", 12);
  CHECK(id == "k8s_" + uid + "_web-1_12");
  std::string u, c;
  int n = -1;
  REQUIRE(ParseContainerId(id, &u, &c, &n));
  CHECK(u == uid);
  CHECK(c == "web-1");
  CHECK(n == 12);
  CHECK_FALSE(ParseContainerId("mycontainer", &u, &c, &n));
  CHECK_FALSE(ParseContainerId("k8s_" + uid + "_web", &u, &c, &n));
  CHECK_FALSE(ParseContainerId("k8s_" + uid + "_web_x1", &u, &c, &n));
  CHECK(ContainerLogPath("/d", "ns", "p", uid, "web", 3) == "/d/agent/logs/ns_p_" + uid + "/web/3.log");
}

}  // namespace
