#include "core/apiserver/node_tunnel.h"

#include <openssl/rand.h>
#include <poll.h>

#include <chrono>

#include "core/apiserver/api_error.h"
#include "core/apiserver/node_authorizer.h"
#include "core/apiserver/responses.h"
#include "net/http_server.h"

namespace kubit::apiserver {

struct NodeTunnels::Control {
  std::unique_ptr<net::Conn> conn;
  std::mutex write_mu;
  bool Send(const std::string& line) {
    std::lock_guard<std::mutex> l(write_mu);
    return conn->Write(line);
  }
};

namespace {

std::string RandomId() {
  unsigned char b[16];
  RAND_bytes(b, sizeof(b));
  static const char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char c : b) {
    id.push_back(kHex[c >> 4]);
    id.push_back(kHex[c & 15]);
  }
  return id;
}

bool IsUpgrade(const net::HttpRequest& req) {
  std::string u = req.Header("upgrade");
  for (auto& c : u) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return req.method == "GET" && u == "kubit-tunnel";
}

}  // namespace

bool NodeTunnels::Serve(const UserInfo& user, net::HttpRequest& req, net::HttpResponse& resp) {
  const std::string prefix = std::string(kTunnelPath) + "/";
  bool control = req.path == kTunnelPath;
  if (!control && req.path.rfind(prefix, 0) != 0) return false;
  std::string node;
  if (!NodeAuthorizer::IsNode(user, &node)) {
    SendError(resp, ApiError::Forbidden("only nodes open tunnels"));
    return true;
  }
  if (!IsUpgrade(req)) {
    SendError(resp, ApiError::BadRequest("the tunnel needs GET with Upgrade: kubit-tunnel"));
    return true;
  }
  if (!control) {
    std::string id = req.path.substr(prefix.size());
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = pending_.find(id);
      if (it == pending_.end() || it->second.node != node || it->second.conn) {
        SendError(resp, ApiError::NotFoundPath());
        return true;
      }
    }
    resp.SetHeader("Upgrade", "kubit-tunnel");
    resp.SetHeader("Connection", "Upgrade");
    std::unique_ptr<net::Conn> conn = resp.Hijack(101, nullptr);
    if (!conn) return true;
    std::lock_guard<std::mutex> l(mu_);
    auto it = pending_.find(id);
    if (it != pending_.end()) it->second.conn = std::move(conn);  // else the dial gave up
    cv_.notify_all();
    return true;
  }
  resp.SetHeader("Upgrade", "kubit-tunnel");
  resp.SetHeader("Connection", "Upgrade");
  std::unique_ptr<net::Conn> conn = resp.Hijack(101, nullptr);
  if (conn) ServeControl(node, std::move(conn));
  return true;
}

void NodeTunnels::ServeControl(const std::string& node, std::unique_ptr<net::Conn> conn) {
  auto me = std::make_shared<Control>();
  me->conn = std::move(conn);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) return;
    controls_[node] = me;
  }
  // The agent sends nothing on this connection after its request, so
  // anything readable is its end (or a replacement's close). Polling the
  // fd, never reading it, leaves TLS to the writers alone.
  auto last_ping = std::chrono::steady_clock::now();
  for (;;) {
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = controls_.find(node);
      if (stopping_ || it == controls_.end() || it->second != me) break;
    }
    pollfd p = {me->conn->fd(), POLLIN | POLLRDHUP, 0};
    int r = poll(&p, 1, 500);
    if (r > 0) break;
    if (std::chrono::steady_clock::now() - last_ping > std::chrono::seconds(30)) {
      if (!me->Send("ping\n")) break;
      last_ping = std::chrono::steady_clock::now();
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  auto it = controls_.find(node);
  if (it != controls_.end() && it->second == me) controls_.erase(it);
}

bool NodeTunnels::Dial(const std::string& node, std::unique_ptr<net::Conn>* out,
                       std::string* error, int timeout_ms) {
  std::shared_ptr<Control> control;
  std::string id = RandomId();
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = controls_.find(node);
    if (it == controls_.end()) {
      *error = "node " + node + " has no tunnel: the agent is not connected";
      return false;
    }
    control = it->second;
    pending_[id].node = node;
  }
  if (!control->Send("dial " + id + "\n")) {
    std::lock_guard<std::mutex> l(mu_);
    pending_.erase(id);
    *error = "node " + node + " has no tunnel: its connection broke";
    return false;
  }
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, std::chrono::milliseconds(timeout_ms),
               [&] { return stopping_ || pending_[id].conn != nullptr; });
  *out = std::move(pending_[id].conn);
  pending_.erase(id);
  if (!*out) {
    *error = "node " + node + " did not answer the tunnel dial within " +
             std::to_string(timeout_ms / 1000) + " s";
    return false;
  }
  return true;
}

void NodeTunnels::Stop() {
  std::lock_guard<std::mutex> l(mu_);
  stopping_ = true;
  for (auto& [node, c] : controls_) c->conn->Shutdown();
  cv_.notify_all();
}

}  // namespace kubit::apiserver
