// HttpServer: HTTP/1.1 over TLS (or plain TCP, for tests), one thread per
// connection so that long streams (watches, exec) never starve ordinary
// requests. Supports keep-alive, chunked request and response bodies, and
// hijacking a connection after a protocol upgrade (WebSocket, SPDY).
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
#include <utility>
#include <vector>

#include "net/conn.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace kubit::net {

struct HttpRequest {
  std::string method;
  std::string target;  // as sent: path?query
  std::string path;    // percent-decoded
  std::string query;   // raw, without '?'
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  const Conn* conn = nullptr;

  // The first value of a header (name in any case), or "".
  std::string Header(const std::string& name) const;
  // Decoded query parameters; a repeated name keeps every value.
  std::multimap<std::string, std::string> Params() const;
  std::string Param(const std::string& name) const;  // first value or ""
  bool HasParam(const std::string& name) const;
};

class HttpResponse {
 public:
  explicit HttpResponse(Conn* conn, bool head_only) : conn_(conn), head_only_(head_only) {}

  void SetHeader(const std::string& name, const std::string& value);
  // Sends a complete response with Content-Length.
  bool Send(int status, const std::string& body);
  // Starts a chunked response; then Write() pieces and End().
  bool StartStream(int status);
  bool Write(const std::string& data);
  bool End();
  // Sends the status line and headers and gives the connection to the
  // caller (after "101 Switching Protocols", say). `buffered` holds bytes
  // the server had read past the request.
  std::unique_ptr<Conn> Hijack(int status, std::string* buffered);

  bool sent() const { return sent_; }
  int status() const { return status_; }
  Conn* conn() const { return conn_; }

 private:
  friend class HttpServer;
  std::string Head(int status, const std::string& extra) const;
  Conn* conn_;
  bool head_only_;
  bool sent_ = false, streaming_ = false, hijacked_ = false, close_ = false;
  int status_ = 0;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::string* leftover_ = nullptr;
  std::unique_ptr<Conn>* owner_ = nullptr;
};

using HttpHandler = std::function<void(HttpRequest&, HttpResponse&)>;

struct HttpServerOptions {
  std::string bind_address = "0.0.0.0";
  int port = 0;  // 0: any free port (see HttpServer::port())
  // TLS: PEM texts. Empty cert: plain HTTP.
  std::string cert_pem, key_pem;
  std::string client_ca_pem;  // client certificates are asked for and checked against it
  size_t max_body_bytes = 3 << 20;  // larger bodies get 413
  size_t max_header_bytes = 1 << 20;
  int idle_timeout_ms = 120000;
  size_t max_connections = 4096;
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();
  // Binds and starts serving; false with *error on failure.
  bool Start(std::string* error);
  void Stop();
  int port() const { return port_; }
  // Serves a socket the caller has connected already (one end of a
  // socketpair: the in-process transport) on its own thread, as if
  // accepted: plain HTTP, with `identity` standing for a verified client
  // certificate. The server owns `fd`; works with or without Start.
  void ServeConnection(int fd, PeerCertificate identity);

 private:
  void AcceptLoop();
  void Spawn(int fd, std::string remote, const PeerCertificate* identity);
  void Serve(int fd, std::string remote, const PeerCertificate* identity);
  bool Handshake(int fd, std::string remote, const PeerCertificate* identity,
                 std::unique_ptr<Conn>* out);

  HttpServerOptions opts_;
  HttpHandler handler_;
  SSL_CTX* ssl_ctx_ = nullptr;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::mutex mu_;
  std::set<Conn*> conns_;
  std::set<int> handshaking_;
  size_t active_ = 0;
  std::condition_variable_any idle_cv_;
};

// Parses a request line and headers (without the final blank line).
bool ParseRequestHead(const std::string& head, HttpRequest* req, std::string* version);
// "200" -> "OK" and so on.
const char* StatusText(int status);
std::string PercentDecode(const std::string& s, bool plus_is_space);

}  // namespace kubit::net
