// EventRecorder against the real API server: one Event per new
// (object, type, reason, message), repeats counted on the first Event,
// cluster-scoped objects' Events in "default", client-go's aggregation of
// similar events and its per-object spam budget.
#include <doctest/doctest.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "core/client/event_recorder.h"
#include "test/unit/client_test_cluster.h"

namespace kubit::client {
namespace {

const Resource kEvents{"", "v1", "events"};
const Resource kConfigMaps{"", "v1", "configmaps"};

TEST_CASE("event recorder: writes, aggregates repeats, fills involvedObject and source") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  Json cm;
  REQUIRE(c->Create(kConfigMaps, "default",
                    {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "cfg"}}}}, &cm)
              .ok());
  EventRecorder rec(c.get(), "test-controller", "node1");
  REQUIRE(rec.Event(cm, kEventTypeNormal, "Synced", "all good").ok());
  REQUIRE(rec.Event(cm, kEventTypeNormal, "Synced", "all good").ok());
  REQUIRE(rec.Event(cm, kEventTypeWarning, "Broken", "not good").ok());

  Json list;
  REQUIRE(c->List(kEvents, "default", {}, &list).ok());
  REQUIRE(list["items"].size() == 2);
  for (const Json& e : list["items"]) {
    CHECK(e["involvedObject"]["kind"] == "ConfigMap");
    CHECK(e["involvedObject"]["name"] == "cfg");
    CHECK(e["involvedObject"]["uid"] == cm["metadata"]["uid"]);
    CHECK(e["source"]["component"] == "test-controller");
    CHECK(e["source"]["host"] == "node1");
    CHECK(e["reportingComponent"] == "test-controller");
    if (e["reason"] == "Synced") {
      CHECK(e["count"] == 2);
      CHECK(e["type"] == "Normal");
      CHECK(e["message"] == "all good");
    } else {
      CHECK(e["count"] == 1);
      CHECK(e["type"] == "Warning");
    }
  }
}

TEST_CASE("event recorder: cluster-scoped objects' events go to default") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  Json ns = {{"apiVersion", "v1"},
             {"kind", "Namespace"},
             {"metadata", {{"name", "web"}, {"uid", "u-1"}}}};
  EventRecorder rec(c.get(), "test-controller");
  REQUIRE(rec.Event(ns, kEventTypeNormal, "Seen", "namespace seen").ok());
  Json list;
  REQUIRE(c->List(kEvents, "default", {}, &list).ok());
  REQUIRE(list["items"].size() == 1);
  CHECK_FALSE(list["items"][0]["involvedObject"].contains("namespace"));
  CHECK_FALSE(list["items"][0]["source"].contains("host"));
}

// A clock the test moves by hand.
struct FakeClock {
  std::chrono::steady_clock::time_point t{};
  EventRecorder::Clock fn() {
    return [this] { return t; };
  }
};

Json ListEvents(Client* c) {
  Json list;
  REQUIRE(c->List(kEvents, "default", {}, &list).ok());
  return list["items"];
}

TEST_CASE("event recorder: the 10th similar message on an object becomes one combined Event") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  Json cm;
  REQUIRE(c->Create(kConfigMaps, "default",
                    {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "rs"}}}}, &cm)
              .ok());
  FakeClock clock;
  EventRecorder rec(c.get(), "test-controller", "", clock.fn());
  for (int i = 0; i < 12; i++) {
    REQUIRE(rec.Event(cm, kEventTypeNormal, "SuccessfulCreate", "Created pod: p" + std::to_string(i)).ok());
    clock.t += std::chrono::seconds(1);
  }
  REQUIRE(rec.Event(cm, kEventTypeNormal, "Other", "another reason").ok());

  Json items = ListEvents(c.get());
  int separate = 0;
  Json combined;
  for (const Json& e : items) {
    if (e["reason"] != "SuccessfulCreate") continue;
    std::string m = e["message"];
    if (m.rfind("(combined from similar events): ", 0) == 0) {
      combined = e;
    } else {
      separate++;
      CHECK(e["count"] == 1);
    }
  }
  CHECK(separate == 9);
  REQUIRE(combined.is_object());
  CHECK(combined["count"] == 3);  // p9, p10, p11
  CHECK(combined["message"] == "(combined from similar events): Created pod: p11");
  CHECK(items.size() == 11);  // another reason is not similar

  // Ten minutes without a similar event: messages are separate again.
  clock.t += std::chrono::minutes(11);
  REQUIRE(rec.Event(cm, kEventTypeNormal, "SuccessfulCreate", "Created pod: late").ok());
  bool late = false;
  for (const Json& e : ListEvents(c.get())) late |= e["message"] == "Created pod: late";
  CHECK(late);
}

TEST_CASE("event recorder: 25 Events about an object in a burst, then one per 5 minutes") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  Json a, b;
  REQUIRE(c->Create(kConfigMaps, "default",
                    {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "a"}}}}, &a)
              .ok());
  REQUIRE(c->Create(kConfigMaps, "default",
                    {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "b"}}}}, &b)
              .ok());
  FakeClock clock;
  EventRecorder rec(c.get(), "test-controller", "", clock.fn());
  // Distinct reasons: neither counted nor combined, only the budget holds them back.
  for (int i = 0; i < 30; i++) CHECK(rec.Event(a, kEventTypeNormal, "R" + std::to_string(i), "m").ok());
  REQUIRE(rec.Event(b, kEventTypeNormal, "R0", "m").ok());  // another object: its own budget
  auto count_about = [&](const std::string& name) {
    int n = 0;
    for (const Json& e : ListEvents(c.get())) n += e["involvedObject"]["name"] == name;
    return n;
  };
  CHECK(count_about("a") == 25);
  CHECK(count_about("b") == 1);

  // The same event while over budget is still counted: the next one that
  // gets through carries the whole count.
  REQUIRE(rec.Event(a, kEventTypeNormal, "R0", "m").ok());
  clock.t += std::chrono::seconds(299);
  REQUIRE(rec.Event(a, kEventTypeNormal, "R0", "m").ok());
  clock.t += std::chrono::seconds(2);
  REQUIRE(rec.Event(a, kEventTypeNormal, "R0", "m").ok());
  for (const Json& e : ListEvents(c.get()))
    if (e["involvedObject"]["name"] == "a" && e["reason"] == "R0") CHECK(e["count"] == 4);
  CHECK(count_about("a") == 25);
}

}  // namespace
}  // namespace kubit::client
