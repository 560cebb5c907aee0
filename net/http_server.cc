#include "net/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>

namespace kubit::net {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return e ? buf : "unknown TLS error";
}

// Reads from `conn` into `buf` until it holds `until` or `limit` bytes.
// Returns the position of `until`, or npos on EOF, error or limit.
size_t ReadUntil(Conn* conn, std::string* buf, const char* until, size_t limit, size_t from = 0) {
  for (;;) {
    size_t pos = buf->find(until, from);
    if (pos != std::string::npos) return pos;
    if (buf->size() >= limit) return std::string::npos;
    char tmp[16384];
    long n = conn->Read(tmp, sizeof(tmp));
    if (n <= 0) return std::string::npos;
    buf->append(tmp, static_cast<size_t>(n));
  }
}

bool ReadExactly(Conn* conn, std::string* buf, size_t want) {
  while (buf->size() < want) {
    char tmp[16384];
    long n = conn->Read(tmp, std::min(sizeof(tmp), want - buf->size()));
    if (n <= 0) return false;
    buf->append(tmp, static_cast<size_t>(n));
  }
  return true;
}

PeerCertificate ReadPeer(SSL* ssl) {
  PeerCertificate p;
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (!cert) return p;
  p.present = true;
  long verify = SSL_get_verify_result(ssl);
  p.verified = verify == X509_V_OK;
  if (!p.verified) p.verify_error = X509_verify_cert_error_string(verify);
  X509_NAME* name = X509_get_subject_name(cert);
  for (int i = 0; i < X509_NAME_entry_count(name); i++) {
    X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
    if (len < 0) continue;
    std::string v(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
    OPENSSL_free(utf8);
    if (nid == NID_commonName) p.common_name = v;
    if (nid == NID_organizationName) p.organizations.push_back(v);
  }
  X509_free(cert);
  return p;
}

// Accept any client certificate in the handshake; whether it verified is
// kept and judged by authentication, which answers 401 as upstream does.
int AcceptAnyClientCert(int, X509_STORE_CTX*) { return 1; }

}  // namespace

const char* StatusText(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 413: return "Request Entity Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

std::string PercentDecode(const std::string& s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '%' && i + 2 < s.size() &&
        isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

bool ParseRequestHead(const std::string& head, HttpRequest* req, std::string* version) {
  size_t line_end = head.find("\r\n");
  std::string line = head.substr(0, line_end);
  size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  if (sp1 == std::string::npos || sp2 == sp1 || line.compare(sp2 + 1, 5, "HTTP/") != 0) return false;
  req->method = line.substr(0, sp1);
  req->target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  *version = line.substr(sp2 + 1);
  if (req->method.empty() || req->target.empty() || req->target[0] != '/') return false;
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t e = head.find("\r\n", pos);
    if (e == std::string::npos) e = head.size();
    std::string h = head.substr(pos, e - pos);
    size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0) return false;
    req->headers.emplace_back(Lower(h.substr(0, colon)), Trim(h.substr(colon + 1)));
    pos = e + 2;
  }
  size_t q = req->target.find('?');
  req->path = PercentDecode(req->target.substr(0, q), false);
  if (q != std::string::npos) req->query = req->target.substr(q + 1);
  return true;
}

std::string HttpRequest::Header(const std::string& name) const {
  std::string n = Lower(name);
  for (const auto& [k, v] : headers)
    if (k == n) return v;
  return "";
}

std::multimap<std::string, std::string> HttpRequest::Params() const {
  std::multimap<std::string, std::string> out;
  size_t pos = 0;
  while (pos <= query.size() && !query.empty()) {
    size_t amp = query.find('&', pos);
    std::string part = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    if (!part.empty()) {
      size_t eq = part.find('=');
      out.emplace(PercentDecode(part.substr(0, eq), true),
                  eq == std::string::npos ? "" : PercentDecode(part.substr(eq + 1), true));
    }
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return out;
}

std::string HttpRequest::Param(const std::string& name) const {
  auto params = Params();
  auto it = params.find(name);
  return it == params.end() ? "" : it->second;
}

bool HttpRequest::HasParam(const std::string& name) const { return Params().count(name) > 0; }

// ---- response ----

void HttpResponse::SetHeader(const std::string& name, const std::string& value) {
  for (auto& [k, v] : headers_)
    if (Lower(k) == Lower(name)) {
      v = value;
      return;
    }
  headers_.emplace_back(name, value);
}

std::string HttpResponse::Head(int status, const std::string& extra) const {
  std::string h = "HTTP/1.1 " + std::to_string(status) + " " + StatusText(status) + "\r\n";
  for (const auto& [k, v] : headers_) h += k + ": " + v + "\r\n";
  return h + extra + "\r\n";
}

bool HttpResponse::Send(int status, const std::string& body) {
  if (sent_) return false;
  sent_ = true;
  status_ = status;
  std::string out = Head(status, "Content-Length: " + std::to_string(body.size()) + "\r\n");
  if (!head_only_) out += body;
  return conn_->Write(out);
}

bool HttpResponse::StartStream(int status) {
  if (sent_) return false;
  sent_ = streaming_ = true;
  status_ = status;
  return conn_->Write(Head(status, "Transfer-Encoding: chunked\r\n"));
}

bool HttpResponse::Write(const std::string& data) {
  if (!streaming_ || data.empty()) return streaming_;
  char size[24];
  snprintf(size, sizeof(size), "%zx\r\n", data.size());
  return conn_->Write(std::string(size) + data + "\r\n");
}

bool HttpResponse::End() {
  if (!streaming_) return false;
  streaming_ = false;
  return conn_->Write("0\r\n\r\n", 5);
}

std::unique_ptr<Conn> HttpResponse::Hijack(int status, std::string* buffered) {
  if (sent_ || !owner_) return nullptr;
  sent_ = hijacked_ = true;
  status_ = status;
  if (!conn_->Write(Head(status, ""))) return nullptr;
  if (buffered && leftover_) *buffered = std::move(*leftover_);
  return std::move(*owner_);
}

// ---- server ----

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : opts_(std::move(options)), handler_(std::move(handler)) {}

HttpServer::~HttpServer() {
  Stop();
  if (ssl_ctx_) SSL_CTX_free(ssl_ctx_);
}

bool HttpServer::Start(std::string* error) {
  if (!opts_.cert_pem.empty()) {
    ssl_ctx_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(ssl_ctx_, TLS1_2_VERSION);
    SSL_CTX_set_mode(ssl_ctx_, SSL_MODE_AUTO_RETRY);
    BIO* cert_bio = BIO_new_mem_buf(opts_.cert_pem.data(), static_cast<int>(opts_.cert_pem.size()));
    X509* cert = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
    bool ok = cert && SSL_CTX_use_certificate(ssl_ctx_, cert) == 1;
    // The rest of the PEM is the chain.
    X509* extra;
    while (ok && (extra = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr)))
      SSL_CTX_add_extra_chain_cert(ssl_ctx_, extra);
    ERR_clear_error();
    X509_free(cert);
    BIO_free(cert_bio);
    BIO* key_bio = BIO_new_mem_buf(opts_.key_pem.data(), static_cast<int>(opts_.key_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
    ok = ok && key && SSL_CTX_use_PrivateKey(ssl_ctx_, key) == 1;
    EVP_PKEY_free(key);
    BIO_free(key_bio);
    if (!ok) {
      *error = "cannot load the serving certificate and key: " + OpenSslError();
      return false;
    }
    if (!opts_.client_ca_pem.empty()) {
      BIO* ca_bio =
          BIO_new_mem_buf(opts_.client_ca_pem.data(), static_cast<int>(opts_.client_ca_pem.size()));
      X509_STORE* store = SSL_CTX_get_cert_store(ssl_ctx_);
      STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
      X509* ca;
      while ((ca = PEM_read_bio_X509(ca_bio, nullptr, nullptr, nullptr))) {
        X509_STORE_add_cert(store, ca);
        sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(ca)));
        X509_free(ca);
      }
      ERR_clear_error();
      BIO_free(ca_bio);
      SSL_CTX_set_client_CA_list(ssl_ctx_, names);
      SSL_CTX_set_verify(ssl_ctx_, SSL_VERIFY_PEER, AcceptAnyClientCert);
    }
  }

  struct addrinfo hints = {}, *res = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
  std::string port = std::to_string(opts_.port);
  int rc = getaddrinfo(opts_.bind_address.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    *error = "bad bind address " + opts_.bind_address + ": " + gai_strerror(rc);
    return false;
  }
  listen_fd_ = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (listen_fd_ < 0 || bind(listen_fd_, res->ai_addr, res->ai_addrlen) != 0 ||
      listen(listen_fd_, 1024) != 0) {
    *error = "cannot listen on " + opts_.bind_address + ":" + port + ": " + strerror(errno);
    freeaddrinfo(res);
    if (listen_fd_ >= 0) close(listen_fd_);
    listen_fd_ = -1;
    return false;
  }
  freeaddrinfo(res);
  struct sockaddr_storage addr;
  socklen_t len = sizeof(addr);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                           : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  return true;
}

void HttpServer::Stop() {
  if (stopping_.exchange(true)) return;
  if (listen_fd_ >= 0) shutdown(listen_fd_, SHUT_RDWR);
  if (accept_thread_.joinable()) accept_thread_.join();
  if (listen_fd_ >= 0) close(listen_fd_);
  listen_fd_ = -1;
  std::unique_lock<std::mutex> lock(mu_);
  for (Conn* c : conns_) c->Shutdown();
  for (int fd : handshaking_) shutdown(fd, SHUT_RDWR);
  // Connection threads use this object: wait for every one of them.
  idle_cv_.wait(lock, [&] { return active_ == 0; });
}

void HttpServer::AcceptLoop() {
  while (!stopping_) {
    struct sockaddr_storage addr;
    socklen_t len = sizeof(addr);
    int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (stopping_) break;
      if (errno == EMFILE || errno == ENFILE) {  // out of descriptors: back off
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      break;
    }
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (addr.ss_family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&addr);
      inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
      port = ntohs(a->sin_port);
    } else if (addr.ss_family == AF_INET6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
      inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
      port = ntohs(a->sin6_port);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    Spawn(fd, std::string(host) + ":" + std::to_string(port), nullptr);
  }
}

void HttpServer::ServeConnection(int fd, PeerCertificate identity) {
  Spawn(fd, "in-process", &identity);
}

// One thread per connection; `identity` (copied here) skips TLS.
void HttpServer::Spawn(int fd, std::string remote, const PeerCertificate* identity) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Checked under the lock that Stop takes before it waits for every
    // connection thread: none starts after that wait.
    if (stopping_ || active_ >= opts_.max_connections) {
      close(fd);
      return;
    }
    active_++;
    handshaking_.insert(fd);
  }
  std::optional<PeerCertificate> id;
  if (identity) id = *identity;
  std::thread([this, fd, remote = std::move(remote), id = std::move(id)] {
    Serve(fd, remote, id ? &*id : nullptr);
    std::lock_guard<std::mutex> lock(mu_);
    active_--;
    idle_cv_.notify_all();
  }).detach();
}

bool HttpServer::Handshake(int fd, std::string remote, const PeerCertificate* identity,
                           std::unique_ptr<Conn>* out) {
  SSL* ssl = nullptr;
  if (ssl_ctx_ && !identity) {
    ssl = SSL_new(ssl_ctx_);
    SSL_set_fd(ssl, fd);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (SSL_accept(ssl) != 1) {
      ERR_clear_error();
      SSL_free(ssl);
      close(fd);
      return false;
    }
  }
  auto conn = std::make_unique<Conn>(fd, ssl, std::move(remote));
  if (ssl) conn->set_peer(ReadPeer(ssl));
  if (identity) conn->set_peer(*identity);
  *out = std::move(conn);
  return true;
}

void HttpServer::Serve(int fd, std::string remote, const PeerCertificate* identity) {
  std::unique_ptr<Conn> conn;
  bool ok = Handshake(fd, std::move(remote), identity, &conn);
  {
    std::lock_guard<std::mutex> lock(mu_);
    handshaking_.erase(fd);
    if (ok) conns_.insert(conn.get());
    if (ok && stopping_) conn->Shutdown();
  }
  if (!ok) return;
  Conn* raw = conn.get();
  std::string buf;
  for (;;) {
    raw->SetReadTimeout(opts_.idle_timeout_ms);
    size_t head_end = ReadUntil(raw, &buf, "\r\n\r\n", opts_.max_header_bytes);
    if (head_end == std::string::npos) {
      if (buf.size() >= opts_.max_header_bytes) {
        HttpResponse r(raw, false);
        r.SetHeader("Connection", "close");
        r.Send(431, "");
      }
      break;
    }
    HttpRequest req;
    req.conn = raw;
    std::string head = buf.substr(0, head_end), version;
    buf.erase(0, head_end + 4);
    HttpResponse resp(raw, false);
    if (!ParseRequestHead(head, &req, &version)) {
      resp.SetHeader("Connection", "close");
      resp.Send(400, "malformed HTTP request\n");
      break;
    }
    resp.head_only_ = req.method == "HEAD";
    std::string connection = Lower(req.Header("connection"));
    bool keep_alive = version == "HTTP/1.1" ? connection.find("close") == std::string::npos
                                            : connection.find("keep-alive") != std::string::npos;

    // Body.
    bool chunked = Lower(req.Header("transfer-encoding")).find("chunked") != std::string::npos;
    std::string cl = req.Header("content-length");
    size_t length = 0;
    if (!chunked && !cl.empty()) {
      char* end = nullptr;
      unsigned long long v = strtoull(cl.c_str(), &end, 10);
      if (*end || cl[0] == '-') {
        resp.SetHeader("Connection", "close");
        resp.Send(400, "bad Content-Length\n");
        break;
      }
      length = static_cast<size_t>(v);
    }
    if (length > opts_.max_body_bytes) {
      resp.SetHeader("Connection", "close");
      resp.SetHeader("Content-Type", "application/json");
      resp.Send(413,
                "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                "\"message\":\"the request body is larger than the limit of " +
                    std::to_string(opts_.max_body_bytes) +
                    " bytes\",\"reason\":\"RequestEntityTooLarge\",\"code\":413}");
      break;
    }
    if ((length > 0 || chunked) && Lower(req.Header("expect")) == "100-continue")
      raw->Write("HTTP/1.1 100 Continue\r\n\r\n");
    bool body_ok = true, too_large = false;
    if (chunked) {
      for (;;) {
        size_t e = ReadUntil(raw, &buf, "\r\n", 1024);
        if (e == std::string::npos) {
          body_ok = false;
          break;
        }
        size_t n = strtoul(buf.substr(0, e).c_str(), nullptr, 16);
        buf.erase(0, e + 2);
        if (req.body.size() + n > opts_.max_body_bytes) {
          too_large = true;
          break;
        }
        if (n == 0) {  // trailers end with an empty line
          while ((e = ReadUntil(raw, &buf, "\r\n", 8192)) != std::string::npos && e != 0)
            buf.erase(0, e + 2);
          if (e == std::string::npos) body_ok = false;
          else buf.erase(0, 2);
          break;
        }
        if (!ReadExactly(raw, &buf, n + 2)) {
          body_ok = false;
          break;
        }
        req.body.append(buf, 0, n);
        buf.erase(0, n + 2);
      }
    } else if (length > 0) {
      body_ok = ReadExactly(raw, &buf, length);
      if (body_ok) {
        req.body = buf.substr(0, length);
        buf.erase(0, length);
      }
    }
    if (too_large) {
      resp.SetHeader("Connection", "close");
      resp.Send(413, "request body too large\n");
      break;
    }
    if (!body_ok) break;

    resp.leftover_ = &buf;
    resp.owner_ = &conn;
    if (!keep_alive) resp.SetHeader("Connection", "close");
    raw->SetReadTimeout(0);
    try {
      handler_(req, resp);
    } catch (const std::exception& e) {
      if (!resp.sent()) resp.Send(500, std::string("internal error: ") + e.what() + "\n");
      keep_alive = false;
    }
    if (resp.hijacked_) {
      std::lock_guard<std::mutex> lock(mu_);
      conns_.erase(raw);
      return;  // the handler owns the connection now
    }
    if (!resp.sent()) resp.Send(500, "no response\n");
    if (resp.streaming_) {
      resp.End();
      keep_alive = false;  // a stream cut short leaves the framing in doubt
    }
    if (!keep_alive || stopping_) break;
  }
  std::lock_guard<std::mutex> lock(mu_);
  conns_.erase(raw);
}

}  // namespace kubit::net
