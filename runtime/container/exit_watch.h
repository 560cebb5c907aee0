// ExitWatch: tells when containers end, without polling. A container's
// shim writes the container's final state and then exits (shim.h), so
// the shim's exit is the moment that state can be read; each watched shim
// is a pidfd (pidfd_open, Linux 5.3) in one epoll set served by one
// thread. The kubelet wakes a pod's worker on it instead of looking at
// every container every second.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace kubit::runtime::container {

class ExitWatch {
 public:
  // `on_exit(key)` runs on the watch's thread, once per Watch, when the
  // shim has exited.
  explicit ExitWatch(std::function<void(const std::string& key)> on_exit);
  ~ExitWatch();  // stops the thread; pending watches are dropped
  ExitWatch(const ExitWatch&) = delete;
  ExitWatch& operator=(const ExitWatch&) = delete;

  // False with *error if the watch cannot work at all (no epoll or pidfd
  // support); callers then fall back to polling.
  bool Start(std::string* error);
  // Watches the shim `shim_pid` whose start time (state.h's
  // ProcessStartTime) is `shim_start`, under `key`. A key already watched
  // is left as it is. A shim already gone (or a pid reused since) reports
  // at once.
  void Watch(const std::string& key, pid_t shim_pid, uint64_t shim_start);
  // Drops the watch (no report follows).
  void Forget(const std::string& key);
  size_t watching() const;

 private:
  void Run();

  std::function<void(const std::string&)> on_exit_;
  int epoll_ = -1;
  int wake_ = -1;  // eventfd: Stop
  mutable std::mutex mu_;
  std::map<std::string, int> fds_;  // key -> pidfd
  std::map<int, std::string> keys_;  // pidfd -> key
  std::thread thread_;
};

}  // namespace kubit::runtime::container
