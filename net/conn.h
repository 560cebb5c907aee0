// Conn: one accepted connection, plain TCP or TLS, read and written with
// blocking calls. The TLS peer's verified client certificate, if any, is
// kept as its subject (CN and O values).
#pragma once

#include <memory>
#include <string>
#include <vector>

typedef struct ssl_st SSL;

namespace kubit::net {

struct PeerCertificate {
  bool present = false;   // the client sent a certificate
  bool verified = false;  // and it chains to the client CA
  std::string common_name;
  std::vector<std::string> organizations;
  std::string verify_error;  // why it did not verify
};

class Conn {
 public:
  Conn(int fd, SSL* ssl, std::string remote) : fd_(fd), ssl_(ssl), remote_(std::move(remote)) {}
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Bytes read (> 0), 0 at end of stream, < 0 on error or timeout.
  long Read(char* buf, size_t n);
  // Writes all of `n` bytes; false if the peer is gone.
  bool Write(const char* buf, size_t n);
  bool Write(const std::string& s) { return Write(s.data(), s.size()); }
  // True if the peer has closed its side or sent anything while we only
  // write (streams): used to end idle watches of vanished clients.
  bool PeerGone() const;
  // Read timeout in milliseconds (0: none).
  void SetReadTimeout(int ms);
  // Wakes a thread blocked in Read (shutdown of the socket).
  void Shutdown();

  int fd() const { return fd_; }
  const std::string& remote() const { return remote_; }
  const PeerCertificate& peer() const { return peer_; }
  void set_peer(PeerCertificate p) { peer_ = std::move(p); }

 private:
  int fd_;
  SSL* ssl_;
  std::string remote_;
  PeerCertificate peer_;
};

}  // namespace kubit::net
