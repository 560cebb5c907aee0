// Pod status from what the worker sees: phase, conditions, container
// statuses, addresses; as upstream's kubelet computes them
// (kubelet_pods.go getPhase and generateAPIPodStatus, status/generate.go).
// Pure functions of their inputs, so every rule has a unit test.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kubit::kubelet {

struct Terminated {
  int exit_code = 0;
  int signal = 0;
  std::string reason, message, started_at, finished_at, container_id;
};

// One container as it is now.
struct ContainerView {
  enum class State { kWaiting, kRunning, kTerminated };
  std::string name, image, image_id;
  State state = State::kWaiting;
  std::string reason, message;  // waiting: ContainerCreating, CrashLoopBackOff, ...
  std::string started_at;       // running
  Terminated terminated;        // terminated
  std::string container_id;     // "kubit://<id>" of the current container
  bool has_last = false;        // lastState.terminated
  Terminated last;
  int restart_count = 0;
  bool ready = false;
  bool started = false;  // running and past its startup probe
  bool sidecar = false;  // an init container with restartPolicy Always
};

struct PodView {
  std::vector<ContainerView> init, app;  // in spec order
  bool sandbox_ready = false;
  std::string pod_ip, host_ip, start_time;
};

// Pending, Running, Succeeded or Failed.
std::string PodPhase(const nlohmann::json& pod, const PodView& view);

// Init containers are done: each regular one terminated with 0 (or later
// ones have run), each sidecar started.
bool PodInitialized(const PodView& view);

// The whole status object. `old_status` keeps conditions' transition
// times (and PodScheduled, which the scheduler writes); `now` is RFC 3339.
nlohmann::json BuildPodStatus(const nlohmann::json& pod, const PodView& view,
                              const nlohmann::json& old_status, const std::string& now);

// One containerStatuses entry.
nlohmann::json ContainerStatusJson(const ContainerView& c);

}  // namespace kubit::kubelet
