#include <cstdio>

#include "cmd/kubit/commands.h"
#include "cmd/kubit/flags.h"

#ifndef KUBIT_VERSION
#define KUBIT_VERSION "v0.0.0-dev"
#endif
#ifndef KUBIT_COMMIT
#define KUBIT_COMMIT "unknown"
#endif

namespace kubit::cmd {

std::string VersionString() {
#if defined(__aarch64__)
  const char* arch = "arm64";
#elif defined(__arm__)
  const char* arch = "arm";
#elif defined(__x86_64__)
  const char* arch = "amd64";
#else
  const char* arch = "unknown";
#endif
  return std::string("kubit version ") + KUBIT_VERSION + " (" + KUBIT_COMMIT + ") linux/" + arch;
}

std::string ShortVersion() { return KUBIT_VERSION; }

int VersionCommand(const Args& args) {
  FlagSet flags("kubit version", "Print the version of kubit.");
  std::vector<std::string> rest;
  if (int rc = flags.ParseCommand(args, &rest, 0, 0); rc >= 0) return rc;
  printf("%s\n", VersionString().c_str());
  return 0;
}

}  // namespace kubit::cmd
