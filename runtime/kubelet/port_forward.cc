#include "runtime/kubelet/port_forward.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "net/spdy.h"
#include "net/websocket.h"

namespace kubit::kubelet {

namespace {

constexpr size_t kMaxToPod = 1 << 20;

// Where the session's bytes go and come from: the connection itself or
// WebSocket binary messages on it.
class Transport {
 public:
  Transport(net::Conn* conn, const PortForwardOptions& o) : conn_(conn), websocket_(o.websocket) {
    if (websocket_)
      ws_ = std::make_unique<net::WebSocketConn>(conn, true, o.buffered);
    else
      pending_ = o.buffered;
  }
  // Appends what arrived; false once the client has gone.
  bool Read(std::string* out) {
    if (!pending_.empty()) {
      *out += pending_;
      pending_.clear();
      return true;
    }
    if (websocket_) {
      std::vector<std::string> messages;
      std::string error;
      bool open = ws_->Pump(&messages, &error);
      for (const auto& m : messages) *out += m;
      return open;
    }
    char buf[65536];
    long n = conn_->Read(buf, sizeof(buf));
    if (n <= 0) return false;
    out->append(buf, static_cast<size_t>(n));
    return true;
  }
  bool Write(const std::string& bytes) {
    return websocket_ ? ws_->Send(net::WsOpcode::kBinary, bytes) : conn_->Write(bytes);
  }
  void Close() {
    if (websocket_ && !ws_->closed()) ws_->SendClose(1000);
  }
  // Bytes already read that the caller must see before polling again.
  bool HasPending() const { return !pending_.empty(); }

 private:
  net::Conn* conn_;
  bool websocket_;
  std::unique_ptr<net::WebSocketConn> ws_;
  std::string pending_;
};

// One forwarded connection: the client's pair of streams and the socket.
struct Forward {
  uint32_t error_id = 0, data_id = 0;
  int fd = -1;
  std::string to_pod;
  bool client_done = false;  // FIN on the data stream
  bool closed = false;       // our FINs are sent
};

class Session {
 public:
  Session(net::Conn* conn, const PortForwardOptions& o, const PortDialer& dial)
      : conn_(conn), transport_(conn, o), pod_(o.pod), dial_(dial) {}
  ~Session() {
    for (auto& [id, f] : forwards_)
      if (f.fd >= 0) close(f.fd);
  }

  void Run() {
    bool open = true;
    while (open) {
      if (transport_.HasPending()) {
        if (!ReadClient()) break;
        continue;
      }
      size_t waiting = 0;
      std::vector<pollfd> p;
      std::vector<std::string> keys;
      for (auto& [key, f] : forwards_) {
        waiting += f.to_pod.size();
        if (f.fd < 0) continue;
        short events = f.closed ? 0 : POLLIN;
        if (!f.to_pod.empty()) events |= POLLOUT;
        p.push_back({f.fd, events, 0});
        keys.push_back(key);
      }
      p.push_back({waiting < kMaxToPod ? conn_->fd() : -1, POLLIN, 0});
      if (poll(p.data(), p.size(), -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      for (size_t i = 0; i < keys.size() && open; i++) {
        if (!p[i].revents) continue;
        auto it = forwards_.find(keys[i]);
        if (it == forwards_.end()) continue;
        Forward& f = it->second;
        if (p[i].revents & POLLOUT) FlushToPod(&f);
        if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) && !f.closed) open = ReadPod(keys[i], &f);
        if (f.closed && f.fd >= 0 && (f.to_pod.empty() || f.client_done)) {
          close(f.fd);
          forwards_.erase(it);
        }
      }
      if (open && p.back().revents) open = ReadClient();
    }
    transport_.Close();
  }

 private:
  bool Send(const std::string& frame) { return transport_.Write(frame); }

  bool ReadClient() {
    std::string bytes;
    bool open = transport_.Read(&bytes);
    decoder_.Feed(bytes.data(), bytes.size());
    net::SpdyFrame frame;
    std::string error;
    for (;;) {
      int r = decoder_.Next(&frame, &error);
      if (r < 0) {
        Send(encoder_.GoAway(last_stream_, net::kSpdyProtocolError));
        return false;
      }
      if (r == 0) break;
      if (!Handle(frame)) return false;
    }
    return open;
  }

  bool Handle(net::SpdyFrame& frame) {
    switch (frame.type) {
      case net::SpdyType::kSynStream:
        return NewStream(frame);
      case net::SpdyType::kData: {
        auto it = by_stream_.find(frame.stream_id);
        if (it == by_stream_.end()) return true;  // a stream already done
        auto fit = forwards_.find(it->second);
        if (fit == forwards_.end()) return true;
        Forward& f = fit->second;
        if (frame.stream_id != f.data_id) return true;  // nothing is read from the error stream
        if (f.fd >= 0 && !f.client_done) {
          f.to_pod += frame.data;
          FlushToPod(&f);
        }
        if (frame.fin()) {
          f.client_done = true;
          FlushToPod(&f);
        }
        return true;
      }
      case net::SpdyType::kRstStream: {
        auto it = by_stream_.find(frame.stream_id);
        if (it != by_stream_.end()) {
          auto fit = forwards_.find(it->second);
          if (fit != forwards_.end() && fit->second.data_id == frame.stream_id) {
            if (fit->second.fd >= 0) close(fit->second.fd);
            forwards_.erase(fit);
          }
          by_stream_.erase(it);
        }
        return true;
      }
      case net::SpdyType::kPing:
        // The client's pings (odd ids) come back as they are; we send none.
        return Send(encoder_.Ping(frame.value));
      case net::SpdyType::kGoAway:
        return false;
      default:
        return true;  // SETTINGS, WINDOW_UPDATE, HEADERS: nothing to do
    }
  }

  bool NewStream(const net::SpdyFrame& frame) {
    last_stream_ = frame.stream_id;
    if (!Send(encoder_.SynReply(frame.stream_id, {}))) return false;
    const std::string type = frame.Header("streamtype");
    const std::string port_text = frame.Header("port");
    const std::string key = frame.Header("requestid") + "/" + port_text;
    by_stream_[frame.stream_id] = key;
    Forward& f = forwards_[key];
    if (type == "error") {
      f.error_id = frame.stream_id;
      return true;
    }
    if (type != "data") return Send(encoder_.RstStream(frame.stream_id, net::kSpdyProtocolError));
    f.data_id = frame.stream_id;
    char* end = nullptr;
    unsigned long port = strtoul(port_text.c_str(), &end, 10);
    std::string error;
    int fd = -1;
    if (port_text.empty() || *end || port == 0 || port > 65535)
      error = "unable to parse \"" + port_text + "\" as a port";
    else
      fd = dial_(static_cast<uint16_t>(port), &error);
    if (fd < 0) {
      std::string msg = "error forwarding port " + port_text + " to pod " + pod_ + ", uid : " + error;
      if (f.error_id && !Send(encoder_.Data(f.error_id, msg))) return false;
      return Finish(key, &f);
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    f.fd = fd;
    return true;
  }

  // Our side of both streams ends (the pod's side closed or never opened).
  bool Finish(const std::string& key, Forward* f) {
    if (f->closed) return true;
    f->closed = true;
    bool ok = Send(encoder_.Data(f->data_id, "", net::kSpdyFlagFin));
    if (f->error_id) ok = ok && Send(encoder_.Data(f->error_id, "", net::kSpdyFlagFin));
    if (f->fd < 0) forwards_.erase(key);
    return ok;
  }

  void FlushToPod(Forward* f) {
    while (f->fd >= 0 && !f->to_pod.empty()) {
      ssize_t n = write(f->fd, f->to_pod.data(), f->to_pod.size());
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
      if (n <= 0) {  // the pod's side is gone: what was sent is dropped
        f->to_pod.clear();
        f->client_done = true;
        return;
      }
      f->to_pod.erase(0, static_cast<size_t>(n));
    }
    if (f->fd >= 0 && f->client_done && f->to_pod.empty()) shutdown(f->fd, SHUT_WR);
  }

  bool ReadPod(const std::string& key, Forward* f) {
    char buf[32768];
    ssize_t n = read(f->fd, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    if (n <= 0) return Finish(key, f);
    return Send(encoder_.Data(f->data_id, std::string(buf, static_cast<size_t>(n))));
  }

  net::Conn* conn_;
  Transport transport_;
  std::string pod_;
  const PortDialer& dial_;
  net::SpdyEncoder encoder_;
  net::SpdyDecoder decoder_;
  uint32_t last_stream_ = 0;
  std::map<std::string, Forward> forwards_;       // by requestID/port
  std::map<uint32_t, std::string> by_stream_;    // stream id -> forward
};

int ConnectLocal(int family, uint16_t port, std::string* error) {
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + strerror(errno);
    return -1;
  }
  sockaddr_storage ss{};
  socklen_t len;
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(*a);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    a->sin6_addr = in6addr_loopback;
    len = sizeof(*a);
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    std::string p = std::to_string(port);
    *error = family == AF_INET ? "dial tcp4 127.0.0.1:" + p + ": connect: " + strerror(errno)
                               : "dial tcp6 [::1]:" + p + ": connect: " + strerror(errno);
    for (auto& c : *error) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

void ServePortForward(net::Conn* conn, const PortForwardOptions& options, const PortDialer& dial) {
  Session(conn, options, dial).Run();
}

int DialInNetns(const std::string& netns_path, const std::string& name, uint16_t port,
                std::string* error) {
  int fd = -1;
  std::string err4, err6;
  // setns moves only the calling thread: a short-lived one joins the pod's
  // namespace, and the socket it makes stays there.
  std::thread t([&] {
    int ns = open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) {
      err4 = "open " + netns_path + ": " + strerror(errno);
      if (ns >= 0) close(ns);
      return;
    }
    close(ns);
    fd = ConnectLocal(AF_INET, port, &err4);
    if (fd < 0) fd = ConnectLocal(AF_INET6, port, &err6);
  });
  t.join();
  if (fd < 0)
    *error = "failed to connect to localhost:" + std::to_string(port) + " inside namespace \"" +
             name + "\", IPv4: " + err4 + " IPv6 " + err6 + " ";
  return fd;
}

}  // namespace kubit::kubelet
