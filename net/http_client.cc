#include "net/http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>

#include "net/pki.h"

namespace kubit::net {
namespace {

using Clock = std::chrono::steady_clock;

// Idle connections older than this are closed rather than reused (Go's
// IdleConnTimeout): servers drop idle connections too, and a board has few
// descriptors to spare.
constexpr auto kIdleLifetime = std::chrono::seconds(90);
constexpr size_t kMaxHeadBytes = 1 << 20;
constexpr int kMaxRedirects = 5;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// "host:port", with IPv6 literals in brackets.
std::string HostPort(const std::string& host, int port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (!e) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

// A socket BIO that sends with MSG_NOSIGNAL: a server that hangs up while
// we write must be an error, not a SIGPIPE that kills the process.
int BioWrite(BIO* b, const char* data, int n) {
  for (;;) {
    ssize_t w = send(static_cast<int>(BIO_get_fd(b, nullptr)), data, static_cast<size_t>(n), MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    return static_cast<int>(w);
  }
}

int BioRead(BIO* b, char* data, int n) {
  for (;;) {
    ssize_t r = recv(static_cast<int>(BIO_get_fd(b, nullptr)), data, static_cast<size_t>(n), 0);
    if (r < 0 && errno == EINTR) continue;
    return static_cast<int>(r);
  }
}

long BioCtrl(BIO* b, int cmd, long num, void* ptr) {
  switch (cmd) {
    case BIO_C_SET_FD:
      BIO_set_data(b, reinterpret_cast<void*>(static_cast<intptr_t>(*static_cast<int*>(ptr))));
      BIO_set_init(b, 1);
      return 1;
    case BIO_C_GET_FD:
      if (ptr) *static_cast<int*>(ptr) = static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(b)));
      return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(b)));
    case BIO_CTRL_FLUSH:
      return 1;
    default:
      (void)num;
      return 0;
  }
}

BIO* NewSocketBio(int fd) {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "kubit socket");
    BIO_meth_set_write(m, BioWrite);
    BIO_meth_set_read(m, BioRead);
    BIO_meth_set_ctrl(m, BioCtrl);
    return m;
  }();
  BIO* b = BIO_new(method);
  BIO_ctrl(b, BIO_C_SET_FD, 0, &fd);
  return b;
}

// One client connection, plain or TLS. `buf` holds bytes read ahead of
// what the response parser has consumed.
class Connection {
 public:
  Connection(int fd, std::string key) : fd_(fd), key_(std::move(key)) {}
  ~Connection() {
    if (ssl_) {
      SSL_free(ssl_);
      ERR_clear_error();
    }
    if (fd_ >= 0) close(fd_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int fd() const { return fd_; }
  const std::string& key() const { return key_; }
  std::string& buf() { return buf_; }
  Clock::time_point idle_since;

  bool StartTls(SSL_CTX* ctx, const std::string& name, bool verify, int timeout_ms,
                std::string* error);

  void SetTimeouts(int ms) {
    timeout_ms_ = ms;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  }

  // Appends what arrives to buf(): > 0 bytes, 0 at end of stream, < 0 with
  // *error.
  long ReadMore(std::string* error) {
    char tmp[16384];
    long n;
    if (ssl_) {
      n = SSL_read(ssl_, tmp, sizeof(tmp));
      if (n <= 0) {
        int err = SSL_get_error(ssl_, static_cast<int>(n));
        if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && errno == 0)) return 0;
        if (err == SSL_ERROR_SYSCALL) return SocketError("read", error);
        *error = "TLS read: " + OpenSslError();
        return -1;
      }
    } else {
      do n = recv(fd_, tmp, sizeof(tmp), 0);
      while (n < 0 && errno == EINTR);
      if (n < 0) return SocketError("read", error);
    }
    buf_.append(tmp, static_cast<size_t>(n));
    return n;
  }

  bool Write(const char* data, size_t n, std::string* error) {
    while (n > 0) {
      long w;
      if (ssl_) {
        w = SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(n, 1 << 30)));
        if (w <= 0) {
          if (SSL_get_error(ssl_, static_cast<int>(w)) == SSL_ERROR_SYSCALL)
            return SocketError("write", error) > 0;
          *error = "TLS write: " + OpenSslError();
          return false;
        }
      } else {
        w = send(fd_, data, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return SocketError("write", error) > 0;
      }
      data += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }
  bool Write(const std::string& s, std::string* error) { return Write(s.data(), s.size(), error); }

  // An idle connection the server has closed (or sent anything on) is of
  // no further use.
  bool Stale() const {
    if (!buf_.empty() || (ssl_ && SSL_pending(ssl_) > 0)) return true;
    struct pollfd p = {fd_, POLLIN | POLLRDHUP, 0};
    return poll(&p, 1, 0) != 0;
  }

  // The connection was reset or closed under us, as a server does to an
  // idle keep-alive connection (not a timeout: the server may be slow).
  bool Dropped() const { return last_errno_ == ECONNRESET || last_errno_ == EPIPE; }

 private:
  long SocketError(const char* op, std::string* error) {
    int e = last_errno_ = errno;
    if (e == EAGAIN || e == EWOULDBLOCK)
      *error = std::string(op) + " timed out after " + std::to_string(timeout_ms_) + " ms";
    else
      *error = std::string(op) + ": " + (e ? strerror(e) : "connection closed");
    return -1;
  }

  int fd_;
  SSL* ssl_ = nullptr;
  std::string key_;
  std::string buf_;
  int timeout_ms_ = 0;
  int last_errno_ = 0;
};

// The subjectAltNames of a certificate as "DNS:a, IP:b", for a hostname
// mismatch message that says what the certificate is for.
std::string NamesOf(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  std::string out;
  for (const std::string& n : CertificateSANs(pem)) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "no names" : out;
}

// Keeps the names of a leaf certificate that failed verification; after
// a failed handshake OpenSSL no longer hands out the peer's certificate.
int RememberRejectedLeaf(int ok, X509_STORE_CTX* ctx) {
  if (!ok && X509_STORE_CTX_get_error_depth(ctx) == 0) {
    SSL* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
    auto* names = static_cast<std::string*>(SSL_get_app_data(ssl));
    if (names && names->empty()) *names = NamesOf(X509_STORE_CTX_get_current_cert(ctx));
  }
  return ok;
}

bool Connection::StartTls(SSL_CTX* ctx, const std::string& name, bool verify, int timeout_ms,
                          std::string* error) {
  ssl_ = SSL_new(ctx);
  BIO* bio = NewSocketBio(fd_);
  SSL_set_bio(ssl_, bio, bio);
  if (!IsIpLiteral(name)) SSL_set_tlsext_host_name(ssl_, name.c_str());
  std::string leaf_names;
  SSL_set_app_data(ssl_, &leaf_names);
  if (verify) {
    SSL_set_verify(ssl_, SSL_VERIFY_PEER, RememberRejectedLeaf);
    if (IsIpLiteral(name))
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), name.c_str());
    else
      SSL_set1_host(ssl_, name.c_str());
  }
  SetTimeouts(timeout_ms);
  ERR_clear_error();
  errno = 0;
  int rc = SSL_connect(ssl_);
  SSL_set_app_data(ssl_, nullptr);
  if (rc == 1) return true;
  long v = SSL_get_verify_result(ssl_);
  if (verify && v != X509_V_OK) {
    *error = std::string("TLS: certificate verify failed: ") + X509_verify_cert_error_string(v);
    if (v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH)
      *error += " (certificate is for " + leaf_names + ", not " + name + ")";
    ERR_clear_error();
    return false;
  }
  if (SSL_get_error(ssl_, rc) == SSL_ERROR_SYSCALL) {
    std::string why;
    SocketError("read", &why);
    *error = "TLS handshake: " + (errno ? why : "connection closed by the server");
    return false;
  }
  *error = "TLS handshake: " + OpenSslError();
  return false;
}

struct Head {
  int status = 0;
  bool http10 = false;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string Get(const std::string& name) const {
    for (const auto& [k, v] : headers)
      if (k == name) return v;
    return "";
  }
};

bool ParseResponseHead(const std::string& text, Head* out) {
  size_t line_end = text.find("\r\n");
  std::string line = text.substr(0, line_end);
  // "HTTP/1.1 200 OK"; the reason phrase may be empty or missing.
  if (line.size() < 12 || line.compare(0, 5, "HTTP/") != 0 || line[8] != ' ') return false;
  out->http10 = line.compare(5, 3, "1.0") == 0;
  for (int i = 9; i < 12; i++)
    if (!isdigit(static_cast<unsigned char>(line[i]))) return false;
  if (line.size() > 12 && line[12] != ' ') return false;
  out->status = std::stoi(line.substr(9, 3));
  size_t pos = line_end == std::string::npos ? text.size() : line_end + 2;
  while (pos < text.size()) {
    size_t e = text.find("\r\n", pos);
    if (e == std::string::npos) e = text.size();
    std::string h = text.substr(pos, e - pos);
    size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0) return false;
    out->headers.emplace_back(Lower(h.substr(0, colon)), Trim(h.substr(colon + 1)));
    pos = e + 2;
  }
  return true;
}

// How a response body is delimited (RFC 9112 section 6.3).
struct Framing {
  enum Kind { kNone, kLength, kChunked, kUntilClose } kind = kNone;
  size_t length = 0;
};

bool BodyFraming(const std::string& method, const Head& h, Framing* f, std::string* error) {
  if (method == "HEAD" || h.status / 100 == 1 || h.status == 204 || h.status == 304) {
    f->kind = Framing::kNone;
    return true;
  }
  if (Lower(h.Get("transfer-encoding")).find("chunked") != std::string::npos) {
    f->kind = Framing::kChunked;
    return true;
  }
  std::string cl = h.Get("content-length");
  if (cl.empty()) {
    f->kind = Framing::kUntilClose;
    return true;
  }
  char* end = nullptr;
  errno = 0;
  unsigned long long v = strtoull(cl.c_str(), &end, 10);
  if (*end || cl[0] == '-' || errno) {
    *error = "bad Content-Length \"" + cl + "\" in the response";
    return false;
  }
  f->kind = Framing::kLength;
  f->length = static_cast<size_t>(v);
  return true;
}

using Sink = std::function<bool(const char*, size_t)>;

// Reads a body framed as `f` from `c`, handing it to `sink`. "aborted"
// when the sink says stop.
bool ReadBody(Connection* c, const Framing& f, const Sink& sink, std::string* error) {
  std::string& buf = c->buf();
  auto deliver = [&](size_t n) {
    bool ok = sink(buf.data(), n);
    buf.erase(0, n);
    if (!ok) *error = "aborted";
    return ok;
  };
  switch (f.kind) {
    case Framing::kNone:
      return true;
    case Framing::kLength: {
      size_t got = 0;
      for (;;) {
        size_t n = std::min(buf.size(), f.length - got);
        if (n > 0 && !deliver(n)) return false;
        got += n;
        if (got == f.length) return true;
        std::string why;
        long r = c->ReadMore(&why);
        if (r < 0) {
          *error = why + " after " + std::to_string(got) + " of " + std::to_string(f.length) + " bytes";
          return false;
        }
        if (r == 0) {
          *error = "closed early after " + std::to_string(got) + " of " + std::to_string(f.length) + " bytes";
          return false;
        }
      }
    }
    case Framing::kUntilClose:
      for (;;) {
        if (!buf.empty() && !deliver(buf.size())) return false;
        long r = c->ReadMore(error);
        if (r < 0) return false;
        if (r == 0) return true;
      }
    case Framing::kChunked: {
      size_t total = 0;
      auto need_line = [&](size_t* end) {
        for (;;) {
          *end = buf.find("\r\n");
          if (*end != std::string::npos) return true;
          if (buf.size() > 8192) {
            *error = "malformed chunked body: line too long";
            return false;
          }
          std::string why;
          long r = c->ReadMore(&why);
          if (r <= 0) {
            *error = (r < 0 ? why : "closed early") + " in a chunked body after " +
                     std::to_string(total) + " bytes";
            return false;
          }
        }
      };
      for (;;) {
        size_t e;
        if (!need_line(&e)) return false;
        std::string size_text = Trim(buf.substr(0, buf.find_first_of(";\r")));
        char* end = nullptr;
        size_t n = strtoull(size_text.c_str(), &end, 16);
        if (size_text.empty() || *end) {
          *error = "malformed chunked body: bad chunk size \"" + size_text + "\"";
          return false;
        }
        buf.erase(0, e + 2);
        if (n == 0) {  // trailers, then the empty line
          for (;;) {
            if (!need_line(&e)) return false;
            buf.erase(0, e + 2);
            if (e == 0) return true;
          }
        }
        size_t left = n;
        while (left > 0) {
          size_t take = std::min(left, buf.size());
          if (take > 0) {
            if (!deliver(take)) return false;
            left -= take;
            total += take;
            continue;
          }
          std::string why;
          long r = c->ReadMore(&why);
          if (r <= 0) {
            *error = (r < 0 ? why : "closed early") + " in a chunked body after " +
                     std::to_string(total) + " bytes";
            return false;
          }
        }
        if (!need_line(&e)) return false;
        if (e != 0) {
          *error = "malformed chunked body: no line end after a chunk";
          return false;
        }
        buf.erase(0, 2);
      }
    }
  }
  return false;
}

// Where a redirect's Location points, from the URL that answered.
std::string ResolveLocation(const Url& base, const std::string& loc) {
  if (loc.rfind("http://", 0) == 0 || loc.rfind("https://", 0) == 0) return loc;
  if (loc.rfind("//", 0) == 0) return base.scheme + ":" + loc;
  std::string origin = base.scheme + "://" + HostPort(base.host, base.port);
  if (!loc.empty() && loc[0] == '/') return origin + loc;
  std::string dir = base.path_and_query.substr(0, base.path_and_query.find('?'));
  dir = dir.substr(0, dir.rfind('/') + 1);
  return origin + dir + loc;
}

}  // namespace

std::string HttpClientResponse::Header(const std::string& name) const {
  std::string n = Lower(name);
  for (const auto& [k, v] : headers)
    if (k == n) return v;
  return "";
}

bool ParseUrl(const std::string& url, Url* out) {
  size_t sep = url.find("://");
  if (sep == std::string::npos) return false;
  Url u;
  u.scheme = Lower(url.substr(0, sep));
  if (u.scheme != "http" && u.scheme != "https") return false;
  size_t start = sep + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (authority.find('@') != std::string::npos) return false;
  std::string port;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) return false;
    u.host = authority.substr(1, close - 1);
    std::string rest = authority.substr(close + 1);
    if (!rest.empty() && rest[0] != ':') return false;
    if (!rest.empty()) port = rest.substr(1);
    if (!IsIpLiteral(u.host)) return false;
  } else {
    size_t colon = authority.find(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty()) return false;
  if (port.empty()) {
    u.port = u.scheme == "https" ? 443 : 80;
  } else {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return false;
    u.port = std::stoi(port);
    if (u.port <= 0 || u.port > 65535) return false;
  }
  std::string rest = end == std::string::npos ? "" : url.substr(end);
  rest = rest.substr(0, rest.find('#'));
  if (rest.empty() || rest[0] == '?') rest = "/" + rest;
  u.path_and_query = rest;
  *out = std::move(u);
  return true;
}

// ---- cancellation ----

void CancelToken::Cancel() {
  cancelled_ = true;
  std::lock_guard<std::mutex> lock(mu_);
  if (fd_ >= 0) shutdown(fd_, SHUT_RDWR);
}

void CancelToken::Attach(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  fd_ = fd;
  if (cancelled_) shutdown(fd_, SHUT_RDWR);
}

void CancelToken::Detach() {
  std::lock_guard<std::mutex> lock(mu_);
  fd_ = -1;
}

// ---- the client ----

struct HttpClient::Impl {
  HttpClientOptions opts;
  std::mutex mu;
  SSL_CTX* ssl_ctx = nullptr;
  std::string ssl_ctx_error;
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle;

  ~Impl() {
    idle.clear();
    if (ssl_ctx) SSL_CTX_free(ssl_ctx);
  }

  bool TlsContext(SSL_CTX** out, std::string* error);
  std::unique_ptr<Connection> TakeIdle(const std::string& key);
  void PutIdle(std::unique_ptr<Connection> c);
  bool Connect(const Url& u, CancelToken* cancel, int* fd, std::string* error);
  bool Dial(const Url& u, CancelToken* cancel, std::unique_ptr<Connection>* out, std::string* error);
  bool WriteRequest(Connection* c, const HttpClientRequest& req, const Url& u, std::string* error);
  bool Exchange(const HttpClientRequest& req, const Url& u, HttpClientResponse* resp,
                const std::function<bool(const HttpClientResponse&)>& on_head, const Sink& on_body,
                bool* redirected, std::string* error, CancelToken* cancel);
};

bool HttpClient::Impl::TlsContext(SSL_CTX** out, std::string* error) {
  std::lock_guard<std::mutex> lock(mu);
  if (ssl_ctx || !ssl_ctx_error.empty()) {
    *out = ssl_ctx;
    *error = ssl_ctx_error;
    return ssl_ctx != nullptr;
  }
  const TlsConfig& tls = opts.tls;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
  // Servers often close without close_notify; Content-Length and chunk
  // framing tell a complete body from a cut one.
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  std::string err;
  if (!tls.ca_pem.empty()) {
    BIO* bio = BIO_new_mem_buf(tls.ca_pem.data(), static_cast<int>(tls.ca_pem.size()));
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    int n = 0;
    X509* ca;
    while ((ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr))) {
      X509_STORE_add_cert(store, ca);
      X509_free(ca);
      n++;
    }
    ERR_clear_error();
    BIO_free(bio);
    if (n == 0) err = "TLS: no certificate in the CA PEM";
  } else if (SSL_CTX_load_verify_locations(ctx, "/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/certs") != 1 &&
             SSL_CTX_set_default_verify_paths(ctx) != 1) {
    err = "TLS: cannot load the system's trust store /etc/ssl/certs: " + OpenSslError();
  }
  ERR_clear_error();
  if (err.empty() && (!tls.cert_pem.empty() || !tls.key_pem.empty())) {
    BIO* cb = BIO_new_mem_buf(tls.cert_pem.data(), static_cast<int>(tls.cert_pem.size()));
    X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
    bool ok = cert && SSL_CTX_use_certificate(ctx, cert) == 1;
    X509* extra;
    while (ok && (extra = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr)))
      SSL_CTX_add_extra_chain_cert(ctx, extra);
    ERR_clear_error();
    X509_free(cert);
    BIO_free(cb);
    BIO* kb = BIO_new_mem_buf(tls.key_pem.data(), static_cast<int>(tls.key_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
    BIO_free(kb);
    if (!ok) err = "TLS: cannot load the client certificate: " + OpenSslError();
    else if (!key) err = "TLS: cannot load the client key: " + OpenSslError();
    else if (SSL_CTX_use_PrivateKey(ctx, key) != 1 || SSL_CTX_check_private_key(ctx) != 1)
      err = "TLS: the client certificate and key do not match";
    EVP_PKEY_free(key);
    ERR_clear_error();
  }
  if (!err.empty()) {
    SSL_CTX_free(ctx);
    ssl_ctx_error = *error = err;
    return false;
  }
  *out = ssl_ctx = ctx;
  return true;
}

std::unique_ptr<Connection> HttpClient::Impl::TakeIdle(const std::string& key) {
  std::vector<std::unique_ptr<Connection>> drop;  // closed outside the lock
  std::lock_guard<std::mutex> lock(mu);
  auto it = idle.find(key);
  if (it == idle.end()) return nullptr;
  auto now = Clock::now();
  while (!it->second.empty()) {
    std::unique_ptr<Connection> c = std::move(it->second.back());
    it->second.pop_back();
    if (now - c->idle_since < kIdleLifetime && !c->Stale()) return c;
    drop.push_back(std::move(c));
  }
  return nullptr;
}

void HttpClient::Impl::PutIdle(std::unique_ptr<Connection> c) {
  if (!c->buf().empty()) return;  // bytes past the response: framing in doubt
  c->idle_since = Clock::now();
  std::lock_guard<std::mutex> lock(mu);
  auto& list = idle[c->key()];
  if (list.size() < opts.max_idle_per_host) list.push_back(std::move(c));
}

bool HttpClient::Impl::Connect(const Url& u, CancelToken* cancel, int* out, std::string* error) {
  struct addrinfo hints = {}, *res = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  std::string port = std::to_string(u.port);
  int rc = getaddrinfo(u.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    *error = "lookup " + u.host + ": " + gai_strerror(rc);
    return false;
  }
  auto deadline = Clock::now() + std::chrono::milliseconds(opts.connect_timeout_ms);
  *error = "connect " + HostPort(u.host, u.port) + ": no address";
  bool ok = false;
  for (struct addrinfo* ai = res; ai && !ok; ai = ai->ai_next) {
    char ip[INET6_ADDRSTRLEN] = "?";
    const void* addr = ai->ai_family == AF_INET6
                           ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr)
                           : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr);
    inet_ntop(ai->ai_family, addr, ip, sizeof(ip));
    std::string where = "connect " + HostPort(ip, u.port) + ": ";
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
      *error = where + strerror(errno);
      continue;
    }
    int err = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      err = errno;
      // Waits in short slices so that a cancel is seen while connecting.
      while (err == EINPROGRESS) {
        if (cancel && cancel->cancelled()) {
          err = ECANCELED;
          break;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (opts.connect_timeout_ms > 0 && left <= 0) {
          err = ETIMEDOUT;
          break;
        }
        struct pollfd p = {fd, POLLOUT, 0};
        int slice = opts.connect_timeout_ms > 0 ? static_cast<int>(std::min<long>(left, 50)) : 50;
        if (poll(&p, 1, slice) > 0) {
          socklen_t len = sizeof(err);
          getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        }
      }
    }
    if (err != 0) {
      *error = err == ETIMEDOUT && opts.connect_timeout_ms > 0
                   ? where + "timed out after " + std::to_string(opts.connect_timeout_ms) + " ms"
                   : where + strerror(err);
      close(fd);
      if (err == ECANCELED) break;
      continue;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    *out = fd;
    ok = true;
  }
  freeaddrinfo(res);
  return ok;
}

bool HttpClient::Impl::Dial(const Url& u, CancelToken* cancel, std::unique_ptr<Connection>* out,
                            std::string* error) {
  SSL_CTX* ctx = nullptr;
  if (u.scheme == "https" && !TlsContext(&ctx, error)) return false;
  int fd = -1;
  if (opts.dial) {
    fd = opts.dial(error);
    if (fd < 0) return false;
  } else if (!Connect(u, cancel, &fd, error)) {
    return false;
  }
  auto c = std::make_unique<Connection>(fd, u.scheme + "://" + HostPort(u.host, u.port));
  if (ctx) {
    if (cancel) cancel->Attach(fd);
    const TlsConfig& tls = opts.tls;
    bool ok = c->StartTls(ctx, tls.server_name.empty() ? u.host : tls.server_name,
                          !tls.insecure_skip_verify, opts.connect_timeout_ms, error);
    if (cancel) cancel->Detach();
    if (!ok) return false;
  }
  *out = std::move(c);
  return true;
}

bool HttpClient::Impl::WriteRequest(Connection* c, const HttpClientRequest& req, const Url& u,
                                    std::string* error) {
  std::string head = req.method + " " + u.path_and_query + " HTTP/1.1\r\n";
  bool has_host = false, has_agent = false;
  for (const auto& [k, v] : req.headers) {
    std::string name = Lower(k);
    if (name == "content-length" || name == "transfer-encoding") continue;  // ours, from the body
    has_host |= name == "host";
    has_agent |= name == "user-agent";
    head += k + ": " + v + "\r\n";
  }
  if (!has_host) {
    bool default_port = u.port == (u.scheme == "https" ? 443 : 80);
    head += "Host: " + (default_port ? (u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host)
                                     : HostPort(u.host, u.port)) + "\r\n";
  }
  if (!has_agent && !opts.user_agent.empty()) head += "User-Agent: " + opts.user_agent + "\r\n";
  if (req.body_reader) {
    head += "Transfer-Encoding: chunked\r\n\r\n";
    if (!c->Write(head, error)) return false;
    for (;;) {
      std::string piece;
      if (!req.body_reader(&piece, error)) return false;
      char size[24];
      snprintf(size, sizeof(size), "%zx\r\n", piece.size());
      if (!c->Write(std::string(size) + piece + "\r\n", error)) return false;
      if (piece.empty()) return true;
    }
  }
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH")
    head += "Content-Length: " + std::to_string(req.body.size()) + "\r\n";
  head += "\r\n";
  // Small bodies go in the same write as the head: one packet, not two.
  if (req.body.size() < 16384) return c->Write(head + req.body, error);
  return c->Write(head, error) && c->Write(req.body, error);
}

// One request and its response over one connection (twice when a pooled
// connection proves stale). *redirected: the response was a redirect to
// follow, and resp->final_url is where to.
bool HttpClient::Impl::Exchange(const HttpClientRequest& req, const Url& u, HttpClientResponse* resp,
                                const std::function<bool(const HttpClientResponse&)>& on_head,
                                const Sink& on_body, bool* redirected, std::string* error,
                                CancelToken* cancel) {
  *redirected = false;
  std::string key = u.scheme + "://" + HostPort(u.host, u.port);
  int timeout = req.read_timeout_ms >= 0 ? req.read_timeout_ms : opts.read_timeout_ms;
  for (int attempt = 0;; attempt++) {
    std::unique_ptr<Connection> c = attempt == 0 ? TakeIdle(key) : nullptr;
    bool reused = c != nullptr;
    if (!c && !Dial(u, cancel, &c, error)) return false;
    if (cancel) cancel->Attach(c->fd());
    struct Detacher {
      CancelToken* t;
      ~Detacher() {
        if (t) t->Detach();
      }
    } detach{cancel};
    c->SetTimeouts(timeout);
    // A pooled connection the server dropped while it sat idle fails
    // before any response byte: the request goes again on a fresh one.
    bool retry_ok = reused && !req.body_reader;
    std::string why;
    if (!WriteRequest(c.get(), req, u, &why)) {
      if (retry_ok && c->Dropped()) continue;
      *error = why;
      return false;
    }

    // The head, skipping any 1xx interim responses.
    Head head;
    bool stale = false;
    for (;;) {
      size_t end;
      while ((end = c->buf().find("\r\n\r\n")) == std::string::npos) {
        if (c->buf().size() > kMaxHeadBytes) {
          *error = "response head larger than " + std::to_string(kMaxHeadBytes) + " bytes";
          return false;
        }
        long r = c->ReadMore(&why);
        if (r > 0) continue;
        if (c->buf().empty() && retry_ok && (r == 0 || c->Dropped())) {
          stale = true;
          break;
        }
        *error = r < 0                ? why
                 : c->buf().empty() ? "connection closed before a response"
                                    : "connection closed in the response head";
        return false;
      }
      if (stale) break;
      head = Head();
      if (!ParseResponseHead(c->buf().substr(0, end), &head)) {
        *error = "malformed response head: \"" + c->buf().substr(0, std::min<size_t>(end, 80)) + "\"";
        return false;
      }
      c->buf().erase(0, end + 4);
      if (head.status / 100 != 1 || head.status == 101) break;
    }
    if (stale) continue;
    Framing framing;
    if (!BodyFraming(req.method, head, &framing, error)) return false;

    resp->status = head.status;
    resp->headers = head.headers;
    resp->body.clear();
    std::string connection = Lower(head.Get("connection"));
    bool keep_alive = framing.kind != Framing::kUntilClose && head.status != 101 &&
                      (head.http10 ? connection.find("keep-alive") != std::string::npos
                                   : connection.find("close") == std::string::npos);

    static const int kRedirects[] = {301, 302, 303, 307, 308};
    std::string location = head.Get("location");
    if (req.follow_redirects && !location.empty() &&
        std::find(std::begin(kRedirects), std::end(kRedirects), head.status) != std::end(kRedirects) &&
        !((head.status == 307 || head.status == 308) && req.body_reader)) {
      // The redirect's own body is read through (small ones keep the
      // connection) and dropped.
      size_t seen = 0;
      std::string ignored;
      bool drained = ReadBody(c.get(), framing, [&](const char*, size_t n) { return (seen += n) < (1u << 20); },
                              &ignored);
      if (drained && keep_alive) PutIdle(std::move(c));
      resp->final_url = ResolveLocation(u, location);
      *redirected = true;
      return true;
    }

    if (on_head && !on_head(*resp)) {
      // The caller wants no body: an empty one keeps the connection.
      if (keep_alive && framing.kind != Framing::kChunked &&
          (framing.kind == Framing::kNone || framing.length == 0))
        PutIdle(std::move(c));
      return true;
    }
    if (!ReadBody(c.get(), framing, on_body, error)) return false;
    if (keep_alive && !(cancel && cancel->cancelled())) PutIdle(std::move(c));
    return true;
  }
}

HttpClient::HttpClient(HttpClientOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->opts = std::move(options);
}

HttpClient::~HttpClient() = default;

bool HttpClient::Do(const HttpClientRequest& req, HttpClientResponse* resp, std::string* error) {
  return Stream(req, resp, nullptr,
                [resp](const char* data, size_t n) {
                  resp->body.append(data, n);
                  return true;
                },
                error);
}

bool HttpClient::Stream(const HttpClientRequest& req, HttpClientResponse* resp,
                        const std::function<bool(const HttpClientResponse&)>& on_head,
                        const std::function<bool(const char* data, size_t n)>& on_body,
                        std::string* error, CancelToken* cancel) {
  HttpClientRequest cur = req;
  std::string original_host;
  for (int hop = 0;; hop++) {
    if (cancel && cancel->cancelled()) {
      *error = "cancelled";
      return false;
    }
    Url u;
    if (!ParseUrl(cur.url, &u)) {
      *error = "bad URL \"" + cur.url + "\"";
      return false;
    }
    if (hop == 0) original_host = HostPort(u.host, u.port);
    bool redirected = false;
    std::string err;
    if (!impl_->Exchange(cur, u, resp, on_head, on_body, &redirected, &err, cancel)) {
      *error = cancel && cancel->cancelled() ? "cancelled" : err;
      return false;
    }
    if (!redirected) {
      resp->final_url = cur.url;
      return true;
    }
    if (hop + 1 > kMaxRedirects) {
      *error = "stopped after " + std::to_string(kMaxRedirects) + " redirects";
      return false;
    }
    std::string next = resp->final_url;
    int status = resp->status;
    if (status == 301 || status == 302 || status == 303) {
      if (cur.method != "GET" && cur.method != "HEAD") cur.method = "GET";
      cur.body.clear();
      cur.body_reader = nullptr;
      std::erase_if(cur.headers, [](const auto& h) { return Lower(h.first) == "content-type"; });
    }
    Url nu;
    if (ParseUrl(next, &nu) && HostPort(nu.host, nu.port) != original_host)
      std::erase_if(cur.headers, [](const auto& h) { return Lower(h.first) == "authorization"; });
    cur.url = next;
  }
}

}  // namespace kubit::net
