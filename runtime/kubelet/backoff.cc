#include "runtime/kubelet/backoff.h"

#include <algorithm>

namespace kubit::kubelet {

void BackOff::Next(const std::string& key, Clock::time_point at) {
  auto it = entries_.find(key);
  if (it == entries_.end() || at - it->second.last > 2 * max_) {
    entries_[key] = {initial_, at};
    return;
  }
  it->second.delay = std::min(it->second.delay * 2, max_);
  it->second.last = at;
}

bool BackOff::InBackOffSince(const std::string& key, Clock::time_point at,
                             Clock::time_point now) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  if (at - it->second.last > 2 * max_) return false;
  return now - at < it->second.delay;
}

std::chrono::milliseconds BackOff::Get(const std::string& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? std::chrono::milliseconds(0) : it->second.delay;
}

std::string FormatDuration(std::chrono::milliseconds d) {
  long long s = d.count() / 1000;
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
  return std::to_string(s / 3600) + "h" + std::to_string(s % 3600 / 60) + "m" +
         std::to_string(s % 60) + "s";
}

}  // namespace kubit::kubelet
