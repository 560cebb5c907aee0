#include <doctest/doctest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "test/unit/client_test_cluster.h"

using kubit::client::Resource;
using Json = nlohmann::json;

TEST_CASE("node authorizer: a node reads the ServiceAccounts of its pods, and only those") {
  kubit::test::TestCluster cluster;
  auto admin = cluster.InProcess();
  auto n1 = cluster.InProcess("system:node:n1", {"system:nodes"});
  auto n2 = cluster.InProcess("system:node:n2", {"system:nodes"});
  const Resource sas{"", "v1", "serviceaccounts"}, pods{"", "v1", "pods"};
  for (const char* name : {"robot", "other"})
    REQUIRE(admin->Create(sas, "default", {{"apiVersion", "v1"}, {"kind", "ServiceAccount"},
                                           {"metadata", {{"name", name}}}}).ok());
  Json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "p"}}},
              {"spec",
               {{"nodeName", "n1"},
                {"serviceAccountName", "robot"},
                {"containers", Json::array({{{"name", "c"}, {"image", "busybox"}}})}}}};
  REQUIRE(admin->Create(pods, "default", pod).ok());
  // The authorizer follows pods from the store's watch: a moment.
  Json got;
  bool ok = false;
  for (int i = 0; i < 100 && !ok; i++) {
    ok = n1->Get(sas, "default", "robot", &got).ok();
    if (!ok) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(ok);
  CHECK(got["metadata"]["name"] == "robot");
  CHECK(n1->Get(sas, "default", "other", &got).IsForbidden());
  CHECK(n2->Get(sas, "default", "robot", &got).IsForbidden());
  Json list;
  CHECK(n1->List(sas, "default", {}, &list).IsForbidden());
  CHECK(n1->Delete(sas, "default", "robot").IsForbidden());
}
