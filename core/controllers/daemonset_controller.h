// DaemonSetController: one pod of a DaemonSet on every node that should
// run it (daemonset_controller_nodes.h), as upstream's daemon controller:
// pods pinned by node affinity and bound by the scheduler, failed pods
// replaced, extra pods and pods on nodes that no longer fit deleted;
// ControllerRevisions named <set>-<hash> with the controller-revision-hash
// label on pods (revisionHistoryLimit old ones kept); updateStrategy
// RollingUpdate (maxUnavailable, or maxSurge: the new pod first, the old
// one once the new is available) and OnDelete; status desired/current/
// ready/available/unavailable/updated/misscheduled, observedGeneration,
// collisionCount; SuccessfulCreate/SuccessfulDelete/FailedDaemonPod events.
#pragma once

#include <string>
#include <vector>

#include "core/client/client.h"
#include "core/client/event_recorder.h"
#include "core/client/informer.h"
#include "core/controllers/expectations.h"
#include "core/controllers/sync_loop.h"

namespace kubit::controllers {

class DaemonSetController {
 public:
  // Registers its informers (daemonsets, pods, nodes, controllerrevisions).
  DaemonSetController(client::Client* client, client::SharedInformerFactory* informers, Logger log);
  void Start(int workers = 2);
  void Stop();
  client::Status Sync(const std::string& key);

 private:
  void EnqueueAll();
  // An orphan pod: the sets whose selector matches it may adopt it.
  void EnqueueMatching(const client::Json& pod);
  // The revision of the current template exists (made if not); its hash.
  client::Status EnsureRevision(const client::Json& ds, const std::string& key, std::string* hash);
  client::Status CleanupRevisions(const client::Json& ds, const std::string& key,
                                  const std::vector<client::ObjectPtr>& pods, const std::string& hash);
  client::Status CreatePods(const client::Json& ds, const std::string& key, const std::string& hash,
                            const std::vector<std::string>& nodes);
  client::Status DeletePods(const client::Json& ds, const std::string& key,
                            const std::vector<client::ObjectPtr>& pods);

  client::Client* client_;
  client::Informer* sets_;
  client::Informer* pods_;
  client::Informer* nodes_;
  client::Informer* revisions_;
  Logger log_;
  client::EventRecorder recorder_;
  ControllerExpectations expectations_;
  SyncLoop loop_;
};

}  // namespace kubit::controllers
