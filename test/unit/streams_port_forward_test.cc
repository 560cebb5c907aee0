// Unit tests of runtime/kubelet/port_forward.h: a session played as
// kubectl's client-go plays it (error stream half-closed, then the data
// stream, pings), raw and tunnelled in WebSocket binary messages, against
// an echo server: data both ways, half-close, several connections at
// once, a large transfer, a port that refuses with upstream's message on
// the error stream; and DialInNetns in this process's own namespace.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "net/spdy.h"
#include "net/websocket.h"
#include "runtime/kubelet/port_forward.h"

using namespace kubit;

namespace {

// Echoes every connection until its peer half-closes, then closes it.
class EchoServer {
 public:
  EchoServer() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    listen(fd_, 16);
    socklen_t len = sizeof(a);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      for (;;) {
        int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) return;
        std::thread([c] {
          char buf[65536];
          ssize_t n;
          while ((n = read(c, buf, sizeof(buf))) > 0)
            for (ssize_t off = 0; off < n;) {
              ssize_t w = write(c, buf + off, static_cast<size_t>(n - off));
              if (w <= 0) break;
              off += w;
            }
          close(c);
        }).detach();
      }
    });
  }
  ~EchoServer() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  uint16_t port() const { return port_; }

 private:
  int fd_;
  uint16_t port_;
  std::thread thread_;
};

// kubectl's side of the session, over one end of a socketpair.
class Client {
 public:
  Client(int fd, bool websocket) : fd_(fd), websocket_(websocket), ws_decoder_(false) {}
  void Send(const std::string& frame) {
    static const uint8_t mask[4] = {1, 2, 3, 4};
    std::string bytes = websocket_ ? net::EncodeWsFrame(net::WsOpcode::kBinary, frame, true, mask) : frame;
    REQUIRE(write(fd_, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  }
  // The next frame from the kubelet; false at the end of the session.
  bool Next(net::SpdyFrame* out) {
    std::string error;
    for (;;) {
      int r = decoder_.Next(out, &error);
      REQUIRE(r >= 0);
      if (r == 1) return true;
      char buf[65536];
      ssize_t n = read(fd_, buf, sizeof(buf));
      if (n <= 0) return false;
      if (!websocket_) {
        decoder_.Feed(buf, static_cast<size_t>(n));
        continue;
      }
      ws_decoder_.Feed(buf, static_cast<size_t>(n));
      net::WsFrame f;
      while (ws_decoder_.Next(&f, &error) == 1) {
        if (f.opcode == net::WsOpcode::kClose) return false;
        CHECK(f.opcode == net::WsOpcode::kBinary);
        decoder_.Feed(f.payload.data(), f.payload.size());
      }
    }
  }
  // Opens request `id` to `port` as client-go does: the error stream,
  // half-closed, then the data stream; both replies awaited.
  void Open(uint32_t request, uint16_t port, uint32_t error_id, uint32_t data_id) {
    net::SpdyHeaders h = {{"streamtype", "error"}, {"port", std::to_string(port)},
                          {"requestid", std::to_string(request)}};
    Send(enc.SynStream(error_id, h));
    Send(enc.Data(error_id, "", net::kSpdyFlagFin));
    h[0].second = "data";
    Send(enc.SynStream(data_id, h));
  }
  net::SpdyEncoder enc;

 private:
  int fd_;
  bool websocket_;
  net::SpdyDecoder decoder_;
  net::WsFrameDecoder ws_decoder_;
};

// What each stream received, until both streams of every request had FIN.
struct Received {
  std::map<uint32_t, std::string> data;
  std::map<uint32_t, bool> fin;
  std::map<uint32_t, bool> replied;
  std::vector<uint32_t> pings;
};

void Collect(Client* c, Received* r, size_t fins_wanted) {
  size_t fins = 0;
  net::SpdyFrame f;
  while (fins < fins_wanted && c->Next(&f)) {
    if (f.type == net::SpdyType::kSynReply) r->replied[f.stream_id] = true;
    if (f.type == net::SpdyType::kPing) r->pings.push_back(f.value);
    if (f.type != net::SpdyType::kData) continue;
    r->data[f.stream_id] += f.data;
    if (f.fin()) {
      r->fin[f.stream_id] = true;
      fins++;
    }
  }
}

void RunSession(bool websocket) {
  EchoServer echo;
  int sv[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  std::atomic<int> dials{0};
  kubelet::PortDialer dial = [&](uint16_t port, std::string* error) -> int {
    dials++;
    if (port != 80) {
      *error = "failed to connect to localhost:" + std::to_string(port) + " (test)";
      return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(echo.port());
    REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    return fd;
  };
  std::thread server([&] {
    net::Conn conn(sv[1], nullptr, "test");
    kubelet::PortForwardOptions o;
    o.websocket = websocket;
    o.pod = "k8s_uid1";
    kubelet::ServePortForward(&conn, o, dial);
  });
  Client c(sv[0], websocket);

  // Two connections at once, one of them large; a ping in between.
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); i++) big[i] = static_cast<char>(i * 13 + i / 7);
  c.Open(0, 80, 1, 3);
  c.Open(1, 80, 5, 7);
  c.Send(c.enc.Ping(9));
  c.Send(c.enc.Data(3, "hello "));
  c.Send(c.enc.Data(7, "other"));
  c.Send(c.enc.Data(3, "world", net::kSpdyFlagFin));
  std::thread writer([&] {
    for (size_t off = 0; off < big.size(); off += 32768)
      c.Send(c.enc.Data(7, big.substr(off, 32768)));
    c.Send(c.enc.Data(7, "", net::kSpdyFlagFin));
  });
  Received r;
  Collect(&c, &r, 4);
  writer.join();
  CHECK(r.replied[1]);
  CHECK(r.replied[3]);
  CHECK(r.replied[5]);
  CHECK(r.replied[7]);
  CHECK(r.pings == std::vector<uint32_t>{9});
  CHECK(r.data[3] == "hello world");
  CHECK(r.data[7].size() == 5 + big.size());
  CHECK(r.data[7] == "other" + big);
  CHECK(r.data[1].empty());  // no error
  CHECK(r.data[5].empty());
  CHECK(r.fin[1]);
  CHECK(r.fin[3]);
  CHECK(r.fin[5]);
  CHECK(r.fin[7]);

  // A port nothing listens on: upstream's message, both streams end, and
  // the session goes on.
  c.Open(2, 81, 11, 13);
  Received e;
  Collect(&c, &e, 2);
  CHECK(e.data[11] == "error forwarding port 81 to pod k8s_uid1, uid : failed to connect to localhost:81 (test)");
  CHECK(e.fin[13]);
  c.Open(3, 80, 15, 17);
  c.Send(c.enc.Data(17, "again", net::kSpdyFlagFin));
  Received again;
  Collect(&c, &again, 2);
  CHECK(again.data[17] == "again");
  CHECK(dials == 4);

  // The client goes: the session ends.
  shutdown(sv[0], SHUT_WR);
  server.join();
  close(sv[0]);
}

}  // namespace

TEST_CASE("streams port forward: SPDY session over the upgraded connection") { RunSession(false); }

TEST_CASE("streams port forward: SPDY tunnelled in WebSocket binary messages") { RunSession(true); }

TEST_CASE("streams port forward: DialInNetns connects inside the named namespace") {
  EchoServer echo;
  std::string error;
  int fd = kubelet::DialInNetns("/proc/self/ns/net", "self", echo.port(), &error);
  REQUIRE(fd >= 0);
  CHECK(write(fd, "x", 1) == 1);
  char ch = 0;
  CHECK(read(fd, &ch, 1) == 1);
  CHECK(ch == 'x');
  close(fd);
  // Port 1 on loopback: nothing listens there.
  CHECK(kubelet::DialInNetns("/proc/self/ns/net", "self", 1, &error) < 0);
  CHECK(error.find("failed to connect to localhost:1 inside namespace \"self\", IPv4: dial tcp4 "
                   "127.0.0.1:1: connect: connection refused") == 0);
  CHECK(kubelet::DialInNetns("/nonexistent/net", "gone", 80, &error) < 0);
  CHECK(error.find("/nonexistent/net") != std::string::npos);
}
