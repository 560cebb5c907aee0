#include "core/controllers/endpointslice_controller.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "core/controllers/controller_ref.h"
#include "core/controllers/endpoints_controller_pods.h"
#include "core/controllers/pod_state.h"

namespace kubit::controllers {

using client::Json;
using client::ObjectPtr;
using client::Status;

namespace {

const client::Resource kServices{"", "v1", "services"};
const client::Resource kPods{"", "v1", "pods"};
const client::Resource kSlices{"discovery.k8s.io", "v1", "endpointslices"};
constexpr const char* kSliceIndex = "endpointslice-service";

bool Managed(const Json& slice) {
  const Json labels = slice["metadata"].value("labels", Json::object());
  return labels.is_object() && labels.value(kManagedByLabel, "") == kEndpointSliceControllerName;
}

// Labels of the Service, plus the two that tie the slice to it.
Json SliceLabels(const Json& svc) {
  Json labels = svc["metadata"].value("labels", Json::object());
  if (!labels.is_object()) labels = Json::object();
  labels[kServiceNameLabel] = svc["metadata"].value("name", "");
  labels[kManagedByLabel] = kEndpointSliceControllerName;
  if (svc["spec"].value("clusterIP", "") == "None") labels["service.kubernetes.io/headless"] = "";
  return labels;
}

}  // namespace

std::vector<DesiredSlice> DesiredSlices(const Json& svc, const std::vector<ObjectPtr>& pods) {
  const Json spec = svc.value("spec", Json::object());
  const bool publish_unready = spec.value("publishNotReadyAddresses", false);
  const Json service_ports = spec.value("ports", Json::array());
  // (address type, ports as JSON text) -> endpoints
  std::map<std::pair<std::string, std::string>, Json> groups;
  for (const ObjectPtr& p : pods) {
    const Json& pod = *p;
    // Terminating pods stay, marked so (upstream's EndpointSliceTerminatingCondition).
    if (!PodInEndpoints(pod, true)) continue;
    const std::string ip = pod["status"]["podIP"];
    const std::string type = ip.find(':') != std::string::npos ? "IPv6" : "IPv4";
    Json ports = Json::array();
    for (const Json& sp : service_ports) {
      int port;
      if (!FindPodPort(pod, sp, &port)) continue;
      Json ep = {{"name", sp.value("name", "")}, {"port", port}, {"protocol", sp.value("protocol", "TCP")}};
      if (sp.contains("appProtocol")) ep["appProtocol"] = sp["appProtocol"];
      ports.push_back(ep);
    }
    std::sort(ports.begin(), ports.end(), [](const Json& a, const Json& b) {
      return a.value("name", "") != b.value("name", "") ? a.value("name", "") < b.value("name", "")
                                                        : a.value("port", 0) < b.value("port", 0);
    });
    const bool terminating = BeingDeleted(pod);
    const bool ready = IsPodReady(pod);
    Json endpoint = {{"addresses", {ip}},
                     {"conditions",
                      {{"ready", publish_unready || (ready && !terminating)},
                       {"serving", ready},
                       {"terminating", terminating}}},
                     {"targetRef", PodTargetRef(pod)}};
    const std::string node = pod.value("spec", Json::object()).value("nodeName", "");
    if (!node.empty()) endpoint["nodeName"] = node;
    const std::string hostname = EndpointHostname(pod, svc);
    if (!hostname.empty()) endpoint["hostname"] = hostname;
    Json& g = groups[{type, ports.dump()}];
    if (g.is_null()) g = Json::array();
    g.push_back(endpoint);
  }
  std::vector<DesiredSlice> out;
  for (auto& [k, endpoints] : groups) {
    std::sort(endpoints.begin(), endpoints.end(), [](const Json& a, const Json& b) {
      return a["addresses"][0].get<std::string>() != b["addresses"][0].get<std::string>()
                 ? a["addresses"][0].get<std::string>() < b["addresses"][0].get<std::string>()
                 : a["targetRef"].value("name", "") < b["targetRef"].value("name", "");
    });
    for (size_t i = 0; i < endpoints.size(); i += kMaxEndpointsPerSlice) {
      Json chunk = Json::array();
      for (size_t j = i; j < std::min(endpoints.size(), i + kMaxEndpointsPerSlice); j++) chunk.push_back(endpoints[j]);
      out.push_back({k.first, Json::parse(k.second), chunk});
    }
  }
  // No endpoints: one empty slice says the Service has none (upstream's placeholder).
  if (out.empty()) out.push_back({"IPv4", Json::array(), Json::array()});
  return out;
}

EndpointSliceController::EndpointSliceController(client::Client* client, client::SharedInformerFactory* informers,
                                                 Logger log)
    : client_(client),
      services_(informers->For(kServices)),
      pods_(informers->For(kPods)),
      slices_(informers->For(kSlices)),
      log_(log),
      loop_("endpointslice-controller",
            [this](const std::string& key) {
              // A conflict means the cache was behind the server: the newer
              // object's watch event queues the key again, so no back-off
              // (and no warning) is needed.
              Status s = Sync(key);
              return s.IsConflict() ? Status() : s;
            },
            log) {
  slices_->AddIndex(kSliceIndex, [](const Json& s) -> std::vector<std::string> {
    const Json labels = s["metadata"].value("labels", Json::object());
    if (!Managed(s) || !labels.contains(kServiceNameLabel)) return {};
    return {s["metadata"].value("namespace", "") + "/" + labels.value(kServiceNameLabel, "")};
  });
  client::EventHandlers svc_events;
  svc_events.on_add = [this](const ObjectPtr& o) { loop_.queue().Add(client::ObjectKey(*o)); };
  svc_events.on_update = [this](const ObjectPtr&, const ObjectPtr& o) { loop_.queue().Add(client::ObjectKey(*o)); };
  svc_events.on_delete = [this](const ObjectPtr& o, bool) { loop_.queue().Add(client::ObjectKey(*o)); };
  services_->AddHandler(svc_events);
  client::EventHandlers pod_events;
  pod_events.on_add = [this](const ObjectPtr& o) { EnqueueServicesOf(*o); };
  pod_events.on_update = [this](const ObjectPtr& old_obj, const ObjectPtr& o) {
    if ((*old_obj)["metadata"].value("resourceVersion", "") == (*o)["metadata"].value("resourceVersion", "")) return;
    EnqueueServicesOf(*old_obj);
    EnqueueServicesOf(*o);
  };
  pod_events.on_delete = [this](const ObjectPtr& o, bool) { EnqueueServicesOf(*o); };
  pods_->AddHandler(pod_events);
  // Our slices changed or deleted by someone else are put right.
  auto slice_changed = [this](const ObjectPtr& o) {
    if (!Managed(*o)) return;
    const Json labels = (*o)["metadata"]["labels"];
    loop_.queue().Add((*o)["metadata"].value("namespace", "") + "/" + labels.value(kServiceNameLabel, ""));
  };
  client::EventHandlers slice_events;
  slice_events.on_update = [slice_changed](const ObjectPtr&, const ObjectPtr& o) { slice_changed(o); };
  slice_events.on_delete = [slice_changed](const ObjectPtr& o, bool) { slice_changed(o); };
  slices_->AddHandler(slice_events);
}

void EndpointSliceController::Start(int workers) { loop_.Start(workers); }

void EndpointSliceController::Stop() { loop_.Stop(); }

void EndpointSliceController::EnqueueServicesOf(const Json& pod) {
  const std::string ns = pod["metadata"].value("namespace", "");
  for (const std::string& key : ServicesSelecting(services_->ByIndex(client::kNamespaceIndex, ns), pod))
    loop_.queue().Add(key);
}

Status EndpointSliceController::Sync(const std::string& key) {
  std::string ns, name;
  client::SplitKey(key, &ns, &name);
  ObjectPtr svc = services_->Get(key);
  // A deleted Service's slices go with it (ownerReferences, the garbage
  // collector); one that stopped selecting keeps none of ours.
  if (!svc) return Status();
  std::vector<ObjectPtr> existing = slices_->ByIndex(kSliceIndex, key);
  std::vector<DesiredSlice> desired;
  if (ServiceManagesEndpoints(*svc)) {
    std::vector<ObjectPtr> pods;
    for (const ObjectPtr& p : pods_->ByIndex(client::kNamespaceIndex, ns))
      if (ServiceSelects(*svc, *p)) pods.push_back(p);
    desired = DesiredSlices(*svc, pods);
  }
  const Json labels = SliceLabels(*svc);
  const Json owner_ref = ControllerRefFor(*svc);
  std::vector<bool> used(existing.size(), false);
  // Slices already right are left alone; others are rewritten in place
  // when their address type and ports fit, else made anew.
  std::vector<const DesiredSlice*> unplaced;
  for (const DesiredSlice& want : desired) {
    bool placed = false;
    for (size_t i = 0; i < existing.size() && !placed; i++) {
      const Json& s = *existing[i];
      if (used[i] || s.value("addressType", "") != want.address_type ||
          s.value("ports", Json::array()) != want.ports || s.value("endpoints", Json::array()) != want.endpoints ||
          s["metadata"].value("labels", Json::object()) != labels)
        continue;
      used[i] = placed = true;
    }
    if (!placed) unplaced.push_back(&want);
  }
  for (const DesiredSlice* want : unplaced) {
    int reuse = -1;
    for (size_t i = 0; i < existing.size() && reuse < 0; i++)
      if (!used[i] && existing[i]->value("addressType", "") == want->address_type) reuse = static_cast<int>(i);
    Json slice = reuse >= 0 ? *existing[reuse]
                            : Json{{"apiVersion", "discovery.k8s.io/v1"},
                                   {"kind", "EndpointSlice"},
                                   {"metadata", {{"generateName", name + "-"}, {"namespace", ns}}},
                                   {"addressType", want->address_type}};
    slice["metadata"]["labels"] = labels;
    slice["metadata"]["ownerReferences"] = Json::array({owner_ref});
    slice["ports"] = want->ports;
    slice["endpoints"] = want->endpoints;
    Status s;
    if (reuse >= 0) {
      used[reuse] = true;
      s = client_->Update(kSlices, ns, slice);
    } else {
      s = client_->Create(kSlices, ns, slice);
    }
    if (s.IsForbidden() && s.message().find("being terminated") != std::string::npos) return Status();
    if (!s.ok()) return s;  // Conflict: the cache lagged; sync again
  }
  for (size_t i = 0; i < existing.size(); i++) {
    if (used[i]) continue;
    client::DeleteOptions opts;
    opts.precondition_uid = (*existing[i])["metadata"].value("uid", "");
    Status s = client_->Delete(kSlices, ns, (*existing[i])["metadata"].value("name", ""), opts);
    if (!s.ok() && !s.IsNotFound() && !s.IsConflict()) return s;
  }
  return Status();
}

}  // namespace kubit::controllers
