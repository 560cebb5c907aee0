#include "core/client/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace kubit::client {

RateLimiter::RateLimiter(RateLimiterOptions options)
    : opts_(std::move(options)), tokens_(opts_.burst), last_(opts_.now()) {}

std::chrono::nanoseconds RateLimiter::When(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  // Per key: base * 2^failures, capped (computed in floating point so that
  // many failures cannot overflow).
  int n = failures_[key]++;
  double exp = static_cast<double>(opts_.base_delay.count()) * std::pow(2.0, n);
  auto per_key = exp >= static_cast<double>(opts_.max_delay.count())
                     ? opts_.max_delay
                     : std::chrono::nanoseconds(static_cast<int64_t>(exp));

  // Overall: a token bucket refilled at qps; a try without a token waits
  // for the one it reserves (tokens go negative), as Go's rate.Limiter does.
  auto now = opts_.now();
  double elapsed = std::chrono::duration<double>(now - last_).count();
  last_ = now;
  tokens_ = std::min(opts_.burst, tokens_ + elapsed * opts_.qps);
  tokens_ -= 1;
  std::chrono::nanoseconds bucket{0};
  if (tokens_ < 0) bucket = std::chrono::nanoseconds(static_cast<int64_t>(-tokens_ / opts_.qps * 1e9));
  return std::max(per_key, bucket);
}

void RateLimiter::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(key);
}

int RateLimiter::NumRequeues(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

}  // namespace kubit::client
