// SchedulingQueue: the pods waiting for a node, as upstream's
// PriorityQueue. Three parts:
//  - active: ready to be tried, highest priority first, then oldest;
//  - backoff: failed recently, waiting 1 s doubling per attempt up to 10 s;
//  - unschedulable: fit nowhere, waiting for the cluster to change
//    (MoveAllToActiveOrBackoff: a node added or changed, a pod deleted,
//    ...) or for 60 s to pass, whichever is first.
// A pod that fails while the cluster changed under its attempt goes to
// backoff rather than waiting for a change it already missed. The queue
// also remembers which node each pod was nominated for by preemption.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <tuple>

#include "core/scheduler/schedule_pod.h"

namespace kubit::scheduler {

class SchedulingQueue {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    std::chrono::milliseconds initial_backoff{1000};
    std::chrono::milliseconds max_backoff{10000};
    std::chrono::milliseconds max_unschedulable{60000};
    std::function<Clock::time_point()> now = [] { return Clock::now(); };
  };

  // A pod handed out by Pop.
  struct Item {
    std::shared_ptr<const PodInfo> pod;
    int attempts = 0;  // including this one
    uint64_t cycle = 0;
  };

  SchedulingQueue() : SchedulingQueue(Options{}) {}
  explicit SchedulingQueue(Options options) : opts_(std::move(options)) {}

  // A pending pod appeared or changed. A change to a pod waiting as
  // unschedulable gives it another try (after its backoff).
  void AddOrUpdate(std::shared_ptr<const PodInfo> pod);
  // The pod is gone, bound elsewhere or no longer ours.
  void Delete(const std::string& key);

  // Waits for a pod to be ready (false once closed).
  bool Pop(Item* out);
  // Pop without waiting: false when none is ready now.
  bool TryPop(Item* out);

  // The attempt failed. `unschedulable`: it fits nowhere (wait for a
  // change); otherwise an error (retry after backoff).
  void Requeue(const Item& item, bool unschedulable);
  // The attempt succeeded (the pod is assumed on a node): forget it.
  void Done(const std::string& key);

  // Something changed that may make unschedulable pods fit.
  void MoveAllToActiveOrBackoff();

  // Preemption chose `node` for the pod (empty: clear).
  void Nominate(const std::string& key, const std::string& node);
  NominatedPods Nominated() const;

  void Close();

  size_t ActiveSize() const;
  size_t BackoffSize() const;
  size_t UnschedulableSize() const;

 private:
  struct Entry {
    std::shared_ptr<const PodInfo> pod;
    int attempts = 0;
    Clock::time_point backoff_until{};
    Clock::time_point unschedulable_since{};
  };
  // Active order: higher priority, older, then by key.
  using ActiveKey = std::tuple<int64_t, std::string, std::string>;
  static ActiveKey Order(const PodInfo& p) { return {-int64_t(p.priority), p.creation_timestamp, p.key}; }

  Clock::duration Backoff(int attempts) const;
  void PushActiveLocked(Entry e);
  void MoveLocked(Entry e, Clock::time_point now);
  void FlushLocked(Clock::time_point now);
  bool PopLocked(Item* out);
  void RemoveLocked(const std::string& key);

  Options opts_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Entry> entries_active_;
  std::set<ActiveKey> active_;
  std::map<std::string, Entry> backoff_;
  std::map<std::string, Entry> unschedulable_;
  // Popped and being tried: the newest version of each, if it changed.
  std::map<std::string, std::shared_ptr<const PodInfo>> in_flight_;
  std::set<std::string> deleted_in_flight_;
  // pod key -> node, overriding the pod's status.nominatedNodeName until
  // the pod object catches up ("": cleared).
  std::map<std::string, std::string> nominated_;
  uint64_t cycle_ = 0;       // attempts handed out so far
  uint64_t move_cycle_ = 0;  // cycle_ at the last MoveAllToActiveOrBackoff
  bool closed_ = false;
};

}  // namespace kubit::scheduler
