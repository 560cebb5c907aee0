#include "runtime/container/shim.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/container/cgroup.h"
#include "runtime/container/cri_log.h"
#include "runtime/container/state.h"

namespace kubit::runtime::container {
namespace {

constexpr int kMaxClients = 16;
// After the container's first process exits, output still in flight is
// drained; a process that escaped with the pipe open (host pid namespace)
// must not keep the shim forever.
constexpr int kDrainMs = 2000;

// The kernel maps the binary's pages around every page start-up touched
// (fault-around), across all of kubit's static initialisers: some 3 MiB of
// a ~10 MiB executable. Dropping the clean, read-only file mappings from
// this process leaves only what the loop faults back in. Writable mappings
// are left alone (their pages may hold data).
void ReleaseStartupPages() {
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char buf[8192];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return;
  buf[n] = 0;
  for (char* line = buf; line && *line;) {
    char* nl = strchr(line, '\n');
    if (nl) *nl = 0;
    unsigned long start, end, inode;
    char perms[5];
    if (sscanf(line, "%lx-%lx %4s %*x %*x:%*x %lu", &start, &end, perms, &inode) == 4 &&
        inode != 0 && perms[1] == '-' && perms[3] == 'p')
      madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED);
    line = nl ? nl + 1 : nullptr;
  }
}

timespec Now() {
  timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return t;
}

void Tee(int* fd, const char* data, size_t n) {
  while (*fd >= 0 && n > 0) {
    ssize_t w = write(*fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      *fd = -1;  // the terminal went away; the log goes on
      return;
    }
    data += w;
    n -= w;
  }
}

class Shim {
 public:
  explicit Shim(const ShimConfig& c) : c_(c) {}
  int Run();

 private:
  bool Listen();
  void Accept();
  void HandleClient(int i);
  void Reap();
  void Pump(int* fd, LogStream stream, int* tee);
  void Finish();

  const ShimConfig& c_;
  CriLogWriter log_;
  int out_ = -1, err_ = -1, pty_ = -1, in_ = -1, tee_out_ = -1, tee_err_ = -1;
  int sig_ = -1, listen_ = -1;
  void Broadcast(LogStream stream, ssize_t n);
  void AttachedInput(int i);
  void Drop(int i);

  int clients_[kMaxClients];
  bool waiting_[kMaxClients];
  bool attached_[kMaxClients];
  bool input_done_[kMaxClients];  // an attached client's half-close came
  bool once_[kMaxClients];        // attached with stdinonce
  int stdin_ = -1;
  // Input the container's stdin could not take yet: no client's input is
  // read until it is written, so the shim never blocks on a container
  // that does not read.
  char pending_[4096];
  size_t pending_len_ = 0;
  bool close_stdin_after_ = false;  // stdinOnce, once pending_ is written
  bool FlushPending();
  int nclients_ = 0;
  bool exited_ = false;
  int status_ = 0;
  int64_t finished_ns_ = 0;
  char buf_[32768];
};

bool Shim::Listen() {
  // Bound relative to the container dir: a sun_path holds 108 bytes, less
  // than a data dir plus a 64-character id.
  if (chdir(c_.dir.c_str()) != 0) return false;
  unlink("shim.sock");
  listen_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  strcpy(addr.sun_path, "shim.sock");
  if (listen_ < 0 || bind(listen_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listen_, 8) != 0) {
    if (listen_ >= 0) close(listen_);
    listen_ = -1;
    return false;
  }
  return true;
}

void Shim::Accept() {
  int fd = accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) return;
  if (nclients_ == kMaxClients) {
    close(fd);
    return;
  }
  clients_[nclients_] = fd;
  waiting_[nclients_] = false;
  attached_[nclients_] = false;
  input_done_[nclients_] = false;
  once_[nclients_] = false;
  nclients_++;
}

void Shim::Drop(int i) {
  close(clients_[i]);
  nclients_--;
  clients_[i] = clients_[nclients_];
  waiting_[i] = waiting_[nclients_];
  attached_[i] = attached_[nclients_];
  input_done_[i] = input_done_[nclients_];
  once_[i] = once_[nclients_];
}

// The chunk just read into buf_, to every attached client. A send that
// would block ends that client: the shim never waits on one.
void Shim::Broadcast(LogStream stream, ssize_t n) {
  unsigned char head[5] = {static_cast<unsigned char>(stream == LogStream::kStdout ? 1 : 2),
                           static_cast<unsigned char>(n >> 24), static_cast<unsigned char>(n >> 16),
                           static_cast<unsigned char>(n >> 8), static_cast<unsigned char>(n)};
  for (int i = nclients_ - 1; i >= 0; i--) {
    if (!attached_[i]) continue;
    iovec iov[2] = {{head, sizeof(head)}, {buf_, static_cast<size_t>(n)}};
    msghdr m{};
    m.msg_iov = iov;
    m.msg_iovlen = 2;
    // Shut down, not dropped here: the poll loop's indexes still hold; it
    // sees the hang-up and drops the client.
    if (sendmsg(clients_[i], &m, MSG_DONTWAIT | MSG_NOSIGNAL) != n + 5) {
      shutdown(clients_[i], SHUT_RDWR);
      attached_[i] = false;
      input_done_[i] = true;
    }
  }
}

// Writes what is pending without blocking; false while some is left.
bool Shim::FlushPending() {
  int fd = c_.pty_fd >= 0 ? pty_ : stdin_;
  while (pending_len_ > 0) {
    if (fd < 0) {
      pending_len_ = 0;  // the container's stdin is gone: nothing to deliver
      break;
    }
    ssize_t w = write(fd, pending_, pending_len_);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) return false;
    if (w <= 0) {  // the container closed its stdin
      pending_len_ = 0;
      if (c_.pty_fd < 0 && stdin_ >= 0) {
        close(stdin_);
        stdin_ = -1;
      }
      break;
    }
    memmove(pending_, pending_ + w, pending_len_ - static_cast<size_t>(w));
    pending_len_ -= static_cast<size_t>(w);
  }
  if (close_stdin_after_ && stdin_ >= 0) {
    close(stdin_);
    stdin_ = -1;
  }
  close_stdin_after_ = false;
  return true;
}

// Bytes from an attached client go to the container's stdin.
void Shim::AttachedInput(int i) {
  ssize_t n = read(clients_[i], pending_, sizeof(pending_));
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    input_done_[i] = true;
    // stdinOnce: the first attach's input is over, the container sees EOF
    // (after everything it sent, which came on this same connection).
    if (once_[i] && stdin_ >= 0) {
      close(stdin_);
      stdin_ = -1;
    }
    return;
  }
  pending_len_ = static_cast<size_t>(n);
  FlushPending();
}

void Shim::HandleClient(int i) {
  int fd = clients_[i];
  char req[128];
  ssize_t n = read(fd, req, sizeof(req) - 1);
  const char* reply = nullptr;
  if (n > 0) {
    req[n] = 0;
    int a = 0, b = 0;
    if (sscanf(req, "kill %d", &a) == 1) {
      if (exited_) reply = "error container has exited\n";
      else reply = kill(c_.pid, a) == 0 ? "ok\n" : "error kill failed\n";
    } else if (sscanf(req, "resize %d %d", &a, &b) == 2) {
      winsize ws{};
      ws.ws_row = static_cast<unsigned short>(a);
      ws.ws_col = static_cast<unsigned short>(b);
      if (pty_ < 0 && c_.pty_fd < 0) reply = "error no tty\n";
      else reply = ioctl(c_.pty_fd, TIOCSWINSZ, &ws) == 0 ? "ok\n" : "error resize failed\n";
    } else if (strncmp(req, "wait", 4) == 0) {
      waiting_[i] = true;
      return;
    } else if (strncmp(req, "attach", 6) == 0) {
      // The answer tells the client its input is now the container's.
      if (write(fd, "ok\n", 3) == 3) attached_[i] = true;
      once_[i] = strstr(req, "stdinonce") != nullptr;
      if (attached_[i]) return;
    } else {
      reply = "error unknown request\n";
    }
  }
  if (reply) {
    ssize_t unused = write(fd, reply, strlen(reply));
    (void)unused;
  }
  Drop(i);
}

void Shim::Reap() {
  signalfd_siginfo si;
  while (read(sig_, &si, sizeof(si)) == sizeof(si)) {
  }
  int status;
  pid_t p;
  while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
    if (p == c_.pid) {
      exited_ = true;
      status_ = status;
      finished_ns_ = NowNs();
    }
  }
}

void Shim::Pump(int* fd, LogStream stream, int* tee) {
  ssize_t n = read(*fd, buf_, sizeof(buf_));
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  timespec now = Now();
  if (n <= 0) {  // EOF, or EIO from a pty whose last holder closed it
    log_.Close(stream, now);
    close(*fd);
    *fd = -1;
    return;
  }
  log_.Write(stream, buf_, n, now);
  Tee(tee, buf_, n);
  Broadcast(stream, n);
}

void Shim::Finish() {
  timespec now = Now();
  log_.Close(LogStream::kStdout, now);
  log_.Close(LogStream::kStderr, now);
  ContainerState s;
  s.status = ContainerStatus::kExited;
  s.pid = c_.pid;
  s.shim_pid = getpid();
  s.shim_start = ProcessStartTime(s.shim_pid);
  s.finished_at_ns = finished_ns_ ? finished_ns_ : NowNs();
  if (WIFEXITED(status_)) {
    s.exit_code = WEXITSTATUS(status_);
  } else if (WIFSIGNALED(status_)) {
    s.signal = WTERMSIG(status_);
    s.exit_code = 128 + s.signal;
  }
  s.oom_killed = ReadOomKillCount(c_.oom_file.c_str()) > 0;
  // Keep the start time the launcher recorded.
  char path[4200];
  snprintf(path, sizeof(path), "%s/state", c_.dir.c_str());
  std::string unused_error;
  ContainerState old;
  if (ReadState(path, &old, &unused_error)) s.started_at_ns = old.started_at_ns;
  int err;
  WriteState(path, s, &err);
  unlink("shim.sock");
}

int Shim::Run() {
  out_ = c_.out_fd;
  err_ = c_.err_fd;
  pty_ = c_.pty_fd;
  in_ = c_.in_fd;
  stdin_ = c_.stdin_fd;
  if (stdin_ >= 0) fcntl(stdin_, F_SETFL, fcntl(stdin_, F_GETFL) | O_NONBLOCK);
  if (pty_ >= 0) fcntl(pty_, F_SETFL, fcntl(pty_, F_GETFL) | O_NONBLOCK);
  tee_out_ = c_.tee_out;
  tee_err_ = c_.tee_err;
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  sig_ = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  std::string error;
  if (!log_.Open(c_.log_path.c_str(), c_.log_max_bytes, c_.log_max_files, &error))
    fprintf(stderr, "kubit shim %s: %s\n", c_.id.c_str(), error.c_str());
  if (!Listen()) fprintf(stderr, "kubit shim %s: no control socket: %s\n", c_.id.c_str(), strerror(errno));
  ReleaseStartupPages();
  // The container may have exited before the signalfd existed.
  Reap();

  int64_t drain_deadline = 0;
  while (true) {
    if (exited_ && out_ < 0 && err_ < 0 && pty_ < 0) break;
    if (exited_ && drain_deadline == 0) drain_deadline = NowNs() + int64_t{kDrainMs} * 1000000;
    pollfd fds[8 + kMaxClients];
    int n = 0;
    auto add = [&](int fd, short events = POLLIN) {
      fds[n].fd = fd;
      fds[n].events = events;
      fds[n].revents = 0;
      n++;
    };
    add(sig_);
    add(listen_);
    add(out_);
    add(err_);
    add(pty_);
    add(pending_len_ ? -1 : in_);
    // While input is pending: its target, for room; no client's input.
    add(pending_len_ ? (c_.pty_fd >= 0 ? pty_ : stdin_) : -1, POLLOUT);
    // An attached client whose input ended is watched for its hang-up only.
    for (int i = 0; i < nclients_; i++)
      add(clients_[i], input_done_[i] || (attached_[i] && pending_len_) ? 0 : POLLIN);
    int timeout = -1;
    if (drain_deadline) {
      int64_t left = (drain_deadline - NowNs()) / 1000000;
      if (left <= 0) break;
      timeout = static_cast<int>(left);
    }
    int r = poll(fds, n, timeout);
    if (r < 0 && errno != EINTR) break;
    if (r <= 0) continue;
    if (fds[0].revents) Reap();
    if (fds[1].revents) Accept();
    if (fds[2].revents) Pump(&out_, LogStream::kStdout, &tee_out_);
    if (fds[3].revents) Pump(&err_, LogStream::kStderr, &tee_err_);
    if (fds[4].revents) Pump(&pty_, LogStream::kStdout, &tee_out_);
    if (fds[6].revents) FlushPending();
    if (fds[5].revents) {
      // The foreground caller's keys take the same way as an attach's.
      ssize_t got = read(in_, pending_, sizeof(pending_));
      if (got <= 0) {
        in_ = -1;
      } else if (c_.pty_fd >= 0 && pty_ >= 0) {
        pending_len_ = static_cast<size_t>(got);
        FlushPending();
      }
    }
    for (int i = nclients_ - 1; i >= 0; i--) {
      short ev = fds[7 + i].revents;
      if (!ev) continue;
      if (input_done_[i]) {
        Drop(i);  // polled for nothing: this is its hang-up
      } else if (attached_[i] && pending_len_) {
        // Gone while its input waits for room (polled for nothing): what
        // it sent is still delivered, then stdinOnce applies.
        if (once_[i]) close_stdin_after_ = true;
        Drop(i);
      } else if (attached_[i]) {
        AttachedInput(i);
      } else if (!waiting_[i]) {
        HandleClient(i);
      } else {
        // A waiter that hung up.
        char c;
        if (read(clients_[i], &c, 1) <= 0) Drop(i);
      }
    }
  }
  Finish();
  return 0;
}

bool ParseInt(const std::string& s, int64_t* out) {
  char* end = nullptr;
  *out = strtoll(s.c_str(), &end, 10);
  return !s.empty() && *end == 0;
}

}  // namespace

bool ParseShimArgs(const std::vector<std::string>& args, ShimConfig* c, std::string* error) {
  if (args.empty() || args[0].empty() || args[0][0] == '-') {
    *error = "usage: kubit shim <id> --dir D --pid N ... (started by kubit, not by hand)";
    return false;
  }
  c->id = args[0];
  for (size_t i = 1; i < args.size(); i += 2) {
    if (i + 1 >= args.size()) {
      *error = "flag " + args[i] + " needs a value";
      return false;
    }
    const std::string &name = args[i], &value = args[i + 1];
    int64_t v = 0;
    bool numeric = ParseInt(value, &v);
    if (name == "--dir") c->dir = value;
    else if (name == "--log") c->log_path = value;
    else if (name == "--oom-file") c->oom_file = value;
    else if (!numeric) {
      *error = "flag " + name + ": want a number, got \"" + value + "\"";
      return false;
    } else if (name == "--pid") c->pid = static_cast<pid_t>(v);
    else if (name == "--out") c->out_fd = static_cast<int>(v);
    else if (name == "--err") c->err_fd = static_cast<int>(v);
    else if (name == "--pty") c->pty_fd = static_cast<int>(v);
    else if (name == "--in") c->in_fd = static_cast<int>(v);
    else if (name == "--stdin") c->stdin_fd = static_cast<int>(v);
    else if (name == "--tee-out") c->tee_out = static_cast<int>(v);
    else if (name == "--tee-err") c->tee_err = static_cast<int>(v);
    else if (name == "--done") c->done_fd = static_cast<int>(v);
    else if (name == "--log-max-bytes") c->log_max_bytes = v;
    else if (name == "--log-max-files") c->log_max_files = static_cast<int>(v);
    else {
      *error = "unknown flag " + name;
      return false;
    }
  }
  if (c->dir.empty() || c->pid <= 0 || c->log_path.empty()) {
    *error = "--dir, --pid and --log are required";
    return false;
  }
  return true;
}

int RunShim(const ShimConfig& config) { return Shim(config).Run(); }

}  // namespace kubit::runtime::container
