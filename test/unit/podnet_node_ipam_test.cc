// The node IPAM controller against the real API server (in-process
// client): each Node gets its own /24 of the cluster CIDR, ranges set by
// hand are respected, a deleted node's range comes back only after the
// others, and a full cluster CIDR is an error.
#include <doctest/doctest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/controllers/node_ipam_controller.h"
#include "test/unit/client_test_cluster.h"

namespace kubit::controllers {
namespace {

using client::Json;

const client::Resource kNodes{"", "v1", "nodes"};

// Polls until `done` holds (a deadline for a hung test, not a timing check).
bool Eventually(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

Json Node(const std::string& name, const std::string& pod_cidr = "") {
  Json n = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", name}}}};
  if (!pod_cidr.empty()) n["spec"] = {{"podCIDR", pod_cidr}, {"podCIDRs", {pod_cidr}}};
  return n;
}

// The node's podCIDR once both fields say the same; "" until then.
std::string PodCIDR(client::Client* c, const std::string& name) {
  Json n;
  if (!c->Get(kNodes, "", name, &n).ok()) return "";
  const Json& spec = n.value("spec", Json::object());
  std::string cidr = spec.value("podCIDR", "");
  if (cidr.empty() || spec.value("podCIDRs", Json::array()) != Json::array({cidr})) return "";
  return cidr;
}

}  // namespace

TEST_CASE("podnet node ipam: a range per node, never twice, a deleted node's range reused later") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  client::SharedInformerFactory informers(c.get());
  net::Ipv4Prefix cidr;
  std::string error;
  REQUIRE(net::ParseIpv4Prefix("10.50.0.0/22", &cidr, &error));  // four /24s
  NodeIpamController controller(c.get(), &informers, cidr, 24, nullptr);
  REQUIRE(c->Create(kNodes, "", Node("manual", "10.50.0.0/24")).ok());
  REQUIRE(c->Create(kNodes, "", Node("n1")).ok());
  informers.Start();
  REQUIRE(informers.WaitForSync(std::chrono::seconds(30)));
  controller.Start();
  REQUIRE(c->Create(kNodes, "", Node("n2")).ok());

  std::string r1, r2;
  REQUIRE(Eventually([&] { return !(r1 = PodCIDR(c.get(), "n1")).empty() && !(r2 = PodCIDR(c.get(), "n2")).empty(); }));
  CHECK(r1 != r2);
  CHECK(r1 != "10.50.0.0/24");
  CHECK(r2 != "10.50.0.0/24");
  CHECK(PodCIDR(c.get(), "manual") == "10.50.0.0/24");

  // n1 goes; the next node gets the one range never given, and only the
  // one after it gets n1's.
  REQUIRE(c->Delete(kNodes, "", "n1").ok());
  REQUIRE(Eventually([&] { return !informers.For(kNodes)->Get("n1"); }));
  REQUIRE(c->Create(kNodes, "", Node("n3")).ok());
  std::string r3, r4;
  REQUIRE(Eventually([&] { return !(r3 = PodCIDR(c.get(), "n3")).empty(); }));
  CHECK(r3 != r1);
  CHECK(r3 != r2);
  CHECK(r3 != "10.50.0.0/24");
  REQUIRE(c->Create(kNodes, "", Node("n4")).ok());
  REQUIRE(Eventually([&] { return !(r4 = PodCIDR(c.get(), "n4")).empty(); }));
  CHECK(r4 == r1);

  // Nothing left: the sync says so and the node keeps no range.
  controller.Stop();
  REQUIRE(c->Create(kNodes, "", Node("n5")).ok());
  REQUIRE(Eventually([&] { return informers.For(kNodes)->Get("n5") != nullptr; }));
  client::Status s = controller.Sync("n5");
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("no free /24 left in 10.50.0.0/22") != std::string::npos);
  CHECK(PodCIDR(c.get(), "n5").empty());
  informers.Stop();
}

}  // namespace kubit::controllers
