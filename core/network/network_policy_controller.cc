#include "core/network/network_policy_controller.h"

#include <nlohmann/json.hpp>

#include "core/network/network_policy_model.h"

namespace kubit::network {

using client::ObjectPtr;

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
      namespaces_(informers_.For(kNamespaces)),
      loop_({opts_.debounce, opts_.min_sync_period, opts_.check_period},
            {[this](std::chrono::milliseconds t) { return informers_.WaitForSync(t); },
             [this] { return TablePresent(); }, [this] { return Sync(); }}) {
  client::EventHandlers h;
  h.on_add = [this](const ObjectPtr&) { loop_.Changed(); };
  h.on_update = [this](const ObjectPtr&, const ObjectPtr&) { loop_.Changed(); };
  h.on_delete = [this](const ObjectPtr&, bool) { loop_.Changed(); };
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
    if (started_ || stopped_) return;
    started_ = true;
  }
  net::NetworkPolicyFilter::Open(opts_.data_dir, &filter_);
  Log(false, "network policy: nftables table " + net::NetworkPolicyNftTableName(opts_.data_dir) +
                 "; same-bridge traffic: " + filter_->bridge_mode());
  informers_.Start();
  loop_.Start();
}

void NetworkPolicyController::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  loop_.Stop();
  informers_.Stop();
}

bool NetworkPolicyController::TablePresent() {
  bool present = false;
  std::string error;
  if (!filter_->TablePresent(&present, &error)) {
    Log(true, "network policy: " + error);
    return true;  // looked for again at the next check
  }
  if (!present)
    Log(true, "network policy: table " + net::NetworkPolicyNftTableName(opts_.data_dir) +
                  " is gone; programming it again");
  return present;
}

bool NetworkPolicyController::Sync() {
  std::vector<net::PodPolicy> model =
      NetworkPolicyModel(policies_->List(), pods_->List(), namespaces_->List(), opts_.node_name);
  std::string error;
  if (!filter_->Sync(model, &error)) {
    if (error != last_error_) Log(true, "network policy: " + error + " (retrying)");
    last_error_ = error;
    return false;  // tried again after min_sync_period
  }
  if (!last_error_.empty() || model.size() != last_count_)
    Log(false, "network policy: " + std::to_string(model.size()) + " isolated pods on this node");
  last_error_.clear();
  last_count_ = model.size();
  return true;
}

}  // namespace kubit::network
