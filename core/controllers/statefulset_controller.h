// StatefulSetController: pods with stable identities, as upstream's
// statefulset controller: <set>-<ordinal> from spec.ordinals.start, with
// hostname and subdomain (spec.serviceName) and the pod-name and pod-index
// labels; each volumeClaimTemplate's claim <template>-<set>-<ordinal> made
// before its pod (owned by the set when persistentVolumeClaimRetentionPolicy
// whenDeleted is Delete); OrderedReady (one pod at a time, each Running
// and Ready before the next; scale-down from the highest ordinal) or
// Parallel; pods claimed by selector (orphans adopted, non-matching ones
// released); failed pods made again; RollingUpdate from the highest ordinal
// down to the partition, one pod at a time, or OnDelete; ControllerRevisions
// and status replicas/ready/available/current/updated, currentRevision/
// updateRevision, observedGeneration, collisionCount.
#pragma once

#include <string>
#include <vector>

#include "core/client/client.h"
#include "core/client/event_recorder.h"
#include "core/client/informer.h"
#include "core/controllers/expectations.h"
#include "core/controllers/sync_loop.h"

namespace kubit::controllers {

class StatefulSetController {
 public:
  // Registers its informers (statefulsets, pods, persistentvolumeclaims,
  // controllerrevisions).
  StatefulSetController(client::Client* client, client::SharedInformerFactory* informers, Logger log);
  void Start(int workers = 2);
  void Stop();
  client::Status Sync(const std::string& key);

 private:
  // An orphan pod: the sets whose selector matches it may adopt it.
  void EnqueueMatching(const client::Json& pod);
  // The revision of the current template exists (made if not); its name.
  client::Status EnsureRevision(const client::Json& set, const std::string& key, std::string* revision);
  client::Status CreatePod(const client::Json& set, const std::string& key, const std::string& revision,
                           int64_t ordinal);
  client::Status DeletePod(const client::Json& set, const std::string& key, const client::Json& pod);

  client::Client* client_;
  client::Informer* sets_;
  client::Informer* pods_;
  client::Informer* claims_;
  client::Informer* revisions_;
  Logger log_;
  client::EventRecorder recorder_;
  ControllerExpectations expectations_;
  SyncLoop loop_;
};

}  // namespace kubit::controllers
