#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "runtime/kubelet/agent_cache.h"
#include "store/store.h"
#include "test/unit/temp_dir.h"

using kubit::kubelet::AgentCache;
using Json = nlohmann::json;
using kubit::test::TempDir;

namespace {

Json Pod(const std::string& name, const std::string& rv, const std::string& phase) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", name},
            {"namespace", "default"},
            {"uid", "uid-" + name},
            {"resourceVersion", rv},
            {"managedFields", Json::array({{{"manager", "kubectl"}}})}}},
          {"spec", {{"containers", Json::array({{{"name", "c"}, {"image", "busybox"}}})}}},
          {"status", {{"phase", phase}}}};
}

kubit::store::Revision RevisionOf(const std::string& db) {
  kubit::store::Options o;
  o.path = db;
  std::unique_ptr<kubit::store::Store> s;
  REQUIRE(kubit::store::Store::Open(o, &s).ok());
  int64_t n = 0;
  kubit::store::Revision rev = 0;
  REQUIRE(s->Count("/", &n, &rev).ok());
  return rev;
}

}  // namespace

TEST_CASE("kubelet agent cache: kept across opens, without status, mode 0600") {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/agent");
  std::string db = dir.path() + "/agent/state.db", error;
  {
    std::unique_ptr<AgentCache> cache;
    REQUIRE_MESSAGE(AgentCache::Open(dir.path(), &cache, &error), error);
    REQUIRE(cache->Put("pods", Pod("a", "10", "Pending"), &error));
    REQUIRE(cache->Put("pods", Pod("b", "11", "Pending"), &error));
    Json secret = {{"metadata", {{"name", "s"}, {"namespace", "default"}, {"resourceVersion", "5"}}},
                   {"data", {{"k", "dg=="}}}};
    REQUIRE(cache->Put("secrets", secret, &error));
    REQUIRE(cache->Put("nodes", Json{{"metadata", {{"name", "board1"}}}, {"spec", {{"podCIDR", "10.42.3.0/24"}}}},
                       &error));
    REQUIRE(cache->Remove("pods", "default", "b", &error));
    REQUIRE(cache->Remove("pods", "default", "never-there", &error));
  }
  struct stat st;
  REQUIRE(stat(db.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  std::unique_ptr<AgentCache> cache;
  REQUIRE_MESSAGE(AgentCache::Open(dir.path(), &cache, &error), error);
  std::vector<Json> pods = cache->List("pods");
  REQUIRE(pods.size() == 1);
  CHECK(pods[0] == AgentCache::Kept("pods", Pod("a", "10", "Pending")));
  CHECK_FALSE(pods[0].contains("status"));
  CHECK_FALSE(pods[0]["metadata"].contains("resourceVersion"));
  CHECK_FALSE(pods[0]["metadata"].contains("managedFields"));
  Json got;
  REQUIRE(cache->Get("secrets", "default", "s", &got));
  CHECK(got["data"]["k"] == "dg==");
  CHECK(got["metadata"]["resourceVersion"] == "5");  // only pods lose it
  REQUIRE(cache->Get("nodes", "", "board1", &got));
  CHECK(got["spec"]["podCIDR"] == "10.42.3.0/24");
  CHECK_FALSE(cache->Get("pods", "default", "b", &got));
  CHECK(cache->List("configmaps").empty());
}

TEST_CASE("kubelet agent cache: a put that changes only status or resourceVersion writes nothing") {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/agent");
  std::string db = dir.path() + "/agent/state.db", error;
  {
    std::unique_ptr<AgentCache> cache;
    REQUIRE_MESSAGE(AgentCache::Open(dir.path(), &cache, &error), error);
    REQUIRE(cache->Put("pods", Pod("a", "10", "Pending"), &error));
  }
  kubit::store::Revision first = RevisionOf(db);
  {
    std::unique_ptr<AgentCache> cache;
    REQUIRE_MESSAGE(AgentCache::Open(dir.path(), &cache, &error), error);
    REQUIRE(cache->Put("pods", Pod("a", "11", "Running"), &error));
    REQUIRE(cache->Put("pods", Pod("a", "12", "Running"), &error));
  }
  CHECK(RevisionOf(db) == first);
  {
    std::unique_ptr<AgentCache> cache;
    REQUIRE_MESSAGE(AgentCache::Open(dir.path(), &cache, &error), error);
    Json changed = Pod("a", "13", "Running");
    changed["metadata"]["labels"]["x"] = "y";
    REQUIRE(cache->Put("pods", changed, &error));
    Json got;
    REQUIRE(cache->Get("pods", "default", "a", &got));
    CHECK(got["metadata"]["labels"]["x"] == "y");
  }
  CHECK(RevisionOf(db) > first);
}
