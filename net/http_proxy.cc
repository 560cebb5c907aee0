#include "net/http_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "net/conn.h"
#include "net/http_server.h"
#include "net/pki.h"

namespace kubit::net {

using Clock = std::chrono::steady_clock;

// A loaded route table: the SSL_CTX of each certificate (null where it did
// not load), freed with the table. A handshake that picked one holds its
// own reference (SSL_set_SSL_CTX), so a replaced table may go at once.
struct HttpProxy::Tables {
  ProxyRouteTable table;
  std::vector<SSL_CTX*> contexts;
  ~Tables() {
    for (SSL_CTX* c : contexts)
      if (c) SSL_CTX_free(c);
  }
};

struct HttpProxy::Upstream {
  std::string endpoint;
  std::unique_ptr<Conn> conn;
  std::string buf;  // read past the last response (none when pooled)
  Clock::time_point idle_since;
};

struct HttpProxy::Client {
  Conn* conn;
  SSL* ssl;  // for SSL_pending in the upgrade relay; null for plain HTTP
  std::string buf;
  std::string ip;
  bool tls;
  int local_port;
};

namespace {

constexpr size_t kMaxHead = 64 << 10;
constexpr size_t kReadPiece = 64 << 10;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return s;
}

bool Fill(Conn* c, std::string* buf) {
  char tmp[kReadPiece];
  long n = c->Read(tmp, sizeof(tmp));
  if (n <= 0) return false;
  buf->append(tmp, static_cast<size_t>(n));
  return true;
}

// Position of `delim` in *buf, reading more as needed; npos on EOF, error
// or when `limit` bytes hold none.
size_t ReadUntil(Conn* c, std::string* buf, const char* delim, size_t limit) {
  size_t from = 0, dl = strlen(delim);
  for (;;) {
    size_t pos = buf->find(delim, from);
    if (pos != std::string::npos) return pos;
    if (buf->size() >= limit) return std::string::npos;
    from = buf->size() >= dl ? buf->size() - dl + 1 : 0;
    if (!Fill(c, buf)) return std::string::npos;
  }
}

bool Send(Conn* to, const char* data, size_t n) { return !to || n == 0 || to->Write(data, n); }

// How a message body is delimited.
enum class BodyKind { kNone, kLength, kChunked, kUntilClose };

struct BodyResult {
  bool read_ok = true;   // the sender's side delivered the whole body
  bool write_ok = true;  // the receiver took it
};

// Copies `n` bytes from (from, *buf) to `to` (null: drops them) piece by piece.
BodyResult CopyLength(Conn* from, std::string* buf, Conn* to, uint64_t n) {
  BodyResult r;
  while (n > 0) {
    if (buf->empty() && !Fill(from, buf)) {
      r.read_ok = false;
      return r;
    }
    size_t take = static_cast<size_t>(std::min<uint64_t>(n, buf->size()));
    if (r.write_ok && !Send(to, buf->data(), take)) r.write_ok = false;
    buf->erase(0, take);
    n -= take;
    if (!r.write_ok) return r;
  }
  return r;
}

// Relays a chunked body. `dechunk`: `to` gets the data alone (an HTTP/1.0
// client, whose response then ends with the connection).
BodyResult CopyChunked(Conn* from, std::string* buf, Conn* to, bool dechunk) {
  BodyResult r;
  for (;;) {
    size_t e = ReadUntil(from, buf, "\r\n", 4096);
    if (e == std::string::npos) {
      r.read_ok = false;
      return r;
    }
    std::string line = buf->substr(0, e);
    char* end = nullptr;
    unsigned long long size = strtoull(line.c_str(), &end, 16);
    if (end == line.c_str() || (*end && *end != ';' && *end != ' ' && *end != '\t')) {
      r.read_ok = false;
      return r;
    }
    if (!dechunk && !Send(to, buf->data(), e + 2)) r.write_ok = false;
    buf->erase(0, e + 2);
    if (!r.write_ok) return r;
    if (size == 0) {  // trailers, up to the empty line
      for (;;) {
        e = ReadUntil(from, buf, "\r\n", 16384);
        if (e == std::string::npos) {
          r.read_ok = false;
          return r;
        }
        if (!dechunk && !Send(to, buf->data(), e + 2)) r.write_ok = false;
        buf->erase(0, e + 2);
        if (e == 0 || !r.write_ok) return r;
      }
    }
    r = CopyLength(from, buf, to, size);
    if (!r.read_ok || !r.write_ok) return r;
    while (buf->size() < 2)
      if (!Fill(from, buf)) {
        r.read_ok = false;
        return r;
      }
    if (buf->compare(0, 2, "\r\n") != 0) {
      r.read_ok = false;
      return r;
    }
    if (!dechunk && !Send(to, "\r\n", 2)) r.write_ok = false;
    buf->erase(0, 2);
    if (!r.write_ok) return r;
  }
}

BodyResult CopyUntilClose(Conn* from, std::string* buf, Conn* to) {
  BodyResult r;
  for (;;) {
    if (!buf->empty()) {
      if (!Send(to, buf->data(), buf->size())) {
        r.write_ok = false;
        return r;
      }
      buf->clear();
    }
    if (!Fill(from, buf)) return r;  // the end of the stream is the end of the body
  }
}

BodyResult CopyBody(BodyKind kind, uint64_t length, Conn* from, std::string* buf, Conn* to, bool dechunk = false) {
  switch (kind) {
    case BodyKind::kNone: return {};
    case BodyKind::kLength: return CopyLength(from, buf, to, length);
    case BodyKind::kChunked: return CopyChunked(from, buf, to, dechunk);
    case BodyKind::kUntilClose: return CopyUntilClose(from, buf, to);
  }
  return {};
}

using Headers = std::vector<std::pair<std::string, std::string>>;

std::string HeaderValue(const Headers& h, const std::string& name) {
  for (const auto& [k, v] : h)
    if (k == name) return v;
  return "";
}

bool HasToken(const std::string& value, const std::string& token) {
  std::string v = Lower(value);
  size_t pos = 0;
  while (pos <= v.size()) {
    size_t comma = v.find(',', pos);
    if (comma == std::string::npos) comma = v.size();
    std::string t = v.substr(pos, comma - pos);
    size_t a = t.find_first_not_of(" \t"), b = t.find_last_not_of(" \t");
    if (a != std::string::npos && t.substr(a, b - a + 1) == token) return true;
    pos = comma + 1;
  }
  return false;
}

// Hop-by-hop headers (RFC 9110 7.6.1) and those the Connection header
// names: never forwarded as they came. Transfer-Encoding is kept: bodies
// pass with the framing they arrived in.
bool HopByHop(const std::string& name, const std::string& connection) {
  static const char* const kHop[] = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"};
  for (const char* h : kHop)
    if (name == h) return true;
  return HasToken(connection, name);
}

// The body a message carries, from its headers; false if malformed.
bool BodyOf(const Headers& h, BodyKind* kind, uint64_t* length) {
  std::string te = HeaderValue(h, "transfer-encoding");
  if (!te.empty()) {
    if (!HasToken(te, "chunked")) return false;
    *kind = BodyKind::kChunked;
    return true;
  }
  std::string cl = HeaderValue(h, "content-length");
  if (cl.empty()) {
    *kind = BodyKind::kNone;
    return true;
  }
  char* end = nullptr;
  *length = strtoull(cl.c_str(), &end, 10);
  if (*end || cl[0] == '-' || !isdigit(static_cast<unsigned char>(cl[0]))) return false;
  *kind = *length ? BodyKind::kLength : BodyKind::kNone;
  return true;
}

// Refuses what a backend could read differently from the proxy (request
// smuggling): Content-Length beside Transfer-Encoding, either repeated,
// and control characters (a bare LF) inside a header.
bool Unambiguous(const Headers& h) {
  int lengths = 0, encodings = 0;
  for (const auto& [k, v] : h) {
    if (k == "content-length") lengths++;
    if (k == "transfer-encoding") encodings++;
    for (char ch : k + v)
      if ((static_cast<unsigned char>(ch) < 0x20 && ch != '\t') || ch == 0x7f) return false;
  }
  return encodings + lengths <= 1;
}

void Reply(Conn* c, int status, const std::string& body, bool close) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + StatusText(status) +
                    "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n" + body;
  c->Write(out);
}

struct ResponseHead {
  std::string version, reason;
  int status = 0;
  Headers headers;
};

// Lines end with CRLF or, as some backends write them (busybox httpd's
// CGI responses), a bare LF (RFC 9112 2.2 lets a recipient take both).
bool ParseResponseHead(const std::string& head, ResponseHead* out) {
  std::vector<std::string> lines;
  for (size_t pos = 0; pos < head.size();) {
    size_t e = head.find('\n', pos);
    if (e == std::string::npos) e = head.size();
    std::string line = head.substr(pos, e - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    pos = e + 1;
  }
  if (lines.empty()) return false;
  const std::string& line = lines[0];
  if (line.compare(0, 5, "HTTP/") != 0) return false;
  size_t sp = line.find(' ');
  if (sp == std::string::npos || line.size() < sp + 4) return false;
  out->version = line.substr(0, sp);
  char* end = nullptr;
  out->status = static_cast<int>(strtol(line.c_str() + sp + 1, &end, 10));
  if (end != line.c_str() + sp + 4 || out->status < 100 || out->status > 999) return false;
  out->reason = *end == ' ' ? std::string(end + 1) : "";
  for (size_t i = 1; i < lines.size(); i++) {
    const std::string& h = lines[i];
    size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0) return false;
    std::string v = h.substr(colon + 1);
    size_t a = v.find_first_not_of(" \t"), b = v.find_last_not_of(" \t");
    out->headers.emplace_back(Lower(h.substr(0, colon)), a == std::string::npos ? "" : v.substr(a, b - a + 1));
  }
  return true;
}

// Reads a response head into *buf: its length without the blank line, and
// in *consumed with it; npos on EOF, error or past kMaxHead.
size_t ReadResponseHead(Conn* c, std::string* buf, size_t* consumed) {
  size_t from = 0;
  for (;;) {
    for (size_t i = buf->find('\n', from); i != std::string::npos; i = buf->find('\n', i + 1)) {
      if (i + 1 < buf->size() && (*buf)[i + 1] == '\n') {
        *consumed = i + 2;
        return i;
      }
      if (i + 2 < buf->size() && (*buf)[i + 1] == '\r' && (*buf)[i + 2] == '\n') {
        *consumed = i + 3;
        return i;
      }
    }
    if (buf->size() >= kMaxHead) return std::string::npos;
    from = buf->size() >= 2 ? buf->size() - 2 : 0;
    if (!Fill(c, buf)) return std::string::npos;
  }
}

// The head as the client gets it: HTTP/1.1, CRLF, without the hop-by-hop
// headers (and Transfer-Encoding when the body is sent without chunks).
std::string ClientHead(const ResponseHead& r, bool drop_transfer_encoding, const std::string& extra) {
  const std::string connection = HeaderValue(r.headers, "connection");
  std::string head = "HTTP/1.1 " + std::to_string(r.status) + " " + r.reason + "\r\n";
  for (const auto& [k, v] : r.headers) {
    bool keep_upgrade = r.status == 101 && k == "upgrade";
    if ((HopByHop(k, connection) && !keep_upgrade) || (drop_transfer_encoding && k == "transfer-encoding")) continue;
    head += k + ": " + v + "\r\n";
  }
  return head + extra + "\r\n";
}

// A TCP connection to "ip:port" ("[v6]:port"), within `timeout_ms`; -1
// with *error.
int Dial(const std::string& endpoint, int timeout_ms, std::string* error) {
  size_t colon = endpoint.rfind(':');
  if (colon == std::string::npos) {
    *error = "bad endpoint " + endpoint;
    return -1;
  }
  std::string host = endpoint.substr(0, colon), port = endpoint.substr(colon + 1);
  if (host.size() > 1 && host[0] == '[') host = host.substr(1, host.size() - 2);
  struct addrinfo hints = {}, *res = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0) {
    *error = "bad endpoint " + endpoint;
    return -1;
  }
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int rc = fd < 0 ? -1 : connect(fd, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  if (rc != 0 && fd >= 0 && errno == EINPROGRESS) {
    struct pollfd p = {fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof(err);
    if (poll(&p, 1, timeout_ms) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0) {
      errno = err;
      rc = err ? -1 : 0;
    } else {
      errno = ETIMEDOUT;
    }
  }
  if (rc != 0) {
    *error = "dial " + endpoint + ": " + strerror(errno);
    if (fd >= 0) close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

// An SSL_CTX serving one certificate (and its chain); null with *error.
SSL_CTX* ServerContext(const std::string& cert_pem, const std::string& key_pem, std::string* error) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
  BIO* cert_bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* cert = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
  bool ok = cert && SSL_CTX_use_certificate(ctx, cert) == 1;
  X509* extra;
  while (ok && (extra = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr)))
    SSL_CTX_add_extra_chain_cert(ctx, extra);
  X509_free(cert);
  BIO_free(cert_bio);
  BIO* key_bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
  ok = ok && key && SSL_CTX_use_PrivateKey(ctx, key) == 1 && SSL_CTX_check_private_key(ctx) == 1;
  EVP_PKEY_free(key);
  BIO_free(key_bio);
  if (!ok) {
    unsigned long e = ERR_get_error();
    char buf[256] = "no certificate or key";
    if (e) ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    *error = buf;
    SSL_CTX_free(ctx);
    return nullptr;
  }
  ERR_clear_error();
  return ctx;
}

// Where a handshake finds the route table it started with.
int TablesIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// Picks the certificate for the client's server name; the fallback
// context stays when none is for it.
int SelectCertificate(SSL* ssl, int*, void*) {
  auto* tables = static_cast<std::shared_ptr<const HttpProxy::Tables>*>(SSL_get_ex_data(ssl, TablesIndex()));
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name || !tables || !*tables) return SSL_TLSEXT_ERR_OK;
  const ProxyCertificate* cert = MatchCertificate((*tables)->table, name);
  if (!cert) return SSL_TLSEXT_ERR_OK;
  size_t i = static_cast<size_t>(cert - (*tables)->table.certificates.data());
  if (SSL_CTX* ctx = (*tables)->contexts[i]) SSL_set_SSL_CTX(ssl, ctx);
  return SSL_TLSEXT_ERR_OK;
}

// Both ways at once after a 101, until either side ends.
void RelayUpgraded(HttpProxy::Client* client, HttpProxy::Upstream* up) {
  Conn* c = client->conn;
  Conn* b = up->conn.get();
  if (!client->buf.empty() && !b->Write(client->buf)) return;
  if (!up->buf.empty() && !c->Write(up->buf)) return;
  client->buf.clear();
  up->buf.clear();
  c->SetReadTimeout(0);
  b->SetReadTimeout(0);
  char tmp[kReadPiece];
  for (;;) {
    struct pollfd p[2] = {{c->fd(), POLLIN, 0}, {b->fd(), POLLIN, 0}};
    bool pending = client->ssl && SSL_pending(client->ssl) > 0;
    if (!pending && poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (pending || p[0].revents) {
      long n = c->Read(tmp, sizeof(tmp));
      if (n <= 0 || !b->Write(tmp, static_cast<size_t>(n))) return;
    }
    if (p[1].revents) {
      long n = b->Read(tmp, sizeof(tmp));
      if (n <= 0 || !c->Write(tmp, static_cast<size_t>(n))) return;
    }
  }
}

}  // namespace

HttpProxy::HttpProxy(HttpProxyOptions options) : opts_(std::move(options)) {
  tables_ = std::make_shared<Tables>();
}

HttpProxy::~HttpProxy() {
  Stop();
  if (fallback_ctx_) SSL_CTX_free(static_cast<SSL_CTX*>(fallback_ctx_));
}

bool HttpProxy::Listen(int port, int* fd, int* bound, std::string* error) {
  if (port < 0) return true;
  struct addrinfo hints = {}, *res = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
  std::string p = std::to_string(port);
  int rc = getaddrinfo(opts_.bind_address.c_str(), p.c_str(), &hints, &res);
  if (rc != 0) {
    *error = "bad bind address " + opts_.bind_address + ": " + gai_strerror(rc);
    return false;
  }
  *fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (*fd >= 0) setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (*fd < 0 || bind(*fd, res->ai_addr, res->ai_addrlen) != 0 || listen(*fd, 1024) != 0) {
    *error = "cannot bind " + opts_.bind_address + ":" + p + ": " + strerror(errno);
    freeaddrinfo(res);
    if (*fd >= 0) close(*fd);
    *fd = -1;
    return false;
  }
  freeaddrinfo(res);
  struct sockaddr_storage addr;
  socklen_t len = sizeof(addr);
  getsockname(*fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *bound = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return true;
}

bool HttpProxy::Start(std::string* error) {
  if (opts_.https_port >= 0) {
    // Names no certificate is for get a self-signed one, as Traefik's
    // default certificate: the handshake completes and the client judges.
    KeyPair self;
    if (!GenerateCA("kubit ingress default certificate", &self, error)) return false;
    SSL_CTX* ctx = ServerContext(self.cert_pem, self.key_pem, error);
    if (!ctx) return false;
    SSL_CTX_set_tlsext_servername_callback(ctx, SelectCertificate);
    fallback_ctx_ = ctx;
  }
  if (!Listen(opts_.http_port, &http_fd_, &http_port_, error) ||
      !Listen(opts_.https_port, &https_fd_, &https_port_, error)) {
    if (http_fd_ >= 0) close(http_fd_);
    http_fd_ = -1;
    return false;
  }
  if (http_fd_ >= 0) acceptors_.emplace_back([this] { AcceptLoop(http_fd_, false); });
  if (https_fd_ >= 0) acceptors_.emplace_back([this] { AcceptLoop(https_fd_, true); });
  return true;
}

void HttpProxy::Stop() {
  if (stopping_.exchange(true)) return;
  for (int fd : {http_fd_, https_fd_})
    if (fd >= 0) shutdown(fd, SHUT_RDWR);
  for (auto& t : acceptors_) t.join();
  acceptors_.clear();
  for (int* fd : {&http_fd_, &https_fd_})
    if (*fd >= 0) close(*fd), *fd = -1;
  {
    std::unique_lock<std::mutex> lock(conns_mu_);
    for (int fd : conn_fds_) shutdown(fd, SHUT_RDWR);
    conns_cv_.wait(lock, [&] { return active_ == 0; });
  }
  std::lock_guard<std::mutex> lock(pool_mu_);
  idle_.clear();
}

void HttpProxy::SetRoutes(ProxyRouteTable table) {
  auto t = std::make_shared<Tables>();
  t->table = std::move(table);
  for (const ProxyCertificate& c : t->table.certificates) {
    std::string error;
    SSL_CTX* ctx = ServerContext(c.cert_pem, c.key_pem, &error);
    if (!ctx && opts_.log) {
      std::string hosts;
      for (const auto& h : c.hosts) hosts += (hosts.empty() ? "" : ",") + h;
      opts_.log("TLS certificate for " + hosts + " left out: " + error);
    }
    t->contexts.push_back(ctx);
  }
  std::lock_guard<std::mutex> lock(tables_mu_);
  tables_ = std::move(t);
}

std::shared_ptr<const HttpProxy::Tables> HttpProxy::Current() const {
  std::lock_guard<std::mutex> lock(tables_mu_);
  return tables_;
}

void HttpProxy::Track(int fd, bool add) {
  std::lock_guard<std::mutex> lock(conns_mu_);
  if (add) {
    conn_fds_.insert(fd);
    if (stopping_) shutdown(fd, SHUT_RDWR);
  } else {
    conn_fds_.erase(fd);
  }
}

void HttpProxy::AcceptLoop(int listen_fd, bool tls) {
  while (!stopping_) {
    struct sockaddr_storage addr;
    socklen_t len = sizeof(addr);
    int fd = accept4(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (stopping_) break;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      break;
    }
    char host[INET6_ADDRSTRLEN] = "?";
    if (addr.ss_family == AF_INET)
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, host, sizeof(host));
    else if (addr.ss_family == AF_INET6)
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr, host, sizeof(host));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    {
      std::lock_guard<std::mutex> lock(conns_mu_);
      if (stopping_ || active_ >= opts_.max_connections) {
        close(fd);
        continue;
      }
      active_++;
      conn_fds_.insert(fd);
    }
    std::thread([this, fd, ip = std::string(host), tls] {
      Serve(fd, ip, tls);
      std::lock_guard<std::mutex> lock(conns_mu_);
      conn_fds_.erase(fd);
      active_--;
      conns_cv_.notify_all();
    }).detach();
  }
}

void HttpProxy::Serve(int fd, std::string ip, bool tls) {
  SSL* ssl = nullptr;
  // Held for the handshake: the certificate callback reads it.
  std::shared_ptr<const Tables> at_handshake;
  if (tls) {
    at_handshake = Current();
    ssl = SSL_new(static_cast<SSL_CTX*>(fallback_ctx_));
    SSL_set_fd(ssl, fd);
    SSL_set_ex_data(ssl, TablesIndex(), &at_handshake);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (SSL_accept(ssl) != 1) {
      ERR_clear_error();
      SSL_free(ssl);
      close(fd);
      return;
    }
    SSL_set_ex_data(ssl, TablesIndex(), nullptr);
    at_handshake.reset();
  }
  Conn conn(fd, ssl, ip);
  Client client{&conn, ssl, "", ip, tls, tls ? https_port_ : http_port_};
  for (;;) {
    conn.SetReadTimeout(opts_.client_idle_timeout_ms);
    size_t head_end = ReadUntil(&conn, &client.buf, "\r\n\r\n", kMaxHead);
    if (head_end == std::string::npos) {
      if (client.buf.size() >= kMaxHead) Reply(&conn, 431, "request header too large\n", true);
      return;
    }
    HttpRequest req;
    std::string head = client.buf.substr(0, head_end), version;
    client.buf.erase(0, head_end + 4);
    if (!ParseRequestHead(head, &req, &version)) {
      Reply(&conn, 400, "malformed HTTP request\n", true);
      return;
    }
    if (!Forward(&client, version, req) || stopping_) return;
  }
}

std::unique_ptr<HttpProxy::Upstream> HttpProxy::TakeIdle(const std::string& endpoint) {
  std::lock_guard<std::mutex> lock(pool_mu_);
  auto it = idle_.find(endpoint);
  if (it == idle_.end()) return nullptr;
  auto& list = it->second;
  while (!list.empty()) {
    std::unique_ptr<Upstream> u = std::move(list.back());
    list.pop_back();
    // Closed by the backend while idle, or too old: dropped.
    if (Clock::now() - u->idle_since > std::chrono::milliseconds(opts_.backend_idle_ms) || u->conn->PeerGone())
      continue;
    return u;
  }
  return nullptr;
}

void HttpProxy::PutIdle(std::unique_ptr<Upstream> u) {
  if (stopping_) return;
  u->idle_since = Clock::now();
  std::lock_guard<std::mutex> lock(pool_mu_);
  auto& list = idle_[u->endpoint];
  auto old = std::chrono::milliseconds(opts_.backend_idle_ms);
  list.erase(std::remove_if(list.begin(), list.end(),
                            [&](const std::unique_ptr<Upstream>& x) { return Clock::now() - x->idle_since > old; }),
             list.end());
  if (list.size() < opts_.max_idle_per_backend) list.push_back(std::move(u));
}

bool HttpProxy::Forward(Client* client, const std::string& version, const HttpRequest& h) {
  Conn* c = client->conn;
  bool http11 = version == "HTTP/1.1";
  std::string connection = h.Header("connection");
  bool keep_alive = http11 ? !HasToken(connection, "close") : HasToken(connection, "keep-alive");
  BodyKind body = BodyKind::kNone;
  uint64_t length = 0;
  if (!BodyOf(h.headers, &body, &length) || !Unambiguous(h.headers)) {
    Reply(c, 400, "bad request framing or header\n", true);
    return false;
  }
  std::string upgrade = HasToken(connection, "upgrade") ? h.Header("upgrade") : "";

  std::shared_ptr<const Tables> tables = Current();
  std::string host = HostWithoutPort(h.Header("host"));
  std::string path = h.target.substr(0, h.target.find('?'));
  const ProxyBackend* backend = MatchRoute(tables->table, host, path);
  // An answer of our own leaves the request body unread: the connection
  // ends with it unless there was none.
  bool can_continue = keep_alive && body == BodyKind::kNone;
  if (!backend) {
    Reply(c, 404, "404 page not found\n", !can_continue);
    return can_continue;
  }
  if (backend->endpoints.empty()) {
    Reply(c, 503, "no available server\n", !can_continue);
    return can_continue;
  }

  // The head for the backend.
  std::string out = h.method + " " + h.target + " HTTP/1.1\r\n";
  for (const auto& [k, v] : h.headers) {
    if (HopByHop(k, connection) || k == "expect" || k.rfind("x-forwarded-", 0) == 0 || k == "x-real-ip") continue;
    out += k + ": " + v + "\r\n";
  }
  if (!upgrade.empty()) out += "connection: Upgrade\r\nupgrade: " + upgrade + "\r\n";
  out += "x-forwarded-for: " + client->ip + "\r\nx-forwarded-proto: " + (client->tls ? "https" : "http") +
         "\r\nx-forwarded-port: " + std::to_string(client->local_port) + "\r\nx-real-ip: " + client->ip + "\r\n";
  if (!h.Header("host").empty()) out += "x-forwarded-host: " + h.Header("host") + "\r\n";
  out += "\r\n";
  // The backend sees no Expect: the client is told to go on here.
  if (body != BodyKind::kNone && Lower(h.Header("expect")) == "100-continue")
    c->Write("HTTP/1.1 100 Continue\r\n\r\n");

  // Endpoints in turn from the round-robin position. A request that got
  // no answer is sent again (on a fresh connection when the pooled one
  // turned out stale, else to the next endpoint) only if it had no body and
  // its method may be repeated: a POST may have taken effect already.
  const bool repeatable = h.method == "GET" || h.method == "HEAD" || h.method == "OPTIONS" ||
                          h.method == "PUT" || h.method == "DELETE" || h.method == "TRACE";
  size_t start;
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    start = next_endpoint_[backend->name]++;
  }
  std::unique_ptr<Upstream> up;
  ResponseHead resp;
  std::string last_error = "no endpoint answered";
  bool body_sent = false;
  for (size_t i = 0; i < backend->endpoints.size() && !up; i++) {
    const std::string& ep = backend->endpoints[(start + i) % backend->endpoints.size()];
    for (int attempt = 0; attempt < 2 && !up; attempt++) {
      std::unique_ptr<Upstream> u = attempt == 0 ? TakeIdle(ep) : nullptr;
      bool reused = u != nullptr;
      if (!u) {
        int fd = Dial(ep, opts_.backend_connect_timeout_ms, &last_error);
        if (fd < 0) break;  // the next endpoint
        u = std::make_unique<Upstream>();
        u->endpoint = ep;
        u->conn = std::make_unique<Conn>(fd, nullptr, ep);
      }
      Track(u->conn->fd(), true);
      u->conn->SetReadTimeout(opts_.backend_timeout_ms);
      bool ok = u->conn->Write(out);
      bool sent = ok;
      if (ok && body != BodyKind::kNone) {
        c->SetReadTimeout(opts_.backend_timeout_ms);
        BodyResult r = CopyBody(body, length, c, &client->buf, u->conn.get());
        body_sent = true;
        if (!r.read_ok) {  // the client went away mid-body
          Track(u->conn->fd(), false);
          return false;
        }
        ok = r.write_ok;
      }
      size_t head_end = std::string::npos;
      if (ok) {
        // 1xx answers other than 101 go to the client as they come.
        for (;;) {
          size_t consumed = 0;
          head_end = ReadResponseHead(u->conn.get(), &u->buf, &consumed);
          if (head_end == std::string::npos) break;
          resp = ResponseHead();
          bool parsed = ParseResponseHead(u->buf.substr(0, head_end), &resp);
          u->buf.erase(0, consumed);
          if (!parsed) {
            head_end = std::string::npos;
            break;
          }
          if (resp.status >= 200 || resp.status == 101) break;
          if (http11) c->Write(ClientHead(resp, false, ""));
        }
        if (head_end == std::string::npos) last_error = "no valid response from " + ep;
      } else {
        last_error = "write to " + ep + " failed";
      }
      if (head_end != std::string::npos) {
        up = std::move(u);
        break;
      }
      Track(u->conn->fd(), false);
      if (body_sent || (sent && !repeatable)) {
        Reply(c, 502, "Bad Gateway\n", body_sent || !can_continue);
        if (opts_.log) opts_.log(backend->name + ": " + last_error);
        return !body_sent && can_continue;
      }
      if (!reused) break;  // the next endpoint
    }
  }
  if (!up) {
    if (opts_.log) opts_.log(backend->name + ": " + last_error);
    Reply(c, 502, "Bad Gateway\n", !can_continue);
    return can_continue;
  }
  int backend_fd = up->conn->fd();

  std::string resp_connection = HeaderValue(resp.headers, "connection");
  if (resp.status == 101) {
    if (c->Write(ClientHead(resp, false, "connection: Upgrade\r\n"))) RelayUpgraded(client, up.get());
    Track(backend_fd, false);
    return false;
  }

  BodyKind rbody = BodyKind::kNone;
  uint64_t rlength = 0;
  if (!BodyOf(resp.headers, &rbody, &rlength)) {
    Track(backend_fd, false);
    Reply(c, 502, "Bad Gateway\n", true);
    if (opts_.log) opts_.log(backend->name + ": malformed response framing from " + up->endpoint);
    return false;
  }
  bool no_body = h.method == "HEAD" || resp.status == 204 || resp.status == 304;
  if (no_body) rbody = BodyKind::kNone;
  else if (rbody == BodyKind::kNone && HeaderValue(resp.headers, "content-length").empty())
    rbody = BodyKind::kUntilClose;
  bool dechunk = rbody == BodyKind::kChunked && !http11;
  // A body that ends with the connection ends the client's too.
  if (rbody == BodyKind::kUntilClose || dechunk) keep_alive = false;

  bool client_ok = c->Write(ClientHead(resp, dechunk, !keep_alive ? "connection: close\r\n"
                                                     : !http11  ? "connection: keep-alive\r\n"
                                                                : ""));
  BodyResult r;
  if (client_ok) r = CopyBody(rbody, rlength, up->conn.get(), &up->buf, c, dechunk);
  Track(backend_fd, false);
  if (!client_ok || !r.write_ok) return false;
  if (!r.read_ok) return false;  // cut short: the client cannot know where it ended
  bool backend_reusable = rbody != BodyKind::kUntilClose && resp.version == "HTTP/1.1" &&
                          !HasToken(resp_connection, "close") && up->buf.empty();
  if (backend_reusable) PutIdle(std::move(up));
  return keep_alive;
}

}  // namespace kubit::net
