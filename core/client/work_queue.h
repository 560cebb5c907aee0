// WorkQueue: the keys a controller has to sync, with client-go's
// guarantees: a key waiting twice is queued once; a key is never handed
// to two workers at once; a key added again while a worker has it is
// handed out again after that worker's Done. Keys can be added after a
// delay, or after the rate limiter's back-off (see rate_limiter.h).
//
//   std::string key;
//   while (queue.Get(&key)) {
//     if (Sync(key).ok()) queue.Forget(key); else queue.AddRateLimited(key);
//     queue.Done(key);
//   }
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "core/client/rate_limiter.h"

namespace kubit::client {

class WorkQueue {
 public:
  explicit WorkQueue(RateLimiterOptions limiter = {});

  void Add(const std::string& key);
  // Adds `key` once `delay` has passed (at once if not positive); a key
  // already waiting keeps the earlier of its two times.
  void AddAfter(const std::string& key, std::chrono::nanoseconds delay);
  // Adds `key` after its rate-limited back-off.
  void AddRateLimited(const std::string& key);
  // Ends `key`'s back-off (it synced); waits already scheduled stay.
  void Forget(const std::string& key);
  int NumRequeues(const std::string& key) const;

  // Blocks for the next key; false once the queue is shut down and has
  // nothing left to hand out. The caller must call Done(key) after.
  bool Get(std::string* key);
  void Done(const std::string& key);

  // Wakes every Get; keys still queued are handed out, nothing new (and
  // nothing delayed) is taken.
  void ShutDown();
  bool ShuttingDown() const;
  // Keys ready to be handed out (not those still delayed).
  size_t Len() const;

 private:
  void AddLocked(const std::string& key);
  void PromoteReadyLocked(std::chrono::steady_clock::time_point now);

  RateLimiter limiter_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> dirty_;       // waiting to be processed
  std::set<std::string> processing_;  // handed to a worker
  std::map<std::string, std::chrono::steady_clock::time_point> waiting_;  // AddAfter
  bool shutting_down_ = false;
};

}  // namespace kubit::client
