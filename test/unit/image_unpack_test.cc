// Unit tests of the layer reader and unpacker (runtime/image/reader.h,
// tar_reader.h, layer_unpack.h): formats, compression, overlay whiteouts,
// and hostile layers that try to write outside the snapshot.
#include <doctest/doctest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "runtime/image/digest.h"
#include "runtime/image/layer_unpack.h"
#include "runtime/image/tar_reader.h"
#include "test/unit/image_test_tar.h"
#include "test/unit/temp_dir.h"

namespace {

using namespace kubit::runtime::image;
using kubit::test::TarBuilder;
using kubit::test::TempDir;

class StringReader : public Reader {
 public:
  explicit StringReader(std::string s) : s_(std::move(s)) {}
  bool Read(char* buf, size_t n, size_t* got, std::string*) override {
    *got = std::min(n, s_.size() - pos_);
    memcpy(buf, s_.data() + pos_, *got);
    pos_ += *got;
    return true;
  }

 private:
  std::string s_;
  size_t pos_ = 0;
};

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool Unpack(const std::string& blob, const std::string& dir, UnpackStats* stats, std::string* error) {
  StringReader r(blob);
  return UnpackLayer(&r, dir, stats, error);
}

bool Exists(const std::string& p) {
  struct stat st;
  return lstat(p.c_str(), &st) == 0;
}

std::string SampleLayer() {
  TarBuilder::Opts exec{0755, 1000, 1001, 1234567890};
  return TarBuilder()
      .Dir("./")
      .Dir("bin/")
      .File("bin/tool", "#!/bin/sh\necho hi\n", exec)
      .Symlink("bin/sh", "tool")
      .Hardlink("bin/tool2", "bin/tool")
      .Dir("etc/", {0700, 0, 0, 1000})
      .File("etc/conf", "a=b\n", {04640})
      .Finish();
}

void CheckSample(const std::string& dir) {
  CHECK(ReadFile(dir + "/bin/tool") == "#!/bin/sh\necho hi\n");
  struct stat st;
  REQUIRE(lstat((dir + "/bin/tool").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0755);
  CHECK(st.st_uid == 1000);
  CHECK(st.st_gid == 1001);
  CHECK(st.st_mtime == 1234567890);
  CHECK(st.st_nlink == 2);
  REQUIRE(lstat((dir + "/bin/sh").c_str(), &st) == 0);
  CHECK(S_ISLNK(st.st_mode));
  CHECK(std::filesystem::read_symlink(dir + "/bin/sh") == "tool");
  REQUIRE(lstat((dir + "/etc").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0700);
  CHECK(st.st_mtime == 1000);  // set after its children were written
  REQUIRE(lstat((dir + "/etc/conf").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 04640);  // setuid kept: chown came first
}

TEST_CASE("image unpack: plain, gzip and zstd layers give the same tree and diff_id") {
  std::string tar = SampleLayer();
  for (const auto& [name, blob] : {std::pair<std::string, std::string>{"plain", tar},
                                   {"gzip", kubit::test::Gzip(tar)},
                                   {"zstd", kubit::test::Zstd(tar)}}) {
    CAPTURE(name);
    TempDir dir;
    UnpackStats stats;
    std::string error;
    REQUIRE_MESSAGE(Unpack(blob, dir.path(), &stats, &error), error);
    CHECK(stats.diff_id == DigestOf(tar));
    CHECK(stats.bytes == static_cast<int64_t>(tar.size()));
    CHECK(stats.entries == 7);
    CheckSample(dir.path());
  }
}

TEST_CASE("image unpack: GNU long names, PAX path, size, mtime and xattrs, global PAX") {
  std::string long_dir(150, 'd');
  std::string long_name = long_dir + "/" + std::string(120, 'f');
  std::string tar = TarBuilder()
                        .Dir(long_dir.substr(0, 99) + "/")
                        .GnuLong('L', long_dir)
                        .Dir("short/")
                        .GnuLong('L', long_name)
                        .File("short/x", "long")
                        .GnuLong('K', long_name)
                        .Symlink("lnk", "short")
                        .Pax({{"path", "pax/renamed.txt"}, {"mtime", "1600000000.5"},
                              {"user.kubit", "yes"}, {"SCHILY.xattr.user.kubit", "v1"}})
                        .File("pax/ignored-name", "paxdata")
                        .Finish();
  TempDir dir;
  UnpackStats stats;
  std::string error;
  REQUIRE_MESSAGE(Unpack(tar, dir.path(), &stats, &error), error);
  CHECK(ReadFile(dir.File(long_name)) == "long");
  CHECK(std::filesystem::read_symlink(dir.File("lnk")) == long_name);
  CHECK(ReadFile(dir.File("pax/renamed.txt")) == "paxdata");
  CHECK_FALSE(Exists(dir.File("pax/ignored-name")));
  struct stat st;
  REQUIRE(stat(dir.File("pax/renamed.txt").c_str(), &st) == 0);
  CHECK(st.st_mtim.tv_sec == 1600000000);
  CHECK(st.st_mtim.tv_nsec == 500000000);
  char v[16] = {};
  ssize_t n = getxattr(dir.File("pax/renamed.txt").c_str(), "user.kubit", v, sizeof v);
  if (n >= 0) CHECK(std::string(v, n) == "v1");  // user xattrs need file system support

  // A PAX size bigger than the header's field.
  std::string big(9000, 'z');
  std::string tar2 = TarBuilder().Pax({{"size", std::to_string(big.size())}}).Entry("big", '0', big, "", {0644}).Finish();
  TempDir dir2;
  REQUIRE_MESSAGE(Unpack(tar2, dir2.path(), &stats, &error), error);
  CHECK(ReadFile(dir2.File("big")) == big);
}

TEST_CASE("image unpack: devices, fifos and a tar entry types it cannot handle") {
  std::string tar = TarBuilder().Device("dev/null", '3', 1, 3).Device("dev/fifo", '6', 0, 0).Finish();
  TempDir dir;
  UnpackStats stats;
  std::string error;
  REQUIRE_MESSAGE(Unpack(tar, dir.path(), &stats, &error), error);
  struct stat st;
  REQUIRE(lstat(dir.File("dev/null").c_str(), &st) == 0);
  CHECK(S_ISCHR(st.st_mode));
  CHECK(major(st.st_rdev) == 1);
  CHECK(minor(st.st_rdev) == 3);
  CHECK((st.st_mode & 07777) == 0666);
  REQUIRE(lstat(dir.File("dev/fifo").c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));

  std::string sparse = TarBuilder().Entry("s", 'S', "", "", {}).Finish();
  TempDir dir2;
  CHECK_FALSE(Unpack(sparse, dir2.path(), &stats, &error));
  CHECK(error.find("unsupported entry type 'S'") != std::string::npos);
}

TEST_CASE("image unpack: whiteouts and opaque dirs in the overlay format, stacked by overlayfs") {
  TempDir root;
  std::string lower = root.File("lower"), upper = root.File("upper"), mnt = root.File("mnt");
  for (const auto& d : {lower, upper, mnt}) std::filesystem::create_directory(d);
  std::string error;
  UnpackStats stats;
  REQUIRE_MESSAGE(Unpack(TarBuilder()
                             .File("keep", "k")
                             .File("gone", "g")
                             .File("d/old", "o")
                             .File("d/sub/deep", "x")
                             .Finish(),
                         lower, &stats, &error),
                  error);
  REQUIRE_MESSAGE(Unpack(TarBuilder()
                             .File(".wh.gone", "")
                             .Dir("d/")
                             .File("d/.wh..wh..opq", "")
                             .File("d/new", "n")
                             .File(".wh..wh.plnk", "")
                             .Finish(),
                         upper, &stats, &error),
                  error);
  struct stat st;
  REQUIRE(lstat((upper + "/gone").c_str(), &st) == 0);
  CHECK(S_ISCHR(st.st_mode));
  CHECK(st.st_rdev == makedev(0, 0));
  CHECK_FALSE(Exists(upper + "/.wh.gone"));
  CHECK_FALSE(Exists(upper + "/d/.wh..wh..opq"));
  CHECK_FALSE(Exists(upper + "/.wh..wh.plnk"));
  char v[4] = {};
  REQUIRE(lgetxattr((upper + "/d").c_str(), "trusted.overlay.opaque", v, sizeof v) == 1);
  CHECK(v[0] == 'y');

  std::string opts = "lowerdir=" + upper + ":" + lower;
  if (mount("overlay", mnt.c_str(), "overlay", MS_RDONLY, opts.c_str()) != 0) {
    MESSAGE("overlayfs not available here: stacked view not checked");
    return;
  }
  CHECK(ReadFile(mnt + "/keep") == "k");
  CHECK_FALSE(Exists(mnt + "/gone"));
  CHECK(ReadFile(mnt + "/d/new") == "n");
  CHECK_FALSE(Exists(mnt + "/d/old"));
  CHECK_FALSE(Exists(mnt + "/d/sub"));
  umount2(mnt.c_str(), MNT_DETACH);
}

TEST_CASE("image unpack: a layer replaces what an earlier entry made") {
  std::string tar = TarBuilder()
                        .File("a/file", "1")
                        .File("x", "file first")
                        .Dir("x/")              // a file replaced by a directory
                        .Symlink("a", "/etc")   // a directory replaced by a symlink
                        .File("y", "old")
                        .File("y", "new")
                        .Finish();
  TempDir dir;
  UnpackStats stats;
  std::string error;
  REQUIRE_MESSAGE(Unpack(tar, dir.path(), &stats, &error), error);
  CHECK(std::filesystem::is_directory(dir.File("x")));
  CHECK(std::filesystem::is_symlink(dir.File("a")));
  CHECK(ReadFile(dir.File("y")) == "new");
}

// Every hostile layer below is refused, or confined to the snapshot, and
// never writes beside it: `outside` is the snapshot's sibling.
TEST_CASE("image unpack: hostile layers never write outside the snapshot") {
  TempDir root;
  std::string snap = root.File("snap"), outside = root.File("outside");
  std::filesystem::create_directory(outside);
  {
    std::ofstream(outside + "/secret") << "secret";
  }
  auto attempt = [&](const std::string& tar, std::string* error) {
    std::filesystem::remove_all(snap);
    std::filesystem::create_directory(snap);
    UnpackStats stats;
    return Unpack(tar, snap, &stats, error);
  };
  std::string error;

  SUBCASE("dot-dot climbing out is refused") {
    CHECK_FALSE(attempt(TarBuilder().File("../outside/evil", "x").Finish(), &error));
    CHECK(error.find("escapes the layer root") != std::string::npos);
    CHECK_FALSE(attempt(TarBuilder().File("a/../../outside/evil", "x").Finish(), &error));
    CHECK_FALSE(Exists(outside + "/evil"));
  }
  SUBCASE("dot-dot that stays inside is cleaned") {
    REQUIRE_MESSAGE(attempt(TarBuilder().File("a/b/../c", "x").Finish(), &error), error);
    CHECK(ReadFile(snap + "/a/c") == "x");
  }
  SUBCASE("absolute paths are confined to the root") {
    REQUIRE_MESSAGE(attempt(TarBuilder().File(outside + "/evil", "x").Finish(), &error), error);
    CHECK_FALSE(Exists(outside + "/evil"));
    CHECK(ReadFile(snap + outside + "/evil") == "x");
  }
  SUBCASE("a symlink to outside stays a symlink; writing through it is refused") {
    CHECK_FALSE(attempt(TarBuilder().Symlink("esc", outside).File("esc/evil", "x").Finish(), &error));
    CHECK(error.find("refusing to write through the symlink esc") != std::string::npos);
    CHECK_FALSE(Exists(outside + "/evil"));
    CHECK(std::filesystem::read_symlink(snap + "/esc") == outside);
    CHECK_FALSE(attempt(TarBuilder().Symlink("up", "../..").File("up/evil", "x").Finish(), &error));
    CHECK_FALSE(attempt(TarBuilder().Symlink("rel", "../outside").Dir("rel/d/").Finish(), &error));
    CHECK_FALSE(Exists(outside + "/d"));
    // Replacing the file a symlink names is no way out either: the entry
    // replaces the symlink itself.
    REQUIRE_MESSAGE(attempt(TarBuilder().Symlink("s", outside + "/secret").File("s", "over").Finish(), &error),
                    error);
    CHECK(ReadFile(outside + "/secret") == "secret");
    CHECK(ReadFile(snap + "/s") == "over");
  }
  SUBCASE("whiteouts and opaque markers through a symlink are refused") {
    CHECK_FALSE(attempt(TarBuilder().Symlink("esc", outside).File("esc/.wh.secret", "").Finish(), &error));
    CHECK(ReadFile(outside + "/secret") == "secret");
    CHECK_FALSE(attempt(TarBuilder().Symlink("esc", outside).File("esc/.wh..wh..opq", "").Finish(), &error));
    char v[4];
    CHECK(lgetxattr(outside.c_str(), "trusted.overlay.opaque", v, sizeof v) < 0);
  }
  SUBCASE("hardlinks resolve inside the root only") {
    CHECK_FALSE(attempt(TarBuilder().Hardlink("h", "../outside/secret").Finish(), &error));
    CHECK(error.find("escapes the layer root") != std::string::npos);
    // An absolute target names a path in the layer, not on the host.
    CHECK_FALSE(attempt(TarBuilder().Hardlink("h", outside + "/secret").Finish(), &error));
    CHECK_FALSE(Exists(snap + "/h"));
    // Through a symlinked directory: refused.
    CHECK_FALSE(attempt(TarBuilder().Symlink("esc", outside).Hardlink("h", "esc/secret").Finish(), &error));
    CHECK_FALSE(Exists(snap + "/h"));
    // To a symlink: links the symlink, never the file it names.
    REQUIRE_MESSAGE(
        attempt(TarBuilder().Symlink("s", outside + "/secret").Hardlink("h", "s").Finish(), &error), error);
    CHECK(std::filesystem::is_symlink(snap + "/h"));
    struct stat st;
    REQUIRE(stat((outside + "/secret").c_str(), &st) == 0);
    CHECK(st.st_nlink == 1);
  }
  SUBCASE("a layer may not forge overlayfs metadata") {
    REQUIRE_MESSAGE(attempt(TarBuilder().Pax({{"SCHILY.xattr.trusted.overlay.redirect", "/etc"}}).Dir("d/").Finish(),
                            &error),
                    error);
    char v[16];
    CHECK(lgetxattr((snap + "/d").c_str(), "trusted.overlay.redirect", v, sizeof v) < 0);
  }
  CHECK(ReadFile(outside + "/secret") == "secret");
  CHECK(std::distance(std::filesystem::directory_iterator(outside), {}) == 1);
}

TEST_CASE("image unpack: truncated and corrupt layers fail with a clear error") {
  std::string tar = SampleLayer();
  std::string gz = kubit::test::Gzip(tar);
  std::string zs = kubit::test::Zstd(tar);
  TempDir root;
  int n = 0;
  auto fails = [&](const std::string& blob, const std::string& want) {
    std::string dir = root.File(std::to_string(n++));
    std::filesystem::create_directory(dir);
    UnpackStats stats;
    std::string error;
    CHECK_FALSE(Unpack(blob, dir, &stats, &error));
    CHECK_MESSAGE(error.find(want) != std::string::npos, error);
  };
  fails(gz.substr(0, gz.size() / 2), "gzip: unexpected end of stream (truncated)");
  fails(gz.substr(0, gz.size() - 4), "truncated");
  fails(zs.substr(0, zs.size() - 3), "zstd: unexpected end of stream (truncated)");
  fails(tar.substr(0, 700), "truncated");
  std::string bad = gz;
  bad[bad.size() / 2] ^= 0x55;
  fails(bad, "gzip: ");
  std::string junk = tar;
  junk[0] ^= 1;
  fails(junk, "checksum mismatch");
}

TEST_CASE("image tar reader: an archive that ends without zero blocks, and v7 directories") {
  std::string tar = TarBuilder().File("a", "x").Finish();
  tar.resize(1024);  // header + one data block, no end marker
  StringReader r(tar);
  TarReader t(&r);
  TarEntry e;
  std::string error;
  REQUIRE(t.Next(&e, &error));
  CHECK(e.path == "a");
  CHECK_FALSE(t.Next(&e, &error));
  CHECK(error.empty());

  std::string v7 = TarBuilder().Entry("olddir/", '0', "", "", {0755}).Finish();
  StringReader r2(v7);
  TarReader t2(&r2);
  REQUIRE(t2.Next(&e, &error));
  CHECK(e.type == TarEntry::kDirectory);
}

}  // namespace

namespace {

// Random layers made of escape attempts: paths joined from tricky
// components, symlinks and hardlinks to tricky targets, whiteouts. Whatever
// the unpacker makes of each (some fail, most unpack), nothing appears
// beside the snapshot. A fixed seed keeps runs alike.
TEST_CASE("image unpack: random hostile layers never write outside the snapshot") {
  TempDir root;
  std::string outside = root.File("outside");
  std::filesystem::create_directory(outside);
  const std::vector<std::string> parts = {"..", ".", "", "esc", "up", "d", "f", ".wh.d", ".wh..wh..opq",
                                          outside.substr(1)};
  const std::vector<std::string> targets = {outside, outside + "/x", "..", "../..", "/", "d", "esc/x", "up",
                                            "d/f", "/d/f", "."};
  std::mt19937 rng(20240611);
  auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  int unpacked = 0;
  for (int i = 0; i < 400; i++) {
    TarBuilder t;
    int entries = 1 + static_cast<int>(rng() % 6);
    for (int k = 0; k < entries; k++) {
      std::string path = pick(parts);
      for (int depth = static_cast<int>(rng() % 4); depth > 0; depth--) path += "/" + pick(parts);
      switch (rng() % 4) {
        case 0: t.File(path, "x"); break;
        case 1: t.Dir(path + "/"); break;
        case 2: t.Symlink(path, pick(targets)); break;
        default: t.Hardlink(path, pick(targets)); break;
      }
    }
    std::string snap = root.File("s");
    std::filesystem::create_directory(snap);
    UnpackStats stats;
    std::string error;
    if (Unpack(t.Finish(), snap, &stats, &error)) unpacked++;
    std::filesystem::remove_all(snap);
    REQUIRE_MESSAGE(std::filesystem::is_empty(outside), "layer " << i << " wrote outside");
  }
  CHECK(std::distance(std::filesystem::directory_iterator(root.path()), {}) == 1);
  CHECK(unpacked > 100);  // the generator makes mostly valid layers: the safe paths are exercised
}

}  // namespace
