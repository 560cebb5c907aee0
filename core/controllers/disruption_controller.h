// DisruptionController: the status of PodDisruptionBudgets, which the
// eviction API judges by, as upstream's disruption controller:
// expectedPods (the selected pods, or, for maxUnavailable and percentages,
// the scale of their controllers: ReplicaSets, Deployments owning them,
// StatefulSets), desiredHealthy, currentHealthy (Ready pods not being
// deleted and not recently evicted), disruptionsAllowed, the
// DisruptionAllowed condition (SufficientPods, InsufficientPods,
// SyncFailed), observedGeneration, and disruptedPods entries dropped once
// their pod is going or two minutes have passed.
#pragma once

#include <string>

#include "core/client/client.h"
#include "core/client/informer.h"
#include "core/controllers/sync_loop.h"

namespace kubit::controllers {

class DisruptionController {
 public:
  // Registers its informers (poddisruptionbudgets, pods, replicasets,
  // deployments, statefulsets).
  DisruptionController(client::Client* client, client::SharedInformerFactory* informers, Logger log);
  void Start(int workers = 1);
  void Stop();
  client::Status Sync(const std::string& key);

 private:
  // The replicas the controllers of `pods` want, each counted once.
  client::Status ExpectedScale(const std::vector<client::ObjectPtr>& pods, int64_t* expected);
  void EnqueueFor(const client::Json& pod);

  client::Client* client_;
  client::Informer* budgets_;
  client::Informer* pods_;
  client::Informer* replicasets_;
  client::Informer* deployments_;
  client::Informer* statefulsets_;
  SyncLoop loop_;
};

}  // namespace kubit::controllers
