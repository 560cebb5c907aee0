#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>

#include "runtime/container/exit_watch.h"
#include "runtime/container/state.h"

using kubit::runtime::container::ExitWatch;
using kubit::runtime::container::ProcessStartTime;

namespace {

// The keys reported, and a wait for one.
struct Reports {
  std::mutex mu;
  std::condition_variable cv;
  std::multiset<std::string> keys;

  void Add(const std::string& k) {
    std::lock_guard<std::mutex> lock(mu);
    keys.insert(k);
    cv.notify_all();
  }
  bool WaitFor(const std::string& k) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return keys.count(k) > 0; });
  }
  size_t Count(const std::string& k) {
    std::lock_guard<std::mutex> lock(mu);
    return keys.count(k);
  }
};

pid_t Sleeper() {
  pid_t p = fork();
  if (p == 0) {
    pause();
    _exit(0);
  }
  return p;
}

}  // namespace

TEST_CASE("container exit watch: reports a process's exit once, under its key") {
  Reports r;
  ExitWatch w([&](const std::string& k) { r.Add(k); });
  std::string error;
  REQUIRE_MESSAGE(w.Start(&error), error);
  pid_t a = Sleeper(), b = Sleeper();
  w.Watch("a", a, ProcessStartTime(a));
  w.Watch("a", a, ProcessStartTime(a));  // again: one watch
  w.Watch("b", b, ProcessStartTime(b));
  CHECK(w.watching() == 2);
  CHECK(r.Count("a") == 0);
  kill(a, SIGKILL);
  CHECK(r.WaitFor("a"));
  CHECK(r.Count("b") == 0);
  waitpid(a, nullptr, 0);

  // Forgotten: nothing comes when it ends.
  w.Forget("b");
  CHECK(w.watching() == 0);
  kill(b, SIGKILL);
  waitpid(b, nullptr, 0);
  CHECK(r.Count("a") == 1);
  CHECK(r.Count("b") == 0);
}

TEST_CASE("container exit watch: a process already gone, or a pid reused, reports at once") {
  Reports r;
  ExitWatch w([&](const std::string& k) { r.Add(k); });
  std::string error;
  REQUIRE_MESSAGE(w.Start(&error), error);
  pid_t gone = Sleeper();
  uint64_t start = ProcessStartTime(gone);
  kill(gone, SIGKILL);
  waitpid(gone, nullptr, 0);
  w.Watch("gone", gone, start);
  CHECK(r.Count("gone") == 1);

  // A live process whose start time is not the one recorded: another
  // process under a reused pid.
  pid_t other = Sleeper();
  w.Watch("reused", other, ProcessStartTime(other) + 1);
  CHECK(r.Count("reused") == 1);
  CHECK(w.watching() == 0);
  kill(other, SIGKILL);
  waitpid(other, nullptr, 0);
}
