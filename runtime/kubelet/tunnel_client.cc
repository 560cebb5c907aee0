#include "runtime/kubelet/tunnel_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "net/http_client.h"

namespace kubit::kubelet {

namespace {

constexpr char kControlPath[] = "/v1-kubit/tunnel";

std::string TlsError(const std::string& what) {
  char buf[256] = "unknown error";
  unsigned long e = ERR_get_error();
  if (e) ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return what + ": " + buf;
}

int DialTcp(const std::string& host, int port, std::string* error) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (rc != 0) {
    *error = "resolve " + host + ": " + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    // At most 10 s per address, so that Stop is never held by the kernel's
    // own connect timeout of minutes.
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p = {fd, POLLOUT, 0};
      int err = ETIMEDOUT;
      socklen_t len = sizeof(err);
      if (poll(&p, 1, 10000) == 1) getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      errno = err;
      rc = err == 0 ? 0 : -1;
    }
    if (rc == 0) {
      fcntl(fd, F_SETFL, flags);
      break;
    }
    *error = "connect " + host + ":" + std::to_string(port) + ": " + strerror(errno);
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  return fd;
}

// The TLS context of a node: the cluster CA as the only trust, the node's
// client certificate and key.
SSL_CTX* NodeTlsContext(const net::TlsConfig& tls, std::string* error) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
  bool ok = true;
  BIO* bio = BIO_new_mem_buf(tls.ca_pem.data(), static_cast<int>(tls.ca_pem.size()));
  X509* ca;
  int cas = 0;
  while ((ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr))) {
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca);
    X509_free(ca);
    cas++;
  }
  BIO_free(bio);
  ERR_clear_error();
  if (cas == 0) {
    *error = "tunnel: no CA certificate to trust";
    ok = false;
  }
  if (ok && !tls.cert_pem.empty()) {
    BIO* cb = BIO_new_mem_buf(tls.cert_pem.data(), static_cast<int>(tls.cert_pem.size()));
    X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
    BIO_free(cb);
    BIO* kb = BIO_new_mem_buf(tls.key_pem.data(), static_cast<int>(tls.key_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
    BIO_free(kb);
    ok = cert && key && SSL_CTX_use_certificate(ctx, cert) == 1 &&
         SSL_CTX_use_PrivateKey(ctx, key) == 1;
    if (!ok) *error = TlsError("tunnel: client certificate");
    if (cert) X509_free(cert);
    if (key) EVP_PKEY_free(key);
  }
  if (!ok) {
    SSL_CTX_free(ctx);
    return nullptr;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  return ctx;
}

std::unique_ptr<net::Conn> DialTls(const client::Config& config, std::string* error) {
  net::Url u;
  if (!net::ParseUrl(config.server, &u) || u.scheme != "https") {
    *error = "tunnel: the server URL " + config.server + " is not https";
    return nullptr;
  }
  SSL_CTX* ctx = NodeTlsContext(config.tls, error);
  if (!ctx) return nullptr;
  int fd = DialTcp(u.host, u.port, error);
  if (fd < 0) {
    SSL_CTX_free(ctx);
    return nullptr;
  }
  struct timeval tv = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  SSL* ssl = SSL_new(ctx);
  SSL_CTX_free(ctx);  // the SSL keeps its own reference
  SSL_set_fd(ssl, fd);
  std::string name = config.tls.server_name.empty() ? u.host : config.tls.server_name;
  unsigned char ip[16];
  if (inet_pton(AF_INET, name.c_str(), ip) == 1 || inet_pton(AF_INET6, name.c_str(), ip) == 1) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, name.c_str());
    SSL_set1_host(ssl, name.c_str());
  }
  if (SSL_connect(ssl) != 1) {
    long v = SSL_get_verify_result(ssl);
    *error = v != X509_V_OK ? "tunnel: server certificate: " + std::string(X509_verify_cert_error_string(v))
                            : TlsError("tunnel: TLS handshake with " + config.server);
    SSL_free(ssl);
    close(fd);
    return nullptr;
  }
  tv = {0, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return std::make_unique<net::Conn>(fd, ssl, config.server);
}

}  // namespace

TunnelConnect TunnelConnectFor(const client::Config& config) {
  if (config.dial) {
    auto dial = config.dial;
    return [dial](std::string* error) -> std::unique_ptr<net::Conn> {
      int fd = dial(error);
      if (fd < 0) return nullptr;
      return std::make_unique<net::Conn>(fd, nullptr, "in-process");
    };
  }
  return [config](std::string* error) { return DialTls(config, error); };
}

bool UpgradeTunnel(net::Conn* conn, const std::string& path, std::string* error) {
  std::string req = "GET " + path +
                    " HTTP/1.1\r\nHost: kubit\r\nConnection: Upgrade\r\nUpgrade: kubit-tunnel\r\n"
                    "User-Agent: kubit-tunnel\r\n\r\n";
  if (!conn->Write(req)) {
    *error = "tunnel: the server closed the connection";
    return false;
  }
  std::string head;
  char c;
  while (head.size() < 16384 && (head.size() < 4 || head.compare(head.size() - 4, 4, "\r\n\r\n") != 0)) {
    if (conn->Read(&c, 1) != 1) {
      *error = "tunnel: the server closed the connection before answering";
      return false;
    }
    head.push_back(c);
  }
  if (head.rfind("HTTP/1.1 101", 0) != 0) {
    *error = "tunnel: the server refused: " + head.substr(0, head.find("\r\n"));
    return false;
  }
  return true;
}

TunnelClient::TunnelClient(TunnelConnect connect,
                           std::function<void(net::Conn*)> serve,
                           std::function<void(const std::string&)> log)
    : connect_(std::move(connect)), serve_(std::move(serve)), log_(std::move(log)) {}

TunnelClient::~TunnelClient() { Stop(); }

void TunnelClient::Start() { thread_ = std::thread([this] { Run(); }); }

void TunnelClient::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    if (control_) control_->Shutdown();
    for (net::Conn* c : stream_conns_) c->Shutdown();
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  // Streams in flight use `serve_`: wait for them to notice the shutdown.
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [this] { return streams_ == 0; });
}

void TunnelClient::Run() {
  auto backoff = std::chrono::seconds(1);
  std::string last_error;
  for (;;) {
    std::string error;
    bool was_up = Control(&error);
    {
      std::unique_lock<std::mutex> l(mu_);
      if (stopping_) return;
    }
    if (was_up) {
      log_("tunnel to the API server lost: " + error + "; reconnecting");
      backoff = std::chrono::seconds(1);
      last_error.clear();
    } else if (error != last_error) {
      log_("tunnel to the API server: " + error + "; retrying");
      last_error = error;
    }
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, backoff, [this] { return stopping_; });
    if (stopping_) return;
    backoff = std::min(backoff * 2, std::chrono::seconds(30));
  }
}

// One control connection, to its end; true if it was up at all.
bool TunnelClient::Control(std::string* error) {
  std::unique_ptr<net::Conn> conn = connect_(error);
  if (!conn) return false;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) return false;
    control_ = conn.get();
  }
  auto done = [&](bool up) {
    std::lock_guard<std::mutex> l(mu_);
    control_ = nullptr;
    connected_ = false;
    return up;
  };
  if (!UpgradeTunnel(conn.get(), kControlPath, error)) return done(false);
  connected_ = true;
  log_("tunnel to the API server is up");
  // The server pings every 30 s: silence for longer is a dead link.
  conn->SetReadTimeout(90000);
  std::string line;
  char buf[512];
  for (;;) {
    long n = conn->Read(buf, sizeof(buf));
    if (n <= 0) {
      *error = n == 0                                   ? "closed by the server"
               : errno == EAGAIN || errno == EWOULDBLOCK ? "no word from the server for 90 s"
                                                          : std::string("read: ") + strerror(errno);
      return done(true);
    }
    line.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = line.find('\n')) != std::string::npos) {
      std::string cmd = line.substr(0, nl);
      line.erase(0, nl + 1);
      if (cmd.rfind("dial ", 0) == 0) OpenStream(cmd.substr(5));
    }
  }
}

void TunnelClient::OpenStream(const std::string& id) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) return;
    streams_++;
  }
  std::thread([this, id] {
    std::string error;
    std::unique_ptr<net::Conn> conn = connect_(&error);
    bool registered = false;
    if (conn) {
      std::lock_guard<std::mutex> l(mu_);
      registered = !stopping_;
      if (registered) stream_conns_.insert(conn.get());
    }
    if (registered && UpgradeTunnel(conn.get(), std::string(kControlPath) + "/" + id, &error))
      serve_(conn.get());
    else if (!error.empty())
      log_("tunnel stream " + id + ": " + error);
    std::lock_guard<std::mutex> l(mu_);
    stream_conns_.erase(conn.get());
    streams_--;
    cv_.notify_all();
  }).detach();
}

}  // namespace kubit::kubelet
