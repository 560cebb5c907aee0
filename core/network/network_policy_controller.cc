#include "core/network/network_policy_controller.h"

#include <nlohmann/json.hpp>

#include "core/network/network_policy_model.h"

namespace kubit::network {

using client::ObjectPtr;
using Clock = std::chrono::steady_clock;

namespace {

const client::Resource kNetworkPolicies{"networking.k8s.io", "v1", "networkpolicies"};
const client::Resource kPods{"", "v1", "pods"};
const client::Resource kNamespaces{"", "v1", "namespaces"};

}  // namespace

NetworkPolicyController::NetworkPolicyController(client::Client* client, NetworkPolicyControllerOptions options)
    : opts_(std::move(options)),
      informers_(client, [this](const std::string& m) { Log(true, "network policy: informer: " + m); }),
      policies_(informers_.For(kNetworkPolicies)),
      pods_(informers_.For(kPods)),
      namespaces_(informers_.For(kNamespaces)) {
  client::EventHandlers h;
  h.on_add = [this](const ObjectPtr&) { Changed(); };
  h.on_update = [this](const ObjectPtr&, const ObjectPtr&) { Changed(); };
  h.on_delete = [this](const ObjectPtr&, bool) { Changed(); };
  policies_->AddHandler(h);
  pods_->AddHandler(h);
  namespaces_->AddHandler(h);
}

NetworkPolicyController::~NetworkPolicyController() { Stop(); }

void NetworkPolicyController::Log(bool error, const std::string& message) {
  if (opts_.log) opts_.log(error, message);
}

void NetworkPolicyController::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_ || stop_) return;
    started_ = true;
  }
  net::NetworkPolicyFilter::Open(opts_.data_dir, &filter_);
  Log(false, "network policy: nftables table " + net::NetworkPolicyNftTableName(opts_.data_dir) +
                 "; same-bridge traffic: " + filter_->bridge_mode());
  informers_.Start();
  thread_ = std::thread([this] { Run(); });
}

void NetworkPolicyController::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  informers_.Stop();
}

void NetworkPolicyController::Changed() {
  std::lock_guard<std::mutex> lock(mu_);
  dirty_ = true;
  cv_.notify_all();
}

void NetworkPolicyController::Run() {
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
        // Gathers the burst one change brings (a pod's updates while it
        // starts), and keeps syncs apart.
        Clock::time_point at = std::max(Clock::now() + opts_.debounce, last_sync + opts_.min_sync_period);
        cv_.wait_until(lock, at, [&] { return stop_; });
        if (stop_) return;
        dirty_ = false;
      }
    }
    if (!dirty) {
      bool present = false;
      std::string error;
      if (!filter_->TablePresent(&present, &error)) {
        Log(true, "network policy: " + error);
        continue;
      }
      if (present) continue;
      Log(true, "network policy: table " + net::NetworkPolicyNftTableName(opts_.data_dir) +
                    " is gone; programming it again");
    }
    last_sync = Clock::now();
    Sync();
  }
}

void NetworkPolicyController::Sync() {
  std::vector<net::PodPolicy> model =
      NetworkPolicyModel(policies_->List(), pods_->List(), namespaces_->List(), opts_.node_name);
  std::string error;
  if (!filter_->Sync(model, &error)) {
    if (error != last_error_) Log(true, "network policy: " + error + " (retrying)");
    last_error_ = error;
    // Tried again after min_sync_period.
    std::lock_guard<std::mutex> lock(mu_);
    dirty_ = true;
    return;
  }
  if (!last_error_.empty() || model.size() != last_count_)
    Log(false, "network policy: " + std::to_string(model.size()) + " isolated pods on this node");
  last_error_.clear();
  last_count_ = model.size();
}

}  // namespace kubit::network
