// kubit ctr: the container runtime's debugging CLI, shaped like
// containerd's `ctr` (`k3s ctr`). It works on a data dir directly, with or
// without a kubit running: containers live in files and shims
// (runtime/container/runtime.h), images in the image store.
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "cmd/kubit/commands.h"
#include "cmd/kubit/flags.h"
#include "runtime/container/cri_log.h"
#include "runtime/container/layout.h"
#include "runtime/container/runtime.h"
#include "runtime/container/shim_client.h"
#include "runtime/container/signal_name.h"
#include "runtime/image/image_store.h"

namespace kubit::cmd {
namespace {

namespace rc = kubit::runtime::container;

struct Global {
  std::string data_dir = "/var/lib/kubit";
  std::string private_registry;
};

int Error(const std::string& message) {
  fprintf(stderr, "kubit ctr: %s\n", message.c_str());
  return 1;
}

// Splits a subcommand's arguments where its own positionals end, so that
// the command to run keeps its flags ("sh -c 'exit 3'"). `value_flags` are
// the flags that take a separate value.
void SplitAtCommand(const Args& args, size_t positionals, const std::vector<std::string>& value_flags,
                    Args* own, Args* command) {
  size_t seen = 0, i = 0;
  for (; i < args.size() && seen < positionals; i++) {
    const std::string& a = args[i];
    if (a == "--") {
      own->push_back(a);
      continue;
    }
    if (a.size() > 1 && a[0] == '-') {
      own->push_back(a);
      std::string name = a.substr(a[1] == '-' ? 2 : 1);
      if (name.find('=') == std::string::npos && i + 1 < args.size())
        for (const auto& v : value_flags)
          if (v == name) own->push_back(args[++i]);
      continue;
    }
    own->push_back(a);
    seen++;
  }
  command->assign(args.begin() + i, args.end());
}

// -d, -t, -it: the short forms of the boolean flags, as ctr and docker.
Args ExpandShort(const Args& args, const std::vector<std::pair<char, std::string>>& shorts) {
  Args out;
  for (const auto& a : args) {
    bool all_short = a.size() > 1 && a[0] == '-' && a[1] != '-';
    for (size_t i = 1; all_short && i < a.size(); i++) {
      bool known = a[i] == 'i';  // stdin is attached in the foreground anyway
      for (const auto& s : shorts) known = known || s.first == a[i];
      all_short = known;
    }
    if (!all_short) {
      out.push_back(a);
      continue;
    }
    for (size_t i = 1; i < a.size(); i++)
      for (const auto& s : shorts)
        if (s.first == a[i]) out.push_back("--" + s.second);
  }
  return out;
}

// Raw mode on a terminal for -t, restored when the object goes.
class RawTerminal {
 public:
  explicit RawTerminal(int fd) : fd_(fd) {
    if (!isatty(fd) || tcgetattr(fd, &saved_) != 0) return;
    termios raw = saved_;
    cfmakeraw(&raw);
    active_ = tcsetattr(fd, TCSANOW, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) tcsetattr(fd_, TCSANOW, &saved_);
  }

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

void MergeEnv(std::vector<std::string>* env, const std::vector<std::string>& add) {
  for (const auto& kv : add) {
    std::string key = kv.substr(0, kv.find('='));
    bool replaced = false;
    for (auto& e : *env)
      if (e.compare(0, key.size() + 1, key + "=") == 0) {
        e = kv;
        replaced = true;
      }
    if (!replaced) env->push_back(kv);
  }
}

std::string AbsolutePath(const std::string& p) {
  if (!p.empty() && p[0] == '/') return p;
  char cwd[4096];
  return getcwd(cwd, sizeof(cwd)) ? std::string(cwd) + "/" + p : p;
}

// Foreground: forwards INT/TERM/HUP to the container (or the tty size on
// WINCH) until the shim reports the exit through done_fd.
void WaitForeground(rc::Runtime& runtime, const std::string& id, int done_fd, bool tty) {
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGWINCH}) sigaddset(&mask, s);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
  std::string dir = rc::ContainerDir(runtime.data_dir(), id);
  while (true) {
    pollfd p[2] = {{done_fd, POLLIN, 0}, {sfd, POLLIN, 0}};
    if (poll(p, 2, -1) < 0 && errno != EINTR) break;
    if (p[0].revents) {
      char buf[64];
      ssize_t n = read(done_fd, buf, sizeof(buf));
      if (n <= 0 && !(n < 0 && errno == EINTR)) break;
    }
    if (p[1].revents) {
      signalfd_siginfo si;
      if (read(sfd, &si, sizeof(si)) != sizeof(si)) continue;
      std::string ignored;
      if (si.ssi_signo == SIGWINCH) {
        winsize ws;
        if (tty && ioctl(0, TIOCGWINSZ, &ws) == 0)
          rc::ShimRequest(dir, "resize " + std::to_string(ws.ws_row) + " " +
                                   std::to_string(ws.ws_col), &ignored);
      } else if (!tty) {
        runtime.Kill(id, static_cast<int>(si.ssi_signo), &ignored);
      }
    }
  }
  close(sfd);
  close(done_fd);
  sigprocmask(SIG_UNBLOCK, &mask, nullptr);
}

int Run(const Global& g, const Args& raw_args) {
  bool rm = false, detach = false, tty = false, privileged = false, read_only = false,
       net_host = false, no_new_privs = false;
  int64_t memory = 0, pids = 0;
  std::string cpus, rootfs, user, cwd, hostname;
  std::vector<std::string> env, mounts, cap_add, cap_drop;
  FlagSet flags(
      "kubit ctr run [flags] IMAGE ID [COMMAND [ARG...]]\n"
      "  kubit ctr run [flags] --rootfs DIR ID COMMAND [ARG...]",
      "Run a container from an image of the image store, or from a plain directory\n"
      "with --rootfs (for debugging). In the foreground the container's output is\n"
      "shown and its exit status becomes this command's; its log is written either way.");
  flags.Bool("rm", &rm, "Remove the container once it exits (foreground only)");
  flags.Bool("detach", &detach, "-d: start the container and return; it outlives this command");
  flags.Bool("tty", &tty, "-t: give the container a terminal");
  flags.Int("memory-limit", &memory, "Memory limit in bytes (0: none); the OOM killer's kill shows as OOMKilled");
  flags.String("cpus", &cpus, "CPU limit in cores, as a quota (\"0.5\")");
  flags.Int("pids-limit", &pids, "Maximum number of processes (0: none)");
  flags.StringList("env", &env, "Environment variable KEY=VALUE, over the image's");
  flags.StringList("mount", &mounts,
                   "Mount: type=bind,src=/host,dst=/path,options=rbind:ro or type=tmpfs,dst=/path");
  flags.String("rootfs", &rootfs, "Use this directory as the root filesystem instead of an image");
  flags.String("user", &user, "User: uid, uid:gid, name or name:group of the container's /etc/passwd");
  flags.String("cwd", &cwd, "Working directory inside the container (default: the image's, or /)");
  flags.String("hostname", &hostname, "Host name inside the container (default: the id)");
  flags.Bool("privileged", &privileged, "Every capability and device, no seccomp, nothing masked");
  flags.StringList("cap-add", &cap_add, "Capability to add to Docker's default set (NET_ADMIN, ALL)");
  flags.StringList("cap-drop", &cap_drop, "Capability to drop (CHOWN, ALL)");
  flags.Bool("read-only", &read_only, "Mount the container's root filesystem read-only");
  flags.Bool("net-host", &net_host, "Use the host's network namespace");
  flags.Bool("no-new-privileges", &no_new_privs, "Set no_new_privs: setuid binaries gain nothing");
  const std::vector<std::string> value_flags = {"memory-limit", "cpus",  "pids-limit", "env",
                                                "mount",        "rootfs", "user",      "cwd",
                                                "hostname",     "cap-add", "cap-drop"};
  // With --rootfs there is no IMAGE: the command starts after the id.
  Args own, command;
  SplitAtCommand(raw_args, 2, value_flags, &own, &command);
  bool with_rootfs = false;
  for (const auto& a : own)
    if (a == "--rootfs" || a.rfind("--rootfs=", 0) == 0) with_rootfs = true;
  if (with_rootfs) {
    own.clear();
    SplitAtCommand(raw_args, 1, value_flags, &own, &command);
  }
  own = ExpandShort(own, {{'d', "detach"}, {'t', "tty"}});
  std::vector<std::string> pos;
  if (int code = flags.ParseCommand(own, &pos, with_rootfs ? 1 : 2, with_rootfs ? 1 : 2);
      code >= 0)
    return code;
  if (rm && detach) return Error("--rm and -d do not go together: a detached container is removed with kubit ctr rm");

  rc::ContainerSpec spec;
  spec.id = pos.back();
  spec.tty = tty;
  if (with_rootfs) {
    spec.image = AbsolutePath(rootfs);
    spec.layers = {spec.image};
    spec.args = command;
    spec.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  } else {
    std::string error;
    runtime::image::ImageStoreOptions options;
    options.data_dir = g.data_dir;
    options.private_registry = g.private_registry;
    auto store = runtime::image::ImageStore::Open(options, &error);
    if (!store) return Error(error);
    runtime::image::Image image;
    if (!store->Get(pos[0], &image, &error)) return Error(error);
    spec.image = image.name;
    spec.layers = image.layer_dirs;
    // As docker and ctr: arguments replace the image's Cmd, the Entrypoint stays.
    spec.args = image.config.entrypoint;
    const auto& cmd = command.empty() ? image.config.cmd : command;
    spec.args.insert(spec.args.end(), cmd.begin(), cmd.end());
    spec.env = image.config.env;
    if (!image.config.working_dir.empty()) spec.working_dir = image.config.working_dir;
    spec.user = image.config.user;
  }
  MergeEnv(&spec.env, env);
  if (!user.empty()) spec.user = user;
  if (!cwd.empty()) spec.working_dir = cwd;
  spec.hostname = hostname;
  spec.resources.memory_limit = memory;
  spec.resources.pids_limit = pids;
  if (!cpus.empty()) {
    char* end;
    double n = strtod(cpus.c_str(), &end);
    if (*end || n <= 0) return Error("--cpus \"" + cpus + "\": want a positive number of cores");
    spec.resources.cpu_period_us = 100000;
    spec.resources.cpu_quota_us = static_cast<int64_t>(n * 100000);
  }
  for (const auto& m : mounts) {
    rc::Mount mount;
    std::string error;
    if (!rc::ParseMountFlag(m, &mount, &error)) return Error(error);
    spec.mounts.push_back(std::move(mount));
  }
  spec.security.privileged = privileged;
  spec.security.cap_add = cap_add;
  spec.security.cap_drop = cap_drop;
  spec.security.read_only_rootfs = read_only;
  spec.security.no_new_privs = no_new_privs;
  if (net_host) spec.namespaces.network = rc::kHostNamespace;

  rc::Runtime runtime(g.data_dir);
  rc::StartOptions start;
  start.attach = !detach;
  rc::Started started;
  std::string error;
  {
    // Raw mode before the start: the first bytes the container writes to
    // its terminal must not be cooked by ours.
    RawTerminal raw(tty && !detach ? 0 : -1);
    if (!runtime.Start(spec, start, &started, &error)) return Error(error);
    if (detach) return 0;
    WaitForeground(runtime, spec.id, started.done_fd, tty);
  }
  rc::ContainerInfo info;
  if (!runtime.Get(spec.id, &info, &error)) return Error(error);
  int code = info.state.exit_code;
  if (info.state.oom_killed) fprintf(stderr, "kubit ctr: container %s was OOM-killed\n", spec.id.c_str());
  if (rm && !runtime.Remove(spec.id, false, &error)) return Error(error);
  return code;
}

int Ps(const Global& g, const Args& args) {
  FlagSet flags("kubit ctr ps [flags]",
                "List the containers of the data dir: ID, IMAGE, PID of the first process,\n"
                "STATUS (running, exited(CODE[,REASON]), unknown: the shim is gone).");
  std::vector<std::string> pos;
  if (int code = flags.ParseCommand(args, &pos, 0, 0); code >= 0) return code;
  rc::Runtime runtime(g.data_dir);
  std::vector<rc::ContainerInfo> list;
  std::string error;
  if (!runtime.List(&list, &error)) return Error(error);
  printf("%-24s %-40s %-8s %s\n", "ID", "IMAGE", "PID", "STATUS");
  for (const auto& c : list) {
    std::string status = rc::StatusName(c.state.status);
    if (c.state.status == rc::ContainerStatus::kExited) {
      status += "(" + std::to_string(c.state.exit_code);
      if (c.state.oom_killed) status += ",OOMKilled";
      status += ")";
    }
    printf("%-24s %-40s %-8d %s\n", c.id.c_str(), c.image.c_str(), c.state.pid, status.c_str());
  }
  return 0;
}

int Exec(const Global& g, const Args& raw_args) {
  bool tty = false;
  std::string user, cwd;
  std::vector<std::string> env;
  FlagSet flags("kubit ctr exec [flags] ID COMMAND [ARG...]",
                "Run a command in a running container (its namespaces, cgroup, user,\n"
                "capabilities and seccomp profile); its exit status becomes this command's.");
  flags.Bool("tty", &tty, "-t: give the command a terminal");
  flags.String("user", &user, "User to run as (default: the container's)");
  flags.String("cwd", &cwd, "Working directory (default: the container's)");
  flags.StringList("env", &env, "Environment variable KEY=VALUE, over the container's");
  Args own, command;
  SplitAtCommand(raw_args, 1, {"user", "cwd", "env"}, &own, &command);
  own = ExpandShort(own, {{'t', "tty"}});
  std::vector<std::string> pos;
  if (int code = flags.ParseCommand(own, &pos, 1, 1); code >= 0) return code;
  if (command.empty()) return Error("exec: no command given");
  rc::Runtime runtime(g.data_dir);
  rc::ExecOptions options;
  options.args = command;
  options.env = env;
  options.user = user;
  options.working_dir = cwd;
  options.tty = tty;
  int exit_code = 0;
  std::string error;
  RawTerminal raw(tty ? 0 : -1);
  if (!runtime.Exec(pos[0], options, &exit_code, &error)) return Error(error);
  return exit_code;
}

int Kill(const Global& g, const Args& args) {
  std::string signal = "SIGTERM";
  FlagSet flags("kubit ctr kill [flags] ID", "Send a signal to a container's first process.");
  flags.String("signal", &signal, "Signal: name (TERM, SIGKILL) or number");
  std::vector<std::string> pos;
  if (int code = flags.ParseCommand(args, &pos, 1, 1); code >= 0) return code;
  int sig = rc::ParseSignal(signal);
  if (sig < 0) return Error("unknown signal \"" + signal + "\"");
  rc::Runtime runtime(g.data_dir);
  std::string error;
  if (!runtime.Kill(pos[0], sig, &error)) return Error(error);
  return 0;
}

int Stop(const Global& g, const Args& args) {
  int64_t timeout = 10;
  FlagSet flags("kubit ctr stop [flags] ID",
                "Stop a container: SIGTERM, then SIGKILL when it has not exited after the\n"
                "grace period. Returns once the exit is recorded.");
  flags.Int("timeout", &timeout, "Grace period in seconds");
  std::vector<std::string> pos;
  if (int code = flags.ParseCommand(args, &pos, 1, 1); code >= 0) return code;
  rc::Runtime runtime(g.data_dir);
  std::string error;
  if (!runtime.Stop(pos[0], static_cast<int>(timeout * 1000), SIGTERM, &error)) return Error(error);
  return 0;
}

int Rm(const Global& g, const Args& args) {
  bool force = false;
  FlagSet flags("kubit ctr rm [flags] ID [ID...]",
                "Remove containers: their cgroups, directories and default logs. A running\n"
                "container is refused unless --force, which kills it first.");
  flags.Bool("force", &force, "Kill a running container before removing it");
  std::vector<std::string> pos;
  if (int code = flags.ParseCommand(args, &pos, 1, 1000); code >= 0) return code;
  rc::Runtime runtime(g.data_dir);
  int rc_code = 0;
  for (const auto& id : pos) {
    std::string error;
    if (!runtime.Remove(id, force, &error)) rc_code = Error(error);
  }
  return rc_code;
}

int Logs(const Global& g, const Args& args) {
  FlagSet flags("kubit ctr logs ID",
                "Print a container's output from its CRI-format log (rotated files first):\n"
                "stdout records to stdout, stderr records to stderr.");
  std::vector<std::string> pos;
  if (int code = flags.ParseCommand(args, &pos, 1, 1); code >= 0) return code;
  rc::Runtime runtime(g.data_dir);
  rc::ContainerSpec spec;
  std::string error;
  if (!runtime.LoadSpec(pos[0], &spec, &error)) return Error(error);
  for (const auto& file : rc::CriLogFiles(runtime.LogPath(spec), spec.log_max_files)) {
    std::ifstream in(file);
    std::string line;
    rc::CriRecord r;
    while (std::getline(in, line)) {
      if (!rc::ParseCriLine(line, &r)) continue;
      FILE* out = r.stream == rc::LogStream::kStdout ? stdout : stderr;
      fwrite(r.content.data(), 1, r.content.size(), out);
      if (!r.partial) fputc('\n', out);
    }
  }
  return 0;
}

int Stats(const Global& g, const Args& args) {
  FlagSet flags("kubit ctr stats ID",
                "Print a container's cgroup figures: CPU time used (ns), memory usage and\n"
                "working set (usage - inactive file, as the kubelet reports), processes.");
  std::vector<std::string> pos;
  if (int code = flags.ParseCommand(args, &pos, 1, 1); code >= 0) return code;
  rc::Runtime runtime(g.data_dir);
  rc::CgroupStats s;
  std::string error;
  if (!runtime.Stats(pos[0], &s, &error)) return Error(error);
  printf("cpu_usage_ns %llu\nmemory_usage_bytes %llu\nmemory_working_set_bytes %llu\npids %llu\n",
         static_cast<unsigned long long>(s.cpu_usage_ns),
         static_cast<unsigned long long>(s.memory_usage),
         static_cast<unsigned long long>(s.memory_working_set),
         static_cast<unsigned long long>(s.pids));
  return 0;
}

void Usage(FILE* out) {
  fprintf(out,
          "The container runtime's debugging CLI, like containerd's ctr. Works on the data\n"
          "dir whether or not a kubit runs.\n\n"
          "Usage:\n  kubit ctr [--data-dir D] [--private-registry F] COMMAND [flags]\n\n"
          "Commands:\n"
          "  images  Pull, import, list and remove images (kubit ctr images --help)\n"
          "  run     Run a container (foreground or -d)\n"
          "  ps      List containers\n"
          "  exec    Run a command in a running container\n"
          "  kill    Signal a container\n"
          "  stop    SIGTERM, grace period, SIGKILL\n"
          "  rm      Remove containers\n"
          "  logs    Print a container's output\n"
          "  stats   Print a container's CPU and memory use\n\n"
          "Flags:\n"
          "  --data-dir string           Folder that holds kubit's state (default \"/var/lib/kubit\")\n"
          "  --private-registry string   Registry configuration, k3s registries.yaml format\n"
          "  -h, --help                  help for ctr\n\n"
          "Use \"kubit ctr COMMAND --help\" for more about a command.\n");
}

}  // namespace

int CtrCommand(const Args& args) {
  Global g;
  size_t i = 0;
  for (; i < args.size(); i++) {
    const std::string& a = args[i];
    std::string* target = nullptr;
    std::string name = a;
    if (a.rfind("--data-dir", 0) == 0) target = &g.data_dir, name = "--data-dir";
    else if (a.rfind("--private-registry", 0) == 0) target = &g.private_registry, name = "--private-registry";
    if (!target) break;
    if (a.size() > name.size() && a[name.size()] == '=') {
      *target = a.substr(name.size() + 1);
    } else if (a.size() == name.size() && i + 1 < args.size()) {
      *target = args[++i];
    } else {
      fprintf(stderr, "kubit ctr: flag needs a value: %s\n", name.c_str());
      return 2;
    }
  }
  if (i >= args.size()) {
    Usage(stderr);
    return 2;
  }
  std::string cmd = args[i];
  Args rest(args.begin() + i + 1, args.end());
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    Usage(stdout);
    return 0;
  }
  if (cmd == "images" || cmd == "i") {
    Args image_args = {"--data-dir", g.data_dir, "--private-registry", g.private_registry};
    image_args.insert(image_args.end(), rest.begin(), rest.end());
    return CtrImagesCommand(image_args);
  }
  if (cmd == "run") return Run(g, rest);
  if (cmd == "ps" || cmd == "ls") return Ps(g, rest);
  if (cmd == "exec") return Exec(g, rest);
  if (cmd == "kill") return Kill(g, rest);
  if (cmd == "stop") return Stop(g, rest);
  if (cmd == "rm" || cmd == "remove") return Rm(g, rest);
  if (cmd == "logs") return Logs(g, rest);
  if (cmd == "stats") return Stats(g, rest);
  // A flag where the command should be is an unknown global flag.
  if (cmd.rfind("-", 0) == 0) {
    std::string name = cmd.substr(0, cmd.find('='));
    if (name.rfind("--", 0) != 0) name = "-" + name;
    fprintf(stderr, "Error: unknown flag: %s\n\n", name.c_str());
  } else {
    fprintf(stderr, "kubit ctr: unknown command \"%s\"\n\n", cmd.c_str());
  }
  Usage(stderr);
  return 2;
}

}  // namespace kubit::cmd
