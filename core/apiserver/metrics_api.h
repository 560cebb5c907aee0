// MetricsApi: metrics.k8s.io/v1beta1 served by the API server itself, as
// k3s's bundled metrics-server serves it through the aggregator. Every
// resolution (metrics-server's --metric-resolution, 15 s) each Ready
// node's kubelet is scraped at /metrics/resource through its tunnel
// (node_tunnel.h); CPU is the rate between a node's or container's last
// two points (metrics_api_store.h); only the latest usage is kept, in
// memory.
//
//   GET /apis/metrics.k8s.io/v1beta1/nodes[/{name}]                 NodeMetrics
//   GET /apis/metrics.k8s.io/v1beta1/pods                           PodMetrics, all namespaces
//   GET /apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods[/{name}]
//
// Lists take labelSelector (the node's or pod's labels) and fieldSelector
// (metadata.name, metadata.namespace), as metrics-server's. A node or pod
// that exists but has no usage yet is left out of lists and is NotFound
// by name (nodemetrics.metrics.k8s.io "x" not found), as upstream's.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <thread>

#include "core/apiserver/metrics_api_store.h"
#include "core/apiserver/node_tunnel.h"
#include "core/apiserver/request_info.h"
#include "store/store.h"

namespace kubit::net {
struct HttpRequest;
class HttpResponse;
}  // namespace kubit::net

namespace kubit::apiserver {

inline constexpr char kMetricsGroup[] = "metrics.k8s.io";

struct MetricsApiOptions {
  bool enabled = true;  // false: `kubit server --disable metrics-server`
  std::chrono::milliseconds resolution{15000};
  // Told when a node's scrape starts failing or works again.
  std::function<void(const std::string&)> log;
  // Reads a node's /metrics/resource text; unset: from its kubelet through
  // its tunnel. Tests give the kubelets' answers here.
  std::function<bool(const std::string& node, std::string* text, std::string* error)> scrape;
};

class MetricsApi {
 public:
  MetricsApi(store::Store* state, NodeTunnels* tunnels, MetricsApiOptions options);
  ~MetricsApi() { Stop(); }
  MetricsApi(const MetricsApi&) = delete;
  MetricsApi& operator=(const MetricsApi&) = delete;

  bool enabled() const { return opts_.enabled; }
  // Starts scraping (nothing when disabled).
  void Start();
  void Stop();

  // A metrics.k8s.io resource request, already authorized.
  void Serve(const RequestInfo& info, net::HttpRequest& req, net::HttpResponse& resp);

  // Discovery: the group's entry for /apis and for the aggregated
  // discovery.
  static nlohmann::json GroupEntry();
  static nlohmann::json AggregatedGroup();
  // Serves /apis/metrics.k8s.io[/v1beta1] (APIGroup, APIResourceList);
  // false for any other path.
  bool ServeDiscovery(const std::string& path, net::HttpResponse& resp) const;

 private:
  // One round of scrapes of every Ready node, stored.
  void ScrapeOnce();
  // The /metrics/resource text of `node`'s kubelet, through its tunnel.
  bool ScrapeNode(const std::string& node, std::string* text, std::string* error);
  void Loop();

  store::Store* state_;
  NodeTunnels* tunnels_;
  MetricsApiOptions opts_;
  MetricsStore points_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<std::string, std::string> failing_;  // node -> its scrape's error; loop thread only
  std::thread loop_;
};

}  // namespace kubit::apiserver
