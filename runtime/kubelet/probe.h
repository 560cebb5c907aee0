// Probes as upstream's prober/worker.go times them: the first run
// initialDelaySeconds after the container started, then every
// periodSeconds; a result flips after successThreshold consecutive
// successes or failureThreshold consecutive failures. Before its first
// flip, readiness is false, liveness true and startup false. Liveness and
// readiness wait until the startup probe has succeeded.
//
// Probes run on the pod's worker thread: exec probes are not cut off at
// timeoutSeconds (upstream did not either before 1.20); httpGet and
// tcpSocket are.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

namespace kubit::runtime::container {
class Runtime;
}

namespace kubit::kubelet {

enum class ProbeKind { kStartup, kLiveness, kReadiness };
const char* ProbeName(ProbeKind kind);  // "Startup", "Liveness", "Readiness"

struct ProbeTiming {
  int initial_delay_s = 0, period_s = 10, timeout_s = 1;
  int success_threshold = 1, failure_threshold = 3;
  static ProbeTiming FromJson(const nlohmann::json& probe);
};

class ProbeTracker {
 public:
  using Clock = std::chrono::steady_clock;
  ProbeTracker(ProbeKind kind, ProbeTiming timing, Clock::time_point container_started);

  bool Due(Clock::time_point now) const { return now >= next_; }
  Clock::time_point next() const { return next_; }
  // Records one run's outcome at `now`; true when the result flipped.
  bool Record(bool success, Clock::time_point now);
  bool result() const { return result_; }
  ProbeKind kind() const { return kind_; }
  const ProbeTiming& timing() const { return timing_; }

 private:
  ProbeKind kind_;
  ProbeTiming timing_;
  bool result_;
  bool last_ = false;
  int streak_ = 0;
  Clock::time_point next_;
};

struct ProbeTarget {
  runtime::container::Runtime* runtime = nullptr;
  std::string container_id;
  std::string pod_ip;
  const nlohmann::json* container = nullptr;  // named ports
};

// Runs one probe (exec, httpGet, tcpSocket), or a postStart/preStop hook
// (exec, httpGet: the same handlers); *output: what to report in an
// Unhealthy or Failed*Hook event (the command's output, the HTTP status,
// the dial error).
bool RunProbe(const nlohmann::json& probe, const ProbeTarget& target, std::string* output);

}  // namespace kubit::kubelet
