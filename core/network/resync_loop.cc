#include "core/network/resync_loop.h"

#include <algorithm>

namespace kubit::network {

using Clock = std::chrono::steady_clock;

ResyncLoop::ResyncLoop(ResyncLoopOptions options, ResyncHooks hooks)
    : opts_(options), hooks_(std::move(hooks)) {}

ResyncLoop::~ResyncLoop() { Stop(); }

void ResyncLoop::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_ || thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void ResyncLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ResyncLoop::Changed() {
  std::lock_guard<std::mutex> lock(mu_);
  dirty_ = true;
  cv_.notify_all();
}

void ResyncLoop::Run() {
  while (!hooks_.ready(std::chrono::milliseconds(500))) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
  }
  Clock::time_point last_sync = Clock::now() - opts_.min_sync_period;
  for (;;) {
    bool dirty;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, opts_.check_period, [&] { return dirty_ || stop_; });
      if (stop_) return;
      dirty = dirty_;
      if (dirty) {
        // Gathers the burst one change brings (a pod's updates while it
        // starts), and keeps syncs apart.
        Clock::time_point at = std::max(Clock::now() + opts_.debounce, last_sync + opts_.min_sync_period);
        cv_.wait_until(lock, at, [&] { return stop_; });
        if (stop_) return;
        dirty_ = false;
      }
    }
    if (!dirty && hooks_.check()) continue;
    last_sync = Clock::now();
    if (!hooks_.sync()) {
      std::lock_guard<std::mutex> lock(mu_);
      dirty_ = true;
    }
  }
}

}  // namespace kubit::network
