// The ingress reverse proxy (net/http_proxy.h) between net::HttpClient and
// net::HttpServer backends on 127.0.0.1: routing by Host, forwarded
// headers, keep-alive to backends, bodies streamed both ways, 404/502/503,
// TLS by SNI, refused ambiguous framing, and an Upgrade relayed as bytes
// (plain and over TLS).
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "net/conn.h"
#include "net/http_client.h"
#include "net/http_proxy.h"
#include "net/http_server.h"
#include "net/pki.h"

namespace kubit::net {
namespace {

struct Backend {
  explicit Backend(HttpHandler h) {
    HttpServerOptions o;
    o.bind_address = "127.0.0.1";
    server = std::make_unique<HttpServer>(o, std::move(h));
    std::string error;
    REQUIRE_MESSAGE(server->Start(&error), error);
  }
  std::string Endpoint() const { return "127.0.0.1:" + std::to_string(server->port()); }
  std::unique_ptr<HttpServer> server;
};

struct Proxy {
  Proxy() {
    signal(SIGPIPE, SIG_IGN);
    HttpProxyOptions o;
    o.bind_address = "127.0.0.1";
    o.http_port = 0;
    o.https_port = 0;
    proxy = std::make_unique<HttpProxy>(o);
    std::string error;
    REQUIRE_MESSAGE(proxy->Start(&error), error);
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(proxy->http_port()) + path;
  }
  std::unique_ptr<HttpProxy> proxy;
};

ProxyRoute RouteTo(const std::string& host, const std::string& path, std::vector<std::string> endpoints) {
  ProxyRoute r;
  r.host = host;
  r.path = path;
  r.backend.name = host + path;
  r.backend.endpoints = std::move(endpoints);
  return r;
}

HttpClientResponse Get(HttpClient* c, const std::string& url, const std::string& host) {
  HttpClientRequest req;
  req.url = url;
  req.headers = {{"Host", host}};
  HttpClientResponse resp;
  std::string error;
  REQUIRE_MESSAGE(c->Do(req, &resp, &error), error);
  return resp;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);  // nothing listens there now
  return ntohs(a.sin_port);
}

TEST_CASE("ingress proxy: routes by Host, adds X-Forwarded headers, keeps backend connections alive") {
  std::mutex mu;
  std::set<std::string> peers;  // backend-side view of the proxy's connections
  Backend a([&](HttpRequest& req, HttpResponse& res) {
    {
      std::lock_guard<std::mutex> lock(mu);
      peers.insert(req.conn->remote());
    }
    res.SetHeader("Content-Type", "text/plain");
    res.Send(200, "a " + req.target + " xff=" + req.Header("x-forwarded-for") + " proto=" +
                      req.Header("x-forwarded-proto") + " host=" + req.Header("x-forwarded-host"));
  });
  Backend b([](HttpRequest&, HttpResponse& res) { res.Send(200, "b"); });
  Proxy p;
  ProxyRouteTable t;
  t.routes.push_back(RouteTo("a.test", "/", {a.Endpoint()}));
  t.routes.push_back(RouteTo("b.test", "/", {b.Endpoint()}));
  p.proxy->SetRoutes(t);
  HttpClient c;
  HttpClientResponse r = Get(&c, p.Url("/x?y=1"), "a.test");
  CHECK(r.status == 200);
  CHECK(r.body == "a /x?y=1 xff=127.0.0.1 proto=http host=a.test");
  CHECK(Get(&c, p.Url("/"), "b.test:8080").body == "b");
  for (int i = 0; i < 5; i++) CHECK(Get(&c, p.Url("/again"), "a.test").status == 200);
  std::lock_guard<std::mutex> lock(mu);
  CHECK(peers.size() == 1);  // six requests, one pooled connection
}

TEST_CASE("ingress proxy: 404 for unknown hosts, 503 without endpoints, 502 when none answers") {
  Proxy p;
  HttpClient c;
  CHECK(Get(&c, p.Url("/"), "any.test").status == 404);  // empty table
  ProxyRouteTable t;
  t.routes.push_back(RouteTo("empty.test", "/", {}));
  t.routes.push_back(RouteTo("dead.test", "/", {"127.0.0.1:" + std::to_string(FreePort())}));
  p.proxy->SetRoutes(t);
  HttpClientResponse r = Get(&c, p.Url("/"), "nobody.test");
  CHECK(r.status == 404);
  CHECK(r.body == "404 page not found\n");
  CHECK(Get(&c, p.Url("/"), "empty.test").status == 503);
  CHECK(Get(&c, p.Url("/"), "dead.test").status == 502);
}

// Sends `raw` to the proxy on a connection of its own; the status code of the answer.
int RawStatus(int port, const std::string& raw) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return -1;
  Conn c(fd, nullptr, "proxy");
  c.SetReadTimeout(20000);
  if (!c.Write(raw)) return -1;
  char buf[64] = {};
  long n = c.Read(buf, sizeof(buf) - 1);
  return n > 12 ? atoi(buf + 9) : -1;
}

TEST_CASE("ingress proxy: requests a backend could frame differently are refused") {
  Backend b([](HttpRequest&, HttpResponse& res) { res.Send(200, "ok"); });
  Proxy p;
  ProxyRouteTable t;
  t.routes.push_back(RouteTo("", "/", {b.Endpoint()}));
  p.proxy->SetRoutes(t);
  int port = p.proxy->http_port();
  CHECK(RawStatus(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n") == 200);
  CHECK(RawStatus(port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "0\r\n\r\n") == 400);
  CHECK(RawStatus(port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab") == 400);
  CHECK(RawStatus(port, "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\nX-B: 2\r\n\r\n") == 400);
  CHECK(RawStatus(port, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n") == 400);
}

TEST_CASE("ingress proxy: a dead endpoint is skipped for a live one") {
  Backend live([](HttpRequest&, HttpResponse& res) { res.Send(200, "live"); });
  Proxy p;
  ProxyRouteTable t;
  t.routes.push_back(RouteTo("", "/", {"127.0.0.1:" + std::to_string(FreePort()), live.Endpoint()}));
  p.proxy->SetRoutes(t);
  HttpClient c;
  for (int i = 0; i < 4; i++) CHECK(Get(&c, p.Url("/"), "x.test").body == "live");
}

// A listener that answers each connection with `answer` (nothing: hangs
// up at once) and closes it, counting the connections.
struct HangUp {
  explicit HangUp(std::string answer = "") {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    REQUIRE(listen(fd, 16) == 0);
    socklen_t len = sizeof(a);
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    endpoint = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    thread = std::thread([this, answer] {
      int c;
      while ((c = accept(fd, nullptr, nullptr)) >= 0) {
        accepted++;  // before the close the proxy waits for
        if (!answer.empty()) {
          char buf[4096];
          if (recv(c, buf, sizeof(buf), 0) > 0) send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
        }
        close(c);
      }
    });
  }
  ~HangUp() {
    shutdown(fd, SHUT_RDWR);
    thread.join();
    close(fd);
  }
  int fd;
  std::string endpoint;
  std::atomic<int> accepted{0};
  std::thread thread;
};

TEST_CASE("ingress proxy: a request with no answer goes to the next endpoint only if it may be repeated") {
  HangUp a, b;
  Proxy p;
  ProxyRouteTable t;
  t.routes.push_back(RouteTo("", "/", {a.endpoint, b.endpoint}));
  p.proxy->SetRoutes(t);
  HttpClient c;
  CHECK(Get(&c, p.Url("/"), "x.test").status == 502);
  CHECK(a.accepted + b.accepted == 2);  // both tried
  HttpClientRequest post;
  post.method = "POST";
  post.url = p.Url("/");
  HttpClientResponse r;
  std::string error;
  REQUIRE_MESSAGE(c.Do(post, &r, &error), error);
  CHECK(r.status == 502);
  CHECK(a.accepted + b.accepted == 3);  // one only: it may have taken effect
}

TEST_CASE("ingress proxy: a response head with bare LF line ends, its body ending with the connection") {
  HangUp cgi("HTTP/1.0 200 OK\nContent-Type: text/plain\n\nfrom a CGI script\n");
  Proxy p;
  ProxyRouteTable t;
  t.routes.push_back(RouteTo("", "/", {cgi.endpoint}));
  p.proxy->SetRoutes(t);
  HttpClient c;
  HttpClientResponse r = Get(&c, p.Url("/cgi-bin/x"), "x.test");
  CHECK(r.status == 200);
  CHECK(r.Header("content-type") == "text/plain");
  CHECK(r.Header("connection") == "close");
  CHECK(r.body == "from a CGI script\n");
}

TEST_CASE("ingress proxy: a chunked response streams through piece by piece") {
  std::promise<void> first_seen;
  auto seen = first_seen.get_future();
  Backend slow([&](HttpRequest&, HttpResponse& res) {
    res.StartStream(200);
    res.Write("first;");
    // The rest only after the client got the first piece: a proxy that
    // waited for the whole body would never deliver it.
    if (seen.wait_for(std::chrono::seconds(20)) != std::future_status::ready) return;
    res.Write("second;");
    res.End();
  });
  Proxy p;
  ProxyRouteTable t;
  t.routes.push_back(RouteTo("", "/", {slow.Endpoint()}));
  p.proxy->SetRoutes(t);
  HttpClient c;
  HttpClientRequest req;
  req.url = p.Url("/stream");
  HttpClientResponse resp;
  std::string got, error;
  bool signalled = false;
  REQUIRE_MESSAGE(c.Stream(
                      req, &resp, [](const HttpClientResponse&) { return true; },
                      [&](const char* d, size_t n) {
                        got.append(d, n);
                        if (!signalled && got.find("first;") != std::string::npos) {
                          signalled = true;
                          first_seen.set_value();
                        }
                        return true;
                      },
                      &error),
                  error);
  CHECK(resp.status == 200);
  CHECK(resp.Header("transfer-encoding") == "chunked");
  CHECK(got == "first;second;");
}

TEST_CASE("ingress proxy: request bodies, chunked and by length, reach the backend whole") {
  Backend echo([](HttpRequest& req, HttpResponse& res) {
    res.Send(200, std::to_string(req.body.size()) + " " + Sha256Hex(req.body) + " " +
                      (req.Header("transfer-encoding").empty() ? "length" : "chunked"));
  });
  Proxy p;
  ProxyRouteTable t;
  t.routes.push_back(RouteTo("", "/", {echo.Endpoint()}));
  p.proxy->SetRoutes(t);
  HttpClient c;
  std::string big(2 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4099) big[i] = static_cast<char>('a' + i % 26);
  HttpClientRequest put;
  put.method = "PUT";
  put.url = p.Url("/upload");
  put.body = big;
  HttpClientResponse r;
  std::string error;
  REQUIRE_MESSAGE(c.Do(put, &r, &error), error);
  CHECK(r.body == std::to_string(big.size()) + " " + Sha256Hex(big) + " length");

  HttpClientRequest post;
  post.method = "POST";
  post.url = p.Url("/upload");
  size_t sent = 0;
  post.body_reader = [&](std::string* piece, std::string*) {
    size_t n = std::min<size_t>(50000, big.size() - sent);
    *piece = big.substr(sent, n);
    sent += n;
    return true;
  };
  REQUIRE_MESSAGE(c.Do(post, &r, &error), error);
  CHECK(r.body == std::to_string(big.size()) + " " + Sha256Hex(big) + " chunked");
}

TEST_CASE("ingress proxy: TLS with the certificate of the SNI name") {
  KeyPair ca, serving;
  std::string error;
  REQUIRE(GenerateCA("ingress test CA", &ca, &error));
  CertRequest cr;
  cr.common_name = "secure.test";
  cr.dns_names = {"secure.test"};
  cr.server = true;
  REQUIRE(IssueCertificate(ca, cr, &serving, &error));
  Backend b([](HttpRequest& req, HttpResponse& res) { res.Send(200, "secure " + req.Header("x-forwarded-proto")); });
  Proxy p;
  ProxyRouteTable t;
  t.routes.push_back(RouteTo("secure.test", "/", {b.Endpoint()}));
  t.certificates.push_back({{"secure.test"}, serving.cert_pem + ca.cert_pem, serving.key_pem});
  p.proxy->SetRoutes(t);
  std::string url = "https://127.0.0.1:" + std::to_string(p.proxy->https_port()) + "/";

  HttpClientOptions o;
  o.tls.ca_pem = ca.cert_pem;
  o.tls.server_name = "secure.test";
  HttpClient c(o);
  HttpClientResponse r = Get(&c, url, "secure.test");
  CHECK(r.status == 200);
  CHECK(r.body == "secure https");

  // Another name gets the proxy's own self-signed certificate: not trusted.
  HttpClientOptions other;
  other.tls.ca_pem = ca.cert_pem;
  other.tls.server_name = "other.test";
  HttpClient c2(other);
  HttpClientRequest req;
  req.url = url;
  HttpClientResponse r2;
  CHECK_FALSE(c2.Do(req, &r2, &error));
}

TEST_CASE("ingress proxy: an Upgrade becomes a two-way byte relay") {
  Backend ws([](HttpRequest& req, HttpResponse& res) {
    if (req.Header("upgrade") != "test-echo") {
      res.Send(400, "want an upgrade");
      return;
    }
    res.SetHeader("Upgrade", "test-echo");
    res.SetHeader("Connection", "Upgrade");
    std::string buffered;
    std::unique_ptr<Conn> conn = res.Hijack(101, &buffered);
    if (!conn) return;
    if (!buffered.empty()) conn->Write(buffered);
    char buf[4096];
    long n;
    while ((n = conn->Read(buf, sizeof(buf))) > 0) conn->Write(buf, static_cast<size_t>(n));
  });
  KeyPair ca, serving;
  std::string error;
  REQUIRE(GenerateCA("ingress test CA", &ca, &error));
  CertRequest cr;
  cr.common_name = "ws.test";
  cr.dns_names = {"ws.test"};
  cr.server = true;
  REQUIRE(IssueCertificate(ca, cr, &serving, &error));
  Proxy p;
  ProxyRouteTable t;
  t.routes.push_back(RouteTo("", "/", {ws.Endpoint()}));
  t.certificates.push_back({{"ws.test"}, serving.cert_pem, serving.key_pem});
  p.proxy->SetRoutes(t);

  // Over TLS the relay also has to drain what OpenSSL holds decrypted.
  bool tls = false;
  SUBCASE("plain") {}
  SUBCASE("tls") { tls = true; }
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(tls ? p.proxy->https_port() : p.proxy->http_port()));
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = nullptr;
  if (tls) {
    BIO* bio = BIO_new_mem_buf(ca.cert_pem.data(), static_cast<int>(ca.cert_pem.size()));
    X509* ca_cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca_cert);
    X509_free(ca_cert);
    BIO_free(bio);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, "ws.test");
    REQUIRE(SSL_connect(ssl) == 1);
  }
  SSL_CTX_free(ctx);  // the SSL keeps its own reference
  Conn c(fd, ssl, "proxy");
  c.SetReadTimeout(20000);
  REQUIRE(c.Write("GET /ws HTTP/1.1\r\nHost: ws.test\r\nConnection: Upgrade\r\nUpgrade: test-echo\r\n\r\n"));
  std::string got;
  char buf[4096];
  while (got.find("\r\n\r\n") == std::string::npos) {
    long n = c.Read(buf, sizeof(buf));
    REQUIRE(n > 0);
    got.append(buf, static_cast<size_t>(n));
  }
  CHECK(got.rfind("HTTP/1.1 101 ", 0) == 0);
  CHECK(got.find("upgrade: test-echo") != std::string::npos);
  got.erase(0, got.find("\r\n\r\n") + 4);
  for (const std::string msg : {"ping", "pong, twice"}) {
    REQUIRE(c.Write(msg));
    while (got.size() < msg.size()) {
      long n = c.Read(buf, sizeof(buf));
      REQUIRE(n > 0);
      got.append(buf, static_cast<size_t>(n));
    }
    CHECK(got == msg);
    got.clear();
  }
}

}  // namespace
}  // namespace kubit::net
