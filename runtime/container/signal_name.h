// Signal names as images (config.StopSignal) and users (`ctr kill
// --signal`) write them: "SIGTERM", "TERM", "term" or "15".
#pragma once

#include <string>

namespace kubit::runtime::container {

// The signal number; -1 for a name or number that is not a signal.
int ParseSignal(const std::string& text);

}  // namespace kubit::runtime::container
