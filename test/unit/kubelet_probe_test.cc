// Unit tests of probe timing (runtime/kubelet/probe.h): initial delay,
// period, thresholds, the initial results of each kind.
#include "runtime/kubelet/probe.h"

#include <doctest/doctest.h>

namespace {

using namespace kubit::kubelet;
using std::chrono::seconds;

TEST_CASE("kubelet probe: timing fields and their defaults") {
  ProbeTiming d = ProbeTiming::FromJson(nlohmann::json::object());
  CHECK(d.initial_delay_s == 0);
  CHECK(d.period_s == 10);
  CHECK(d.timeout_s == 1);
  CHECK(d.success_threshold == 1);
  CHECK(d.failure_threshold == 3);
  ProbeTiming t = ProbeTiming::FromJson(
      {{"initialDelaySeconds", 5}, {"periodSeconds", 2}, {"timeoutSeconds", 3},
       {"successThreshold", 2}, {"failureThreshold", 4}});
  CHECK(t.initial_delay_s == 5);
  CHECK(t.period_s == 2);
  CHECK(t.timeout_s == 3);
  CHECK(t.success_threshold == 2);
  CHECK(t.failure_threshold == 4);
}

TEST_CASE("kubelet probe: readiness starts false, flips after successThreshold, back after failureThreshold") {
  auto t0 = ProbeTracker::Clock::now();
  ProbeTiming timing;
  timing.initial_delay_s = 5;
  timing.period_s = 2;
  timing.success_threshold = 2;
  timing.failure_threshold = 3;
  ProbeTracker r(ProbeKind::kReadiness, timing, t0);
  CHECK_FALSE(r.result());
  CHECK_FALSE(r.Due(t0 + seconds(4)));
  CHECK(r.Due(t0 + seconds(5)));
  CHECK_FALSE(r.Record(true, t0 + seconds(5)));
  CHECK(r.next() == t0 + seconds(7));
  CHECK(r.Record(true, t0 + seconds(7)));
  CHECK(r.result());
  CHECK_FALSE(r.Record(false, t0 + seconds(9)));
  CHECK_FALSE(r.Record(true, t0 + seconds(11)));  // a success breaks the streak
  CHECK_FALSE(r.Record(false, t0 + seconds(13)));
  CHECK_FALSE(r.Record(false, t0 + seconds(15)));
  CHECK(r.Record(false, t0 + seconds(17)));
  CHECK_FALSE(r.result());
}

TEST_CASE("kubelet probe: liveness starts true, startup false") {
  auto t0 = ProbeTracker::Clock::now();
  ProbeTiming timing;
  timing.failure_threshold = 1;
  ProbeTracker live(ProbeKind::kLiveness, timing, t0);
  CHECK(live.result());
  CHECK(live.Due(t0));
  CHECK(live.Record(false, t0));
  CHECK_FALSE(live.result());
  ProbeTracker startup(ProbeKind::kStartup, timing, t0);
  CHECK_FALSE(startup.result());
  CHECK(startup.Record(true, t0));
  CHECK(startup.result());
  CHECK(std::string(ProbeName(ProbeKind::kStartup)) == "Startup");
}

TEST_CASE("kubelet probe: network probes without a pod IP fail with a clear message") {
  std::string out;
  ProbeTarget t;
  CHECK_FALSE(RunProbe({{"tcpSocket", {{"port", 80}}}}, t, &out));
  CHECK(out == "pod has no IP address (no pod network on this node)");
  CHECK_FALSE(RunProbe(nlohmann::json::object(), t, &out));
  CHECK(out == "probe has no handler (exec, httpGet, tcpSocket)");
  t.pod_ip = "127.0.0.1";
  // Port 1 on loopback: nothing listens (tcpmux is never served here).
  CHECK_FALSE(RunProbe({{"tcpSocket", {{"port", 1}}}}, t, &out));
  CHECK(out.find("dial tcp 127.0.0.1:1: connect: Connection refused") == 0);
}

}  // namespace
