#include "core/network/service_proxy_controller.h"

#include <nlohmann/json.hpp>

#include "core/network/service_proxy_ports.h"

namespace kubit::network {

using client::Json;
using client::ObjectPtr;

namespace {

const client::Resource kServices{"", "v1", "services"};
const client::Resource kEndpointSlices{"discovery.k8s.io", "v1", "endpointslices"};
const char* kServiceNameIndex = "service-name";

}  // namespace

ServiceProxyController::ServiceProxyController(client::Client* client, ServiceProxyControllerOptions options)
    : opts_(std::move(options)),
      informers_(client, [this](const std::string& m) { Log(true, "service proxy: informer: " + m); }),
      services_(informers_.For(kServices)),
      slices_(informers_.For(kEndpointSlices)),
      loop_({opts_.debounce, opts_.min_sync_period, opts_.check_period},
            {[this](std::chrono::milliseconds t) { return informers_.WaitForSync(t); },
             [this] { return TablePresent(); }, [this] { return Sync(); }}) {
  slices_->AddIndex(kServiceNameIndex, [](const Json& s) -> std::vector<std::string> {
    const Json& m = s["metadata"];
    if (!m.contains("labels") || !m["labels"].is_object()) return {};
    std::string svc = m["labels"].value("kubernetes.io/service-name", "");
    if (svc.empty()) return {};
    return {m.value("namespace", "") + "/" + svc};
  });
  client::EventHandlers h;
  h.on_add = [this](const ObjectPtr&) { loop_.Changed(); };
  h.on_update = [this](const ObjectPtr&, const ObjectPtr&) { loop_.Changed(); };
  h.on_delete = [this](const ObjectPtr&, bool) { loop_.Changed(); };
  services_->AddHandler(h);
  slices_->AddHandler(h);
}

ServiceProxyController::~ServiceProxyController() { Stop(); }

void ServiceProxyController::Log(bool error, const std::string& message) {
  if (opts_.log) opts_.log(error, message);
}

bool ServiceProxyController::Start(std::string* error) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_ || stopped_) return true;
  }
  net::ServiceProxyOptions o;
  o.data_dir = opts_.data_dir;
  o.cluster_cidr = opts_.cluster_cidr;
  if (!net::ServiceProxy::Open(o, &proxy_, error)) return false;
  Log(false, "service proxy: nftables table " + net::ServiceNftTableName(opts_.data_dir) + "; same-bridge traffic: " +
                 proxy_->bridge_mode());
  {
    std::lock_guard<std::mutex> lock(mu_);
    started_ = true;
  }
  informers_.Start();
  loop_.Start();
  return true;
}

void ServiceProxyController::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  loop_.Stop();
  informers_.Stop();
}

bool ServiceProxyController::TablePresent() {
  bool present = false;
  std::string error;
  if (!proxy_->TablePresent(&present, &error)) {
    Log(true, "service proxy: " + error);
    return true;  // looked for again at the next check
  }
  if (!present)
    Log(true, "service proxy: table " + net::ServiceNftTableName(opts_.data_dir) + " is gone; programming it again");
  return present;
}

bool ServiceProxyController::Sync() {
  std::vector<net::ServicePortEntry> ports = ServicePortsFor(
      services_->List(),
      [this](const std::string& ns, const std::string& name) { return slices_->ByIndex(kServiceNameIndex, ns + "/" + name); },
      opts_.node_name);
  std::string error;
  if (!proxy_->Sync(ports, &error)) {
    if (error != last_error_) Log(true, "service proxy: " + error + " (retrying)");
    last_error_ = error;
    return false;  // tried again after min_sync_period
  }
  if (!last_error_.empty() || ports.size() != last_count_)
    Log(false, "service proxy: " + std::to_string(ports.size()) + " service ports programmed");
  last_error_.clear();
  last_count_ = ports.size();
  return true;
}

}  // namespace kubit::network
