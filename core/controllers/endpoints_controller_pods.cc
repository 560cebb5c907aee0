#include "core/controllers/endpoints_controller_pods.h"

#include <nlohmann/json.hpp>


namespace kubit::controllers {

using client::Json;
using client::ObjectPtr;

bool ServiceManagesEndpoints(const Json& svc) {
  const Json& meta = svc["metadata"];
  if (meta.value("namespace", "") == "default" && meta.value("name", "") == "kubernetes") return false;
  const Json spec = svc.value("spec", Json::object());
  return spec.contains("selector") && spec["selector"].is_object() && !spec["selector"].empty() &&
         spec.value("type", "ClusterIP") != "ExternalName";
}

bool ServiceSelects(const Json& svc, const Json& pod) {
  if (!ServiceManagesEndpoints(svc)) return false;
  if (svc["metadata"].value("namespace", "") != pod["metadata"].value("namespace", "")) return false;
  const Json selector = svc["spec"]["selector"];
  const Json labels = pod["metadata"].value("labels", Json::object());
  for (auto it = selector.begin(); it != selector.end(); ++it)
    if (!labels.is_object() || !labels.contains(it.key()) || labels[it.key()] != it.value()) return false;
  return true;
}

std::vector<std::string> ServicesSelecting(const std::vector<ObjectPtr>& services, const Json& pod) {
  std::vector<std::string> keys;
  for (const ObjectPtr& s : services)
    if (ServiceSelects(*s, pod)) keys.push_back(client::ObjectKey(*s));
  return keys;
}

bool PodInEndpoints(const Json& pod, bool include_terminating) {
  const Json status = pod.value("status", Json::object());
  if (status.value("podIP", "").empty()) return false;
  // A pod that finished and will not be restarted serves nothing again.
  const std::string phase = status.value("phase", "");
  const std::string restart = pod.value("spec", Json::object()).value("restartPolicy", "Always");
  if (phase == "Failed" && restart == "Never") return false;
  if (phase == "Succeeded" && (restart == "Never" || restart == "OnFailure")) return false;
  const Json& meta = pod["metadata"];
  const bool deleting = meta.contains("deletionTimestamp") && !meta["deletionTimestamp"].is_null();
  return include_terminating || !deleting;
}

bool FindPodPort(const Json& pod, const Json& service_port, int* port) {
  const Json target = service_port.contains("targetPort") ? service_port["targetPort"] : service_port.value("port", Json());
  if (target.is_number()) {
    *port = target.get<int>();
    return true;
  }
  if (!target.is_string()) return false;
  const std::string name = target.get<std::string>();
  const std::string protocol = service_port.value("protocol", "TCP");
  for (const Json& c : pod.value("spec", Json::object()).value("containers", Json::array()))
    for (const Json& p : c.value("ports", Json::array()))
      if (p.value("name", "") == name && p.value("protocol", "TCP") == protocol) {
        *port = p.value("containerPort", 0);
        return true;
      }
  return false;
}

std::string EndpointHostname(const Json& pod, const Json& svc) {
  const Json spec = pod.value("spec", Json::object());
  if (spec.value("hostname", "").empty() || spec.value("subdomain", "") != svc["metadata"].value("name", "")) return "";
  return spec.value("hostname", "");
}

Json PodTargetRef(const Json& pod) {
  const Json& meta = pod["metadata"];
  return {{"kind", "Pod"},
          {"namespace", meta.value("namespace", "")},
          {"name", meta.value("name", "")},
          {"uid", meta.value("uid", "")}};
}

}  // namespace kubit::controllers
