#include "core/controllers/controller_manager.h"

#include "core/controllers/cronjob_controller.h"
#include "core/controllers/daemonset_controller.h"
#include "core/controllers/deployment_controller.h"
#include "core/controllers/disruption_controller.h"
#include "core/controllers/endpoints_controller.h"
#include "core/controllers/endpointslice_controller.h"
#include "core/controllers/garbage_collector.h"
#include "core/controllers/hpa_controller.h"
#include "core/controllers/hpa_metrics_client.h"
#include "core/controllers/ingress_status_controller.h"
#include "core/controllers/job_controller.h"
#include "core/controllers/local_path_provisioner.h"
#include "core/controllers/namespace_controller.h"
#include "core/controllers/replicaset_controller.h"
#include "core/controllers/node_ipam_controller.h"
#include "core/controllers/node_lifecycle_controller.h"
#include "core/controllers/pv_binder_controller.h"
#include "core/controllers/resourcequota_controller.h"
#include "core/controllers/root_ca_publisher.h"
#include "core/controllers/serviceaccount_controller.h"
#include "core/controllers/servicelb_controller.h"
#include "core/controllers/statefulset_controller.h"

namespace kubit::controllers {

ControllerManager::ControllerManager(client::Client* client, ControllerManagerOptions options)
    : opts_(std::move(options)),
      informers_(client, [log = opts_.log](const std::string& m) {
        if (log) log(LogLevel::kWarn, "informer: " + m);
      }) {
  service_accounts_ = std::make_unique<ServiceAccountController>(client, &informers_, opts_.log);
  root_ca_ = std::make_unique<RootCAPublisher>(client, &informers_, opts_.ca_pem, opts_.log);
  namespaces_ = std::make_unique<NamespaceController>(client, &informers_, opts_.log);
  garbage_collector_ = std::make_unique<GarbageCollector>(client, &informers_, opts_.log);
  replicasets_ = std::make_unique<ReplicaSetController>(client, &informers_, opts_.log);
  deployments_ = std::make_unique<DeploymentController>(client, &informers_, opts_.log);
  endpoints_ = std::make_unique<EndpointsController>(client, &informers_, opts_.log);
  endpoint_slices_ = std::make_unique<EndpointSliceController>(client, &informers_, opts_.log);
  ingress_status_ = std::make_unique<IngressStatusController>(client, &informers_, opts_.log);
  jobs_ = std::make_unique<JobController>(client, &informers_, opts_.log);
  cronjobs_ = std::make_unique<CronJobController>(client, &informers_, opts_.log);
  daemonsets_ = std::make_unique<DaemonSetController>(client, &informers_, opts_.log);
  statefulsets_ = std::make_unique<StatefulSetController>(client, &informers_, opts_.log);
  node_lifecycle_ =
      std::make_unique<NodeLifecycleController>(client, &informers_, opts_.log, opts_.node_monitor_grace_period);
  disruption_ = std::make_unique<DisruptionController>(client, &informers_, opts_.log);
  resource_metrics_ = std::make_unique<ResourceMetricsClient>(client);
  autoscalers_ =
      std::make_unique<HorizontalPodAutoscalerController>(client, &informers_, opts_.log, resource_metrics_.get());
  resource_quotas_ = std::make_unique<ResourceQuotaController>(client, &informers_, opts_.log);
  if (opts_.servicelb) servicelb_ = std::make_unique<ServiceLBController>(client, &informers_, opts_.log);
  volume_binder_ = std::make_unique<PersistentVolumeBinderController>(client, &informers_, opts_.log);
  if (opts_.local_storage) local_path_ = std::make_unique<LocalPathProvisioner>(client, &informers_, opts_.log);
  net::Ipv4Prefix cluster_cidr;
  std::string error;
  if (!opts_.cluster_cidr.empty()) {
    if (net::ParseIpv4Prefix(opts_.cluster_cidr, &cluster_cidr, &error) &&
        cluster_cidr.len <= opts_.node_cidr_mask_size && opts_.node_cidr_mask_size <= 30)
      node_ipam_ = std::make_unique<NodeIpamController>(client, &informers_, cluster_cidr,
                                                        opts_.node_cidr_mask_size, opts_.log);
    else if (opts_.log)
      opts_.log(LogLevel::kError, "controllers: no node IPAM: cluster CIDR \"" + opts_.cluster_cidr +
                                      "\" does not hold /" + std::to_string(opts_.node_cidr_mask_size) +
                                      " ranges " + error);
  }
}

ControllerManager::~ControllerManager() { Stop(); }

void ControllerManager::Start() {
  informers_.Start();
  // Workers judge by the caches: an empty one would have them create what
  // exists already. In-process the first lists take milliseconds.
  if (!informers_.WaitForSync(std::chrono::seconds(30)) && opts_.log)
    opts_.log(LogLevel::kWarn, "controllers: informers not synced after 30 s; starting anyway");
  service_accounts_->Start();
  root_ca_->Start();
  namespaces_->Start();
  if (node_ipam_) node_ipam_->Start();
  garbage_collector_->Start();
  replicasets_->Start();
  deployments_->Start();
  endpoints_->Start();
  endpoint_slices_->Start();
  ingress_status_->Start();
  jobs_->Start();
  cronjobs_->Start();
  daemonsets_->Start();
  statefulsets_->Start();
  node_lifecycle_->Start();
  disruption_->Start();
  autoscalers_->Start();
  resource_quotas_->Start();
  if (servicelb_) servicelb_->Start();
  volume_binder_->Start();
  if (local_path_) local_path_->Start();
}

void ControllerManager::Stop() {
  // Workers first (they use the caches), then the informers feeding them.
  if (local_path_) local_path_->Stop();
  volume_binder_->Stop();
  if (servicelb_) servicelb_->Stop();
  resource_quotas_->Stop();
  autoscalers_->Stop();
  disruption_->Stop();
  node_lifecycle_->Stop();
  statefulsets_->Stop();
  daemonsets_->Stop();
  cronjobs_->Stop();
  jobs_->Stop();
  ingress_status_->Stop();
  endpoint_slices_->Stop();
  endpoints_->Stop();
  deployments_->Stop();
  replicasets_->Stop();
  garbage_collector_->Stop();
  if (node_ipam_) node_ipam_->Stop();
  namespaces_->Stop();
  root_ca_->Stop();
  service_accounts_->Stop();
  informers_.Stop();
}

}  // namespace kubit::controllers
