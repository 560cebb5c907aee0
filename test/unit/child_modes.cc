#include "test/unit/child_modes.h"

#include <unistd.h>

#include <cstdio>
#include <map>

namespace kubit::test {
namespace {
std::map<std::string, ChildMain>& Modes() {
  static std::map<std::string, ChildMain> modes;
  return modes;
}
}  // namespace

ChildMode::ChildMode(const char* name, ChildMain main) { Modes()[name] = main; }

int RunChildMode(const std::string& name, int argc, char** argv) {
  auto it = Modes().find(name);
  if (it == Modes().end()) {
    fprintf(stderr, "unknown child mode %s\n", name.c_str());
    return 2;
  }
  return it->second(argc, argv);
}

std::string SelfPath() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, n) : std::string();
}

}  // namespace kubit::test
