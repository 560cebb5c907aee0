// HorizontalPodAutoscalerController: autoscaling/v2 as upstream's
// podautoscaler: every 15 s each HPA reads its target's scale subresource,
// the resource metrics (cpu, memory: averageUtilization of the pods'
// requests, or averageValue) of the target's pods, computes the replicas
// (hpa_controller_replicas.h), keeps within min/max and spec.behavior,
// writes the scale, and reports status (currentReplicas, desiredReplicas,
// currentMetrics, lastScaleTime, conditions AbleToScale, ScalingActive,
// ScalingLimited) and SuccessfulRescale events.
//
// Usage comes through PodMetricsSource (hpa_metrics_client.h reads
// metrics.k8s.io); while it has none, an HPA reports ScalingActive False
// (FailedGetResourceMetric), as upstream does without metrics-server.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <string>

#include "core/client/client.h"
#include "core/client/event_recorder.h"
#include "core/client/informer.h"
#include "core/controllers/hpa_controller_replicas.h"
#include "core/controllers/sync_loop.h"

namespace kubit::controllers {

// Current usage of a resource by pods, as metrics.k8s.io PodMetrics give it.
class PodMetricsSource {
 public:
  virtual ~PodMetricsSource() = default;
  // Usage of `resource` ("cpu" in millicores, "memory" in milli-bytes) per
  // pod name, for the pods of `ns` matching `selector`.
  virtual client::Status ResourceUsage(const std::string& ns, const std::string& selector,
                                       const std::string& resource, std::map<std::string, int64_t>* milli) = 0;
};

class HorizontalPodAutoscalerController {
 public:
  // Registers its informers (horizontalpodautoscalers, pods). `metrics`
  // may be null (no metrics source); it must outlive the controller.
  HorizontalPodAutoscalerController(client::Client* client, client::SharedInformerFactory* informers, Logger log,
                                    PodMetricsSource* metrics,
                                    std::chrono::milliseconds sync_period = std::chrono::seconds(15));
  void Start(int workers = 1);
  void Stop();
  client::Status Sync(const std::string& key);

 private:
  struct History {
    std::deque<Recommendation> recommendations;
    std::deque<ScaleEvent> up, down;
  };
  // Replicas wanted by one Resource metric; its currentMetrics entry.
  client::Status MetricReplicas(const client::Json& metric, const std::string& ns, const std::string& selector,
                                int64_t current, int64_t* replicas, client::Json* status, std::string* reason);

  client::Client* client_;
  client::Informer* hpas_;
  client::Informer* pods_;
  PodMetricsSource* metrics_;
  std::chrono::milliseconds period_;
  client::EventRecorder recorder_;
  std::mutex mu_;
  std::map<std::string, History> history_;
  SyncLoop loop_;
};

}  // namespace kubit::controllers
