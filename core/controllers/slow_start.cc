#include "core/controllers/slow_start.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace kubit::controllers {

int SlowStartBatch(int count, const std::function<client::Status()>& fn, client::Status* error) {
  int successes = 0;
  for (int batch = 1, remaining = count; remaining > 0; batch *= 2) {
    const int n = std::min(batch, remaining);
    remaining -= n;
    std::atomic<int> next{0}, ok{0}, failed{0};
    std::mutex mu;
    auto work = [&] {
      while (next++ < n) {
        client::Status s = fn();
        if (s.ok()) {
          ok++;
          continue;
        }
        failed++;
        std::lock_guard<std::mutex> lock(mu);
        if (error->ok()) *error = s;
      }
    };
    const int threads = std::min(n, kSlowStartParallelism);
    if (threads == 1) {
      work();
    } else {
      std::vector<std::thread> pool;
      for (int t = 0; t < threads; t++) pool.emplace_back(work);
      for (auto& t : pool) t.join();
    }
    successes += ok;
    if (failed > 0) break;
  }
  return successes;
}

}  // namespace kubit::controllers
