#include "runtime/container/launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include "runtime/container/cgroup.h"
#include "runtime/container/container_init.h"
#include "runtime/container/process_setup.h"
#include "runtime/container/state.h"

namespace kubit::runtime::container {
namespace {

void WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += n;
  }
}

// Reads until EOF (or `stop_at_newline` and a newline).
std::string ReadAll(int fd, bool stop_at_newline) {
  std::string out;
  char c;
  while (true) {
    ssize_t n = read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out += c;
    if (stop_at_newline && c == '\n') break;
  }
  return out;
}

void ClearCloexec(int fd) {
  if (fd >= 0) fcntl(fd, F_SETFD, 0);
}

// P2's work; reports to `report` and either becomes the shim or exits.
[[noreturn]] void RunLauncher(const LaunchConfig& c, int report) {
  const ContainerSpec& spec = *c.spec;
  auto fail = [report](const std::string& message) {
    WriteAll(report, "error " + message + "\n");
    _exit(1);
  };
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) fail(Errno("prctl PR_SET_CHILD_SUBREAPER"));

  // The container's stdio: a pty, or a pipe per output stream.
  int in_fd = -1, out_w = -1, err_w = -1, out_r = -1, err_r = -1, master = -1, stdin_w = -1;
  std::string console;
  if (spec.tty) {
    master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) fail(Errno("open /dev/ptmx"));
    char name[128];
    if (grantpt(master) != 0 || unlockpt(master) != 0 || ptsname_r(master, name, sizeof(name)) != 0)
      fail(Errno("unlock pty"));
    console = name;
    int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) fail(Errno("open " + console));
    winsize ws;
    if (c.attach && ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
    in_fd = out_w = err_w = slave;
  } else {
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) fail(Errno("pipe"));
    out_r = out[0], out_w = out[1], err_r = err[0], err_w = err[1];
    // stdin open (pod spec `stdin`): a pipe whose write end the shim keeps
    // for attaches.
    int in[2];
    if (!c.attach && spec.stdin_open) {
      if (pipe2(in, O_CLOEXEC) != 0) fail(Errno("pipe"));
      in_fd = in[0];
      stdin_w = in[1];
    } else {
      in_fd = c.attach ? 0 : open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    if (in_fd < 0) fail(Errno("open /dev/null"));
  }
  int sync[2], errp[2];
  if (pipe2(sync, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) fail(Errno("pipe"));

  // A pid namespace to join applies to children: join it before the clone.
  if (!spec.namespaces.pid.empty() && spec.namespaces.pid != kHostNamespace) {
    int fd = open(spec.namespaces.pid.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWPID) != 0) fail(Errno("setns pid " + spec.namespaces.pid));
    close(fd);
  }
  unsigned long flags = CLONE_NEWNS | SIGCHLD;
  if (spec.namespaces.pid.empty()) flags |= CLONE_NEWPID;
  if (spec.namespaces.uts.empty()) flags |= CLONE_NEWUTS;
  if (spec.namespaces.ipc.empty()) flags |= CLONE_NEWIPC;
  if (spec.namespaces.network.empty()) flags |= CLONE_NEWNET;

  Cgroups cgroups(c.cgroup_root);
  pid_t child = static_cast<pid_t>(syscall(SYS_clone, flags, nullptr, nullptr, nullptr, nullptr));
  if (child < 0) fail(Errno("clone"));
  if (child == 0) {
    close(sync[1]);
    close(errp[0]);
    InitConfig init;
    init.spec = &spec;
    init.container_dir = c.container_dir;
    init.console = console;
    init.stdin_fd = in_fd;
    init.stdout_fd = out_w;
    init.stderr_fd = err_w;
    init.sync_fd = sync[0];
    init.error_fd = errp[1];
    init.cgroup_v2 = cgroups.v2();
    RunContainerInit(init);
  }
  close(sync[0]);
  close(errp[1]);
  if (spec.tty) {
    close(in_fd);
  } else {
    close(out_w);
    close(err_w);
    if (in_fd != 0) close(in_fd);
  }

  std::string error;
  if (!cgroups.AddProcess(c.cgroup, child, &error)) {
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    fail(error);
  }
  char go = 1;
  if (write(sync[1], &go, 1) != 1) fail(Errno("write to the container's sync pipe"));
  close(sync[1]);
  std::string init_error = ReadAll(errp[0], false);
  close(errp[0]);
  if (!init_error.empty()) {
    waitpid(child, nullptr, 0);
    fail(init_error);
  }

  ContainerState state;
  state.status = ContainerStatus::kRunning;
  state.pid = child;
  state.shim_pid = getpid();
  state.shim_start = ProcessStartTime(state.shim_pid);
  state.started_at_ns = NowNs();
  int err = 0;
  std::string state_path = c.container_dir + "/state";
  if (!WriteState(state_path.c_str(), state, &err)) {
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    fail("write " + state_path + ": " + strerror(err));
  }

  char pidbuf[32];
  snprintf(pidbuf, sizeof(pidbuf), "%d", static_cast<int>(child));
  std::vector<std::string> args = {"kubit", "shim", spec.id, "--dir", c.container_dir,
                                   "--pid", pidbuf};
  auto fd_arg = [&args](const char* name, int fd) {
    if (fd < 0) return;
    ClearCloexec(fd);
    args.push_back(name);
    args.push_back(std::to_string(fd));
  };
  if (spec.tty) {
    fd_arg("--pty", master);
    if (c.attach) fd_arg("--in", 0);
  } else {
    fd_arg("--out", out_r);
    fd_arg("--err", err_r);
    fd_arg("--stdin", stdin_w);
  }
  if (c.attach) {
    fd_arg("--tee-out", 1);
    fd_arg("--tee-err", 2);
  } else {
    // Detached: keep nothing of the caller's (a pipe held open would keep
    // `kubit ctr run -d ... | cat` from ever ending).
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
      if (null > 2) close(null);
    }
  }
  fd_arg("--done", report);
  args.insert(args.end(), {"--log", c.log_path, "--log-max-bytes",
                           std::to_string(spec.log_max_bytes), "--log-max-files",
                           std::to_string(spec.log_max_files), "--oom-file", c.oom_file});
  WriteAll(report, "ok " + std::string(pidbuf) + " " + std::to_string(getpid()) + "\n");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  execv("/proc/self/exe", argv.data());
  // The container runs but nobody would reap it or keep its log: stop it.
  int e = errno;
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  state.status = ContainerStatus::kExited;
  state.exit_code = 128 + SIGKILL;
  state.signal = SIGKILL;
  state.finished_at_ns = NowNs();
  WriteState(state_path.c_str(), state, &err);
  fprintf(stderr, "kubit: exec of the shim failed: %s\n", strerror(e));
  _exit(1);
}

}  // namespace

bool Launch(const LaunchConfig& c, Launched* out, std::string* error) {
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    *error = Errno("pipe");
    return false;
  }
  pid_t p1 = fork();
  if (p1 < 0) {
    *error = Errno("fork");
    close(report[0]);
    close(report[1]);
    return false;
  }
  if (p1 == 0) {
    close(report[0]);
    if (setsid() < 0) _exit(1);
    pid_t p2 = fork();
    if (p2 != 0) _exit(p2 < 0 ? 1 : 0);
    RunLauncher(c, report[1]);
  }
  close(report[1]);
  int status;
  while (waitpid(p1, &status, 0) < 0 && errno == EINTR) {
  }
  std::string line = ReadAll(report[0], true);
  if (line.rfind("ok ", 0) != 0) {
    close(report[0]);
    if (line.rfind("error ", 0) == 0) line = line.substr(6);
    while (!line.empty() && line.back() == '\n') line.pop_back();
    *error = "start container " + c.spec->id + ": " +
             (line.empty() ? std::string("the launcher exited without a word") : line);
    return false;
  }
  int pid = 0, shim = 0;
  sscanf(line.c_str(), "ok %d %d", &pid, &shim);
  out->pid = pid;
  out->shim_pid = shim;
  if (c.attach) {
    out->done_fd = report[0];
  } else {
    close(report[0]);
  }
  return true;
}

}  // namespace kubit::runtime::container
