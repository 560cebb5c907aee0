// WorkQueue and RateLimiter: client-go's queue guarantees and its default
// controller rate limiter's arithmetic (on a test clock).
#include <doctest/doctest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "core/client/work_queue.h"

namespace kubit::client {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TEST_CASE("client work queue: a key waits once and is never processed twice at once") {
  WorkQueue q;
  q.Add("a");
  q.Add("a");
  q.Add("b");
  CHECK(q.Len() == 2);
  std::string key;
  REQUIRE(q.Get(&key));
  CHECK(key == "a");
  // Added again while a worker has it: not handed out now...
  q.Add("a");
  CHECK(q.Len() == 1);
  REQUIRE(q.Get(&key));
  CHECK(key == "b");
  q.Done("b");
  CHECK(q.Len() == 0);
  // ...but again after Done.
  q.Done("a");
  CHECK(q.Len() == 1);
  REQUIRE(q.Get(&key));
  CHECK(key == "a");
  q.Done("a");
  CHECK(q.Len() == 0);
}

TEST_CASE("client work queue: many workers, no key in two of them") {
  WorkQueue q;
  std::mutex mu;
  std::set<std::string> in_flight;
  std::atomic<int> overlaps{0}, processed{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; w++)
    workers.emplace_back([&] {
      std::string key;
      while (q.Get(&key)) {
        {
          std::lock_guard<std::mutex> lock(mu);
          if (!in_flight.insert(key).second) overlaps++;
        }
        std::this_thread::yield();
        {
          std::lock_guard<std::mutex> lock(mu);
          in_flight.erase(key);
        }
        processed++;
        q.Done(key);
      }
    });
  for (int i = 0; i < 20000; i++) q.Add("k" + std::to_string(i % 7));
  q.ShutDown();
  for (auto& t : workers) t.join();
  CHECK(overlaps == 0);
  CHECK(processed >= 7);
  CHECK(processed <= 20000);
}

TEST_CASE("client work queue: delays, rate-limited adds and shut down") {
  WorkQueue q;
  q.AddAfter("later", std::chrono::hours(1));
  CHECK(q.Len() == 0);
  // The earlier time wins.
  q.AddAfter("later", milliseconds(1));
  q.AddAfter("now", nanoseconds(0));
  CHECK(q.Len() == 1);
  std::string key;
  REQUIRE(q.Get(&key));
  CHECK(key == "now");
  REQUIRE(q.Get(&key));  // blocks until the delay has passed
  CHECK(key == "later");
  q.Done("now");
  q.Done("later");

  q.AddRateLimited("flaky");
  q.AddRateLimited("flaky");
  CHECK(q.NumRequeues("flaky") == 2);
  REQUIRE(q.Get(&key));
  CHECK(key == "flaky");
  q.Forget("flaky");
  CHECK(q.NumRequeues("flaky") == 0);
  q.Done("flaky");

  // Shut down: what is queued is still handed out, then Get says stop.
  q.Add("last");
  q.AddAfter("never", std::chrono::hours(1));
  q.ShutDown();
  CHECK(q.ShuttingDown());
  q.Add("ignored");
  REQUIRE(q.Get(&key));
  CHECK(key == "last");
  CHECK_FALSE(q.Get(&key));

  // A Get blocked on an empty queue wakes at shut down.
  WorkQueue empty;
  bool got = true;
  std::thread blocked([&] {
    std::string k;
    got = empty.Get(&k);
  });
  empty.ShutDown();
  blocked.join();
  CHECK_FALSE(got);
}

TEST_CASE("client work queue: the default controller rate limiter") {
  auto t = std::chrono::steady_clock::now();
  RateLimiterOptions o;
  o.now = [&] { return t; };
  RateLimiter rl(o);
  // Per key: 5 ms doubling.
  CHECK(rl.When("a") == milliseconds(5));
  CHECK(rl.When("a") == milliseconds(10));
  CHECK(rl.When("a") == milliseconds(20));
  CHECK(rl.When("b") == milliseconds(5));
  CHECK(rl.NumRequeues("a") == 3);
  rl.Forget("a");
  CHECK(rl.NumRequeues("a") == 0);
  CHECK(rl.When("a") == milliseconds(5));
  // ... up to 1000 s.
  for (int i = 0; i < 40; i++) rl.When("stuck");
  CHECK(rl.When("stuck") == seconds(1000));
  for (int i = 0; i < 1000; i++) rl.When("stuck");
  CHECK(rl.When("stuck") == seconds(1000));

  // Overall, over every key: bursts of 100, then 10 per second (the
  // limiter above has spent its tokens; a fresh one shows the bucket).
  RateLimiter bucket(o);
  for (int i = 0; i < 100; i++) CHECK(bucket.When("k" + std::to_string(i)) == milliseconds(5));
  CHECK(bucket.When("x") == milliseconds(100));
  CHECK(bucket.When("y") == milliseconds(200));
  t += seconds(1);  // 10 more tokens: 8 after the two reserved
  for (int i = 0; i < 8; i++) CHECK(bucket.When("z" + std::to_string(i)) == milliseconds(5));
  CHECK(bucket.When("w") == milliseconds(100));
}

}  // namespace kubit::client
