#include "core/network/service_proxy_controller.h"

#include <nlohmann/json.hpp>

#include "core/network/service_proxy_ports.h"

namespace kubit::network {

using client::Json;
using client::ObjectPtr;
using Clock = std::chrono::steady_clock;

namespace {

const client::Resource kServices{"", "v1", "services"};
const client::Resource kEndpointSlices{"discovery.k8s.io", "v1", "endpointslices"};
const char* kServiceNameIndex = "service-name";

}  // namespace

ServiceProxyController::ServiceProxyController(client::Client* client, ServiceProxyControllerOptions options)
    : opts_(std::move(options)),
      informers_(client, [this](const std::string& m) { Log(true, "service proxy: informer: " + m); }),
      services_(informers_.For(kServices)),
      slices_(informers_.For(kEndpointSlices)) {
  slices_->AddIndex(kServiceNameIndex, [](const Json& s) -> std::vector<std::string> {
    const Json& m = s["metadata"];
    if (!m.contains("labels") || !m["labels"].is_object()) return {};
    std::string svc = m["labels"].value("kubernetes.io/service-name", "");
    if (svc.empty()) return {};
    return {m.value("namespace", "") + "/" + svc};
  });
  client::EventHandlers h;
  h.on_add = [this](const ObjectPtr&) { Changed(); };
  h.on_update = [this](const ObjectPtr&, const ObjectPtr&) { Changed(); };
  h.on_delete = [this](const ObjectPtr&, bool) { Changed(); };
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
    if (started_) return true;
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
  thread_ = std::thread([this] { Run(); });
  return true;
}

void ServiceProxyController::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  informers_.Stop();
}

void ServiceProxyController::Changed() {
  std::lock_guard<std::mutex> lock(mu_);
  dirty_ = true;
  cv_.notify_all();
}

void ServiceProxyController::Run() {
  while (!informers_.WaitForSync(std::chrono::milliseconds(500))) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
  }
  Clock::time_point last_sync = Clock::now() - opts_.min_sync_period;
  for (;;) {
    bool dirty;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, opts_.check_period, [&] { return dirty_ || stop_; });
      if (stop_) return;
      dirty = dirty_;
      if (dirty) {
        // Gathers the burst one change brings, and keeps syncs apart.
        Clock::time_point at = std::max(Clock::now() + opts_.debounce, last_sync + opts_.min_sync_period);
        cv_.wait_until(lock, at, [&] { return stop_; });
        if (stop_) return;
        dirty_ = false;
      }
    }
    if (!dirty) {
      bool present = false;
      std::string error;
      if (!proxy_->TablePresent(&present, &error)) {
        Log(true, "service proxy: " + error);
        continue;
      }
      if (present) continue;
      Log(true, "service proxy: table " + net::ServiceNftTableName(opts_.data_dir) + " is gone; programming it again");
    }
    last_sync = Clock::now();
    Sync();
  }
}

void ServiceProxyController::Sync() {
  std::vector<net::ServicePortEntry> ports = ServicePortsFor(
      services_->List(),
      [this](const std::string& ns, const std::string& name) { return slices_->ByIndex(kServiceNameIndex, ns + "/" + name); },
      opts_.node_name);
  std::string error;
  if (!proxy_->Sync(ports, &error)) {
    if (error != last_error_) Log(true, "service proxy: " + error + " (retrying)");
    last_error_ = error;
    // Tried again after min_sync_period.
    std::lock_guard<std::mutex> lock(mu_);
    dirty_ = true;
    return;
  }
  if (!last_error_.empty() || ports.size() != last_count_)
    Log(false, "service proxy: " + std::to_string(ports.size()) + " service ports programmed");
  last_error_.clear();
  last_count_ = ports.size();
}

}  // namespace kubit::network
