// BackOff: upstream's flowcontrol.Backoff as the kubelet uses it for
// container restarts and image pulls. Each key has a delay that starts at
// `initial`, doubles on every Next up to `max`, and starts over when the
// key has been quiet (no Next) for 2 x max: a container that ran ten
// minutes restarts at once again. The delay is counted from the event
// (the container's finish time), not from when the kubelet looks.
#pragma once

#include <chrono>
#include <map>
#include <string>

namespace kubit::kubelet {

class BackOff {
 public:
  using Clock = std::chrono::system_clock;
  BackOff(std::chrono::milliseconds initial, std::chrono::milliseconds max)
      : initial_(initial), max_(max) {}

  // Records an event at `at`: the next delay for the key.
  void Next(const std::string& key, Clock::time_point at);
  // The key's event at `at` is still within its delay at `now`.
  bool InBackOffSince(const std::string& key, Clock::time_point at, Clock::time_point now) const;
  // The key's current delay (0 when none).
  std::chrono::milliseconds Get(const std::string& key) const;
  void Reset(const std::string& key) { entries_.erase(key); }

 private:
  struct Entry {
    std::chrono::milliseconds delay;
    Clock::time_point last;
  };
  std::chrono::milliseconds initial_, max_;
  std::map<std::string, Entry> entries_;
};

// "10s", "2m40s", "5m0s": a delay as Go's time.Duration prints whole seconds.
std::string FormatDuration(std::chrono::milliseconds d);

}  // namespace kubit::kubelet
