// Unit tests of runtime/kubelet/stream_server.h for logs: a request on a
// connection answered raw, the pod found from the log directories by the
// kubelet's naming (the newest pod of a name, the newest attempt or the
// one before for previous), and errors worded as the kubelet's.
#include <doctest/doctest.h>
#include <sys/socket.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "runtime/kubelet/pod_naming.h"
#include "runtime/kubelet/stream_server.h"
#include "test/unit/temp_dir.h"

using namespace kubit;

namespace {

// Sends a GET of `target` and returns everything the server answered.
std::string Ask(kubelet::StreamServer* server, const std::string& target,
                const std::string& headers = "") {
  int sv[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  net::Conn client(sv[0], nullptr, "test");
  std::thread t([server, fd = sv[1]] {
    net::Conn conn(fd, nullptr, "test");
    server->Serve(&conn);
  });
  client.Write("GET " + target + " HTTP/1.1\r\nHost: kubelet\r\n" + headers + "\r\n");
  std::string out;
  char buf[4096];
  long n;
  while ((n = client.Read(buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  t.join();
  return out;
}

void WriteLog(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

std::string Body(const std::string& response) { return response.substr(response.find("\r\n\r\n") + 4); }

}  // namespace

TEST_CASE("streams kubelet: container logs by the kubelet's names") {
  test::TempDir dir;
  const std::string d = dir.path();
  // An old pod of the same name, then the current one with two attempts.
  WriteLog(kubelet::ContainerLogPath(d, "default", "web", "uid-old", "app", 0),
           "2024-05-01T11:00:00Z stdout F old pod\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  WriteLog(kubelet::ContainerLogPath(d, "default", "web", "uid-new", "app", 0),
           "2024-05-01T12:00:00Z stdout F first run\n");
  WriteLog(kubelet::ContainerLogPath(d, "default", "web", "uid-new", "app", 1),
           "2024-05-01T12:01:00Z stdout F second run\n2024-05-01T12:01:01Z stderr F failed\n");
  kubelet::StreamServer server(d);

  std::string r = Ask(&server, "/containerLogs/default/web/app");
  CHECK(r.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(r.find("Content-Type: text/plain") != std::string::npos);
  CHECK(Body(r) == "second run\nfailed\n");
  CHECK(Body(Ask(&server, "/containerLogs/default/web/app?previous=true")) == "first run\n");
  CHECK(Body(Ask(&server, "/containerLogs/default/web/app?tailLines=1&timestamps=true")) ==
        "2024-05-01T12:01:01.000000000Z failed\n");
  // follow of a container that does not run: what is there, then the end.
  CHECK(Body(Ask(&server, "/containerLogs/default/web/app?follow=true")) == "second run\nfailed\n");
}

TEST_CASE("streams kubelet: log errors as the kubelet words them") {
  test::TempDir dir;
  const std::string d = dir.path();
  WriteLog(kubelet::ContainerLogPath(d, "default", "once", "u1", "app", 0),
           "2024-05-01T12:00:00Z stdout F only run\n");
  kubelet::StreamServer server(d);
  std::string r = Ask(&server, "/containerLogs/default/once/app?previous=true");
  CHECK(r.rfind("HTTP/1.1 400 ", 0) == 0);
  CHECK(Body(r).find(R"(previous terminated container \"app\" in pod \"once\" not found)") !=
        std::string::npos);
  r = Ask(&server, "/containerLogs/default/new/app");
  CHECK(r.rfind("HTTP/1.1 400 ", 0) == 0);
  CHECK(Body(r).find(R"(container \"app\" in pod \"new\" is waiting to start: ContainerCreating)") !=
        std::string::npos);
  CHECK(Body(r).find(R"("kind":"Status")") != std::string::npos);
  r = Ask(&server, "/nothing/here");
  CHECK(r.rfind("HTTP/1.1 404 ", 0) == 0);
}

TEST_CASE("streams kubelet: exec needs a command, a WebSocket upgrade and a running container") {
  test::TempDir dir;
  kubelet::StreamServer server(dir.path());
  std::string r = Ask(&server, "/exec/default/web/app?stdout=1");
  CHECK(r.rfind("HTTP/1.1 400 ", 0) == 0);
  CHECK(Body(r).find("you must specify at least 1 command") != std::string::npos);
  r = Ask(&server, "/exec/default/web/app?command=ls&stdout=1");
  CHECK(r.rfind("HTTP/1.1 400 ", 0) == 0);
  CHECK(Body(r).find("v5.channel.k8s.io") != std::string::npos);
  r = Ask(&server, "/exec/default/web/app?command=ls&stdout=1",
          "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
          "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io\r\n");
  CHECK(r.rfind("HTTP/1.1 404 ", 0) == 0);
  CHECK(Body(r).find(R"(container not found (\"app\"))") != std::string::npos);
}
