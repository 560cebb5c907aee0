// ReplicaSetController: keeps spec.replicas pods of a ReplicaSet's
// template running, as upstream's replicaset controller:
//   - pods are claimed by selector and controller reference (adopted,
//     released; see controller_ref.h), and only active ones count;
//   - missing pods are created in slow-start batches (1, 2, 4, ... up to
//     `burst` per sync) so that a template the server refuses fails once,
//     not a thousand times; surplus pods are deleted in the order of
//     replicaset_pod_ranking.h;
//   - expectations keep a sync from acting while the informer has not yet
//     seen the pods it made or deleted;
//   - status: replicas, fullyLabeledReplicas, readyReplicas,
//     availableReplicas (ready for minReadySeconds), observedGeneration,
//     and the ReplicaFailure condition when creating or deleting fails;
//   - Events SuccessfulCreate "Created pod: x", SuccessfulDelete "Deleted
//     pod: x", FailedCreate, FailedDelete.
#pragma once

#include <string>

#include "core/client/client.h"
#include "core/client/event_recorder.h"
#include "core/client/informer.h"
#include "core/controllers/expectations.h"
#include "core/controllers/sync_loop.h"

namespace kubit::controllers {

class ReplicaSetController {
 public:
  // Registers its informers (replicasets, pods) with `informers`.
  ReplicaSetController(client::Client* client, client::SharedInformerFactory* informers, Logger log,
                       int burst = 500);
  void Start(int workers = 2);
  void Stop();
  client::Status Sync(const std::string& key);

 private:
  void EnqueueOwner(const client::Json& pod);
  void EnqueueMatching(const client::Json& pod);
  void OnPodAdd(const client::ObjectPtr& pod);
  void OnPodUpdate(const client::ObjectPtr& old_pod, const client::ObjectPtr& pod);
  void OnPodDelete(const client::ObjectPtr& pod);
  client::Status ManageReplicas(const client::Json& rs, const std::vector<client::ObjectPtr>& pods);
  client::Status CreatePods(const client::Json& rs, int count);
  client::Status DeletePods(const client::Json& rs, const std::vector<client::ObjectPtr>& pods, int count);
  client::Status UpdateStatus(const client::Json& rs, const std::vector<client::ObjectPtr>& pods,
                              const client::Status& manage_error);

  client::Client* client_;
  client::Informer* replicasets_;
  client::Informer* pods_;
  Logger log_;
  int burst_;
  client::EventRecorder events_;
  ControllerExpectations expectations_;
  SyncLoop loop_;
};

// A pod from a controller's pod template (labels, annotations, finalizers,
// spec), named by the server from generateName (5 random characters added), controlled by `owner`.
client::Json PodFromTemplate(const client::Json& tmpl, const client::Json& owner, const std::string& generate_name);

}  // namespace kubit::controllers
