// SyncLoop: the part every controller shares, as upstream's controllers
// do it: informer handlers put keys in a work queue; workers take them
// and call sync(key); a failed sync comes back after the queue's
// rate-limited back-off, a successful one resets it.
#pragma once

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/client/status.h"
#include "core/client/work_queue.h"

namespace kubit::controllers {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
// Where controllers log ("<controller>: <message>" lines).
using Logger = std::function<void(LogLevel level, const std::string& message)>;

class SyncLoop {
 public:
  using SyncFn = std::function<client::Status(const std::string& key)>;
  SyncLoop(std::string name, SyncFn sync, Logger log);
  ~SyncLoop();  // stops
  SyncLoop(const SyncLoop&) = delete;
  SyncLoop& operator=(const SyncLoop&) = delete;

  client::WorkQueue& queue() { return queue_; }
  void Start(int workers);
  // Shuts the queue down and waits for the workers to finish their keys.
  void Stop();

 private:
  void Work();

  std::string name_;
  SyncFn sync_;
  Logger log_;
  client::WorkQueue queue_;
  std::vector<std::thread> workers_;
};

}  // namespace kubit::controllers
