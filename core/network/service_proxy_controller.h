// ServiceProxyController: a node's part of Services, as kube-proxy:
// informers on Services and EndpointSlices feed net::ServiceProxy with
// the service ports of the cluster (service_proxy_ports.h) seen from this
// node. Changes are gathered for `debounce` and programmed at most once
// per `min_sync_period` (kube-proxy's minSyncPeriod), so a rollout that
// moves many slices costs a few transactions, not one per change; every
// `check_period` the table is looked for and made again if something
// removed it. Nothing is programmed before both caches hold their first
// lists (a half-read cluster would refuse live Services).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "core/client/client.h"
#include "core/client/informer.h"
#include "core/network/resync_loop.h"
#include "net/service_proxy.h"

namespace kubit::network {

struct ServiceProxyControllerOptions {
  std::string node_name;
  std::string data_dir;
  std::string cluster_cidr;  // "10.42.0.0/16"
  std::chrono::milliseconds debounce{100};
  std::chrono::milliseconds min_sync_period{1000};
  std::chrono::milliseconds check_period{30000};
  std::function<void(bool error, const std::string& message)> log;
};

class ServiceProxyController {
 public:
  // `client` must outlive the controller.
  ServiceProxyController(client::Client* client, ServiceProxyControllerOptions options);
  ~ServiceProxyController();  // stops
  ServiceProxyController(const ServiceProxyController&) = delete;
  ServiceProxyController& operator=(const ServiceProxyController&) = delete;

  // Opens the engine (false with *error: bad options) and starts watching.
  bool Start(std::string* error);
  void Stop();

 private:
  bool TablePresent();
  bool Sync();
  void Log(bool error, const std::string& message);

  ServiceProxyControllerOptions opts_;
  client::SharedInformerFactory informers_;
  client::Informer* services_;
  client::Informer* slices_;
  std::unique_ptr<net::ServiceProxy> proxy_;

  // Used by the sync thread alone.
  std::string last_error_;
  size_t last_count_ = SIZE_MAX;

  std::mutex mu_;  // started_, stopped_
  bool started_ = false, stopped_ = false;
  ResyncLoop loop_;
};

}  // namespace kubit::network
