#include "net/conn.h"

#include <errno.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace kubit::net {

Conn::~Conn() {
  if (ssl_) {
    SSL_shutdown(ssl_);
    SSL_free(ssl_);
  }
  if (fd_ >= 0) close(fd_);
}

long Conn::Read(char* buf, size_t n) {
  if (ssl_) {
    int r = SSL_read(ssl_, buf, static_cast<int>(n));
    if (r > 0) return r;
    int err = SSL_get_error(ssl_, r);
    return err == SSL_ERROR_ZERO_RETURN ? 0 : -1;
  }
  for (;;) {
    ssize_t r = recv(fd_, buf, n, 0);
    if (r < 0 && errno == EINTR) continue;
    return r;
  }
}

bool Conn::Write(const char* buf, size_t n) {
  while (n > 0) {
    long w;
    if (ssl_) {
      w = SSL_write(ssl_, buf, static_cast<int>(n));
      if (w <= 0) return false;
    } else {
      w = send(fd_, buf, n, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
    }
    buf += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool Conn::PeerGone() const {
  struct pollfd p = {fd_, POLLIN | POLLRDHUP, 0};
  if (poll(&p, 1, 0) <= 0) return false;
  return (p.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

void Conn::SetReadTimeout(int ms) {
  struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

void Conn::Shutdown() { shutdown(fd_, SHUT_RDWR); }

}  // namespace kubit::net
