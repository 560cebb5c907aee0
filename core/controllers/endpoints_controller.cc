#include "core/controllers/endpoints_controller.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "core/controllers/endpoints_controller_pods.h"
#include "core/controllers/pod_state.h"

namespace kubit::controllers {

using client::Json;
using client::ObjectPtr;
using client::Status;

namespace {

const client::Resource kServices{"", "v1", "services"};
const client::Resource kPods{"", "v1", "pods"};
const client::Resource kEndpoints{"", "v1", "endpoints"};
constexpr const char* kHeadlessLabel = "service.kubernetes.io/headless";
constexpr const char* kOverCapacityAnnotation = "endpoints.kubernetes.io/over-capacity";
constexpr size_t kMaxEndpointsAddresses = 1000;

void SortAddresses(Json* addrs) {
  std::sort(addrs->begin(), addrs->end(), [](const Json& a, const Json& b) {
    return a.value("ip", "") != b.value("ip", "") ? a.value("ip", "") < b.value("ip", "")
                                                  : a["targetRef"].value("name", "") < b["targetRef"].value("name", "");
  });
}

}  // namespace

Json EndpointSubsets(const Json& svc, const std::vector<ObjectPtr>& pods) {
  const Json spec = svc.value("spec", Json::object());
  const bool publish_unready = spec.value("publishNotReadyAddresses", false);
  const Json service_ports = spec.value("ports", Json::array());
  const bool headless = spec.value("clusterIP", "") == "None";
  // ports (as JSON text) -> {ready, not ready} addresses
  std::map<std::string, std::pair<Json, Json>> groups;
  for (const ObjectPtr& p : pods) {
    const Json& pod = *p;
    if (!PodInEndpoints(pod, publish_unready)) continue;
    Json addr = {{"ip", pod["status"]["podIP"]}, {"targetRef", PodTargetRef(pod)}};
    const std::string node = pod.value("spec", Json::object()).value("nodeName", "");
    if (!node.empty()) addr["nodeName"] = node;
    const std::string hostname = EndpointHostname(pod, svc);
    if (!hostname.empty()) addr["hostname"] = hostname;
    Json ports = Json::array();
    for (const Json& sp : service_ports) {
      int port;
      if (!FindPodPort(pod, sp, &port)) continue;  // this pod lacks the named port
      Json ep = {{"port", port}, {"protocol", sp.value("protocol", "TCP")}};
      if (sp.contains("name") && !sp.value("name", "").empty()) ep["name"] = sp["name"];
      if (sp.contains("appProtocol")) ep["appProtocol"] = sp["appProtocol"];
      ports.push_back(ep);
    }
    // A pod with none of the ports serves nothing, unless headless without ports.
    if (ports.empty() && !(headless && service_ports.empty())) continue;
    std::sort(ports.begin(), ports.end(), [](const Json& a, const Json& b) {
      return a.value("name", "") != b.value("name", "") ? a.value("name", "") < b.value("name", "")
                                                        : a.value("port", 0) < b.value("port", 0);
    });
    auto& g = groups[ports.dump()];
    if (g.first.is_null()) g = {Json::array(), Json::array()};
    (publish_unready || IsPodReady(pod) ? g.first : g.second).push_back(addr);
  }
  Json subsets = Json::array();
  for (auto& [ports_text, addrs] : groups) {
    Json subset = Json::object();
    SortAddresses(&addrs.first);
    SortAddresses(&addrs.second);
    if (!addrs.first.empty()) subset["addresses"] = addrs.first;
    if (!addrs.second.empty()) subset["notReadyAddresses"] = addrs.second;
    Json ports = Json::parse(ports_text);
    if (!ports.empty()) subset["ports"] = ports;
    subsets.push_back(subset);
  }
  return subsets;
}

bool TruncateEndpointSubsets(Json* subsets) {
  size_t ready = 0, not_ready = 0;
  for (const Json& s : *subsets) {
    ready += s.value("addresses", Json::array()).size();
    not_ready += s.value("notReadyAddresses", Json::array()).size();
  }
  if (ready + not_ready <= kMaxEndpointsAddresses) return false;
  // Too many ready ones: they are cut and the not-ready all go; else the
  // ready stay and the not-ready share what is left.
  const bool cut_ready = ready > kMaxEndpointsAddresses;
  const size_t room = cut_ready ? kMaxEndpointsAddresses : kMaxEndpointsAddresses - ready;
  const size_t total = cut_ready ? ready : not_ready;
  const char* field = cut_ready ? "addresses" : "notReadyAddresses";
  size_t left = room;
  for (Json& s : *subsets) {
    Json addrs = s.value(field, Json::array());
    size_t share = static_cast<size_t>(std::ceil(static_cast<double>(addrs.size()) / total * room));
    share = std::min({share, left, addrs.size()});
    addrs.erase(addrs.begin() + static_cast<std::ptrdiff_t>(share), addrs.end());
    left -= share;
    if (addrs.empty()) s.erase(field);
    else s[field] = addrs;
    if (cut_ready) s.erase("notReadyAddresses");
  }
  return true;
}

EndpointsController::EndpointsController(client::Client* client, client::SharedInformerFactory* informers,
                                         Logger log)
    : client_(client),
      services_(informers->For(kServices)),
      pods_(informers->For(kPods)),
      endpoints_(informers->For(kEndpoints)),
      log_(log),
      loop_("endpoint-controller",
            [this](const std::string& key) {
              // A conflict means the cache was behind the server: the newer
              // object's watch event queues the key again, so no back-off
              // (and no warning) is needed.
              Status s = Sync(key);
              return s.IsConflict() ? Status() : s;
            },
            log) {
  client::EventHandlers svc_events;
  svc_events.on_add = [this](const ObjectPtr& o) { loop_.queue().Add(client::ObjectKey(*o)); };
  svc_events.on_update = [this](const ObjectPtr&, const ObjectPtr& o) { loop_.queue().Add(client::ObjectKey(*o)); };
  svc_events.on_delete = [this](const ObjectPtr& o, bool) { loop_.queue().Add(client::ObjectKey(*o)); };
  services_->AddHandler(svc_events);
  client::EventHandlers pod_events;
  pod_events.on_add = [this](const ObjectPtr& o) { EnqueueServicesOf(*o); };
  pod_events.on_update = [this](const ObjectPtr& old_obj, const ObjectPtr& o) {
    if ((*old_obj)["metadata"].value("resourceVersion", "") == (*o)["metadata"].value("resourceVersion", "")) return;
    EnqueueServicesOf(*old_obj);  // labels may have changed: old and new services
    EnqueueServicesOf(*o);
  };
  pod_events.on_delete = [this](const ObjectPtr& o, bool) { EnqueueServicesOf(*o); };
  pods_->AddHandler(pod_events);
  // Someone else's change to managed Endpoints is put right.
  client::EventHandlers ep_events;
  ep_events.on_update = [this](const ObjectPtr&, const ObjectPtr& o) {
    if (services_->Get(client::ObjectKey(*o))) loop_.queue().Add(client::ObjectKey(*o));
  };
  ep_events.on_delete = [this](const ObjectPtr& o, bool) {
    if (services_->Get(client::ObjectKey(*o))) loop_.queue().Add(client::ObjectKey(*o));
  };
  endpoints_->AddHandler(ep_events);
}

void EndpointsController::Start(int workers) { loop_.Start(workers); }

void EndpointsController::Stop() { loop_.Stop(); }

void EndpointsController::EnqueueServicesOf(const Json& pod) {
  const std::string ns = pod["metadata"].value("namespace", "");
  for (const std::string& key : ServicesSelecting(services_->ByIndex(client::kNamespaceIndex, ns), pod))
    loop_.queue().Add(key);
}

Status EndpointsController::Sync(const std::string& key) {
  std::string ns, name;
  client::SplitKey(key, &ns, &name);
  ObjectPtr svc = services_->Get(key);
  if (!svc) {
    // The Service is gone: so are its Endpoints (if a selector made them,
    // which a deleted Service can no longer tell; upstream deletes them too).
    if (!endpoints_->Get(key)) return Status();
    Status s = client_->Delete(kEndpoints, ns, name);
    return s.IsNotFound() ? Status() : s;
  }
  if (!ServiceManagesEndpoints(*svc)) return Status();
  std::vector<ObjectPtr> pods;
  for (const ObjectPtr& p : pods_->ByIndex(client::kNamespaceIndex, ns))
    if (ServiceSelects(*svc, *p)) pods.push_back(p);
  Json subsets = EndpointSubsets(*svc, pods);
  const bool truncated = TruncateEndpointSubsets(&subsets);

  Json labels = (*svc)["metadata"].value("labels", Json::object());
  if (!labels.is_object()) labels = Json::object();
  if ((*svc)["spec"].value("clusterIP", "") == "None") labels[kHeadlessLabel] = "";
  else labels.erase(kHeadlessLabel);

  ObjectPtr current = endpoints_->Get(key);
  Json annotations = current ? (*current)["metadata"].value("annotations", Json::object()) : Json::object();
  if (!annotations.is_object()) annotations = Json::object();
  if (truncated) annotations[kOverCapacityAnnotation] = "truncated";
  else annotations.erase(kOverCapacityAnnotation);
  if (current && (*current).value("subsets", Json::array()) == subsets &&
      (*current)["metadata"].value("labels", Json::object()) == labels &&
      (*current)["metadata"].value("annotations", Json::object()) == annotations)
    return Status();
  Json ep = current ? *current
                    : Json{{"apiVersion", "v1"}, {"kind", "Endpoints"}, {"metadata", {{"name", name}, {"namespace", ns}}}};
  ep["metadata"]["labels"] = labels;
  if (annotations.empty()) ep["metadata"].erase("annotations");
  else ep["metadata"]["annotations"] = annotations;
  if (subsets.empty()) ep.erase("subsets");
  else ep["subsets"] = subsets;
  Status s = current ? client_->Update(kEndpoints, ns, ep) : client_->Create(kEndpoints, ns, ep);
  // The cache lags (AlreadyExists, Conflict): the newer object's event syncs again.
  if (s.IsAlreadyExists() || s.IsConflict()) return Status::Api(409, "Conflict", "endpoints " + key + " changed; retrying");
  if (s.IsForbidden() && s.message().find("being terminated") != std::string::npos) return Status();
  return s;
}

}  // namespace kubit::controllers
