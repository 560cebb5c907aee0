// HttpClient: an HTTP/1.1 client over TCP, TLS, or a connection handed in
// by the caller (the in-process transport to kubit's own API server). Used
// by the registry client (runtime/image) and by core/client. Keeps idle
// connections per host for reuse; bodies can be streamed as they arrive
// (watches, image layers).
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace kubit::net {

struct TlsConfig {
  std::string ca_pem;             // trust only these CAs; empty: the system's trust store
  std::string cert_pem, key_pem;  // client certificate, if any
  bool insecure_skip_verify = false;
  std::string server_name;        // verify against this name instead of the URL's host
};

struct HttpClientOptions {
  TlsConfig tls;
  int connect_timeout_ms = 10000;
  // Longest wait for any read or write (0: none; watches set their own
  // deadline).
  int read_timeout_ms = 60000;
  // Replaces TCP dialing, for every host: returns a connected socket fd
  // (or -1 with *error) that the client then owns. The request still goes
  // as HTTP/1.1 over it, in TLS when the URL says https.
  std::function<int(std::string* error)> dial;
  size_t max_idle_per_host = 4;  // kept at most 90 s
  std::string user_agent = "kubit";
};

struct HttpClientRequest {
  std::string method = "GET";
  std::string url;  // http[s]://host[:port]/path[?query]; path and query already encoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, the body is sent chunked from what this returns, piece by
  // piece, instead of `body` (an empty piece ends it; false fails the
  // request with *error). Such a body cannot be sent twice: the request is
  // never retried, and a 307/308 redirect is returned instead of followed.
  std::function<bool(std::string* piece, std::string* error)> body_reader;
  // Follows 301/302/303/307/308 up to 5 times (301/302/303 turn into a GET
  // without body, as browsers and Go do); an Authorization header is
  // dropped when the redirect leaves the original host.
  bool follow_redirects = false;
  int read_timeout_ms = -1;  // -1: the client's default
};

struct HttpClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;  // empty when the body went to a sink
  std::string final_url;  // after redirects
  std::string Header(const std::string& name) const;  // first value or ""
};

// Ends a streaming request from another thread: the connection is shut
// down and Do returns false with "cancelled".
class CancelToken {
 public:
  void Cancel();
  bool cancelled() const { return cancelled_; }

 private:
  friend class HttpClient;
  void Attach(int fd);
  void Detach();
  std::mutex mu_;
  int fd_ = -1;
  std::atomic<bool> cancelled_{false};
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends the request and reads the whole response. False with *error on a
  // transport failure (DNS, connect, TLS verification, peer closed early);
  // any HTTP status is a success here and is in resp->status. A request
  // sent on a pooled connection that turns out to be stale (closed by the
  // server while idle) is sent once more on a fresh one, provided no byte
  // of a response had arrived. Safe to call from many threads at once.
  bool Do(const HttpClientRequest& req, HttpClientResponse* resp, std::string* error);

  // As Do, but the body goes to `on_body` piece by piece (chunked encoding
  // undone) once the head has arrived; `on_head` sees the status and
  // headers first and may return false to skip the body. `on_body`
  // returning false stops the transfer (Do then returns false, "aborted").
  // A body that ends before its Content-Length is an error ("closed early").
  bool Stream(const HttpClientRequest& req, HttpClientResponse* resp,
              const std::function<bool(const HttpClientResponse&)>& on_head,
              const std::function<bool(const char* data, size_t n)>& on_body,
              std::string* error, CancelToken* cancel = nullptr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Splits "https://host:port/p?q" into its parts; false if malformed.
struct Url {
  std::string scheme, host, path_and_query;
  int port = 0;
};
bool ParseUrl(const std::string& url, Url* out);

}  // namespace kubit::net
