// Child modes: a test that needs a separate process (to kill it, say)
// re-executes the unit test binary as `unit_tests --child=NAME args...`.
// Each mode registers itself with a static ChildMode object.
#pragma once

#include <string>

namespace kubit::test {

using ChildMain = int (*)(int argc, char** argv);

struct ChildMode {
  ChildMode(const char* name, ChildMain main);
};

int RunChildMode(const std::string& name, int argc, char** argv);

// The path of the running test binary, for re-executing it.
std::string SelfPath();

}  // namespace kubit::test
