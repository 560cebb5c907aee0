// SlowStartBatch: batches of 1, 2, 4, ... until the count is reached, and
// no batch after one with a failure.
#include <doctest/doctest.h>

#include <atomic>

#include "core/controllers/slow_start.h"

namespace kubit::controllers {
namespace {

TEST_CASE("controllers slow start: every call made when all succeed") {
  std::atomic<int> calls{0};
  client::Status error;
  CHECK(SlowStartBatch(100, [&] { calls++; return client::Status(); }, &error) == 100);
  CHECK(calls == 100);
  CHECK(error.ok());
  CHECK(SlowStartBatch(0, [&] { calls++; return client::Status(); }, &error) == 0);
  CHECK(calls == 100);
}

TEST_CASE("controllers slow start: the batch with a failure is the last") {
  // Calls 1 | 2 3 | 4 5 6 7 | 8 ...: the 5th call fails, so the batch of
  // four finishes and nothing after it is tried.
  std::atomic<int> calls{0};
  client::Status error;
  int ok = SlowStartBatch(
      100,
      [&] {
        int n = ++calls;
        return n == 5 ? client::Status::Api(403, "Forbidden", "exceeded quota") : client::Status();
      },
      &error);
  CHECK(calls == 7);
  CHECK(ok == 6);
  CHECK(error.reason() == "Forbidden");
}

}  // namespace
}  // namespace kubit::controllers
