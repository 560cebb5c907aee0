#include "runtime/kubelet/pod_status.h"

namespace kubit::kubelet {

using Json = nlohmann::json;

namespace {

Json TerminatedJson(const Terminated& t) {
  Json j = {{"exitCode", t.exit_code}, {"reason", t.reason}};
  if (t.signal) j["signal"] = t.signal;
  if (!t.message.empty()) j["message"] = t.message;
  j["startedAt"] = t.started_at.empty() ? Json(nullptr) : Json(t.started_at);
  j["finishedAt"] = t.finished_at.empty() ? Json(nullptr) : Json(t.finished_at);
  if (!t.container_id.empty()) j["containerID"] = t.container_id;
  return j;
}

std::string RestartPolicy(const Json& pod) {
  return pod.value("spec", Json::object()).value("restartPolicy", "Always");
}

std::string Names(const std::vector<std::string>& names) {
  std::string out = "[";
  for (size_t i = 0; i < names.size(); i++) out += (i ? " " : "") + names[i];
  return out + "]";
}

}  // namespace

Json ContainerStatusJson(const ContainerView& c) {
  Json state;
  switch (c.state) {
    case ContainerView::State::kWaiting: {
      Json w = Json::object();
      if (!c.reason.empty()) w["reason"] = c.reason;
      if (!c.message.empty()) w["message"] = c.message;
      state["waiting"] = w;
      break;
    }
    case ContainerView::State::kRunning:
      state["running"] = {{"startedAt", c.started_at}};
      break;
    case ContainerView::State::kTerminated:
      state["terminated"] = TerminatedJson(c.terminated);
      break;
  }
  Json j = {{"name", c.name},
            {"state", state},
            {"lastState", c.has_last ? Json{{"terminated", TerminatedJson(c.last)}} : Json::object()},
            {"ready", c.ready},
            {"restartCount", c.restart_count},
            {"image", c.image},
            {"imageID", c.image_id},
            {"started", c.started}};
  if (!c.container_id.empty()) j["containerID"] = c.container_id;
  return j;
}

bool PodInitialized(const PodView& view) {
  for (const auto& c : view.init) {
    if (c.sidecar) {
      if (!c.started) return false;
    } else if (!(c.state == ContainerView::State::kTerminated && c.terminated.exit_code == 0)) {
      return false;
    }
  }
  return true;
}

std::string PodPhase(const Json& pod, const PodView& view) {
  std::string policy = RestartPolicy(pod);
  // An init container that failed and will not be restarted fails the pod.
  for (const auto& c : view.init) {
    if (c.sidecar) continue;
    if (policy == "Never" && c.state == ContainerView::State::kTerminated &&
        c.terminated.exit_code != 0)
      return "Failed";
  }
  bool initialized = PodInitialized(view);
  int running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (const auto& c : view.app) {
    switch (c.state) {
      case ContainerView::State::kRunning:
        running++;
        break;
      case ContainerView::State::kTerminated:
        stopped++;
        if (c.terminated.exit_code == 0) succeeded++;
        break;
      case ContainerView::State::kWaiting:
        // Waiting to restart counts as stopped: the pod has run.
        if (c.has_last) stopped++;
        else waiting++;
        break;
    }
  }
  if (!initialized) return "Pending";
  if (waiting > 0) return "Pending";
  if (running > 0) return "Running";
  if (stopped > 0) {
    if (policy == "Always") return "Running";
    if (stopped == succeeded) return "Succeeded";
    if (policy == "Never") return "Failed";
    return "Running";
  }
  return "Pending";
}

Json BuildPodStatus(const Json& pod, const PodView& view, const Json& old_status,
                    const std::string& now) {
  Json status = Json::object();
  std::string phase = PodPhase(pod, view);
  status["phase"] = phase;
  bool initialized = PodInitialized(view);
  std::vector<std::string> not_ready, not_init;
  for (const auto& c : view.app)
    if (!c.ready) not_ready.push_back(c.name);
  for (const auto& c : view.init) {
    bool done = c.sidecar ? c.started
                          : c.state == ContainerView::State::kTerminated && c.terminated.exit_code == 0;
    if (!done) not_init.push_back(c.name);
  }
  bool completed = phase == "Succeeded" || phase == "Failed";

  struct Cond {
    std::string type;
    bool value;
    std::string reason, message;
  };
  std::vector<Cond> conds;
  conds.push_back({"PodReadyToStartContainers", view.sandbox_ready && !completed, "", ""});
  if (initialized || completed)
    conds.push_back({"Initialized", true, completed && !initialized ? "PodCompleted" : "", ""});
  else
    conds.push_back({"Initialized", false, "ContainersNotInitialized",
                     "containers with incomplete status: " + Names(not_init)});
  bool ready = not_ready.empty() && initialized && !view.app.empty();
  std::string reason, message;
  if (!ready) {
    if (completed) {
      reason = "PodCompleted";
    } else if (!initialized) {
      reason = "ContainersNotInitialized";
      message = "containers with incomplete status: " + Names(not_init);
    } else {
      reason = "ContainersNotReady";
      message = "containers with unready status: " + Names(not_ready);
    }
  }
  conds.push_back({"ContainersReady", ready, reason, message});
  conds.push_back({"Ready", ready, reason, message});

  Json out = Json::array();
  auto old_conditions = old_status.is_object() ? old_status.value("conditions", Json::array())
                                               : Json::array();
  for (const auto& c : conds) {
    std::string value = c.value ? "True" : "False";
    std::string since = now;
    for (const auto& o : old_conditions)
      if (o.value("type", "") == c.type && o.value("status", "") == value)
        since = o.value("lastTransitionTime", now);
    Json j = {{"type", c.type}, {"status", value}, {"lastProbeTime", nullptr},
              {"lastTransitionTime", since}};
    if (!c.reason.empty()) j["reason"] = c.reason;
    if (!c.message.empty()) j["message"] = c.message;
    out.push_back(j);
  }
  for (const auto& o : old_conditions)
    if (o.value("type", "") == "PodScheduled") out.push_back(o);
  status["conditions"] = out;

  if (!view.host_ip.empty()) {
    status["hostIP"] = view.host_ip;
    status["hostIPs"] = Json::array({{{"ip", view.host_ip}}});
  }
  if (!view.pod_ip.empty()) {
    status["podIP"] = view.pod_ip;
    status["podIPs"] = Json::array({{{"ip", view.pod_ip}}});
  }
  if (!view.start_time.empty()) status["startTime"] = view.start_time;
  if (old_status.is_object() && old_status.contains("qosClass"))
    status["qosClass"] = old_status["qosClass"];
  if (!view.init.empty()) {
    Json init = Json::array();
    for (const auto& c : view.init) init.push_back(ContainerStatusJson(c));
    status["initContainerStatuses"] = init;
  }
  Json app = Json::array();
  for (const auto& c : view.app) app.push_back(ContainerStatusJson(c));
  status["containerStatuses"] = app;
  return status;
}

}  // namespace kubit::kubelet
