// ResyncLoop: the loop of a node's parts that program the kernel from
// informers (the service proxy, network policy). Informer handlers call
// Changed(); changes are gathered for `debounce` and synced at most once
// per `min_sync_period` (kube-proxy's minSyncPeriod), so a burst costs a
// few transactions, not one per change; when `check_period` passes
// without one, `check` looks whether the kernel still holds what was
// programmed (something may have removed it) and a sync follows if not.
// Nothing syncs before `ready` says the inputs are complete (a half-read
// cluster would program too little).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace kubit::network {

struct ResyncLoopOptions {
  std::chrono::milliseconds debounce{100};
  std::chrono::milliseconds min_sync_period{1000};
  std::chrono::milliseconds check_period{30000};
};

struct ResyncHooks {
  // Waits up to the timeout; true once the inputs hold their first lists.
  std::function<bool(std::chrono::milliseconds timeout)> ready;
  // True when what was programmed is still there.
  std::function<bool()> check;
  // False: it failed and is tried again after min_sync_period.
  std::function<bool()> sync;
};

class ResyncLoop {
 public:
  ResyncLoop(ResyncLoopOptions options, ResyncHooks hooks);
  ~ResyncLoop();  // stops
  ResyncLoop(const ResyncLoop&) = delete;
  ResyncLoop& operator=(const ResyncLoop&) = delete;

  void Start();
  // Returns once the loop's thread has ended (a sync under way finishes).
  void Stop();
  void Changed();

 private:
  void Run();

  ResyncLoopOptions opts_;
  ResyncHooks hooks_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool dirty_ = true, stop_ = false;
  std::thread thread_;
};

}  // namespace kubit::network
