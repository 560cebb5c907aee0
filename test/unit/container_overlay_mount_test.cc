// MountOverlay with image layer stacks of every depth: a few layers
// (absolute paths), deep stacks whose absolute paths overflow mount(2)'s
// one page of options (named relative to the layers' directory), and
// deeper ones still (the new mount API's lowerdir+). Real overlay mounts:
// root only, unmounted at the end.
#include <doctest/doctest.h>

#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/container/overlay_mount.h"
#include "test/unit/temp_dir.h"

namespace kubit::runtime::container {
namespace {

std::string Read(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// `n` layers named like snapshots (64 hex digits), each with a file of its
// own and a "top" file saying which layer it came from.
std::vector<std::string> MakeLayers(const std::string& dir, int n) {
  std::vector<std::string> layers;
  for (int i = 0; i < n; i++) {
    char name[80];
    snprintf(name, sizeof(name), "%064x", i);
    std::string layer = dir + "/" + name;
    std::filesystem::create_directories(layer);
    std::ofstream(layer + "/f" + std::to_string(i)) << i;
    std::ofstream(layer + "/top") << i;
    layers.push_back(layer);
  }
  return layers;
}

void CheckStack(int n) {
  test::TempDir tmp("kubit-overlay");
  std::vector<std::string> layers = MakeLayers(tmp.File("snapshots"), n);
  for (const char* d : {"upper", "work", "rootfs"}) std::filesystem::create_directories(tmp.File(d));
  std::string error;
  REQUIRE_MESSAGE(MountOverlay(layers, tmp.File("upper"), tmp.File("work"), tmp.File("rootfs"), &error), error);
  CHECK(Read(tmp.File("rootfs/top")) == std::to_string(n - 1));  // the top layer wins
  CHECK(Read(tmp.File("rootfs/f0")) == "0");                      // the base layer is there
  CHECK(Read(tmp.File("rootfs/f" + std::to_string(n / 2))) == std::to_string(n / 2));
  std::ofstream(tmp.File("rootfs/new")) << "x";  // writes go to the container's upper dir
  CHECK(std::filesystem::exists(tmp.File("upper/new")));
  CHECK(umount2(tmp.File("rootfs").c_str(), MNT_DETACH) == 0);
}

TEST_CASE("container overlay mount: a few layers") { CheckStack(5); }

TEST_CASE("container overlay mount: 60 layers, beyond a page of absolute paths") { CheckStack(60); }

TEST_CASE("container overlay mount: 127 layers, Docker's most") { CheckStack(127); }

TEST_CASE("container overlay mount: a missing layer is an error naming the mount") {
  test::TempDir tmp("kubit-overlay");
  for (const char* d : {"upper", "work", "rootfs"}) std::filesystem::create_directories(tmp.File(d));
  std::string error;
  CHECK_FALSE(MountOverlay({tmp.File("gone")}, tmp.File("upper"), tmp.File("work"), tmp.File("rootfs"), &error));
  CHECK(error.find("mount overlay") == 0);
}

}  // namespace
}  // namespace kubit::runtime::container
