// Scheduler: kubit's kube-scheduler. Watches pods, nodes and what the
// plugins need through core/client informers; takes pending pods of
// schedulerName "default-scheduler" from the SchedulingQueue one at a
// time; assumes the chosen node in the ClusterCache and writes the
// pods/binding on a binder thread, so the next pod is scheduled meanwhile.
// A pod that fits nowhere may preempt lower-priority pods; otherwise it
// gets PodScheduled=False (reason Unschedulable, upstream's message) and a
// FailedScheduling Event, and waits in the queue for the cluster to change.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/client/informer.h"
#include "core/scheduler/cluster_cache.h"
#include "core/scheduler/event_recorder.h"
#include "core/scheduler/preemption.h"
#include "core/scheduler/schedule_pod.h"
#include "core/scheduler/scheduling_queue.h"
#include "core/scheduler/volume_binding.h"

namespace kubit::scheduler {

inline constexpr const char* kDefaultSchedulerName = "default-scheduler";

struct SchedulerOptions {
  std::string scheduler_name = kDefaultSchedulerName;
  SchedulingQueue::Options queue;
  // Threads writing bindings: each is a durable write, and the store
  // commits concurrent writes together, so more binders bind faster.
  int binders = 16;
  // error: true for failures; false for what an operator would like to see.
  std::function<void(bool error, const std::string& message)> log;
};

class Scheduler {
 public:
  // `client` and `informers` must outlive the scheduler; the informers it
  // needs are made through the factory (shared with others that ask).
  // Informers cannot drop handlers: stop the factory before destroying
  // the scheduler.
  Scheduler(client::Client* client, client::SharedInformerFactory* informers, SchedulerOptions options = {});
  ~Scheduler();  // Stop
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Registers handlers, starts the informers it uses, and schedules once
  // they have synced (on its own thread: Start does not wait).
  void Start();
  void Stop();

 private:
  struct Binding {
    SchedulingQueue::Item item;
    std::string node;
  };

  void HandlePodAdd(const client::ObjectPtr& pod);
  void HandlePodUpdate(const client::ObjectPtr& old_pod, const client::ObjectPtr& pod);
  void HandlePodDelete(const client::ObjectPtr& pod);
  bool Responsible(const client::Json& pod) const;
  PodInfo::Priority ResolvePriority(const client::Json& pod) const;
  std::optional<api::LabelSelector> DefaultSpreadSelector(const PodInfo& pod) const;
  std::vector<DisruptionBudget> Budgets() const;

  void Run();
  void ScheduleOne(const SchedulingQueue::Item& item);
  void HandleFailure(const SchedulingQueue::Item& item, const std::string& reason, const std::string& message,
                     const std::optional<std::string>& nominated_node, bool unschedulable);
  void PreemptVictims(const PodInfo& pod, const std::string& node,
                      const std::vector<std::shared_ptr<const PodInfo>>& victims,
                      const NominatedPods& nominated);
  void BindLoop();
  void Bind(const Binding& b);
  void Log(bool error, const std::string& message) const;

  client::Client* client_;
  client::SharedInformerFactory* factory_;
  SchedulerOptions opts_;
  client::Informer* pods_ = nullptr;
  client::Informer* nodes_ = nullptr;
  client::Informer* namespaces_ = nullptr;
  client::Informer* priority_classes_ = nullptr;
  client::Informer* budgets_ = nullptr;
  std::vector<client::Informer*> spreaders_;  // Services, ReplicaSets, StatefulSets
  std::unique_ptr<VolumeBinding> volume_binding_;

  ClusterCache cache_;
  SchedulingQueue queue_;
  PodScheduler algorithm_;
  EventRecorder events_;

  std::mutex bind_mu_;
  std::condition_variable bind_cv_;
  std::deque<Binding> bindings_;
  bool stopping_ = false;
  std::atomic<bool> started_{false};
  std::thread worker_;
  std::vector<std::thread> binders_;
};

}  // namespace kubit::scheduler
