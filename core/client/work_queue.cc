#include "core/client/work_queue.h"

#include <algorithm>

namespace kubit::client {

using Clock = std::chrono::steady_clock;

WorkQueue::WorkQueue(RateLimiterOptions limiter) : limiter_(std::move(limiter)) {}

void WorkQueue::AddLocked(const std::string& key) {
  if (shutting_down_ || dirty_.count(key)) return;
  dirty_.insert(key);
  // A key being processed goes back in the queue at its Done.
  if (processing_.count(key)) return;
  queue_.push_back(key);
  cv_.notify_one();
}

void WorkQueue::Add(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  AddLocked(key);
}

void WorkQueue::AddAfter(const std::string& key, std::chrono::nanoseconds delay) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutting_down_) return;
  if (delay <= std::chrono::nanoseconds(0)) return AddLocked(key);
  auto at = Clock::now() + delay;
  auto [it, inserted] = waiting_.emplace(key, at);
  if (!inserted) it->second = std::min(it->second, at);
  // Waiting workers recompute how long to sleep.
  cv_.notify_all();
}

void WorkQueue::AddRateLimited(const std::string& key) { AddAfter(key, limiter_.When(key)); }

void WorkQueue::Forget(const std::string& key) { limiter_.Forget(key); }

int WorkQueue::NumRequeues(const std::string& key) const { return limiter_.NumRequeues(key); }

// Delayed keys whose time has come join the queue. Workers blocked in Get
// do this, so no timer thread is needed.
void WorkQueue::PromoteReadyLocked(Clock::time_point now) {
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->second <= now) {
      AddLocked(it->first);
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }
}

bool WorkQueue::Get(std::string* key) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (!shutting_down_) PromoteReadyLocked(Clock::now());
    if (!queue_.empty()) break;
    if (shutting_down_) return false;
    if (waiting_.empty()) {
      cv_.wait(lock);
    } else {
      auto next = std::min_element(waiting_.begin(), waiting_.end(),
                                   [](const auto& a, const auto& b) { return a.second < b.second; });
      cv_.wait_until(lock, next->second);
    }
  }
  *key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(*key);
  dirty_.erase(*key);
  return true;
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  processing_.erase(key);
  if (dirty_.count(key)) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::ShutDown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutting_down_ = true;
  waiting_.clear();
  cv_.notify_all();
}

bool WorkQueue::ShuttingDown() const {
  std::lock_guard<std::mutex> lock(mu_);
  return shutting_down_;
}

size_t WorkQueue::Len() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

}  // namespace kubit::client
