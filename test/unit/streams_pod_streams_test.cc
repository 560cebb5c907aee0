// Unit tests of core/apiserver/pod_streams.h: pods/log through a real API
// server, the node tunnel and the kubelet's stream server (log files laid
// out by the kubelet's naming in a temporary data dir), with upstream's
// errors for unknown pods, unscheduled pods, missing or wrong container
// names and nodes whose agent is away; exec, attach and portforward
// relayed to the kubelet's paths with their upgrade headers.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "net/http_client.h"
#include "net/http_server.h"
#include "net/websocket.h"
#include "runtime/kubelet/pod_naming.h"
#include "runtime/kubelet/stream_server.h"
#include "runtime/kubelet/tunnel_client.h"
#include "test/unit/client_test_cluster.h"

using namespace kubit;
using Json = nlohmann::json;

namespace {

struct Get {
  int status = 0;
  std::string body;
};

Get Fetch(test::TestCluster& cluster, const std::string& path) {
  net::HttpClientOptions o;
  o.dial = cluster.api->InProcessDialer("system:admin", {"system:masters"});
  net::HttpClient http(o);
  net::HttpClientRequest req;
  req.url = "http://kubit" + path;
  net::HttpClientResponse resp;
  std::string error;
  REQUIRE_MESSAGE(http.Do(req, &resp, &error), error);
  return {resp.status, resp.body};
}

std::string MakePod(test::TestCluster& cluster, const std::string& name, const std::string& node) {
  auto c = cluster.InProcess();
  Json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", name}}},
              {"spec",
               {{"containers", {{{"name", "a"}, {"image", "busybox"}}, {{"name", "b"}, {"image", "busybox"}}}}}}};
  if (!node.empty()) pod["spec"]["nodeName"] = node;
  Json out;
  auto s = c->Raw("POST", "/api/v1/namespaces/default/pods", pod.dump(), "application/json", &out);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return out["metadata"]["uid"];
}

}  // namespace

TEST_CASE("streams pods/log: through the API server, the tunnel and the kubelet") {
  test::TestCluster cluster;
  std::string uid = MakePod(cluster, "web", "board1");
  MakePod(cluster, "floating", "");
  MakePod(cluster, "elsewhere", "board2");
  std::string log = kubelet::ContainerLogPath(cluster.dir.path(), "default", "web", uid, "a", 0);
  std::filesystem::create_directories(std::filesystem::path(log).parent_path());
  std::ofstream(log) << "2024-05-01T12:00:00Z stdout F hello\n2024-05-01T12:00:01Z stderr F world\n";

  kubelet::StreamServer kubelet_streams(cluster.dir.path());
  auto dial = cluster.api->InProcessDialer("system:node:board1", {"system:nodes"});
  kubelet::TunnelClient agent(kubelet::TunnelConnectFor(client::InProcessConfig(dial)),
                              [&](net::Conn* c) { kubelet_streams.Serve(c); }, [](const std::string&) {});
  agent.Start();

  // Until the agent's tunnel is filed on the server's side.
  Get g;
  for (int i = 0; i < 200; i++) {
    g = Fetch(cluster, "/api/v1/namespaces/default/pods/web/log?container=a");
    if (g.status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  CHECK(g.status == 200);
  CHECK(g.body == "hello\nworld\n");
  g = Fetch(cluster, "/api/v1/namespaces/default/pods/web/log?container=a&tailLines=1&timestamps=true");
  CHECK(g.body == "2024-05-01T12:00:01.000000000Z world\n");

  // Errors from the kubelet are relayed with their Status.
  g = Fetch(cluster, "/api/v1/namespaces/default/pods/web/log?container=b");
  CHECK(g.status == 400);
  CHECK(Json::parse(g.body)["message"] == "container \"b\" in pod \"web\" is waiting to start: ContainerCreating");

  // And the API server's own, as upstream's.
  g = Fetch(cluster, "/api/v1/namespaces/default/pods/web/log");
  CHECK(g.status == 400);
  CHECK(Json::parse(g.body)["message"] == "a container name must be specified for pod web, choose one of: [a b]");
  g = Fetch(cluster, "/api/v1/namespaces/default/pods/web/log?container=zz");
  CHECK(g.status == 400);
  CHECK(Json::parse(g.body)["message"] == "container zz is not valid for pod web");
  g = Fetch(cluster, "/api/v1/namespaces/default/pods/nope/log");
  CHECK(g.status == 404);
  CHECK(Json::parse(g.body)["message"] == "pods \"nope\" not found");
  g = Fetch(cluster, "/api/v1/namespaces/default/pods/floating/log?container=a");
  CHECK(g.status == 400);
  CHECK(Json::parse(g.body)["message"] == "pod floating does not have a host assigned");
  g = Fetch(cluster, "/api/v1/namespaces/default/pods/elsewhere/log?container=a");
  CHECK(g.status == 500);
  CHECK(Json::parse(g.body)["message"].get<std::string>().find(
            "node board2 has no tunnel: the agent is not connected") != std::string::npos);
}

TEST_CASE("streams pods/exec: a node's own identity may not exec, discovery lists both") {
  test::TestCluster cluster;
  Json out;
  auto c = cluster.InProcess();
  REQUIRE(c->Raw("GET", "/api/v1", "", "", &out).ok());
  std::map<std::string, Json> by_name;
  for (const auto& r : out["resources"]) by_name[r["name"]] = r["verbs"];
  CHECK(by_name["pods/log"] == Json({"get"}));
  CHECK(by_name["pods/exec"] == Json({"create", "get"}));
  MakePod(cluster, "web", "board1");
  auto node = cluster.InProcess("system:node:board1", {"system:nodes"});
  auto s = node->Raw("POST", "/api/v1/namespaces/default/pods/web/exec?command=true&container=a", "", "", &out);
  CHECK(s.code() == 403);
}

namespace {

// Reads an HTTP head byte by byte (nothing after it is taken).
std::string ReadHead(net::Conn* conn) {
  std::string head;
  char c;
  while ((head.size() < 4 || head.compare(head.size() - 4, 4, "\r\n\r\n") != 0) &&
         conn->Read(&c, 1) == 1)
    head.push_back(c);
  return head;
}

// A kubelet that answers an exec upgrade itself and echoes each message
// on channel 1: what the API server must relay without a change.
void EchoKubelet(net::Conn* conn, std::mutex* mu, std::string* seen_head) {
  std::string head = ReadHead(conn);
  net::HttpRequest req;
  std::string version;
  // The probe's stream closes without a request.
  if (head.size() < 4 || !net::ParseRequestHead(head.substr(0, head.size() - 4), &req, &version)) return;
  {
    std::lock_guard<std::mutex> l(*mu);
    *seen_head = head;
  }
  conn->Write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Accept: " + net::WebSocketAccept(req.Header("sec-websocket-key")) +
              "\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n");
  net::WebSocketConn ws(conn, true);
  std::string msg, error;
  while (ws.ReadMessage(&msg, &error)) ws.Send(net::WsOpcode::kBinary, "\x01" + msg.substr(1));
}

}  // namespace

TEST_CASE("streams pods/exec: the upgrade and the bytes are relayed unchanged") {
  test::TestCluster cluster;
  MakePod(cluster, "web", "board1");
  std::mutex mu;
  std::string seen;
  auto dial = cluster.api->InProcessDialer("system:node:board1", {"system:nodes"});
  kubelet::TunnelClient agent(kubelet::TunnelConnectFor(client::InProcessConfig(dial)),
                              [&](net::Conn* c) { EchoKubelet(c, &mu, &seen); }, [](const std::string&) {});
  agent.Start();
  std::unique_ptr<net::Conn> probe;
  std::string error;
  for (int i = 0; i < 200 && !cluster.api->tunnels()->Dial("board1", &probe, &error, 5000); i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  REQUIRE(probe);
  probe.reset();  // that stream's kubelet sees an empty request and ends

  auto admin = cluster.api->InProcessDialer("system:admin", {"system:masters"});
  int fd = admin(&error);
  REQUIRE(fd >= 0);
  net::Conn kubectl(fd, nullptr, "kubectl");
  const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
  kubectl.Write("GET /api/v1/namespaces/default/pods/web/exec?command=sh&command=-c&command=true"
                "&container=b&stdin=true&stdout=true HTTP/1.1\r\nHost: kubit\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
                "\r\nSec-WebSocket-Version: 13\r\n"
                "Sec-WebSocket-Protocol: v5.channel.k8s.io,v4.channel.k8s.io\r\n\r\n");
  std::string head = ReadHead(&kubectl);
  CHECK(head.rfind("HTTP/1.1 101 ", 0) == 0);
  CHECK(head.find("Sec-WebSocket-Accept: " + net::WebSocketAccept(key)) != std::string::npos);
  CHECK(head.find("Sec-WebSocket-Protocol: v5.channel.k8s.io") != std::string::npos);
  // The kubelet saw kubectl's query and WebSocket headers as sent.
  std::lock_guard<std::mutex> l(mu);
  CHECK(seen.rfind("GET /exec/default/web/b?command=sh&command=-c&command=true&container=b"
                   "&stdin=true&stdout=true HTTP/1.1\r\n", 0) == 0);
  CHECK(seen.find("sec-websocket-key: " + key) != std::string::npos);

  net::WebSocketConn ws(&kubectl, false);
  std::string msg;
  REQUIRE(ws.Send(net::WsOpcode::kBinary, std::string("\x00", 1) + "ping through"));
  REQUIRE(ws.ReadMessage(&msg, &error));
  CHECK(msg == "\x01ping through");
  ws.SendClose(1000);
  CHECK_FALSE(ws.ReadMessage(&msg, &error));
}

TEST_CASE("streams pods/attach and pods/portforward: routed to the kubelet's paths") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  Json out;
  REQUIRE(c->Raw("GET", "/api/v1", "", "", &out).ok());
  std::map<std::string, Json> by_name;
  for (const auto& r : out["resources"]) by_name[r["name"]] = r["verbs"];
  CHECK(by_name["pods/attach"] == Json({"create", "get"}));
  CHECK(by_name["pods/portforward"] == Json({"create", "get"}));
  Json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "web"}}},
              {"spec",
               {{"nodeName", "board1"},
                {"containers", {{{"name", "a"}, {"image", "busybox"}, {"stdin", true}, {"stdinOnce", true}}}}}}};
  REQUIRE(c->Raw("POST", "/api/v1/namespaces/default/pods", pod.dump(), "application/json", &out).ok());
  const std::string uid = out["metadata"]["uid"];
  // A node may not attach to or forward into the pods it runs.
  auto node = cluster.InProcess("system:node:board1", {"system:nodes"});
  CHECK(node->Raw("POST", "/api/v1/namespaces/default/pods/web/portforward", "", "", &out).code() == 403);

  std::mutex mu;
  std::string seen;
  auto dial = cluster.api->InProcessDialer("system:node:board1", {"system:nodes"});
  kubelet::TunnelClient agent(kubelet::TunnelConnectFor(client::InProcessConfig(dial)),
                              [&](net::Conn* conn) { EchoKubelet(conn, &mu, &seen); }, [](const std::string&) {});
  agent.Start();
  std::unique_ptr<net::Conn> probe;
  std::string error;
  for (int i = 0; i < 200 && !cluster.api->tunnels()->Dial("board1", &probe, &error, 5000); i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  REQUIRE(probe);
  probe.reset();

  auto admin = cluster.api->InProcessDialer("system:admin", {"system:masters"});
  auto request = [&](const std::string& text) {
    int fd = admin(&error);
    REQUIRE(fd >= 0);
    net::Conn kubectl(fd, nullptr, "kubectl");
    kubectl.Write(text);
    CHECK(ReadHead(&kubectl).rfind("HTTP/1.1 101 ", 0) == 0);
    std::lock_guard<std::mutex> l(mu);
    return seen;
  };
  // kubectl's SPDY fallback: a POST whose protocol header goes through.
  std::string head = request(
      "POST /api/v1/namespaces/default/pods/web/portforward HTTP/1.1\r\nHost: kubit\r\n"
      "Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n"
      "Content-Length: 0\r\n\r\n");
  CHECK(head.rfind("POST /portForward/default/web/" + uid + " HTTP/1.1\r\n", 0) == 0);
  CHECK(head.find("x-stream-protocol-version: portforward.k8s.io") != std::string::npos);
  CHECK(head.find("upgrade: SPDY/3.1") != std::string::npos);
  // attach: the container defaulted, stdinOnce added from the pod's spec.
  head = request(
      "GET /api/v1/namespaces/default/pods/web/attach?stdin=true&stdout=true HTTP/1.1\r\n"
      "Host: kubit\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
      "Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n");
  CHECK(head.rfind("GET /attach/default/web/a?stdin=true&stdout=true&stdinOnce=true HTTP/1.1\r\n", 0) == 0);
}
