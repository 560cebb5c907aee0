// ControllerManager: the controllers `kubit server` runs, over one client
// and one set of shared informers, started and stopped together.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/client/client.h"
#include "core/client/informer.h"
#include "core/controllers/sync_loop.h"

namespace kubit::controllers {

class CronJobController;
class DaemonSetController;
class DisruptionController;
class StatefulSetController;
class DeploymentController;
class EndpointSliceController;
class EndpointsController;
class GarbageCollector;
class HorizontalPodAutoscalerController;
class IngressStatusController;
class JobController;
class LocalPathProvisioner;
class NamespaceController;
class NodeLifecycleController;
class PersistentVolumeBinderController;
class ReplicaSetController;
class NodeIpamController;
class ResourceMetricsClient;
class ResourceQuotaController;
class RootCAPublisher;
class ServiceAccountController;
class ServiceLBController;

struct ControllerManagerOptions {
  std::string ca_pem;  // the cluster CA, published as kube-root-ca.crt
  std::string cluster_cidr;  // nodes' podCIDRs come from here, a /node_cidr_mask_size each; empty: none
  int node_cidr_mask_size = 24;
  // A node whose Lease and status stay unchanged this long is Unknown
  // (kube-controller-manager's --node-monitor-grace-period).
  std::chrono::milliseconds node_monitor_grace_period{40000};
  // k3s's ServiceLB: LoadBalancer Services get the nodes' addresses (off
  // with `kubit server --disable servicelb`).
  bool servicelb = true;
  // k3s's local-path provisioner (off with `kubit server --disable local-storage`).
  bool local_storage = true;
  Logger log;
};

class ControllerManager {
 public:
  // `client` must outlive the manager.
  ControllerManager(client::Client* client, ControllerManagerOptions options);
  ~ControllerManager();  // stops
  // Starts the informers, waits (a while) for their first lists, then the
  // controllers' workers.
  void Start();
  void Stop();

 private:
  ControllerManagerOptions opts_;
  client::SharedInformerFactory informers_;
  std::unique_ptr<ServiceAccountController> service_accounts_;
  std::unique_ptr<RootCAPublisher> root_ca_;
  std::unique_ptr<NamespaceController> namespaces_;
  std::unique_ptr<NodeIpamController> node_ipam_;  // null without a cluster CIDR
  std::unique_ptr<GarbageCollector> garbage_collector_;
  std::unique_ptr<ReplicaSetController> replicasets_;
  std::unique_ptr<DeploymentController> deployments_;
  std::unique_ptr<EndpointsController> endpoints_;
  std::unique_ptr<EndpointSliceController> endpoint_slices_;
  std::unique_ptr<IngressStatusController> ingress_status_;
  std::unique_ptr<JobController> jobs_;
  std::unique_ptr<CronJobController> cronjobs_;
  std::unique_ptr<DaemonSetController> daemonsets_;
  std::unique_ptr<StatefulSetController> statefulsets_;
  std::unique_ptr<NodeLifecycleController> node_lifecycle_;
  std::unique_ptr<DisruptionController> disruption_;
  std::unique_ptr<ResourceMetricsClient> resource_metrics_;  // metrics.k8s.io, for the HPAs
  std::unique_ptr<HorizontalPodAutoscalerController> autoscalers_;
  std::unique_ptr<ResourceQuotaController> resource_quotas_;
  std::unique_ptr<ServiceLBController> servicelb_;  // null with --disable servicelb
  std::unique_ptr<PersistentVolumeBinderController> volume_binder_;
  std::unique_ptr<LocalPathProvisioner> local_path_;  // null with --disable local-storage
};

}  // namespace kubit::controllers
