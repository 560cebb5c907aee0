#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "core/network/resync_loop.h"

using kubit::network::ResyncHooks;
using kubit::network::ResyncLoop;
using kubit::network::ResyncLoopOptions;
using namespace std::chrono_literals;

namespace {

// Polls `cond` for up to 10 s (no timing is asserted: only that it comes).
template <typename F>
bool Eventually(F cond) {
  for (int i = 0; i < 1000; i++) {
    if (cond()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return cond();
}

}  // namespace

TEST_CASE("network resync loop: nothing before ready, a sync per change, retries, and the check") {
  std::atomic<bool> ready{false}, present{true}, fail_next{false};
  std::atomic<int> syncs{0}, attempts{0}, checks{0};
  std::atomic<int> changes_seen{0}, changes{0};
  ResyncHooks hooks;
  hooks.ready = [&](std::chrono::milliseconds t) {
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(t, 5ms));
    return ready.load();
  };
  hooks.check = [&] {
    checks++;
    return present.load();
  };
  hooks.sync = [&] {
    attempts++;
    if (fail_next.exchange(false)) return false;
    changes_seen = changes.load();
    syncs++;
    return true;
  };
  ResyncLoop loop(ResyncLoopOptions{5ms, 10ms, 30ms}, hooks);
  loop.Start();
  loop.Changed();
  std::this_thread::sleep_for(50ms);
  CHECK(attempts == 0);  // not ready: nothing programmed from half-read inputs

  ready = true;
  CHECK(Eventually([&] { return syncs == 1; }));

  // A burst: the last change is always seen by a sync that follows it.
  for (int i = 1; i <= 20; i++) {
    changes = i;
    loop.Changed();
  }
  CHECK(Eventually([&] { return changes_seen == 20; }));

  // A failed sync is tried again without a new change.
  int before = attempts;
  fail_next = true;
  changes = 21;
  loop.Changed();
  CHECK(Eventually([&] { return attempts >= before + 2 && changes_seen == 21; }));

  // Quiet: the check runs; a missing table brings a sync.
  CHECK(Eventually([&] { return checks >= 2; }));
  int synced = syncs;
  present = false;
  CHECK(Eventually([&] { return syncs > synced; }));
  loop.Stop();
  int after_stop = attempts;
  loop.Changed();
  std::this_thread::sleep_for(50ms);
  CHECK(attempts == after_stop);
}
