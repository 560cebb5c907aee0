// NetworkPolicyController: a node's part of NetworkPolicy, as kube-router's
// network policy controller in k3s: informers on NetworkPolicies, Pods
// (labels, IPs, named ports, nodes: peers may run anywhere in the
// cluster) and Namespaces (labels) feed net::NetworkPolicyFilter with the
// model of this node's pods (network_policy_model.h). Changes are
// gathered for `debounce` and programmed at most once per
// `min_sync_period`; every `check_period` the table is looked for and
// made again if something removed it. Nothing is programmed before the
// three caches hold their first lists (a half-read cluster would isolate
// pods with too few peers allowed).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "core/client/client.h"
#include "core/client/informer.h"
#include "core/network/resync_loop.h"
#include "net/network_policy_rules.h"

namespace kubit::network {

struct NetworkPolicyControllerOptions {
  std::string node_name;
  std::string data_dir;
  std::chrono::milliseconds debounce{100};
  std::chrono::milliseconds min_sync_period{500};
  std::chrono::milliseconds check_period{30000};
  std::function<void(bool error, const std::string& message)> log;
};

class NetworkPolicyController {
 public:
  // `client` must outlive the controller.
  NetworkPolicyController(client::Client* client, NetworkPolicyControllerOptions options);
  ~NetworkPolicyController();  // stops
  NetworkPolicyController(const NetworkPolicyController&) = delete;
  NetworkPolicyController& operator=(const NetworkPolicyController&) = delete;

  void Start();
  void Stop();

 private:
  bool TablePresent();
  bool Sync();
  void Log(bool error, const std::string& message);

  NetworkPolicyControllerOptions opts_;
  client::SharedInformerFactory informers_;
  client::Informer* policies_;
  client::Informer* pods_;
  client::Informer* namespaces_;
  std::unique_ptr<net::NetworkPolicyFilter> filter_;

  // Used by the sync thread alone.
  std::string last_error_;
  size_t last_count_ = SIZE_MAX;

  std::mutex mu_;  // started_, stopped_
  bool started_ = false, stopped_ = false;
  ResyncLoop loop_;
};

}  // namespace kubit::network
