// Process log: one line per event on stderr,
// "<RFC3339 UTC time> <LEVEL> <component>: <message>".
#pragma once

#include <string>

namespace kubit::cmd {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Parses "debug", "info", "warn" or "error"; false if none of them.
bool ParseLevel(const std::string& s, Level* out);
void SetLogLevel(Level level);
void Log(Level level, const std::string& component, const std::string& message);

}  // namespace kubit::cmd
