#include "core/scheduler/scheduling_queue.h"

namespace kubit::scheduler {
namespace {

// What of a pod matters for scheduling: upstream ignores status,
// resourceVersion, generation, managedFields and finalizers.
Json Relevant(const Json& pod) {
  Json p = pod;
  p.erase("status");
  if (p.contains("metadata") && p["metadata"].is_object())
    for (const char* f : {"resourceVersion", "generation", "managedFields", "finalizers"})
      p["metadata"].erase(f);
  return p;
}

}  // namespace

SchedulingQueue::Clock::duration SchedulingQueue::Backoff(int attempts) const {
  auto d = std::chrono::duration_cast<Clock::duration>(opts_.initial_backoff);
  for (int i = 1; i < attempts && d < opts_.max_backoff; i++) d *= 2;
  return std::min(d, std::chrono::duration_cast<Clock::duration>(opts_.max_backoff));
}

void SchedulingQueue::PushActiveLocked(Entry e) {
  active_.insert(Order(*e.pod));
  std::string key = e.pod->key;
  entries_active_[key] = std::move(e);
  cv_.notify_one();
}

void SchedulingQueue::MoveLocked(Entry e, Clock::time_point now) {
  if (e.backoff_until <= now) {
    PushActiveLocked(std::move(e));
  } else {
    std::string key = e.pod->key;
    backoff_[key] = std::move(e);
    cv_.notify_one();  // Pop's wait may now end sooner
  }
}

void SchedulingQueue::RemoveLocked(const std::string& key) {
  if (auto it = entries_active_.find(key); it != entries_active_.end()) {
    active_.erase(Order(*it->second.pod));
    entries_active_.erase(it);
  }
  backoff_.erase(key);
  unschedulable_.erase(key);
}

void SchedulingQueue::AddOrUpdate(std::shared_ptr<const PodInfo> pod) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string key = pod->key;
  if (auto it = in_flight_.find(key); it != in_flight_.end()) {
    it->second = std::move(pod);
    deleted_in_flight_.erase(key);
    return;
  }
  if (auto it = entries_active_.find(key); it != entries_active_.end()) {
    active_.erase(Order(*it->second.pod));
    it->second.pod = std::move(pod);
    active_.insert(Order(*it->second.pod));
    return;
  }
  if (auto it = backoff_.find(key); it != backoff_.end()) {
    it->second.pod = std::move(pod);
    return;
  }
  if (auto it = unschedulable_.find(key); it != unschedulable_.end()) {
    bool changed = Relevant(*it->second.pod->pod) != Relevant(*pod->pod);
    it->second.pod = std::move(pod);
    if (changed) {
      Entry e = std::move(it->second);
      unschedulable_.erase(it);
      MoveLocked(std::move(e), opts_.now());
    }
    return;
  }
  Entry e;
  e.pod = std::move(pod);
  PushActiveLocked(std::move(e));
}

void SchedulingQueue::Delete(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  RemoveLocked(key);
  nominated_.erase(key);
  if (in_flight_.count(key)) deleted_in_flight_.insert(key);
}

void SchedulingQueue::FlushLocked(Clock::time_point now) {
  for (auto it = backoff_.begin(); it != backoff_.end();) {
    if (it->second.backoff_until <= now) {
      PushActiveLocked(std::move(it->second));
      it = backoff_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = unschedulable_.begin(); it != unschedulable_.end();) {
    if (it->second.unschedulable_since + opts_.max_unschedulable <= now) {
      MoveLocked(std::move(it->second), now);
      it = unschedulable_.erase(it);
    } else {
      ++it;
    }
  }
}

bool SchedulingQueue::PopLocked(Item* out) {
  if (active_.empty()) return false;
  const std::string key = std::get<2>(*active_.begin());
  active_.erase(active_.begin());
  auto it = entries_active_.find(key);
  out->pod = it->second.pod;
  out->attempts = it->second.attempts + 1;
  out->cycle = ++cycle_;
  entries_active_.erase(it);
  in_flight_[key] = out->pod;
  return true;
}

bool SchedulingQueue::TryPop(Item* out) {
  std::lock_guard<std::mutex> lock(mu_);
  FlushLocked(opts_.now());
  return PopLocked(out);
}

bool SchedulingQueue::Pop(Item* out) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (closed_) return false;
    Clock::time_point now = opts_.now();
    FlushLocked(now);
    if (PopLocked(out)) return true;
    // Sleep until the next pod's backoff or unschedulable time is up.
    Clock::time_point wake = now + opts_.max_unschedulable;
    for (const auto& [k, e] : backoff_) wake = std::min(wake, e.backoff_until);
    for (const auto& [k, e] : unschedulable_) wake = std::min(wake, e.unschedulable_since + opts_.max_unschedulable);
    cv_.wait_for(lock, wake - now);
  }
}

void SchedulingQueue::Requeue(const Item& item, bool unschedulable) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string key = item.pod->key;
  auto it = in_flight_.find(key);
  std::shared_ptr<const PodInfo> latest = it == in_flight_.end() ? item.pod : it->second;
  if (it != in_flight_.end()) in_flight_.erase(it);
  if (deleted_in_flight_.erase(key)) return;
  Clock::time_point now = opts_.now();
  Entry e;
  e.pod = std::move(latest);
  e.attempts = item.attempts;
  e.backoff_until = now + Backoff(item.attempts);
  // A change during the attempt may already have made room: do not wait
  // for another one.
  if (!unschedulable || move_cycle_ >= item.cycle) {
    backoff_[key] = std::move(e);
    cv_.notify_one();
  } else {
    e.unschedulable_since = now;
    unschedulable_[key] = std::move(e);
  }
}

void SchedulingQueue::Done(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  in_flight_.erase(key);
  deleted_in_flight_.erase(key);
  nominated_.erase(key);
}

void SchedulingQueue::MoveAllToActiveOrBackoff() {
  std::lock_guard<std::mutex> lock(mu_);
  Clock::time_point now = opts_.now();
  for (auto& [key, e] : unschedulable_) MoveLocked(std::move(e), now);
  unschedulable_.clear();
  move_cycle_ = cycle_;
}

void SchedulingQueue::Nominate(const std::string& key, const std::string& node) {
  std::lock_guard<std::mutex> lock(mu_);
  nominated_[key] = node;
}

NominatedPods SchedulingQueue::Nominated() const {
  std::lock_guard<std::mutex> lock(mu_);
  NominatedPods out;
  auto add = [&](const std::shared_ptr<const PodInfo>& p) {
    auto it = nominated_.find(p->key);
    const std::string& node = it == nominated_.end() ? p->nominated_node_name : it->second;
    if (!node.empty()) out[node].push_back(p);
  };
  for (const auto& [k, e] : entries_active_) add(e.pod);
  for (const auto& [k, e] : backoff_) add(e.pod);
  for (const auto& [k, e] : unschedulable_) add(e.pod);
  for (const auto& [k, p] : in_flight_) add(p);
  return out;
}

void SchedulingQueue::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  cv_.notify_all();
}

size_t SchedulingQueue::ActiveSize() const {
  std::lock_guard<std::mutex> lock(mu_);
  return active_.size();
}
size_t SchedulingQueue::BackoffSize() const {
  std::lock_guard<std::mutex> lock(mu_);
  return backoff_.size();
}
size_t SchedulingQueue::UnschedulableSize() const {
  std::lock_guard<std::mutex> lock(mu_);
  return unschedulable_.size();
}

}  // namespace kubit::scheduler
