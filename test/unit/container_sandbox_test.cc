// Unit tests of runtime/container/sandbox.h: pause-less pod sandboxes whose
// namespaces are held by bind mounts (needs root, as the e2e tests).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "runtime/container/sandbox.h"
#include "test/unit/temp_dir.h"

using namespace kubit::runtime::container;
using kubit::test::TempDir;

namespace {

ino_t Inode(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

bool Mounted(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.find(" " + path + " ") != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("container sandbox: namespaces held by bind mounts, joinable, removed") {
  if (geteuid() != 0) return;
  TempDir dir;
  SandboxPaths paths;
  std::string error;
  REQUIRE_MESSAGE(CreateSandbox(dir.path(), "pod1", "podhost", &paths, &error), error);
  CHECK(paths.net == dir.path() + "/agent/sandboxes/pod1/net");
  for (const auto* p : {&paths.net, &paths.ipc, &paths.uts}) CHECK(Mounted(*p));
  // New namespaces: not the ones this process is in.
  CHECK(Inode(paths.net) != Inode("/proc/self/ns/net"));
  CHECK(Inode(paths.uts) != Inode("/proc/self/ns/uts"));
  CHECK_FALSE(CreateSandbox(dir.path(), "pod1", "", &paths, &error));
  CHECK(error.find("already exists") != std::string::npos);

  // A process that joins the UTS namespace sees the sandbox's hostname and
  // its net namespace is the sandbox's.
  int p[2];
  REQUIRE(pipe(p) == 0);
  pid_t child = fork();
  if (child == 0) {
    int uts = open(paths.uts.c_str(), O_RDONLY), net = open(paths.net.c_str(), O_RDONLY);
    bool ok = setns(uts, CLONE_NEWUTS) == 0 && setns(net, CLONE_NEWNET) == 0;
    char host[64] = {};
    gethostname(host, sizeof(host) - 1);
    ok = ok && std::string(host) == "podhost" && Inode("/proc/self/ns/net") == Inode(paths.net);
    char c = ok ? 'y' : 'n';
    _exit(write(p[1], &c, 1) == 1 ? 0 : 1);
  }
  close(p[1]);
  char c = 0;
  CHECK(read(p[0], &c, 1) == 1);
  close(p[0]);
  waitpid(child, nullptr, 0);
  CHECK(c == 'y');

  REQUIRE_MESSAGE(RemoveSandbox(dir.path(), "pod1", &error), error);
  CHECK_FALSE(Mounted(paths.net));
  CHECK(access((dir.path() + "/agent/sandboxes/pod1").c_str(), F_OK) != 0);
  // Twice is fine.
  CHECK(RemoveSandbox(dir.path(), "pod1", &error));
}
