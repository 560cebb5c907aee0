// JobController: runs a Job's pods to completion, as upstream's
// job-controller: parallelism and completions (NonIndexed and Indexed),
// backoffLimit with the exponential pod back-off, activeDeadlineSeconds,
// podFailurePolicy, suspend, ttlSecondsAfterFinished, and the status
// kubectl reads (active, ready, terminating, succeeded, failed, startTime,
// completionTime, completedIndexes, conditions SuccessCriteriaMet/Complete,
// FailureTarget/Failed, Suspended).
//
// Pods carry the batch.kubernetes.io/job-tracking finalizer until their end
// is recorded: first in status.uncountedTerminatedPods, then, once the
// finalizer is off, in the counters, so no pod is counted twice or lost
// even when the controller stops between the two writes.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/client/client.h"
#include "core/client/event_recorder.h"
#include "core/client/informer.h"
#include "core/controllers/expectations.h"
#include "core/controllers/job_controller_status.h"
#include "core/controllers/sync_loop.h"

namespace kubit::controllers {

struct JobControllerOptions {
  // The delay before replacing a failed pod doubles with each failure since
  // the last success, from `pod_failure_backoff` up to the maximum
  // (upstream's DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff).
  std::chrono::milliseconds pod_failure_backoff{10000};
  std::chrono::milliseconds max_pod_failure_backoff{600000};
};

class JobController {
 public:
  // Registers its informers (jobs, pods) with `informers`.
  JobController(client::Client* client, client::SharedInformerFactory* informers, Logger log,
                JobControllerOptions options = {});
  void Start(int workers = 2);
  void Stop();
  client::Status Sync(const std::string& key);

 private:
  struct Backoff {
    int failures = 0;  // since the last success
    std::chrono::steady_clock::time_point last_failure;
  };
  // One sync's view of the Job's pods.
  struct PodCensus;

  void OnPodEvent(const client::ObjectPtr& pod, bool deleted);
  void Census(const Json& job, const std::vector<client::ObjectPtr>& pods, PodCensus* c);
  client::Status ManagePods(const std::string& key, const Json& job, PodCensus* c);
  client::Status CreatePods(const std::string& key, const Json& job, const std::vector<int>& indexes,
                            int count);
  client::Status DeletePods(const std::string& key, const Json& job, const std::vector<client::ObjectPtr>& pods,
                            PodCensus* c);
  // Removes the tracking finalizer; NotFound counts as done.
  client::Status RemoveFinalizer(const std::string& key, const Json& pod);
  client::Status DeleteAfterTTL(const std::string& key, const Json& job);
  // Delay before the next replacement pod may be created (zero: now).
  std::chrono::milliseconds ReplacementDelay(const std::string& key);
  bool FinalizerRemovalPending(const std::string& key, const std::string& uid);
  void Log(LogLevel level, const std::string& m) const;

  client::Client* client_;
  client::Informer* jobs_;
  client::Informer* pods_;
  Logger log_;
  JobControllerOptions opts_;
  client::EventRecorder recorder_;
  ControllerExpectations expectations_;
  std::mutex mu_;  // the two maps below
  std::map<std::string, Backoff> backoff_;
  // Pods whose finalizer this controller removed and whose update the
  // informer has not shown yet: counted already, so not counted again.
  std::map<std::string, std::set<std::string>> finalizer_removals_;
  SyncLoop loop_;
};

}  // namespace kubit::controllers
