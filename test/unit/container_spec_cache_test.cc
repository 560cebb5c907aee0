#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "runtime/container/layout.h"
#include "runtime/container/runtime.h"
#include "runtime/container/spec_json.h"
#include "test/unit/temp_dir.h"

using namespace kubit::runtime::container;

namespace {

void WriteSpec(const std::string& data_dir, const std::string& id, const std::string& image) {
  ContainerSpec s;
  s.id = id;
  s.image = image;
  s.args = {"/bin/true"};
  std::string dir = ContainerDir(data_dir, id);
  std::filesystem::create_directories(dir);
  // Written anew (a new inode), as a container made again under the same id.
  std::string tmp = dir + "/spec.json.tmp";
  std::ofstream(tmp) << SpecToJson(s);
  std::filesystem::rename(tmp, dir + "/spec.json");
}

}  // namespace

TEST_CASE("container runtime: specs are read once and again when the file changes") {
  kubit::test::TempDir dir("kubit-spec-cache");
  Runtime rt(dir.path());
  std::string error;
  WriteSpec(rt.data_dir(), "c1", "busybox:one");
  ContainerSpec got;
  REQUIRE_MESSAGE(rt.LoadSpec("c1", &got, &error), error);
  CHECK(got.image == "busybox:one");
  ContainerInfo info;
  REQUIRE_MESSAGE(rt.Get("c1", &info, &error), error);
  CHECK(info.image == "busybox:one");
  CHECK(info.state.status == ContainerStatus::kCreated);

  WriteSpec(rt.data_dir(), "c1", "busybox:two-longer");
  REQUIRE(rt.LoadSpec("c1", &got, &error));
  CHECK(got.image == "busybox:two-longer");

  // Gone from disk (another process removed it): gone here too.
  std::filesystem::remove_all(ContainerDir(rt.data_dir(), "c1"));
  CHECK_FALSE(rt.LoadSpec("c1", &got, &error));
  CHECK(error == "no such container: c1");
  CHECK_FALSE(rt.Get("c1", &info, &error));
}
