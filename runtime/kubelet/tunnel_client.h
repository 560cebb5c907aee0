// TunnelClient: the agent's side of the API server's node tunnels
// (core/apiserver/node_tunnel.h). Keeps one control connection to the
// server open, reconnecting with back-off from 1 s to 30 s, and for each
// "dial <id>" line opens a new connection for that id and hands it, once
// upgraded, to `serve` on a thread of its own: the server is then talking
// to this node's kubelet (stream_server.h) through a connection the board
// opened itself, so a board behind NAT is reachable.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "core/client/config.h"
#include "net/conn.h"

namespace kubit::kubelet {

// Opens a connection to the API server as this node.
using TunnelConnect = std::function<std::unique_ptr<net::Conn>(std::string* error)>;

// From the node's client configuration: config.dial when set (the
// in-process transport of `kubit server`'s own node: a plain socket that
// is this node already), else TCP and TLS to config.server with the
// node's client certificate, trusting config.tls.ca_pem.
TunnelConnect TunnelConnectFor(const client::Config& config);

class TunnelClient {
 public:
  // `serve` answers one stream; the connection is closed after it returns,
  // or shut down under it by Stop.
  TunnelClient(TunnelConnect connect, std::function<void(net::Conn*)> serve,
               std::function<void(const std::string&)> log);
  ~TunnelClient();  // stops
  TunnelClient(const TunnelClient&) = delete;
  TunnelClient& operator=(const TunnelClient&) = delete;

  void Start();
  void Stop();
  // The control connection is up (its 101 was read).
  bool connected() const { return connected_; }

 private:
  void Run();
  bool Control(std::string* error);
  void OpenStream(const std::string& id);

  TunnelConnect connect_;
  std::function<void(net::Conn*)> serve_;
  std::function<void(const std::string&)> log_;
  std::atomic<bool> connected_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  net::Conn* control_ = nullptr;  // to shut it down on Stop
  std::thread thread_;
  int streams_ = 0;               // stream threads still running
  std::set<net::Conn*> stream_conns_;  // their connections, to shut down on Stop
};

// Sends the upgrade request for `path` and reads the answer's head; true
// on 101. The head is read byte by byte so that nothing after it is taken
// from the connection.
bool UpgradeTunnel(net::Conn* conn, const std::string& path, std::string* error);

}  // namespace kubit::kubelet
