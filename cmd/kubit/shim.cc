// kubit shim: the per-container process (runtime/container/shim.h). The
// launcher execs it; it is never run by hand.
#include <cstdio>

#include "cmd/kubit/commands.h"
#include "runtime/container/shim.h"

namespace kubit::cmd {

namespace {

void ShimUsage(FILE* out) {
  fprintf(out, "The per-container shim: holds a container's stdio, writes its log, records its\n"
          "exit. Started by kubit (kubit ctr run, the kubelet); not for use by hand.\n\n"
          "Usage:\n  kubit shim ID --dir DIR --pid PID --log FILE [flags]\n\n"
          "Flags:\n"
          "  --dir DIR              the container's state directory (required)\n"
          "  --pid PID              the container's init process (required)\n"
          "  --log FILE             the CRI-format log file (required)\n"
          "  --log-max-bytes N      rotate the log at this size\n"
          "  --log-max-files N      rotated log files to keep\n"
          "  --oom-file FILE        the cgroup file that counts OOM kills\n"
          "  --out FD, --err FD     the container's stdout and stderr pipes\n"
          "  --pty FD               the container's terminal (instead of --out/--err)\n"
          "  --in FD                the container's stdin\n"
          "  --tee-out FD, --tee-err FD   copies of the output for a foreground run\n"
          "  --done FD              closed once the shim has taken over\n"
          "  -h, --help             help for shim\n");
}

}  // namespace

int ShimCommand(const Args& args) {
  namespace rc = kubit::runtime::container;
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
    ShimUsage(stdout);
    return 0;
  }
  rc::ShimConfig config;
  std::string error;
  if (!args.empty() && args[0].rfind("-", 0) == 0) {
    std::string name = args[0].substr(0, args[0].find('='));
    if (name.rfind("--", 0) != 0) name = "-" + name;
    error = "unknown flag: " + name;
  }
  if (!error.empty() || !rc::ParseShimArgs(args, &config, &error)) {
    fprintf(stderr, "Error: %s\n\n", error.c_str());
    ShimUsage(stderr);
    return 2;
  }
  return rc::RunShim(config);
}

}  // namespace kubit::cmd
