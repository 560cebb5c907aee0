// net::HttpClient against net::HttpServer (plain and TLS) and against a raw
// socket server for what HttpServer never does (drop a kept-alive
// connection, cut a body short).
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "net/http_client.h"
#include "net/http_server.h"
#include "net/pki.h"

namespace kubit::net {
namespace {

// An HttpServer on 127.0.0.1 that stops when the test ends.
struct TestServer {
  explicit TestServer(HttpHandler h, HttpServerOptions o = {}) {
    o.bind_address = "127.0.0.1";
    server = std::make_unique<HttpServer>(o, std::move(h));
    std::string error;
    REQUIRE_MESSAGE(server->Start(&error), error);
  }
  std::string Url(const std::string& path, const std::string& scheme = "http") const {
    return scheme + "://127.0.0.1:" + std::to_string(server->port()) + path;
  }
  std::unique_ptr<HttpServer> server;
};

// A TCP listener on 127.0.0.1 whose connections a test serves by hand.
struct RawServer {
  RawServer() {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    REQUIRE(listen(fd, 16) == 0);
    socklen_t len = sizeof(a);
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~RawServer() { close(fd); }
  int Accept() const { return accept(fd, nullptr, nullptr); }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }
  int fd;
  int port;
};

// Reads one request head (and nothing more) from a raw connection.
std::string ReadHead(int fd) {
  std::string s;
  char c;
  while (s.find("\r\n\r\n") == std::string::npos && read(fd, &c, 1) == 1) s += c;
  return s;
}

void WriteAll(int fd, const std::string& s) { CHECK(send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size())); }

HttpClientResponse Get(HttpClient& c, const std::string& url, std::string* error = nullptr) {
  HttpClientRequest req;
  req.url = url;
  HttpClientResponse resp;
  std::string err;
  bool ok = c.Do(req, &resp, &err);
  if (error) *error = err;
  else REQUIRE_MESSAGE(ok, err);
  return resp;
}

}  // namespace

TEST_CASE("http client: URLs") {
  Url u;
  REQUIRE(ParseUrl("https://example.com:8443/v2/x?y=1#frag", &u));
  CHECK(u.scheme == "https");
  CHECK(u.host == "example.com");
  CHECK(u.port == 8443);
  CHECK(u.path_and_query == "/v2/x?y=1");
  REQUIRE(ParseUrl("http://[::1]?a=b", &u));
  CHECK(u.host == "::1");
  CHECK(u.port == 80);
  CHECK(u.path_and_query == "/?a=b");
  REQUIRE(ParseUrl("HTTPS://h", &u));
  CHECK(u.port == 443);
  CHECK_FALSE(ParseUrl("ftp://h/x", &u));
  CHECK_FALSE(ParseUrl("http://:80/", &u));
  CHECK_FALSE(ParseUrl("http://h:99999/", &u));
  CHECK_FALSE(ParseUrl("http://user@h/", &u));
  CHECK_FALSE(ParseUrl("h/x", &u));

  HttpClient c;
  HttpClientRequest req;
  req.url = "nonsense";
  HttpClientResponse resp;
  std::string error;
  CHECK_FALSE(c.Do(req, &resp, &error));
  CHECK(error == "bad URL \"nonsense\"");
}

TEST_CASE("http client: Content-Length and chunked bodies both ways") {
  TestServer s([](HttpRequest& req, HttpResponse& resp) {
    if (req.path == "/chunked") {
      resp.StartStream(200);
      resp.Write("hello, ");
      resp.Write(std::string(100000, 'x'));
      resp.Write("!");
      resp.End();
      return;
    }
    resp.SetHeader("X-Method", req.method);
    resp.SetHeader("X-Chunked", req.Header("transfer-encoding"));
    resp.Send(201, req.method + " " + req.target + " " + req.body);
  });
  HttpClient c;
  HttpClientRequest req;
  req.method = "POST";
  req.url = s.Url("/echo?a=1");
  req.body = "payload";
  req.headers = {{"Content-Type", "text/plain"}};
  HttpClientResponse resp;
  std::string error;
  REQUIRE_MESSAGE(c.Do(req, &resp, &error), error);
  CHECK(resp.status == 201);
  CHECK(resp.body == "POST /echo?a=1 payload");
  CHECK(resp.Header("X-METHOD") == "POST");
  CHECK(resp.final_url == req.url);

  HttpClientResponse chunked = Get(c, s.Url("/chunked"));
  CHECK(chunked.status == 200);
  CHECK(chunked.body == "hello, " + std::string(100000, 'x') + "!");

  // A request body sent chunked, piece by piece.
  std::vector<std::string> pieces = {"one ", "two ", std::string(40000, 'z'), ""};
  size_t next = 0;
  req.body.clear();
  req.body_reader = [&](std::string* piece, std::string*) {
    *piece = pieces[next++];
    return true;
  };
  REQUIRE_MESSAGE(c.Do(req, &resp, &error), error);
  CHECK(resp.Header("x-chunked") == "chunked");
  CHECK(resp.body == "POST /echo?a=1 one two " + std::string(40000, 'z'));

  // A body reader that fails fails the request with its error.
  req.body_reader = [](std::string*, std::string* e) {
    *e = "disk on fire";
    return false;
  };
  CHECK_FALSE(c.Do(req, &resp, &error));
  CHECK(error == "disk on fire");

  HttpClientRequest head;
  head.method = "HEAD";
  head.url = s.Url("/x");
  REQUIRE_MESSAGE(c.Do(head, &resp, &error), error);
  CHECK(resp.status == 201);
  CHECK(resp.body.empty());
}

TEST_CASE("http client: streaming delivers pieces as they come, and cancel") {
  // The server sends its second piece only once the client has seen the
  // first: a client that waited for the whole body would hang here.
  std::promise<void> seen_first;
  std::future<void> seen_first_f = seen_first.get_future();
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  TestServer s([&](HttpRequest& req, HttpResponse& resp) {
    resp.StartStream(200);
    resp.Write("first\n");
    if (req.path == "/two") {
      seen_first_f.wait();
      resp.Write("second\n");
      resp.End();
      return;
    }
    // /forever: holds the stream open until the test ends it.
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
  });
  HttpClient c;
  HttpClientRequest req;
  req.url = s.Url("/two");
  HttpClientResponse resp;
  std::string error, got;
  int heads = 0;
  bool ok = c.Stream(
      req, &resp,
      [&](const HttpClientResponse& r) {
        heads++;
        CHECK(r.status == 200);
        return true;
      },
      [&](const char* d, size_t n) {
        got.append(d, n);
        if (got == "first\n") seen_first.set_value();
        return true;
      },
      &error);
  REQUIRE_MESSAGE(ok, error);
  CHECK(heads == 1);
  CHECK(got == "first\nsecond\n");
  CHECK(resp.body.empty());

  // Cancel from another thread while the body is being waited for.
  CancelToken cancel;
  req.url = s.Url("/forever");
  got.clear();
  std::thread canceller;
  ok = c.Stream(
      req, &resp, nullptr,
      [&](const char* d, size_t n) {
        got.append(d, n);
        canceller = std::thread([&] { cancel.Cancel(); });
        return true;
      },
      &error, &cancel);
  canceller.join();
  CHECK_FALSE(ok);
  CHECK(error == "cancelled");
  CHECK(got == "first\n");
  // A cancelled token stops any further request at once.
  CHECK_FALSE(c.Stream(req, &resp, nullptr, [](const char*, size_t) { return true; }, &error, &cancel));
  CHECK(error == "cancelled");

  // The body sink may stop the transfer.
  req.url = s.Url("/forever");
  ok = c.Stream(req, &resp, nullptr, [](const char*, size_t) { return false; }, &error);
  CHECK_FALSE(ok);
  CHECK(error == "aborted");
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
}

TEST_CASE("http client: keep-alive reuses one connection per host") {
  std::mutex mu;
  std::set<std::string> remotes;
  TestServer s([&](HttpRequest& req, HttpResponse& resp) {
    {
      std::lock_guard<std::mutex> lock(mu);
      remotes.insert(req.conn->remote());
    }
    resp.Send(200, "ok");
  });
  HttpClient c;
  for (int i = 0; i < 5; i++) CHECK(Get(c, s.Url("/")).body == "ok");
  CHECK(remotes.size() == 1);

  // on_head declining a body with content closes that connection.
  HttpClientRequest req;
  req.url = s.Url("/");
  HttpClientResponse resp;
  std::string error;
  REQUIRE(c.Stream(req, &resp, [](const HttpClientResponse&) { return false; },
                   [](const char*, size_t) { return true; }, &error));
  CHECK(resp.status == 200);
  CHECK(Get(c, s.Url("/")).body == "ok");
  CHECK(remotes.size() == 2);

  // No pool: every request on its own connection.
  HttpClientOptions o;
  o.max_idle_per_host = 0;
  HttpClient fresh(o);
  Get(fresh, s.Url("/"));
  Get(fresh, s.Url("/"));
  CHECK(remotes.size() == 4);
}

TEST_CASE("http client: a dropped pooled connection is retried once on a fresh one") {
  RawServer raw;
  std::thread server([&] {
    int a = raw.Accept();
    CHECK(ReadHead(a).rfind("GET /1 HTTP/1.1\r\n", 0) == 0);
    WriteAll(a, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none");
    // The second request arrives on the kept connection; the server has
    // "timed it out" meanwhile and closes without answering.
    CHECK(ReadHead(a).rfind("GET /2 HTTP/1.1\r\n", 0) == 0);
    close(a);
    int b = raw.Accept();
    CHECK(ReadHead(b).rfind("GET /2 HTTP/1.1\r\n", 0) == 0);
    WriteAll(b, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo");
    // A fresh connection that fails is not retried.
    CHECK(ReadHead(b).rfind("GET /3 HTTP/1.1\r\n", 0) == 0);
    close(b);
    int d = raw.Accept();
    CHECK(ReadHead(d).rfind("GET /3 HTTP/1.1\r\n", 0) == 0);
    close(d);
  });
  HttpClient c;
  CHECK(Get(c, raw.Url("/1")).body == "one");
  CHECK(Get(c, raw.Url("/2")).body == "two");
  std::string error;
  // /3 goes on the pooled connection b, which the server drops: retried on
  // a fresh one (d), which drops too: that error is the answer.
  Get(c, raw.Url("/3"), &error);
  CHECK(error == "connection closed before a response");
  server.join();
}

TEST_CASE("http client: bodies cut short, bad heads, timeouts, refused connections") {
  RawServer raw;
  std::thread server([&] {
    int a = raw.Accept();
    ReadHead(a);
    WriteAll(a, "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + std::string(1234, 'a'));
    close(a);
    a = raw.Accept();
    ReadHead(a);
    WriteAll(a, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n10\r\nabc");
    close(a);
    a = raw.Accept();
    ReadHead(a);
    WriteAll(a, "SSH-2.0-OpenSSH_9.2\r\n\r\n");
    close(a);
    a = raw.Accept();
    ReadHead(a);
    // No Content-Length: the body runs to the end of the connection.
    WriteAll(a, "HTTP/1.0 200 OK\r\n\r\nall of it");
    close(a);
    a = raw.Accept();
    ReadHead(a);
    WriteAll(a, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
    // The 204 keeps the connection: the next request comes here.
    ReadHead(a);
    // ... and is left unanswered until the client gives up and closes.
    char c;
    CHECK(read(a, &c, 1) == 0);
    close(a);
  });
  HttpClient client;
  std::string error;
  Get(client, raw.Url("/"), &error);
  CHECK(error == "closed early after 1234 of 5000 bytes");
  Get(client, raw.Url("/"), &error);
  CHECK(error == "closed early in a chunked body after 8 bytes");
  Get(client, raw.Url("/"), &error);
  CHECK(error == "malformed response head: \"SSH-2.0-OpenSSH_9.2\"");
  CHECK(Get(client, raw.Url("/")).body == "all of it");
  CHECK(Get(client, raw.Url("/")).status == 204);
  HttpClientRequest req;
  req.url = raw.Url("/slow");
  req.read_timeout_ms = 50;
  HttpClientResponse resp;
  CHECK_FALSE(client.Do(req, &resp, &error));
  CHECK(error == "read timed out after 50 ms");
  server.join();  // the connection that timed out was closed, not pooled

  // A port nobody listens on.
  int port;
  {
    RawServer gone;
    port = gone.port;
  }
  Get(client, "http://127.0.0.1:" + std::to_string(port) + "/", &error);
  CHECK(error == "connect 127.0.0.1:" + std::to_string(port) + ": Connection refused");
  Get(client, "http://no-such-host.invalid/", &error);
  CHECK(error.rfind("lookup no-such-host.invalid: ", 0) == 0);
}

TEST_CASE("http client: redirects") {
  std::mutex mu;
  std::vector<std::string> seen;
  TestServer other([&](HttpRequest& req, HttpResponse& resp) {
    resp.Send(200, "other host, authorization=" + req.Header("authorization"));
  });
  TestServer s([&](HttpRequest& req, HttpResponse& resp) {
    {
      std::lock_guard<std::mutex> lock(mu);
      seen.push_back(req.method + " " + req.target + " " + req.body);
    }
    if (req.path == "/a") resp.SetHeader("Location", "/b?x=1");
    if (req.path == "/b") resp.SetHeader("Location", "c");
    if (req.path == "/post") resp.SetHeader("Location", "/final");
    if (req.path == "/keep") resp.SetHeader("Location", "/final");
    if (req.path == "/away") resp.SetHeader("Location", other.Url("/there"));
    if (req.path == "/loop") resp.SetHeader("Location", "/loop");
    if (req.path == "/a" || req.path == "/b" || req.path == "/away" || req.path == "/loop")
      resp.Send(302, "moved");
    else if (req.path == "/post")
      resp.Send(303, "");
    else if (req.path == "/keep")
      resp.Send(307, "");
    else
      resp.Send(200, "at " + req.target + " authorization=" + req.Header("authorization"));
  });
  HttpClient c;
  HttpClientRequest req;
  req.url = s.Url("/a");
  req.follow_redirects = true;
  req.headers = {{"Authorization", "Bearer t"}};
  HttpClientResponse resp;
  std::string error;
  REQUIRE_MESSAGE(c.Do(req, &resp, &error), error);
  CHECK(resp.status == 200);
  CHECK(resp.body == "at /c authorization=Bearer t");
  CHECK(resp.final_url == s.Url("/c"));

  req.method = "POST";
  req.body = "data";
  req.url = s.Url("/post");
  REQUIRE_MESSAGE(c.Do(req, &resp, &error), error);
  req.url = s.Url("/keep");
  REQUIRE_MESSAGE(c.Do(req, &resp, &error), error);
  {
    std::lock_guard<std::mutex> lock(mu);
    REQUIRE(seen.size() == 7);
    CHECK(seen[3] == "POST /post data");
    CHECK(seen[4] == "GET /final ");  // 303: a GET without the body
    CHECK(seen[6] == "POST /final data");  // 307: same method and body
  }

  req.method = "GET";
  req.body.clear();
  req.url = s.Url("/away");
  REQUIRE_MESSAGE(c.Do(req, &resp, &error), error);
  CHECK(resp.body == "other host, authorization=");

  req.url = s.Url("/loop");
  CHECK_FALSE(c.Do(req, &resp, &error));
  CHECK(error == "stopped after 5 redirects");

  // Not following: the redirect itself is the answer.
  req.follow_redirects = false;
  req.url = s.Url("/a");
  REQUIRE(c.Do(req, &resp, &error));
  CHECK(resp.status == 302);
  CHECK(resp.Header("location") == "/b?x=1");
  CHECK(resp.body == "moved");
}

TEST_CASE("http client: TLS verification and client certificates") {
  // HttpServer's TLS writes to clients that hung up (these tests do) rely
  // on SIGPIPE being ignored, as kubit's main does.
  signal(SIGPIPE, SIG_IGN);
  KeyPair ca, serving, client, other_ca;
  std::string error;
  REQUIRE(GenerateCA("test-ca", &ca, &error));
  REQUIRE(GenerateCA("other-ca", &other_ca, &error));
  CertRequest sr;
  sr.common_name = "server";
  sr.dns_names = {"localhost"};
  sr.ip_addresses = {"127.0.0.1"};
  sr.server = true;
  REQUIRE(IssueCertificate(ca, sr, &serving, &error));
  CertRequest cr;
  cr.common_name = "alice";
  cr.organizations = {"devs"};
  cr.client = true;
  REQUIRE(IssueCertificate(ca, cr, &client, &error));

  HttpServerOptions so;
  so.cert_pem = serving.cert_pem;
  so.key_pem = serving.key_pem;
  so.client_ca_pem = ca.cert_pem;
  TestServer s(
      [](HttpRequest& req, HttpResponse& resp) {
        const PeerCertificate& p = req.conn->peer();
        resp.Send(200, p.present && p.verified ? "hello " + p.common_name : "hello stranger");
      },
      so);

  HttpClientOptions o;
  o.tls.ca_pem = ca.cert_pem;
  HttpClient trusting(o);
  CHECK(Get(trusting, s.Url("/", "https")).body == "hello stranger");
  CHECK(Get(trusting, "https://localhost:" + std::to_string(s.server->port()) + "/").body ==
        "hello stranger");

  o.tls.cert_pem = client.cert_pem;
  o.tls.key_pem = client.key_pem;
  HttpClient alice(o);
  CHECK(Get(alice, s.Url("/", "https")).body == "hello alice");

  // The system's trust store does not know this CA.
  HttpClient system;
  Get(system, s.Url("/", "https"), &error);
  CHECK(error.rfind("TLS: certificate verify failed: ", 0) == 0);

  HttpClientOptions wrong;
  wrong.tls.ca_pem = other_ca.cert_pem;
  HttpClient w(wrong);
  Get(w, s.Url("/", "https"), &error);
  CHECK(error.rfind("TLS: certificate verify failed: ", 0) == 0);

  HttpClientOptions named;
  named.tls.ca_pem = ca.cert_pem;
  named.tls.server_name = "kubernetes.default";
  HttpClient n(named);
  Get(n, s.Url("/", "https"), &error);
  CHECK(error ==
        "TLS: certificate verify failed: hostname mismatch (certificate is for DNS:localhost, "
        "IP:127.0.0.1, not kubernetes.default)");

  HttpClientOptions insecure;
  insecure.tls.insecure_skip_verify = true;
  HttpClient i(insecure);
  CHECK(Get(i, s.Url("/", "https")).body == "hello stranger");

  HttpClientOptions mismatched;
  mismatched.tls.ca_pem = ca.cert_pem;
  mismatched.tls.cert_pem = client.cert_pem;
  mismatched.tls.key_pem = serving.key_pem;
  HttpClient m(mismatched);
  Get(m, s.Url("/", "https"), &error);
  CHECK(error == "TLS: the client certificate and key do not match");

  HttpClientOptions garbage;
  garbage.tls.ca_pem = "not a certificate";
  HttpClient g(garbage);
  Get(g, s.Url("/", "https"), &error);
  CHECK(error == "TLS: no certificate in the CA PEM");

  // Plain HTTP to a TLS port: the server hangs up on the garbage.
  HttpClient plain;
  Get(plain, s.Url("/"), &error);
  CHECK(!error.empty());
}

TEST_CASE("http client: a caller-supplied dialer, and ServeConnection") {
  TestServer s([](HttpRequest& req, HttpResponse& resp) {
    resp.Send(200, req.conn->remote() + " " + req.conn->peer().common_name + " " + req.Header("host"));
  });
  HttpClientOptions o;
  int dials = 0;
  o.dial = [&](std::string*) {
    dials++;
    int sv[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    PeerCertificate id;
    id.present = id.verified = true;
    id.common_name = "system:kube-controller-manager";
    s.server->ServeConnection(sv[0], id);
    return sv[1];
  };
  HttpClient c(o);
  CHECK(Get(c, "http://kubit/").body == "in-process system:kube-controller-manager kubit");
  CHECK(Get(c, "http://kubit/").body == "in-process system:kube-controller-manager kubit");
  CHECK(dials == 1);

  o.dial = [](std::string* error) {
    *error = "no server";
    return -1;
  };
  HttpClient failing(o);
  std::string error;
  Get(failing, "http://kubit/", &error);
  CHECK(error == "no server");
}

}  // namespace kubit::net
