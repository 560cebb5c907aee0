// SlowStartBatch: upstream's slowStartBatch, shared by the controllers that
// create many pods at once. Calls fn `count` times in batches of 1, 2, 4,
// ..., the calls of a batch side by side (at most kSlowStartParallelism
// threads), and stops after a batch in which a call failed: a quota or
// admission error costs a handful of failed requests instead of `count`,
// while a healthy burst of hundreds of pods is not written one at a time.
#pragma once

#include <functional>

#include "core/client/status.h"

namespace kubit::controllers {

inline constexpr int kSlowStartParallelism = 16;

// Returns how many calls succeeded; *error is one of the failures, if any.
// fn is called from several threads at once.
int SlowStartBatch(int count, const std::function<client::Status()>& fn, client::Status* error);

}  // namespace kubit::controllers
