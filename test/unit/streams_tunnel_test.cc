// Unit tests of the node tunnel: a real API server (core/apiserver
// node_tunnel.h) and the agent's TunnelClient (runtime/kubelet
// tunnel_client.h), over the in-process transport and over TLS with a
// node's client certificate. A Dial reaches the handler the agent runs.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <vector>
#include <thread>

#include "net/pki.h"
#include "runtime/kubelet/tunnel_client.h"
#include "test/unit/client_test_cluster.h"

using namespace kubit;

namespace {

// The agent's side: reads one line and answers it.
void Echo(net::Conn* conn) {
  std::string line;
  char c;
  while (conn->Read(&c, 1) == 1 && c != '\n') line.push_back(c);
  conn->Write("hello " + line + "\n");
}

std::string ReadLine(net::Conn* conn) {
  std::string line;
  char c;
  while (conn->Read(&c, 1) == 1 && c != '\n') line.push_back(c);
  return line;
}

// Dials until the server has registered the control connection (the
// client sees the 101 a moment before the server files it).
bool DialWhenUp(apiserver::NodeTunnels* t, const std::string& node,
                std::unique_ptr<net::Conn>* out, std::string* error) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!t->Dial(node, out, error, 5000)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

client::Config NodeTls(test::TestCluster& cluster, const std::string& node) {
  net::CertRequest req;
  req.common_name = "system:node:" + node;
  req.organizations = {"system:nodes"};
  req.client = true;
  net::KeyPair kp;
  std::string error;
  REQUIRE_MESSAGE(net::IssueCertificate(cluster.pki.ca, req, &kp, &error), error);
  client::Config c;
  c.server = cluster.url();
  c.tls.ca_pem = cluster.pki.ca.cert_pem;
  c.tls.cert_pem = kp.cert_pem;
  c.tls.key_pem = kp.key_pem;
  return c;
}

}  // namespace

TEST_CASE("streams tunnel: a node without an agent has no tunnel") {
  test::TestCluster cluster;
  std::unique_ptr<net::Conn> conn;
  std::string error;
  CHECK_FALSE(cluster.api->tunnels()->Dial("board1", &conn, &error, 100));
  CHECK(error == "node board1 has no tunnel: the agent is not connected");
}

TEST_CASE("streams tunnel: in-process agent, dials reach its handler, one stream each") {
  test::TestCluster cluster;
  auto dial = cluster.api->InProcessDialer("system:node:board1", {"system:nodes"});
  kubelet::TunnelClient agent(kubelet::TunnelConnectFor(client::InProcessConfig(dial)), Echo,
                              [](const std::string&) {});
  agent.Start();
  for (int i = 0; i < 3; i++) {
    std::unique_ptr<net::Conn> conn;
    std::string error;
    REQUIRE_MESSAGE(DialWhenUp(cluster.api->tunnels(), "board1", &conn, &error), error);
    REQUIRE(conn->Write("stream " + std::to_string(i) + "\n"));
    CHECK(ReadLine(conn.get()) == "hello stream " + std::to_string(i));
  }
  // Another node's name reaches nobody.
  std::unique_ptr<net::Conn> conn;
  std::string error;
  CHECK_FALSE(cluster.api->tunnels()->Dial("board2", &conn, &error, 100));
  agent.Stop();
  CHECK_FALSE(agent.connected());
}

TEST_CASE("streams tunnel: over TLS with the node's certificate") {
  test::TestCluster cluster;
  kubelet::TunnelClient agent(kubelet::TunnelConnectFor(NodeTls(cluster, "board7")), Echo,
                              [](const std::string&) {});
  agent.Start();
  std::unique_ptr<net::Conn> conn;
  std::string error;
  REQUIRE_MESSAGE(DialWhenUp(cluster.api->tunnels(), "board7", &conn, &error), error);
  REQUIRE(conn->Write("over tls\n"));
  CHECK(ReadLine(conn.get()) == "hello over tls");
}

TEST_CASE("streams tunnel: only nodes open tunnels, and only for their own dials") {
  test::TestCluster cluster;
  // A user that is no node: refused (RBAC gives it no such path either).
  auto user = cluster.api->InProcessDialer("alice", {"system:authenticated"});
  auto connect = kubelet::TunnelConnectFor(client::InProcessConfig(user));
  std::string error;
  auto conn = connect(&error);
  REQUIRE(conn);
  CHECK_FALSE(kubelet::UpgradeTunnel(conn.get(), "/v1-kubit/tunnel", &error));
  CHECK(error.find("403") != std::string::npos);
  // A node answering a dial id it was never sent: 404.
  auto node = cluster.api->InProcessDialer("system:node:board1", {"system:nodes"});
  conn = kubelet::TunnelConnectFor(client::InProcessConfig(node))(&error);
  REQUIRE(conn);
  CHECK_FALSE(kubelet::UpgradeTunnel(conn.get(), "/v1-kubit/tunnel/0123", &error));
  CHECK(error.find("404") != std::string::npos);
}

TEST_CASE("streams tunnel: the agent retries until the server answers") {
  test::TestCluster cluster;
  auto dial = kubelet::TunnelConnectFor(client::InProcessConfig(
      cluster.api->InProcessDialer("system:node:board1", {"system:nodes"})));
  std::atomic<int> attempts{0};
  std::vector<std::string> logged;
  std::mutex mu;
  // The first attempt finds no server.
  kubelet::TunnelConnect flaky = [&](std::string* error) -> std::unique_ptr<net::Conn> {
    if (attempts++ == 0) {
      *error = "connect 127.0.0.1:1: Connection refused";
      return nullptr;
    }
    return dial(error);
  };
  kubelet::TunnelClient agent(flaky, Echo, [&](const std::string& m) {
    std::lock_guard<std::mutex> l(mu);
    logged.push_back(m);
  });
  agent.Start();
  std::unique_ptr<net::Conn> conn;
  std::string error;
  REQUIRE_MESSAGE(DialWhenUp(cluster.api->tunnels(), "board1", &conn, &error), error);
  REQUIRE(conn->Write("again\n"));
  CHECK(ReadLine(conn.get()) == "hello again");
  agent.Stop();
  std::lock_guard<std::mutex> l(mu);
  REQUIRE(logged.size() >= 2);
  CHECK(logged[0] == "tunnel to the API server: connect 127.0.0.1:1: Connection refused; retrying");
  CHECK(logged[1] == "tunnel to the API server is up");
}
