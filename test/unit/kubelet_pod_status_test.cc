// Unit tests of pod status (runtime/kubelet/pod_status.h): phases by
// restart policy, conditions, container states.
#include "runtime/kubelet/pod_status.h"

#include <doctest/doctest.h>

namespace {

using Json = nlohmann::json;
using namespace kubit::kubelet;
using State = ContainerView::State;

Json Pod(const std::string& policy) {
  return {{"metadata", {{"name", "p"}}}, {"spec", {{"restartPolicy", policy}}}};
}

ContainerView Running(const std::string& name, bool ready = true) {
  ContainerView c;
  c.name = name;
  c.state = State::kRunning;
  c.started = true;
  c.ready = ready;
  return c;
}

ContainerView Exited(const std::string& name, int code) {
  ContainerView c;
  c.name = name;
  c.state = State::kTerminated;
  c.terminated.exit_code = code;
  c.terminated.reason = code == 0 ? "Completed" : "Error";
  return c;
}

ContainerView Waiting(const std::string& name, const std::string& reason, bool has_last) {
  ContainerView c;
  c.name = name;
  c.reason = reason;
  c.has_last = has_last;
  return c;
}

TEST_CASE("kubelet pod status: phase by restart policy") {
  PodView v;
  v.app = {Running("a"), Exited("b", 0)};
  CHECK(PodPhase(Pod("Always"), v) == "Running");
  v.app = {Exited("a", 0), Exited("b", 0)};
  CHECK(PodPhase(Pod("OnFailure"), v) == "Succeeded");
  CHECK(PodPhase(Pod("Never"), v) == "Succeeded");
  CHECK(PodPhase(Pod("Always"), v) == "Running");
  v.app = {Exited("a", 0), Exited("b", 1)};
  CHECK(PodPhase(Pod("Never"), v) == "Failed");
  CHECK(PodPhase(Pod("OnFailure"), v) == "Running");
  v.app = {Waiting("a", "ContainerCreating", false)};
  CHECK(PodPhase(Pod("Always"), v) == "Pending");
  v.app = {Waiting("a", "CrashLoopBackOff", true)};
  CHECK(PodPhase(Pod("Always"), v) == "Running");
}

TEST_CASE("kubelet pod status: init containers gate the pod; a failed one fails it under Never") {
  PodView v;
  v.init = {Exited("setup", 0), Running("migrate")};
  v.app = {Waiting("a", "PodInitializing", false)};
  CHECK(PodPhase(Pod("Always"), v) == "Pending");
  CHECK_FALSE(PodInitialized(v));
  v.init[1] = Exited("migrate", 2);
  CHECK(PodPhase(Pod("Never"), v) == "Failed");
  CHECK(PodPhase(Pod("OnFailure"), v) == "Pending");
  ContainerView sidecar = Running("proxy");
  sidecar.sidecar = true;
  v.init = {Exited("setup", 0), sidecar};
  CHECK(PodInitialized(v));
  v.init[1].started = false;
  CHECK_FALSE(PodInitialized(v));
}

TEST_CASE("kubelet pod status: conditions with reasons and kept transition times") {
  PodView v;
  v.sandbox_ready = true;
  v.pod_ip = "10.42.0.5";
  v.host_ip = "192.168.1.2";
  v.app = {Running("a"), Running("b", false)};
  Json old = {{"qosClass", "BestEffort"},
              {"conditions",
               {{{"type", "PodScheduled"}, {"status", "True"}, {"lastTransitionTime", "T0"}},
                {{"type", "Initialized"}, {"status", "True"}, {"lastTransitionTime", "T1"}}}}};
  Json st = BuildPodStatus(Pod("Always"), v, old, "T9");
  CHECK(st["phase"] == "Running");
  CHECK(st["podIP"] == "10.42.0.5");
  CHECK(st["podIPs"][0]["ip"] == "10.42.0.5");
  CHECK(st["hostIP"] == "192.168.1.2");
  CHECK(st["qosClass"] == "BestEffort");
  std::map<std::string, Json> c;
  for (const auto& x : st["conditions"]) c[x["type"]] = x;
  CHECK(c["PodScheduled"]["lastTransitionTime"] == "T0");
  CHECK(c["Initialized"]["status"] == "True");
  CHECK(c["Initialized"]["lastTransitionTime"] == "T1");
  CHECK(c["PodReadyToStartContainers"]["status"] == "True");
  CHECK(c["Ready"]["status"] == "False");
  CHECK(c["Ready"]["reason"] == "ContainersNotReady");
  CHECK(c["Ready"]["message"] == "containers with unready status: [b]");
  CHECK(c["ContainersReady"]["lastTransitionTime"] == "T9");
  v.app[1].ready = true;
  st = BuildPodStatus(Pod("Always"), v, old, "T9");
  CHECK(st["conditions"][3]["type"] == "Ready");
  CHECK(st["conditions"][3]["status"] == "True");
}

TEST_CASE("kubelet pod status: container statuses with state, lastState and ids") {
  ContainerView c = Waiting("a", "CrashLoopBackOff", true);
  c.message = "back-off 10s restarting failed container=a pod=p_ns(u)";
  c.last.exit_code = 1;
  c.last.reason = "Error";
  c.last.started_at = "S";
  c.last.finished_at = "F";
  c.last.container_id = "kubit://k8s_u_a_1";
  c.restart_count = 1;
  c.image = "busybox:1";
  Json j = ContainerStatusJson(c);
  CHECK(j["state"]["waiting"]["reason"] == "CrashLoopBackOff");
  CHECK(j["lastState"]["terminated"]["exitCode"] == 1);
  CHECK(j["lastState"]["terminated"]["containerID"] == "kubit://k8s_u_a_1");
  CHECK(j["restartCount"] == 1);
  CHECK(j["ready"] == false);
  CHECK(j["started"] == false);
  PodView v;
  v.app = {Exited("a", 0)};
  Json st = BuildPodStatus(Pod("Never"), v, Json::object(), "T");
  CHECK(st["phase"] == "Succeeded");
  CHECK(st["containerStatuses"][0]["state"]["terminated"]["reason"] == "Completed");
  CHECK(st["conditions"][3]["reason"] == "PodCompleted");
}

}  // namespace
