// ControllerExpectations and the pod-state helpers the workload
// controllers share.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/controllers/expectations.h"
#include "core/controllers/pod_state.h"

namespace kubit::controllers {
namespace {

TEST_CASE("expectations: satisfied only once every creation and deletion is observed") {
  ControllerExpectations e;
  CHECK(e.SatisfiedExpectations("ns/rs"));  // never asked for anything
  e.ExpectCreations("ns/rs", 2);
  CHECK_FALSE(e.SatisfiedExpectations("ns/rs"));
  e.CreationObserved("ns/rs");
  CHECK_FALSE(e.SatisfiedExpectations("ns/rs"));
  e.LowerCreations("ns/rs");  // a failed create is never observed
  CHECK(e.SatisfiedExpectations("ns/rs"));
  e.CreationObserved("ns/rs");  // never below zero
  CHECK(e.SatisfiedExpectations("ns/rs"));

  e.ExpectDeletions("ns/rs", {"ns/a", "ns/b"});
  e.DeletionObserved("ns/rs", "ns/a");
  e.DeletionObserved("ns/rs", "ns/a");  // seen twice counts once
  CHECK_FALSE(e.SatisfiedExpectations("ns/rs"));
  e.DeletionObserved("ns/rs", "ns/b");
  CHECK(e.SatisfiedExpectations("ns/rs"));
  e.ExpectCreations("ns/rs", 1);
  e.DeleteExpectations("ns/rs");
  CHECK(e.SatisfiedExpectations("ns/rs"));
}

TEST_CASE("pod state: times, readiness, availability") {
  CHECK(ParseTime("1970-01-01T00:01:40Z") == 100);
  CHECK(ParseTime("1970-01-01T01:01:40+01:00") == 100);
  CHECK(ParseTime("1970-01-01T00:01:40.123456Z") == 100);
  CHECK(ParseTime("yesterday") == 0);
  nlohmann::json pod = {{"metadata", {{"name", "p"}}},
                        {"status",
                         {{"phase", "Running"},
                          {"conditions",
                           {{{"type", "Ready"}, {"status", "True"}, {"lastTransitionTime", "1970-01-01T00:01:40Z"}}}}}}};
  CHECK(IsPodActive(pod));
  CHECK(IsPodReady(pod));
  CHECK(IsPodAvailable(pod, 10, 110));
  CHECK_FALSE(IsPodAvailable(pod, 10, 109));
  pod["status"]["phase"] = "Succeeded";
  CHECK_FALSE(IsPodActive(pod));
}

}  // namespace
}  // namespace kubit::controllers
