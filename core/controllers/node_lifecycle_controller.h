// NodeLifecycleController: what happens to nodes that stop reporting and
// to their pods, as upstream's node lifecycle controller, taint manager and
// pod garbage collector:
//   - a node whose Lease (kube-node-lease) and Ready heartbeat have not
//     changed for the grace period gets its conditions Unknown
//     ("Kubelet stopped posting node status.");
//   - nodes carry the node.kubernetes.io taints their conditions call for
//     (not-ready/unreachable NoExecute and NoSchedule, pressure,
//     network-unavailable, unschedulable; node_lifecycle_controller_taints.h);
//   - pods on a node that is not Ready are marked not Ready;
//   - pods are evicted from NoExecute-tainted nodes as their tolerations
//     allow (a DisruptionTarget condition, then deletion);
//   - pods bound to nodes that no longer exist are deleted.
// Time since the last heartbeat is measured on this controller's clock
// (when it saw the heartbeat change), never against the kubelet's, so
// clock skew between boards cannot mark a node down.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "core/client/client.h"
#include "core/client/event_recorder.h"
#include "core/client/informer.h"
#include "core/controllers/sync_loop.h"

namespace kubit::controllers {

class NodeLifecycleController {
 public:
  // Registers its informers (nodes, leases, pods). `grace_period` is
  // kube-controller-manager's --node-monitor-grace-period.
  NodeLifecycleController(client::Client* client, client::SharedInformerFactory* informers, Logger log,
                          std::chrono::milliseconds grace_period);
  void Start();
  void Stop();
  // One pass over every node and its pods.
  client::Status Monitor();

 private:
  struct Heartbeat {
    std::string lease_renew, ready_heartbeat;  // as last seen
    std::chrono::steady_clock::time_point seen;
  };
  client::Status MonitorNode(const client::Json& node, int64_t now_unix, const std::string& now);
  client::Status HandlePods(const client::Json& node, int64_t now_unix, const std::string& now);
  client::Status CollectOrphanPods();

  client::Client* client_;
  client::Informer* nodes_;
  client::Informer* leases_;
  client::Informer* pods_;
  Logger log_;
  std::chrono::milliseconds grace_;
  std::chrono::milliseconds period_;
  client::EventRecorder recorder_;
  std::map<std::string, Heartbeat> heartbeats_;  // by node; the one worker's alone
  SyncLoop loop_;
};

}  // namespace kubit::controllers
