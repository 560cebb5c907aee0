// DeploymentController: rolls a Deployment's pod template out through
// ReplicaSets, as upstream's deployment controller:
//   - one ReplicaSet per template, named <deployment>-<pod-template-hash>
//     and selecting that label too; the revision annotation
//     (deployment.kubernetes.io/revision) on it and on the Deployment, so
//     `kubectl rollout history|undo` work; collisionCount on a hash clash;
//   - RollingUpdate within maxSurge/maxUnavailable (unhealthy old pods go
//     first), or Recreate (old pods gone before new ones start);
//   - a resize mid-rollout spreads over the ReplicaSets in proportion;
//   - paused Deployments only scale; revisionHistoryLimit old ReplicaSets
//     are kept, emptier ones beyond it deleted;
//   - status: observedGeneration, replicas, updatedReplicas,
//     readyReplicas, availableReplicas, unavailableReplicas,
//     collisionCount; conditions Available (MinimumReplicasAvailable /
//     MinimumReplicasUnavailable), Progressing (NewReplicaSetCreated,
//     FoundNewReplicaSet, ReplicaSetUpdated, NewReplicaSetAvailable,
//     ProgressDeadlineExceeded, DeploymentPaused, DeploymentResumed) and
//     ReplicaFailure copied from the ReplicaSets;
//   - Events ScalingReplicaSet "Scaled up replica set x from 0 to 3".
// The code is split: deployment_controller.cc (informers, sync, the new
// ReplicaSet, writes) and deployment_rollout.cc (the strategies, scaling,
// cleanup, rollout status).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/client/client.h"
#include "core/client/event_recorder.h"
#include "core/client/informer.h"
#include "core/controllers/sync_loop.h"

namespace kubit::controllers {

class DeploymentController {
 public:
  // Registers its informers (deployments, replicasets, pods) with `informers`.
  DeploymentController(client::Client* client, client::SharedInformerFactory* informers, Logger log);
  void Start(int workers = 2);
  void Stop();
  client::Status Sync(const std::string& key);

 private:
  // The ReplicaSets of one Deployment during a sync: `rss` all of them
  // (claimed), `new_rs` the index of the one matching the template or -1.
  struct State {
    client::Json d;
    std::vector<client::Json> rss;
    int new_rs = -1;
    std::vector<client::Json> Olds() const;
    const client::Json* NewRS() const { return new_rs < 0 ? nullptr : &rss[new_rs]; }
  };

  void EnqueueOwner(const client::Json& rs);
  void EnqueueMatching(const client::Json& rs);
  client::Status ClaimReplicaSets(const client::Json& d, std::vector<client::Json>* out);

  // deployment_controller.cc
  client::Status FindOrCreateNewRS(State* st, bool create);
  client::Status WriteStatus(State* st, const client::Json& status);
  client::Status WriteRevision(State* st, int64_t revision);
  client::Status CheckPausedConditions(State* st);
  bool IsScalingEvent(const State& st) const;
  // Sets spec.replicas and the replica annotations; an Event when the size changes.
  client::Status ScaleReplicaSet(State* st, int index, int64_t size, const std::string& operation);
  client::Status ScaleAndRecord(State* st, int index, int64_t size, bool* scaled);

  // deployment_rollout.cc
  client::Status RolloutRolling(State* st);
  client::Status RolloutRecreate(State* st);
  client::Status SyncScaleOnly(State* st);
  client::Status Scale(State* st);
  client::Status ReconcileNewReplicaSet(State* st, bool* scaled);
  client::Status ReconcileOldReplicaSets(State* st, bool* scaled);
  client::Status CleanupDeployment(State* st);
  client::Status SyncRolloutStatus(State* st);
  client::Status SyncStatusOnly(State* st);
  bool OldPodsRunning(const State& st) const;

  client::Client* client_;
  client::Informer* deployments_;
  client::Informer* replicasets_;
  client::Informer* pods_;
  Logger log_;
  client::EventRecorder events_;
  SyncLoop loop_;
};

}  // namespace kubit::controllers
