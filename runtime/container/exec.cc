#include "runtime/container/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/container/process_setup.h"

namespace kubit::runtime::container {
namespace {

struct NsFd {
  const char* name;
  int type;
  int fd;
};

[[noreturn]] void Die(int error_fd, const std::string& message) {
  ssize_t unused = write(error_fd, message.data(), message.size());
  (void)unused;
  _exit(127);
}

// The process in the container (second fork): identity and execve.
[[noreturn]] void RunExecProcess(const ExecTarget& t, const ExecOptions& o, int in, int out,
                                 int err, bool tty, int error_fd) {
  std::string error;
  if (setsid() < 0) Die(error_fd, Errno("setsid"));
  if (tty && ioctl(in, TIOCSCTTY, 0) != 0) Die(error_fd, Errno("ioctl TIOCSCTTY"));
  int fds[3] = {in, out, err};
  for (int i = 0; i < 3; i++)
    if (dup2(fds[i], i) < 0) Die(error_fd, Errno("dup2 stdio"));
  const ContainerSpec& spec = *t.spec;
  ProcessIdentity id;
  if (!ResolveIdentity(spec, o.user.empty() ? spec.user : o.user, &id, &error)) Die(error_fd, error);
  std::string dir = o.working_dir.empty() ? spec.working_dir : o.working_dir;
  if (chdir(dir.c_str()) != 0) Die(error_fd, Errno("chdir " + dir));
  std::vector<std::string> env = spec.env;
  env.insert(env.end(), o.env.begin(), o.env.end());
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  env = ProcessEnv(env, id.user.home, host, tty);
  for (int fd = 3; fd < 1024; fd++)
    if (fd != error_fd) close(fd);
  if (!ApplyIdentity(id, spec.additional_gids, &error)) Die(error_fd, error);
  ExecProcess(o.args, env, &error);
  Die(error_fd, error);
}

// Copies between the caller's fds and the pty master until the process
// closes its side.
void CopyPty(int master, int in, int out) {
  char buf[16384];
  bool in_open = true;
  while (true) {
    pollfd p[2] = {{master, POLLIN, 0}, {in_open ? in : -1, POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[0].revents) {
      ssize_t n = read(master, buf, sizeof(buf));
      if (n <= 0) return;
      for (ssize_t off = 0; off < n;) {
        ssize_t w = write(out, buf + off, n - off);
        if (w <= 0) return;
        off += w;
      }
    }
    if (p[1].revents) {
      ssize_t n = read(in, buf, sizeof(buf));
      if (n <= 0) in_open = false;
      else if (write(master, buf, n) < 0) in_open = false;
    }
  }
}

}  // namespace

bool ExecInContainer(const ExecTarget& t, const ExecOptions& o, int* exit_code,
                     std::string* error) {
  if (o.args.empty()) {
    *error = "exec: no command";
    return false;
  }
  // The namespaces, opened before anything forks so that a container that
  // is gone is a plain error.
  NsFd ns[] = {{"ipc", CLONE_NEWIPC, -1}, {"uts", CLONE_NEWUTS, -1},
               {"net", CLONE_NEWNET, -1}, {"pid", CLONE_NEWPID, -1},
               {"cgroup", CLONE_NEWCGROUP, -1}, {"mnt", CLONE_NEWNS, -1}};
  auto close_all = [&ns]() {
    for (auto& n : ns)
      if (n.fd >= 0) close(n.fd);
  };
  for (auto& n : ns) {
    std::string path = "/proc/" + std::to_string(t.pid) + "/ns/" + n.name;
    n.fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (n.fd < 0) {
      *error = Errno("open " + path);
      close_all();
      return false;
    }
  }
  int master = -1, slave = -1;
  if (o.tty) {
    master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    char name[128];
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 ||
        ptsname_r(master, name, sizeof(name)) != 0 ||
        (slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
      *error = Errno("allocate a pty");
      close_all();
      if (master >= 0) close(master);
      return false;
    }
    winsize ws;
    if (ioctl(o.stdin_fd, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
    if (o.on_pty) o.on_pty(master);
  }
  int errp[2];
  if (pipe2(errp, O_CLOEXEC) != 0) {
    *error = Errno("pipe");
    close_all();
    return false;
  }
  pid_t a = fork();
  if (a < 0) {
    *error = Errno("fork");
    close_all();
    return false;
  }
  if (a == 0) {
    close(errp[0]);
    for (const auto& dir : t.cgroup_dirs) {
      std::string procs = dir + "/cgroup.procs";
      int fd = open(procs.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write(fd, "0", 1) != 1) Die(errp[1], Errno("join cgroup " + procs));
      close(fd);
    }
    for (auto& n : ns)
      if (setns(n.fd, n.type) != 0) Die(errp[1], Errno(std::string("setns ") + n.name));
    pid_t b = fork();
    if (b < 0) Die(errp[1], Errno("fork"));
    if (b == 0) {
      if (o.tty) RunExecProcess(t, o, slave, slave, slave, true, errp[1]);
      RunExecProcess(t, o, o.stdin_fd, o.stdout_fd, o.stderr_fd, false, errp[1]);
    }
    // This waiting process must not hold the caller's pipe ends (inherited,
    // never exec'd, so CLOEXEC does not close them): a stdin pipe would
    // never reach EOF while it waits.
    close_range(3, ~0U, 0);
    int status;
    while (waitpid(b, &status, 0) < 0 && errno == EINTR) {
    }
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  close(errp[1]);
  close_all();
  if (slave >= 0) close(slave);
  std::string failure;
  char buf[512];
  ssize_t n;
  while ((n = read(errp[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) failure.append(buf, n);
  close(errp[0]);
  if (failure.empty() && master >= 0) CopyPty(master, o.stdin_fd, o.stdout_fd);
  if (master >= 0) close(master);
  int status;
  while (waitpid(a, &status, 0) < 0 && errno == EINTR) {
  }
  if (!failure.empty()) {
    *error = "exec in container " + t.spec->id + ": " + failure;
    return false;
  }
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return true;
}

}  // namespace kubit::runtime::container
