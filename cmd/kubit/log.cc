#include "cmd/kubit/log.h"

#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>

namespace kubit::cmd {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
}

bool ParseLevel(const std::string& s, Level* out) {
  static const char* const kNames[] = {"debug", "info", "warn", "error"};
  for (int i = 0; i < 4; i++)
    if (s == kNames[i]) {
      *out = static_cast<Level>(i);
      return true;
    }
  return false;
}

void SetLogLevel(Level level) { g_level = static_cast<int>(level); }

void Log(Level level, const std::string& component, const std::string& message) {
  if (static_cast<int>(level) < g_level) return;
  static const char* const kNames[] = {"DEBUG", "INFO", "WARN", "ERROR"};
  auto now = std::chrono::system_clock::now();
  time_t secs = std::chrono::system_clock::to_time_t(now);
  int ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char stamp[32];
  strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string line = std::string(stamp) + "." + std::to_string(1000 + ms).substr(1) + "Z " +
                     kNames[static_cast<int>(level)] + " " + component + ": ";
  for (char c : message) line += (c == '\n') ? ' ' : c;  // one event, one line
  line += '\n';
  ssize_t n = write(STDERR_FILENO, line.data(), line.size());
  (void)n;
}

}  // namespace kubit::cmd
