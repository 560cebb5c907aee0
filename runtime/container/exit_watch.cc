#include "runtime/container/exit_watch.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/container/state.h"

namespace kubit::runtime::container {

namespace {

int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

}  // namespace

ExitWatch::ExitWatch(std::function<void(const std::string& key)> on_exit) : on_exit_(std::move(on_exit)) {}

ExitWatch::~ExitWatch() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    if (write(wake_, &one, sizeof(one)) != sizeof(one)) {
      // An eventfd write fails only on overflow; the thread is woken anyway.
    }
    thread_.join();
  }
  for (auto& [key, fd] : fds_) close(fd);
  if (epoll_ >= 0) close(epoll_);
  if (wake_ >= 0) close(wake_);
}

bool ExitWatch::Start(std::string* error) {
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  wake_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_ < 0 || wake_ < 0) {
    *error = std::string("epoll/eventfd: ") + strerror(errno);
    return false;
  }
  // pidfd_open of this process tells whether the kernel has it (5.3+).
  int self = PidfdOpen(getpid());
  if (self < 0) {
    *error = std::string("pidfd_open: ") + strerror(errno);
    return false;
  }
  close(self);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_;
  if (epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &ev) != 0) {
    *error = std::string("epoll_ctl: ") + strerror(errno);
    return false;
  }
  thread_ = std::thread([this] { Run(); });
  return true;
}

void ExitWatch::Watch(const std::string& key, pid_t shim_pid, uint64_t shim_start) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (fds_.count(key)) return;
    int fd = shim_pid > 0 ? PidfdOpen(shim_pid) : -1;
    // Opened first, then checked: a start time that matches after the
    // open means the pidfd is that shim's.
    if (fd >= 0 && shim_start != 0 && ProcessStartTime(shim_pid) != shim_start) {
      close(fd);
      fd = -1;
    }
    if (fd >= 0) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = fd;
      if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) == 0) {
        fds_[key] = fd;
        keys_[fd] = key;
        return;
      }
      close(fd);
    }
  }
  // Gone already (or not watchable): the caller looks now.
  on_exit_(key);
}

void ExitWatch::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = fds_.find(key);
  if (it == fds_.end()) return;
  epoll_ctl(epoll_, EPOLL_CTL_DEL, it->second, nullptr);
  close(it->second);
  keys_.erase(it->second);
  fds_.erase(it);
}

size_t ExitWatch::watching() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fds_.size();
}

void ExitWatch::Run() {
  epoll_event events[32];
  while (true) {
    int n = epoll_wait(epoll_, events, 32, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      if (fd == wake_) return;
      std::string key;
      {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = keys_.find(fd);
        if (it == keys_.end()) continue;  // forgotten meanwhile
        key = it->second;
        epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
        close(fd);
        fds_.erase(key);
        keys_.erase(it);
      }
      on_exit_(key);
    }
  }
}

}  // namespace kubit::runtime::container
