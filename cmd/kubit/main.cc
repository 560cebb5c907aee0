// kubit: a whole Kubernetes node in one executable. This file only picks
// the subcommand.
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "cmd/kubit/commands.h"

namespace {

struct Command {
  const char* name;
  int (*run)(const kubit::cmd::Args&);
  const char* summary;
};

const Command kCommands[] = {
    {"server", kubit::cmd::ServerCommand, "Run a kubit server (control plane and state)"},
    {"agent", kubit::cmd::AgentCommand, "Join this board to a cluster and run its workloads"},
    {"backup", kubit::cmd::BackupCommand, "Copy the cluster state to a file while kubit runs"},
    {"restore", kubit::cmd::RestoreCommand, "Replace the cluster state with a backup (kubit stopped)"},
    {"ctr", kubit::cmd::CtrCommand, "Run and inspect containers directly (debugging CLI, like ctr)"},
    {"killall", kubit::cmd::KillallCommand, "Stop every container and shim of a data dir, remove its mounts"},
    {"shim", kubit::cmd::ShimCommand, "The per-container shim (started by kubit, not by hand)"},
    {"version", kubit::cmd::VersionCommand, "Print the version"},
};

void Usage(FILE* out) {
  fprintf(out,
          "kubit: a complete Kubernetes node in one executable, for edge and IoT boards,\n"
          "local dev clusters and air-gapped sites.\n\n"
          "Usage:\n  kubit [command] [flags]\n\nCommands:\n");
  for (const auto& c : kCommands) fprintf(out, "  %-10s %s\n", c.name, c.summary);
  fprintf(out,
          "\nFlags:\n  -h, --help      help for kubit\n  -v, --version   print the version\n"
          "\nUse \"kubit [command] --help\" for more about a command.\n");
}

}  // namespace

int main(int argc, char** argv) {
  // A peer that hangs up must cost a failed write, not the process (TLS
  // writes go through write(2), which has no MSG_NOSIGNAL).
  signal(SIGPIPE, SIG_IGN);
  if (argc < 2) {
    Usage(stderr);
    return 2;
  }
  std::string name = argv[1];
  if (name == "-h" || name == "--help" || name == "help") {
    Usage(stdout);
    return 0;
  }
  if (name == "-v" || name == "--version") name = "version";
  kubit::cmd::Args args(argv + 2, argv + argc);
  for (const auto& c : kCommands)
    if (name == c.name) return c.run(args);
  fprintf(stderr, "kubit: unknown command \"%s\"\n\n", name.c_str());
  Usage(stderr);
  return 2;
}
