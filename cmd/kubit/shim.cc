// kubit shim: the per-container process (runtime/container/shim.h). The
// launcher execs it; it is never run by hand.
#include <cstdio>

#include "cmd/kubit/commands.h"
#include "runtime/container/shim.h"

namespace kubit::cmd {

int ShimCommand(const Args& args) {
  namespace rc = kubit::runtime::container;
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
    printf("The per-container shim: holds a container's stdio, writes its log, records its\n"
           "exit. Started by kubit (kubit ctr run, the kubelet); not for use by hand.\n\n"
           "Usage:\n  kubit shim ID --dir DIR --pid PID --log FILE [fd flags]\n");
    return 0;
  }
  rc::ShimConfig config;
  std::string error;
  if (!rc::ParseShimArgs(args, &config, &error)) {
    fprintf(stderr, "kubit shim: %s\n", error.c_str());
    return 2;
  }
  return rc::RunShim(config);
}

}  // namespace kubit::cmd
