// Tests of core/network/network_policy_model.h: NetworkPolicies, Pods and
// Namespaces (as the informers hold them) resolved into the plain model
// net/network_policy_rules.h programs for one node.
#include <doctest/doctest.h>
#include <netinet/in.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/network/network_policy_model.h"

using namespace kubit;
using client::ObjectPtr;
using Json = nlohmann::json;

namespace {

ObjectPtr Obj(Json j) { return std::make_shared<const Json>(std::move(j)); }

ObjectPtr Pod(const std::string& ns, const std::string& name, const std::string& node, const std::string& ip,
              Json labels, Json ports = Json::array()) {
  return Obj({{"metadata", {{"namespace", ns}, {"name", name}, {"labels", labels}}},
              {"spec", {{"nodeName", node}, {"containers", Json::array({{{"name", "c"}, {"ports", ports}}})}}},
              {"status", {{"phase", "Running"}, {"podIP", ip}}}});
}

ObjectPtr Ns(const std::string& name, Json labels = Json::object()) {
  return Obj({{"metadata", {{"name", name}, {"labels", labels}}}});
}

ObjectPtr Policy(const std::string& ns, const std::string& name, Json spec) {
  return Obj({{"metadata", {{"namespace", ns}, {"name", name}}}, {"spec", spec}});
}

uint32_t Ip(const std::string& s) {
  uint32_t ip = 0;
  REQUIRE(net::ParseIpv4(s, &ip));
  return ip;
}

std::vector<std::string> Ips(std::vector<uint32_t> ips) {
  std::sort(ips.begin(), ips.end());
  std::vector<std::string> out;
  for (uint32_t ip : ips) out.push_back(net::FormatIpv4(ip));
  return out;
}

const net::PodPolicy* Find(const std::vector<net::PodPolicy>& m, const std::string& name) {
  for (const net::PodPolicy& p : m)
    if (p.name == name) return &p;
  return nullptr;
}

struct World {
  std::vector<ObjectPtr> pods, namespaces, policies;
  World() {
    namespaces = {Ns("a", {{"team", "x"}}), Ns("b", {{"team", "x"}}), Ns("c")};
    pods = {
        Pod("a", "web", "n1", "10.42.0.5", {{"app", "web"}}, Json::array({{{"name", "http"}, {"containerPort", 8080}}})),
        Pod("a", "client", "n1", "10.42.0.6", {{"app", "client"}}),
        Pod("a", "remote", "n2", "10.42.1.7", {{"app", "client"}},
            Json::array({{{"name", "http"}, {"containerPort", 9090}}})),
        Pod("b", "client", "n2", "10.42.1.8", {{"app", "client"}}),
        Pod("c", "client", "n1", "10.42.0.9", {{"app", "client"}}),
    };
  }
  std::vector<net::PodPolicy> Model(const std::string& node = "n1") const {
    return network::NetworkPolicyModel(policies, pods, namespaces, node);
  }
};

}  // namespace

TEST_CASE("netpol model: no policy isolates nothing; a default deny isolates every pod of its namespace on this node") {
  World w;
  CHECK(w.Model().empty());
  w.policies = {Policy("a", "deny", {{"podSelector", Json::object()}})};
  auto m = w.Model();
  REQUIRE(m.size() == 2);  // a/web and a/client; a/remote runs on n2
  for (const net::PodPolicy& p : m) {
    CHECK(p.ingress_isolated);
    CHECK(!p.egress_isolated);  // policyTypes default: Ingress only without egress rules
    CHECK(p.ingress.empty());
  }
  CHECK(Find(m, "a/web")->ip == Ip("10.42.0.5"));
  CHECK(w.Model("n2").size() == 1);
}

TEST_CASE("netpol model: podSelector, namespaceSelector and both resolve to pod IPs of every node") {
  World w;
  w.policies = {Policy("a", "p", {{"podSelector", {{"matchLabels", {{"app", "web"}}}}},
                                  {"ingress", Json::array({
                                                  {{"from", Json::array({{{"podSelector", {{"matchLabels", {{"app", "client"}}}}}}})}},
                                                  {{"from", Json::array({{{"namespaceSelector", {{"matchLabels", {{"team", "x"}}}}}}})}},
                                                  {{"from", Json::array({{{"namespaceSelector", {{"matchLabels", {{"kubernetes.io/metadata.name", "b"}}}}},
                                                                          {"podSelector", {{"matchLabels", {{"app", "client"}}}}}}})}},
                                              })}})};
  auto m = w.Model();
  REQUIRE(m.size() == 1);
  const net::PodPolicy& web = m[0];
  CHECK(web.name == "a/web");
  REQUIRE(web.ingress.size() == 3);
  CHECK(Ips(web.ingress[0].pod_ips) == std::vector<std::string>{"10.42.0.6", "10.42.1.7"});  // same namespace only
  CHECK(Ips(web.ingress[1].pod_ips) == std::vector<std::string>{"10.42.0.5", "10.42.0.6", "10.42.1.7", "10.42.1.8"});
  CHECK(Ips(web.ingress[2].pod_ips) == std::vector<std::string>{"10.42.1.8"});
  for (const auto& r : web.ingress) {
    CHECK(!r.any_peer);
    CHECK(r.ports.empty());
  }
}

TEST_CASE("netpol model: ipBlock with except, numeric, ranged and named ports") {
  World w;
  w.policies = {Policy("a", "p", {{"podSelector", {{"matchLabels", {{"app", "web"}}}}},
                                  {"ingress", Json::array({{{"from", Json::array({{{"ipBlock", {{"cidr", "192.168.1.7/16"}, {"except", {"192.168.5.0/24"}}}}}})},
                                                            {"ports", Json::array({{{"protocol", "TCP"}, {"port", 80}},
                                                                                   {{"protocol", "UDP"}, {"port", 1000}, {"endPort", 2000}},
                                                                                   {{"protocol", "TCP"}, {"port", "http"}},
                                                                                   {{"protocol", "UDP"}, {"port", "http"}},
                                                                                   {{"protocol", "SCTP"}}})}}})}})};
  auto m = w.Model();
  REQUIRE(m.size() == 1);
  REQUIRE(m[0].ingress.size() == 1);
  const net::PolicyRule& r = m[0].ingress[0];
  REQUIRE(r.blocks.size() == 1);
  CHECK(r.blocks[0].cidr.String() == "192.168.0.0/16");  // host bits ignored
  REQUIRE(r.blocks[0].except.size() == 1);
  CHECK(r.blocks[0].except[0].String() == "192.168.5.0/24");
  REQUIRE(r.ports.size() == 4);  // the UDP "http" is no port of a/web
  CHECK((r.ports[0].protocol == IPPROTO_TCP && r.ports[0].port == 80 && r.ports[0].end_port == 0));
  CHECK((r.ports[1].protocol == IPPROTO_UDP && r.ports[1].port == 1000 && r.ports[1].end_port == 2000));
  CHECK((r.ports[2].protocol == IPPROTO_TCP && r.ports[2].port == 8080));  // the isolated pod's "http"
  CHECK((r.ports[3].protocol == IPPROTO_SCTP && r.ports[3].port == 0));
}

TEST_CASE("netpol model: egress isolation, named ports per peer, and a rule whose only port is unknown") {
  World w;
  w.policies = {
      Policy("a", "egress", {{"podSelector", {{"matchLabels", {{"app", "client"}}}}},
                             {"policyTypes", {"Egress"}},
                             {"egress", Json::array({{{"ports", Json::array({{{"protocol", "UDP"}, {"port", 53}}})}},
                                                     {{"ports", Json::array({{{"port", "http"}}})}},
                                                     {{"ports", Json::array({{{"port", "nope"}}})}}})}}),
      // Ingress only, by its policyTypes, though it names egress rules.
      Policy("c", "ingress-only", {{"podSelector", Json::object()},
                                   {"policyTypes", {"Ingress"}},
                                   {"egress", Json::array({Json::object()})}}),
  };
  auto m = w.Model();
  const net::PodPolicy* client = Find(m, "a/client");
  REQUIRE(client != nullptr);
  CHECK(!client->ingress_isolated);
  CHECK(client->egress_isolated);
  REQUIRE(client->egress.size() == 3);
  CHECK(client->egress[0].any_peer);
  CHECK((client->egress[0].ports.size() == 1 && client->egress[0].ports[0].port == 53));
  // "http" is 8080 on a/web and 9090 on a/remote: one rule per number, to those pods.
  std::vector<std::pair<uint16_t, std::vector<std::string>>> named;
  for (size_t i = 1; i < 3; ++i) named.push_back({client->egress[i].ports.at(0).port, Ips(client->egress[i].pod_ips)});
  std::sort(named.begin(), named.end());
  CHECK(named[0] == std::pair<uint16_t, std::vector<std::string>>{8080, {"10.42.0.5"}});
  CHECK(named[1] == std::pair<uint16_t, std::vector<std::string>>{9090, {"10.42.1.7"}});
  const net::PodPolicy* c = Find(m, "c/client");
  REQUIRE(c != nullptr);
  CHECK(c->ingress_isolated);
  CHECK(!c->egress_isolated);
  CHECK(Find(m, "a/web") == nullptr);
}

TEST_CASE("netpol model: pods without an IP, finished or on the host network are neither guarded nor peers") {
  World w;
  w.pods.push_back(Obj({{"metadata", {{"namespace", "a"}, {"name", "pending"}, {"labels", {{"app", "client"}}}}},
                        {"spec", {{"nodeName", "n1"}}},
                        {"status", {{"phase", "Pending"}}}}));
  w.pods.push_back(Obj({{"metadata", {{"namespace", "a"}, {"name", "done"}, {"labels", {{"app", "client"}}}}},
                        {"spec", {{"nodeName", "n1"}}},
                        {"status", {{"phase", "Succeeded"}, {"podIP", "10.42.0.20"}}}}));
  w.pods.push_back(Obj({{"metadata", {{"namespace", "a"}, {"name", "host"}, {"labels", {{"app", "client"}}}}},
                        {"spec", {{"nodeName", "n1"}, {"hostNetwork", true}}},
                        {"status", {{"phase", "Running"}, {"podIP", "192.168.0.2"}}}}));
  w.policies = {Policy("a", "p", {{"podSelector", Json::object()},
                                  {"ingress", Json::array({{{"from", Json::array({{{"podSelector", Json::object()}}})}}})}})};
  auto m = w.Model();
  CHECK(m.size() == 2);
  CHECK(Find(m, "a/pending") == nullptr);
  CHECK(Find(m, "a/host") == nullptr);
  REQUIRE(Find(m, "a/web") != nullptr);
  CHECK(Ips(Find(m, "a/web")->ingress.at(0).pod_ips) == std::vector<std::string>{"10.42.0.5", "10.42.0.6", "10.42.1.7"});
}
