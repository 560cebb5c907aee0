// HttpProxy: an HTTP/1.1 reverse proxy on a ProxyRouteTable
// (net/http_proxy_routes.h), listening for plain HTTP and for TLS with the
// certificate chosen by SNI. One thread per client connection; request and
// response bodies stream through in pieces both ways (Content-Length,
// chunked, or to the end of the stream), never held whole; connections to
// backends are kept alive in a small pool per address; an Upgrade
// (WebSocket) becomes a two-way byte relay. Adds X-Forwarded-For/-Proto/
// -Host/-Port and X-Real-Ip. Answers 404 when no route matches, 503 when
// the backend has no ready endpoint, 502 when none of them answers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "net/http_proxy_routes.h"

namespace kubit::net {

struct HttpRequest;

struct HttpProxyOptions {
  std::string bind_address = "0.0.0.0";
  int http_port = 80;    // 0: any free port (see HttpProxy::http_port); -1: none
  int https_port = 443;  // the same
  int client_idle_timeout_ms = 60000;  // a keep-alive client quiet this long is closed
  int backend_connect_timeout_ms = 3000;
  int backend_timeout_ms = 60000;  // longest silence of a backend mid-response
  size_t max_idle_per_backend = 8;  // pooled keep-alive connections per address
  int backend_idle_ms = 30000;      // a pooled connection unused this long is closed
  size_t max_connections = 2048;
  std::function<void(const std::string& message)> log;
};

class HttpProxy {
 public:
  explicit HttpProxy(HttpProxyOptions options);
  ~HttpProxy();  // stops
  HttpProxy(const HttpProxy&) = delete;
  HttpProxy& operator=(const HttpProxy&) = delete;

  // Binds the ports and starts serving (the table is empty until
  // SetRoutes: every request is a 404). False with *error.
  bool Start(std::string* error);
  // Closes the listeners and every connection, and waits for their threads.
  void Stop();
  // Takes effect for the next request and TLS handshake; requests under
  // way finish on the table they started with. A certificate that does
  // not load is left out, with a log line.
  void SetRoutes(ProxyRouteTable table);

  int http_port() const { return http_port_; }
  int https_port() const { return https_port_; }

  struct Tables;    // a route table and its loaded TLS contexts
  struct Upstream;  // one pooled connection to a backend
  struct Client;    // one client connection and its read buffer

 private:
  bool Listen(int port, int* fd, int* bound, std::string* error);
  void AcceptLoop(int fd, bool tls);
  void Serve(int fd, std::string remote, bool tls);
  std::shared_ptr<const Tables> Current() const;
  std::unique_ptr<Upstream> TakeIdle(const std::string& endpoint);
  void PutIdle(std::unique_ptr<Upstream> u);
  // Forwards one request whose head has been read; false when the client
  // connection cannot carry another request.
  bool Forward(Client* client, const std::string& version, const HttpRequest& req);
  // Sockets in use are shut down by Stop.
  void Track(int fd, bool add);

  HttpProxyOptions opts_;
  mutable std::mutex tables_mu_;
  std::shared_ptr<const Tables> tables_;
  void* fallback_ctx_ = nullptr;  // SSL_CTX with a self-signed certificate, for unknown names
  int http_fd_ = -1, https_fd_ = -1;
  int http_port_ = 0, https_port_ = 0;
  std::vector<std::thread> acceptors_;
  std::atomic<bool> stopping_{false};

  std::mutex conns_mu_;
  std::condition_variable conns_cv_;
  std::set<int> conn_fds_;  // client sockets, shut down by Stop
  size_t active_ = 0;

  std::mutex pool_mu_;
  std::map<std::string, std::vector<std::unique_ptr<Upstream>>> idle_;
  std::map<std::string, size_t> next_endpoint_;  // round robin per backend name
};

}  // namespace kubit::net
