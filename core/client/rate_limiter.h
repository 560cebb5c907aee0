// RateLimiter: how long a controller waits before retrying a key, as
// client-go's DefaultControllerRateLimiter decides: the larger of a
// per-key exponential back-off (5 ms doubling per failure, at most
// 1000 s) and an overall token bucket (10 per second, bursts of 100) that
// keeps a storm of failing keys from hammering the API server.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace kubit::client {

struct RateLimiterOptions {
  std::chrono::nanoseconds base_delay = std::chrono::milliseconds(5);
  std::chrono::nanoseconds max_delay = std::chrono::seconds(1000);
  double qps = 10;
  double burst = 100;
  // The clock; tests pass their own.
  std::function<std::chrono::steady_clock::time_point()> now = std::chrono::steady_clock::now;
};

class RateLimiter {
 public:
  explicit RateLimiter(RateLimiterOptions options = {});
  // The wait before `key`'s next try; counts a failure for it.
  std::chrono::nanoseconds When(const std::string& key);
  // The key succeeded: its back-off starts again from the base.
  void Forget(const std::string& key);
  // Failures counted for `key` since it was last forgotten.
  int NumRequeues(const std::string& key) const;

 private:
  RateLimiterOptions opts_;
  mutable std::mutex mu_;
  std::map<std::string, int> failures_;
  double tokens_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace kubit::client
