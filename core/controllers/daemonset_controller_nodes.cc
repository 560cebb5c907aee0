#include "core/controllers/daemonset_controller_nodes.h"

#include <memory>

#include "core/scheduler/node_info.h"
#include "core/scheduler/plugins.h"
#include "core/scheduler/pod_info.h"

namespace kubit::controllers {
namespace {

void AddToleration(Json* spec, const char* key, const char* effect) {
  Json& tols = (*spec)["tolerations"];
  if (!tols.is_array()) tols = Json::array();
  for (const Json& t : tols)
    if (t.value("key", "") == key && t.value("effect", "") == effect && t.value("operator", "") == "Exists") return;
  tols.push_back({{"key", key}, {"operator", "Exists"}, {"effect", effect}});
}

}  // namespace

Json DaemonPodTemplate(const Json& ds) {
  Json tmpl = ds["spec"].value("template", Json::object());
  Json& spec = tmpl["spec"];
  AddToleration(&spec, "node.kubernetes.io/not-ready", "NoExecute");
  AddToleration(&spec, "node.kubernetes.io/unreachable", "NoExecute");
  AddToleration(&spec, "node.kubernetes.io/disk-pressure", "NoSchedule");
  AddToleration(&spec, "node.kubernetes.io/memory-pressure", "NoSchedule");
  AddToleration(&spec, "node.kubernetes.io/pid-pressure", "NoSchedule");
  AddToleration(&spec, "node.kubernetes.io/unschedulable", "NoSchedule");
  if (spec.value("hostNetwork", false)) AddToleration(&spec, "node.kubernetes.io/network-unavailable", "NoSchedule");
  return tmpl;
}

void PinToNode(Json* pod_spec, const std::string& node) {
  Json fields = Json::array({{{"key", "metadata.name"}, {"operator", "In"}, {"values", {node}}}});
  Json& required = (*pod_spec)["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"];
  Json& terms = required["nodeSelectorTerms"];
  if (!terms.is_array() || terms.empty()) {
    terms = Json::array({{{"matchFields", fields}}});
    return;
  }
  for (Json& term : terms) term["matchFields"] = fields;
}

std::string TargetNodeName(const Json& pod) {
  const Json spec = pod.value("spec", Json::object());
  std::string name = spec.value("nodeName", "");
  if (!name.empty()) return name;
  const Json aff = spec.value("affinity", Json::object()).value("nodeAffinity", Json::object());
  const Json req = aff.value("requiredDuringSchedulingIgnoredDuringExecution", Json::object());
  for (const Json& term : req.value("nodeSelectorTerms", Json::array()))
    for (const Json& f : term.value("matchFields", Json::array()))
      if (f.value("key", "") == "metadata.name" && f.value("operator", "") == "In" &&
          f.value("values", Json::array()).size() == 1)
        return f["values"][0].get<std::string>();
  return "";
}

Placement NodeShouldRunDaemonPod(const Json& node, const Json& daemon_template) {
  const std::string node_name = node["metadata"].value("name", "");
  Json spec = daemon_template.value("spec", Json::object());
  const std::string wanted = spec.value("nodeName", "");
  if (!wanted.empty() && wanted != node_name) return {};
  spec.erase("nodeName");
  PinToNode(&spec, node_name);
  auto pod = std::make_shared<const Json>(Json{{"metadata", daemon_template.value("metadata", Json::object())},
                                               {"spec", spec}});
  auto info = scheduler::NewPodInfo(pod, {});
  scheduler::NodeInfo ni;
  ni.SetNode(std::make_shared<const Json>(node));
  if (!scheduler::MatchesRequiredNodeAffinity(*info, ni)) return {};
  bool untolerated_no_schedule = false, untolerated_no_execute = false;
  for (const scheduler::Taint& t : ni.taints) {
    if (t.effect != "NoSchedule" && t.effect != "NoExecute") continue;
    if (scheduler::Tolerates(info->tolerations, t)) continue;
    (t.effect == "NoExecute" ? untolerated_no_execute : untolerated_no_schedule) = true;
  }
  if (untolerated_no_schedule || untolerated_no_execute) return {false, !untolerated_no_execute};
  return {true, true};
}

std::string TemplateHash(const Json& pod_template, int64_t collision_count) {
  uint32_t h = 2166136261u;
  auto add = [&](const std::string& bytes) {
    for (unsigned char c : bytes) h = (h ^ c) * 16777619u;
  };
  add(pod_template.dump());
  if (collision_count > 0) add(std::to_string(collision_count));
  static const char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  for (char c : std::to_string(h)) out += kAlphabet[static_cast<unsigned char>(c) % (sizeof(kAlphabet) - 1)];
  return out;
}

}  // namespace kubit::controllers
