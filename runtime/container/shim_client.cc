#include "runtime/container/shim_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>

namespace kubit::runtime::container {
namespace {

// -1 with *error set, or a connected socket. ENOENT/ECONNREFUSED (no shim)
// reported in *gone.
int Connect(const std::string& dir, bool* gone, std::string* error) {
  *gone = false;
  int dfd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    *error = "open " + dir + ": " + strerror(errno);
    *gone = errno == ENOENT;
    return -1;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/shim.sock", dfd);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int rc = fd < 0 ? -1 : connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int e = errno;
  close(dfd);
  if (rc != 0) {
    if (fd >= 0) close(fd);
    *gone = e == ENOENT || e == ECONNREFUSED;
    *error = "connect to the shim at " + dir + "/shim.sock: " + strerror(e);
    return -1;
  }
  return fd;
}

}  // namespace

bool ShimRequest(const std::string& dir, const std::string& request, std::string* error) {
  bool gone;
  int fd = Connect(dir, &gone, error);
  if (fd < 0) return false;
  std::string line = request + "\n";
  if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    *error = "write to the shim: " + std::string(strerror(errno));
    close(fd);
    return false;
  }
  char buf[256];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) {
    *error = "the shim closed the connection without an answer";
    return false;
  }
  buf[n] = 0;
  std::string reply(buf);
  while (!reply.empty() && reply.back() == '\n') reply.pop_back();
  if (reply == "ok") return true;
  *error = reply.rfind("error ", 0) == 0 ? reply.substr(6) : reply;
  return false;
}

int ShimAttach(const std::string& dir, bool stdin_once, std::string* error) {
  bool gone;
  int fd = Connect(dir, &gone, error);
  if (fd < 0) return -1;
  const std::string req = stdin_once ? "attach stdinonce\n" : "attach\n";
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    *error = "write to the shim: " + std::string(strerror(errno));
    close(fd);
    return -1;
  }
  // Exactly the answer's bytes: the output frames follow it.
  char ok[3];
  size_t got = 0;
  while (got < 3) {
    ssize_t n = read(fd, ok + got, 3 - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  if (got != 3 || memcmp(ok, "ok\n", 3) != 0) {
    *error = "the shim refused to attach";
    close(fd);
    return -1;
  }
  return fd;
}

bool ShimWait(const std::string& dir, int timeout_ms, bool* exited, std::string* error) {
  bool gone;
  *exited = false;
  int fd = Connect(dir, &gone, error);
  if (fd < 0) {
    *exited = gone;
    return gone;
  }
  if (write(fd, "wait\n", 5) != 5) {
    close(fd);
    *exited = true;  // it closed on us: it is going
    return true;
  }
  pollfd p{fd, POLLIN, 0};
  int r;
  do r = poll(&p, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  if (r > 0) {
    char c;
    *exited = read(fd, &c, 1) <= 0;
  }
  close(fd);
  return true;
}

}  // namespace kubit::runtime::container
