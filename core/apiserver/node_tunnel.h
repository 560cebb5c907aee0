// NodeTunnels: how the API server reaches a node's kubelet without ever
// dialing the node (boards behind NAT accept no connections), as k3s's
// agent tunnel does. Each agent keeps a CONTROL connection open:
//
//   GET /v1-kubit/tunnel          Upgrade: kubit-tunnel   -> 101, then the
//                                 server writes "dial <id>\n" (and "ping\n"
//                                 every 30 s so that dead links are noticed)
//   GET /v1-kubit/tunnel/<id>     Upgrade: kubit-tunnel   -> 101, then the
//                                 connection is a private byte stream to
//                                 that node's kubelet for one request
//
// Both come from the node's own identity (system:node:<name>, already
// authenticated); a data connection answers only a dial made for its node.
// The newest control connection of a node wins.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/apiserver/rbac.h"
#include "net/conn.h"

namespace kubit::net {
struct HttpRequest;
class HttpResponse;
}  // namespace kubit::net

namespace kubit::apiserver {

inline constexpr char kTunnelPath[] = "/v1-kubit/tunnel";

class NodeTunnels {
 public:
  NodeTunnels() = default;
  ~NodeTunnels() { Stop(); }
  NodeTunnels(const NodeTunnels&) = delete;
  NodeTunnels& operator=(const NodeTunnels&) = delete;

  // Serves the tunnel paths; false (nothing sent) for any other path. A
  // control connection keeps the calling thread until it ends.
  bool Serve(const UserInfo& user, net::HttpRequest& req, net::HttpResponse& resp);

  // A fresh byte stream to the kubelet of `node`, waiting up to timeout_ms
  // for the agent to open it. False with *error saying why.
  bool Dial(const std::string& node, std::unique_ptr<net::Conn>* out, std::string* error,
            int timeout_ms = 10000);

  // Ends every control connection (the server is stopping).
  void Stop();

 private:
  struct Control;
  void ServeControl(const std::string& node, std::unique_ptr<net::Conn> conn);

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<std::string, std::shared_ptr<Control>> controls_;  // by node
  struct Pending {
    std::string node;
    std::unique_ptr<net::Conn> conn;  // set once the agent has connected
  };
  std::map<std::string, Pending> pending_;  // by dial id
};

}  // namespace kubit::apiserver
