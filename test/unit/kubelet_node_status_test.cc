// Unit tests of the Node object and status a node reports (runtime/kubelet/node_status.h).
#include "runtime/kubelet/node_status.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

namespace {

using Json = nlohmann::json;
using kubit::kubelet::BuildNode;
using kubit::kubelet::BuildNodeStatus;
using kubit::kubelet::HostInfo;
using kubit::kubelet::NodeOptions;

HostInfo Host() {
  HostInfo h;
  h.cpus = 4;
  h.memory_bytes = 8LL << 30;
  h.memory_available_bytes = 6LL << 30;
  h.storage_bytes = 100LL << 30;
  h.storage_free_bytes = 50LL << 30;
  h.architecture = "arm64";
  h.kernel_version = "6.1.0";
  h.os_image = "Debian";
  return h;
}

NodeOptions Options() {
  NodeOptions o;
  o.name = "board1";
  o.ips = {"10.0.0.5"};
  return o;
}

TEST_CASE("kubelet node status: capacity, allocatable less upstream's eviction thresholds") {
  Json st = BuildNodeStatus(Options(), Host(), Json(), "2026-01-01T00:00:00Z");
  CHECK(st["capacity"]["cpu"] == "4");
  CHECK(st["capacity"]["memory"] == "8388608Ki");
  CHECK(st["capacity"]["pods"] == "110");
  CHECK(st["allocatable"]["memory"] == "8286208Ki");  // less 100Mi
  CHECK(st["allocatable"]["ephemeral-storage"] == std::to_string((100LL << 30) - (100LL << 30) / 10));
  CHECK(st["nodeInfo"]["architecture"] == "arm64");
  CHECK(st["addresses"][0] == Json({{"type", "InternalIP"}, {"address", "10.0.0.5"}}));
  CHECK(st["addresses"][1] == Json({{"type", "Hostname"}, {"address", "board1"}}));
}

TEST_CASE("kubelet node status: conditions keep their transition time while unchanged") {
  Json first = BuildNodeStatus(Options(), Host(), Json(), "2026-01-01T00:00:00Z");
  Json later = BuildNodeStatus(Options(), Host(), first, "2026-01-01T00:05:00Z");
  for (const auto& c : later["conditions"]) {
    CHECK(c["lastHeartbeatTime"] == "2026-01-01T00:05:00Z");
    CHECK(c["lastTransitionTime"] == "2026-01-01T00:00:00Z");
  }
  CHECK(later["conditions"][3]["type"] == "Ready");
  CHECK(later["conditions"][3]["status"] == "True");
  HostInfo full = Host();
  full.storage_free_bytes = 1LL << 30;  // under 10% free
  Json pressed = BuildNodeStatus(Options(), full, later, "2026-01-01T00:06:00Z");
  CHECK(pressed["conditions"][1]["type"] == "DiskPressure");
  CHECK(pressed["conditions"][1]["status"] == "True");
  CHECK(pressed["conditions"][1]["reason"] == "KubeletHasDiskPressure");
  CHECK(pressed["conditions"][1]["lastTransitionTime"] == "2026-01-01T00:06:00Z");
}

TEST_CASE("kubelet node status: the Node's labels, role and taints") {
  NodeOptions o = Options();
  o.control_plane = true;
  o.labels["zone"] = "lab";
  o.taints = {"dedicated=edge:NoSchedule", "gpu:NoExecute"};
  Json node = BuildNode(o, Host(), "2026-01-01T00:00:00Z");
  const Json& labels = node["metadata"]["labels"];
  CHECK(labels["kubernetes.io/hostname"] == "board1");
  CHECK(labels["kubernetes.io/arch"] == "arm64");
  CHECK(labels["node-role.kubernetes.io/control-plane"] == "true");
  CHECK(labels["zone"] == "lab");
  REQUIRE(node["spec"]["taints"].size() == 2);
  CHECK(node["spec"]["taints"][0] == Json({{"key", "dedicated"}, {"value", "edge"}, {"effect", "NoSchedule"}}));
  CHECK(node["spec"]["taints"][1] == Json({{"key", "gpu"}, {"effect", "NoExecute"}}));
}

TEST_CASE("kubelet node status: bad taints are refused") {
  Json t;
  std::string error;
  CHECK_FALSE(kubit::kubelet::ParseTaint("dedicated=edge", &t, &error));
  CHECK(error.find("want key=value:Effect") != std::string::npos);
  CHECK_FALSE(kubit::kubelet::ParseTaint("a=b:Sometimes", &t, &error));
  CHECK_FALSE(kubit::kubelet::ParseTaint(":NoSchedule", &t, &error));
}

}  // namespace
