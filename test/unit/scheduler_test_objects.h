// Nodes and pods as JSON for the scheduler's unit tests, and a Snapshot
// of them: the shapes kubectl would create, with only what a case sets.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/scheduler/framework.h"
#include "core/scheduler/pod_info.h"

namespace kubit::scheduler::testing {

using nlohmann::json;

// A node with allocatable cpu, memory and pods, labelled with its hostname.
inline json Node(const std::string& name, const std::string& cpu = "4", const std::string& memory = "8Gi",
                 const std::string& pods = "110") {
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata", {{"name", name}, {"labels", {{"kubernetes.io/hostname", name}}}}},
          {"spec", json::object()},
          {"status", {{"allocatable", {{"cpu", cpu}, {"memory", memory}, {"pods", pods}}}}}};
}

// A pod with one container asking for cpu and memory (empty: not at all).
inline json Pod(const std::string& name, const std::string& cpu = "", const std::string& memory = "",
                const std::string& ns = "default") {
  json requests = json::object();
  if (!cpu.empty()) requests["cpu"] = cpu;
  if (!memory.empty()) requests["memory"] = memory;
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", name}, {"namespace", ns}, {"uid", "uid-" + name}, {"creationTimestamp", "2024-01-01T00:00:00Z"}}},
          {"spec", {{"containers", {{{"name", "c"}, {"image", "busybox"}, {"resources", {{"requests", requests}}}}}}}}};
}

inline std::shared_ptr<const PodInfo> Info(const json& pod, int32_t priority = 0, bool never = false) {
  return NewPodInfo(std::make_shared<const json>(pod), {priority, never});
}

// The pod bound to `node` (spec.nodeName).
inline std::shared_ptr<const PodInfo> OnNode(json pod, const std::string& node, int32_t priority = 0) {
  pod["spec"]["nodeName"] = node;
  return Info(pod, priority);
}

inline std::shared_ptr<NodeInfo> NodeWith(const json& node, std::vector<std::shared_ptr<const PodInfo>> pods = {}) {
  auto n = std::make_shared<NodeInfo>();
  n->SetNode(std::make_shared<const json>(node));
  for (auto& p : pods) n->AddPod(p);
  return n;
}

inline Snapshot SnapshotOf(std::vector<std::shared_ptr<NodeInfo>> nodes,
                           std::map<std::string, json> namespace_labels = {}) {
  std::vector<std::shared_ptr<const NodeInfo>> out(nodes.begin(), nodes.end());
  return Snapshot(std::move(out), std::move(namespace_labels));
}

}  // namespace kubit::scheduler::testing
