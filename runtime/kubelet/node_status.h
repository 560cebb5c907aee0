// NodeStatus: this node's Node object and its heartbeat, as the kubelet
// keeps them. Registers the Node (labels, taints on first registration),
// renews the Lease kube-node-lease/<node> every 10 s (the heartbeat the
// node lifecycle controller watches; the store keeps Lease writes in
// memory between flushes, which spares the board's flash), and posts
// Node.status when it changes or every 5 minutes, as upstream's
// nodeStatusReportFrequency. Everything retries while the server is away.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/client/client.h"
#include "runtime/kubelet/host_info.h"

namespace kubit::kubelet {

struct NodeOptions {
  std::string name;
  std::string data_dir;
  std::vector<std::string> ips;                   // InternalIP addresses, first is primary
  std::map<std::string, std::string> labels;      // --node-label
  std::vector<std::string> taints;                // --node-taint "key=value:Effect"
  bool control_plane = false;                     // a server's own node
  std::string kubelet_version = "v1.32.0";
  std::string runtime_version = "kubit://0.0.0";
  std::function<void(const std::string& message)> log;
  // status.images (node_images.h), when set.
  std::function<nlohmann::json()> images;
  std::chrono::seconds lease_renew{10};
  int lease_duration_seconds = 40;
  std::chrono::seconds status_check{10};
  std::chrono::seconds status_report{300};
};

// The status a node reports: capacity, allocatable, conditions, addresses,
// nodeInfo. `previous` (the last status sent, or null) keeps condition
// transition times; `now` is RFC 3339.
nlohmann::json BuildNodeStatus(const NodeOptions& opts, const HostInfo& host,
                               const nlohmann::json& previous, const std::string& now);
// The Node object to create on first registration.
nlohmann::json BuildNode(const NodeOptions& opts, const HostInfo& host, const std::string& now);
// Parses "key=value:Effect" (or "key:Effect"); false with *error.
bool ParseTaint(const std::string& text, nlohmann::json* taint, std::string* error);

class NodeStatus {
 public:
  NodeStatus(client::Client* client, NodeOptions options);
  ~NodeStatus();  // stops
  NodeStatus(const NodeStatus&) = delete;
  NodeStatus& operator=(const NodeStatus&) = delete;

  void Start();
  void Stop();
  // The Node was registered (created or found) at least once.
  bool registered() const { return registered_; }

 private:
  void Run();
  bool Register(std::string* error);
  bool RenewLease(std::string* error);
  bool ReportStatus(bool force, std::string* error);
  void Log(const std::string& m) const;

  client::Client* client_;
  NodeOptions opts_;
  std::atomic<bool> registered_{false};
  std::string node_uid_;
  std::string last_status_;  // JSON text of the last status sent, heartbeat times removed
  std::chrono::steady_clock::time_point last_report_{};
  std::string last_error_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace kubit::kubelet
