// Tests against a real API server: the ServiceLB controller
// (core/controllers/servicelb_controller.h) and what a node's service
// proxy may read (the Node authorizer: upstream's system:node-proxier
// rights).
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/controllers/servicelb_controller.h"
#include "test/unit/client_test_cluster.h"

using namespace kubit;
using client::Json;
using client::Resource;

namespace {

const Resource kServices{"", "v1", "services"};
const Resource kSlices{"discovery.k8s.io", "v1", "endpointslices"};
const Resource kNodes{"", "v1", "nodes"};

bool Eventually(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

Json LbService(const std::string& name, Json extra = Json::object()) {
  Json spec = {{"type", "LoadBalancer"}, {"selector", {{"app", name}}}, {"ports", {{{"port", 80}}}}};
  spec.update(extra);
  return {{"apiVersion", "v1"}, {"kind", "Service"}, {"metadata", {{"name", name}}}, {"spec", spec}};
}

}  // namespace

TEST_CASE("svcproxy servicelb: LoadBalancer Services get the Ready nodes' addresses, others are left alone") {
  test::TestCluster cluster;
  auto admin = cluster.InProcess();
  auto make_node = [&](const std::string& name, const std::string& ip, const std::string& ready) {
    Json n = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", name}}}};
    Json created;
    REQUIRE(admin->Create(kNodes, "", n, &created).ok());
    created["status"] = {{"addresses", {{{"type", "InternalIP"}, {"address", ip}}}},
                         {"conditions", {{{"type", "Ready"}, {"status", ready}}}}};
    REQUIRE(admin->UpdateStatus(kNodes, "", created).ok());
  };
  make_node("n2", "192.0.2.20", "True");
  make_node("n1", "192.0.2.10", "True");
  make_node("n3", "192.0.2.30", "False");
  REQUIRE(admin->Create(kServices, "default", LbService("mine")).ok());
  REQUIRE(admin->Create(kServices, "default", LbService("theirs", {{"loadBalancerClass", "example.com/lb"}})).ok());

  client::SharedInformerFactory informers(admin.get());
  controllers::ServiceLBController ctrl(admin.get(), &informers, nullptr);
  informers.Start();
  REQUIRE(informers.WaitForSync(std::chrono::seconds(10)));
  ctrl.Start();
  Json want = Json::array({{{"ip", "192.0.2.10"}, {"ipMode", "VIP"}}, {{"ip", "192.0.2.20"}, {"ipMode", "VIP"}}});
  Json got;
  auto ingress = [&](const std::string& name) {
    return admin->Get(kServices, "default", name, &got).ok() ? got["status"]["loadBalancer"].value("ingress", Json())
                                                             : Json();
  };
  CHECK(Eventually([&] { return ingress("mine") == want; }));
  // A node turning Ready joins the list.
  Json n3;
  REQUIRE(admin->Get(kNodes, "", "n3", &n3).ok());
  n3["status"]["conditions"][0]["status"] = "True";
  REQUIRE(admin->UpdateStatus(kNodes, "", n3).ok());
  want.push_back({{"ip", "192.0.2.30"}, {"ipMode", "VIP"}});
  CHECK(Eventually([&] { return ingress("mine") == want; }));
  // No longer a LoadBalancer: the list goes.
  REQUIRE(admin->Get(kServices, "default", "mine", &got).ok());
  got["spec"]["type"] = "ClusterIP";
  got["spec"].erase("allocateLoadBalancerNodePorts");
  got["spec"].erase("externalTrafficPolicy");
  for (Json& p : got["spec"]["ports"]) p.erase("nodePort");
  client::Status s = admin->Update(kServices, "default", got);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(Eventually([&] { return ingress("mine").is_null(); }));
  ctrl.Stop();
  informers.Stop();
  CHECK(ingress("theirs").is_null());
}

TEST_CASE("svcproxy servicelb: a node reads Services and EndpointSlices (kube-proxy's rights), writes neither") {
  test::TestCluster cluster;
  auto node = cluster.InProcess("system:node:n1", {"system:nodes"});
  Json out;
  CHECK(node->List(kServices, "", {}, &out).ok());
  CHECK(node->List(kSlices, "", {}, &out).ok());
  CHECK(node->Get(kServices, "default", "kubernetes", &out).ok());
  Json svc = LbService("sneaky");
  CHECK(node->Create(kServices, "default", svc).IsForbidden());
  CHECK(node->Delete(kServices, "default", "kubernetes").IsForbidden());
}
