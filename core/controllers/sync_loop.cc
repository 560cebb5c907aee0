#include "core/controllers/sync_loop.h"

namespace kubit::controllers {

SyncLoop::SyncLoop(std::string name, SyncFn sync, Logger log)
    : name_(std::move(name)), sync_(std::move(sync)), log_(std::move(log)) {}

SyncLoop::~SyncLoop() { Stop(); }

void SyncLoop::Start(int workers) {
  for (int i = 0; i < workers; i++) workers_.emplace_back([this] { Work(); });
}

void SyncLoop::Stop() {
  queue_.ShutDown();
  for (auto& t : workers_)
    if (t.joinable()) t.join();
  workers_.clear();
}

void SyncLoop::Work() {
  std::string key;
  while (queue_.Get(&key)) {
    client::Status s = sync_(key);
    if (s.ok()) {
      queue_.Forget(key);
    } else {
      if (log_)
        log_(LogLevel::kWarn, name_ + ": syncing \"" + key + "\" failed (try " +
                                  std::to_string(queue_.NumRequeues(key) + 1) + "): " + s.ToString());
      queue_.AddRateLimited(key);
    }
    queue_.Done(key);
  }
}

}  // namespace kubit::controllers
