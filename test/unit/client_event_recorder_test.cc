// EventRecorder against the real API server: one Event per new
// (object, type, reason, message), repeats counted on the first Event,
// cluster-scoped objects' Events in "default".
#include <doctest/doctest.h>

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

}  // namespace
}  // namespace kubit::client
