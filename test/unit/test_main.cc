// The unit test binary's main: doctest, plus child modes that tests run by
// re-executing this binary (see test/unit/child_modes.h).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstring>

#include "test/unit/child_modes.h"

int main(int argc, char** argv) {
  if (argc >= 2 && strncmp(argv[1], "--child=", 8) == 0)
    return kubit::test::RunChildMode(argv[1] + 8, argc - 2, argv + 2);
  doctest::Context ctx(argc, argv);
  return ctx.run();
}
