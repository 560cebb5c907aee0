// The Endpoints and EndpointSlice controllers against the real API
// server (pod IPs and readiness set by the test, as a kubelet would), and
// the slicing alone.
#include <doctest/doctest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/api/meta.h"
#include "core/client/informer.h"
#include "core/controllers/endpoints_controller.h"
#include "core/controllers/endpoints_controller_pods.h"
#include "core/controllers/endpointslice_controller.h"
#include "test/unit/client_test_cluster.h"

namespace kubit::controllers {
namespace {

using client::Json;
using client::ObjectPtr;
using client::Resource;
using client::Status;

const Resource kServices{"", "v1", "services"};
const Resource kPods{"", "v1", "pods"};
const Resource kEndpoints{"", "v1", "endpoints"};
const Resource kSlices{"discovery.k8s.io", "v1", "endpointslices"};

bool Eventually(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

void MakePod(client::Client& c, const std::string& name, const std::string& app, const std::string& ip, bool ready,
             int http_port) {
  Json container = {{"name", "c"}, {"image", "nginx"}};
  if (http_port) container["ports"] = {{{"name", "http"}, {"containerPort", http_port}}};
  Json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", name}, {"labels", {{"app", app}}}}},
              {"spec", {{"nodeName", "n1"}, {"containers", {container}}}}};
  Status s = c.Create(kPods, "default", pod);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  Json status = {{"phase", "Running"},
                 {"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"}, {"lastTransitionTime", api::Now()}}}}};
  if (!ip.empty()) status["podIP"] = ip;
  s = c.Patch(kPods, "default", name, client::PatchType::kMerge, Json{{"status", status}}.dump(), nullptr, {}, "status");
  REQUIRE_MESSAGE(s.ok(), s.ToString());
}

Json Service(const std::string& name, bool publish_unready = false) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", name}, {"labels", {{"team", "a"}}}}},
          {"spec",
           {{"selector", {{"app", name}}},
            {"publishNotReadyAddresses", publish_unready},
            {"ports",
             {{{"name", "http"}, {"port", 80}, {"targetPort", "http"}},
              {{"name", "metrics"}, {"port", 9090}, {"targetPort", 9090}}}}}}};
}

std::vector<std::string> Ips(const Json& addrs) {
  std::vector<std::string> out;
  for (const Json& a : addrs) out.push_back(a["ip"]);
  return out;
}

struct Running {
  explicit Running(client::Client* c) : informers(c), eps(c, &informers, nullptr), slices(c, &informers, nullptr) {
    informers.Start();
    REQUIRE(informers.WaitForSync(std::chrono::seconds(10)));
    eps.Start();
    slices.Start();
  }
  client::SharedInformerFactory informers;
  EndpointsController eps;
  EndpointSliceController slices;
};

std::vector<Json> SlicesOf(client::Client& c, const std::string& svc) {
  Json list;
  client::ListOptions o;
  o.label_selector = std::string(kServiceNameLabel) + "=" + svc;
  REQUIRE(c.List(kSlices, "default", o, &list).ok());
  return list["items"].get<std::vector<Json>>();
}

TEST_CASE("endpoints: ready and not-ready addresses, named ports per pod, subsets by ports") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  MakePod(*c, "a", "web", "10.42.0.1", true, 8080);
  MakePod(*c, "b", "web", "10.42.0.2", false, 8081);
  MakePod(*c, "no-ip", "web", "", true, 8080);
  MakePod(*c, "other", "db", "10.42.0.9", true, 8080);
  MakePod(*c, "no-http", "web", "10.42.0.5", true, 0);
  Running ctl(c.get());
  REQUIRE(c->Create(kServices, "default", Service("web")).ok());

  Json ep;
  REQUIRE(Eventually([&] { return c->Get(kEndpoints, "default", "web", &ep).ok() && ep.value("subsets", Json::array()).size() == 3; }));
  CHECK(ep["metadata"]["labels"]["team"] == "a");
  int checked = 0;
  for (const Json& s : ep["subsets"]) {
    std::vector<int> ports;
    for (const Json& p : s["ports"]) ports.push_back(p["port"]);
    std::sort(ports.begin(), ports.end());
    if (ports == std::vector<int>{8080, 9090}) {
      CHECK(Ips(s["addresses"]) == std::vector<std::string>{"10.42.0.1"});
      CHECK(s["addresses"][0]["targetRef"]["name"] == "a");
      CHECK(s["addresses"][0]["nodeName"] == "n1");
      checked++;
    } else if (ports == std::vector<int>{8081, 9090}) {
      CHECK_FALSE(s.contains("addresses"));
      CHECK(Ips(s["notReadyAddresses"]) == std::vector<std::string>{"10.42.0.2"});
      checked++;
    } else if (ports == std::vector<int>{9090}) {
      CHECK(Ips(s["addresses"]) == std::vector<std::string>{"10.42.0.5"});
      checked++;
    }
  }
  CHECK(checked == 3);

  // Slices: one per port set, labelled, owned by the Service, conditions per pod.
  std::vector<Json> slices;
  REQUIRE(Eventually([&] {
    slices = SlicesOf(*c, "web");
    return slices.size() == 3;
  }));
  Json svc;
  REQUIRE(c->Get(kServices, "default", "web", &svc).ok());
  for (const Json& s : slices) {
    CHECK(s["metadata"]["labels"][kManagedByLabel] == kEndpointSliceControllerName);
    CHECK(s["metadata"]["ownerReferences"][0]["uid"] == svc["metadata"]["uid"]);
    CHECK(s["addressType"] == "IPv4");
    REQUIRE(s["endpoints"].size() == 1);
    const Json& e = s["endpoints"][0];
    const bool is_b = e["targetRef"]["name"] == "b";
    CHECK(e["conditions"]["ready"] == !is_b);
    CHECK(e["conditions"]["serving"] == !is_b);
    CHECK(e["conditions"]["terminating"] == false);
  }

  // Nothing changed: a sync writes nothing.
  std::string ep_rv = ep["metadata"]["resourceVersion"];
  REQUIRE(ctl.eps.Sync("default/web").ok());
  REQUIRE(ctl.slices.Sync("default/web").ok());
  REQUIRE(c->Get(kEndpoints, "default", "web", &ep).ok());
  CHECK(ep["metadata"]["resourceVersion"] == ep_rv);
  std::vector<Json> again = SlicesOf(*c, "web");
  REQUIRE(again.size() == slices.size());
  std::set<std::string> before, after;
  for (const Json& s : slices) before.insert(s["metadata"]["resourceVersion"].get<std::string>());
  for (const Json& s : again) after.insert(s["metadata"]["resourceVersion"].get<std::string>());
  CHECK(before == after);

  // The pod becomes ready: it moves to addresses.
  Json ready = {{"status", {{"conditions", {{{"type", "Ready"}, {"status", "True"}, {"lastTransitionTime", api::Now()}}}}}}};
  REQUIRE(c->Patch(kPods, "default", "b", client::PatchType::kMerge, ready.dump(), nullptr, {}, "status").ok());
  CHECK(Eventually([&] {
    c->Get(kEndpoints, "default", "web", &ep);
    for (const Json& s : ep.value("subsets", Json::array()))
      if (s.contains("notReadyAddresses")) return false;
    return ep.value("subsets", Json::array()).size() == 3;
  }));

  // The Service goes: so do its Endpoints.
  REQUIRE(c->Delete(kServices, "default", "web").ok());
  CHECK(Eventually([&] { return c->Get(kEndpoints, "default", "web", &ep).IsNotFound(); }));
}

TEST_CASE("endpoints: publishNotReadyAddresses; no pods leaves an empty placeholder slice") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  MakePod(*c, "x", "pub", "10.42.0.7", false, 8080);
  Running ctl(c.get());
  REQUIRE(c->Create(kServices, "default", Service("pub", true)).ok());
  Json ep;
  REQUIRE(Eventually([&] { return c->Get(kEndpoints, "default", "pub", &ep).ok() && ep.contains("subsets"); }));
  CHECK(Ips(ep["subsets"][0]["addresses"]) == std::vector<std::string>{"10.42.0.7"});

  REQUIRE(c->Create(kServices, "default", Service("empty")).ok());
  REQUIRE(Eventually([&] { return SlicesOf(*c, "empty").size() == 1; }));
  CHECK(SlicesOf(*c, "empty")[0]["endpoints"].empty());
  REQUIRE(Eventually([&] { return c->Get(kEndpoints, "default", "empty", &ep).ok(); }));
  CHECK_FALSE(ep.contains("subsets"));
}

TEST_CASE("endpointslices: at most 100 endpoints a slice; the kubernetes Service is left alone") {
  Json svc = Service("big");
  svc["metadata"]["namespace"] = "default";
  std::vector<ObjectPtr> pods;
  for (int i = 0; i < 150; i++) {
    Json p = {{"metadata", {{"name", "p" + std::to_string(i)}, {"namespace", "default"}, {"labels", {{"app", "big"}}}}},
              {"spec", {{"containers", {{{"name", "c"}, {"ports", {{{"name", "http"}, {"containerPort", 80}}}}}}}}},
              {"status", {{"podIP", "10.42." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1)}}}};
    pods.push_back(std::make_shared<const Json>(p));
  }
  std::vector<DesiredSlice> slices = DesiredSlices(svc, pods);
  REQUIRE(slices.size() == 2);
  CHECK(slices[0].endpoints.size() + slices[1].endpoints.size() == 150);
  CHECK(slices[0].endpoints.size() == kMaxEndpointsPerSlice);

  Json kubernetes = {{"metadata", {{"name", "kubernetes"}, {"namespace", "default"}}},
                     {"spec", {{"selector", {{"app", "x"}}}}}};
  CHECK_FALSE(ServiceManagesEndpoints(kubernetes));
  Json selectorless = {{"metadata", {{"name", "manual"}, {"namespace", "default"}}}, {"spec", Json::object()}};
  CHECK_FALSE(ServiceManagesEndpoints(selectorless));
}

Json Addresses(int n, const std::string& prefix) {
  Json out = Json::array();
  for (int i = 0; i < n; i++) out.push_back({{"ip", prefix + std::to_string(i)}});
  return out;
}

TEST_CASE("endpoints: more than 1000 addresses are cut in proportion, ready ones kept first") {
  Json small = Json::array({{{"addresses", Addresses(10, "a")}}});
  CHECK_FALSE(TruncateEndpointSubsets(&small));

  Json ready = Json::array({{{"addresses", Addresses(900, "a")}, {"notReadyAddresses", Addresses(5, "n")}},
                            {{"addresses", Addresses(300, "b")}}});
  REQUIRE(TruncateEndpointSubsets(&ready));
  CHECK(ready[0]["addresses"].size() == 750);
  CHECK(ready[1]["addresses"].size() == 250);
  CHECK_FALSE(ready[0].contains("notReadyAddresses"));

  Json mixed = Json::array({{{"addresses", Addresses(500, "a")}, {"notReadyAddresses", Addresses(300, "n")}},
                            {{"addresses", Addresses(300, "b")}, {"notReadyAddresses", Addresses(100, "m")}}});
  REQUIRE(TruncateEndpointSubsets(&mixed));
  CHECK(mixed[0]["addresses"].size() == 500);
  CHECK(mixed[1]["addresses"].size() == 300);
  CHECK(mixed[0]["notReadyAddresses"].size() == 150);
  CHECK(mixed[1]["notReadyAddresses"].size() == 50);
}

}  // namespace
}  // namespace kubit::controllers
