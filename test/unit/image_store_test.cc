// Unit tests of ImageStore (runtime/image/image_store.h) over its files:
// import of OCI layouts and docker save tarballs, Get with unpacked
// layers, rm/prune/GC with images in use, the air-gap directory, and
// bad archives that must leave nothing behind.
#include <doctest/doctest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/image/content_store.h"
#include "runtime/image/image_store.h"
#include "test/unit/image_test_images.h"
#include "test/unit/temp_dir.h"

namespace {

using namespace kubit::runtime::image;
using kubit::test::TempDir;
using kubit::test::TestImage;
using kubit::test::WriteFile;

std::string Read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

size_t CountFiles(const std::string& dir) {
  std::error_code ec;
  size_t n = 0;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
       ++it)
    n++;
  return n;
}

std::unique_ptr<ImageStore> MustOpen(const std::string& data_dir) {
  std::string error;
  auto s = ImageStore::Open(data_dir, &error);
  REQUIRE_MESSAGE(s, error);
  return s;
}

std::vector<std::string> MustImport(ImageStore* s, const std::string& file) {
  std::vector<std::string> names;
  std::string error;
  REQUIRE_MESSAGE(s->Import(file, &names, &error), error);
  return names;
}

void CheckImage(const Image& img, const TestImage& t, const std::string& tag) {
  CHECK(img.config_digest == t.config_digest());
  CHECK(img.config.entrypoint == std::vector<std::string>{"/bin/tool"});
  CHECK(img.config.cmd == std::vector<std::string>{"--flag"});
  CHECK(img.config.env == std::vector<std::string>{"PATH=/bin", "TAG=" + tag});
  CHECK(img.config.working_dir == "/etc");
  CHECK(img.config.user == "1000:1000");
  CHECK(img.config.labels.at("tag") == tag);
  REQUIRE(img.layer_dirs.size() == 2);
  CHECK(Read(img.layer_dirs[0] + "/etc/os-release") == "NAME=test " + tag + "\n");
  CHECK(Read(img.layer_dirs[1] + "/etc/upper") == tag);
  struct stat st;
  REQUIRE(lstat((img.layer_dirs[1] + "/gone").c_str(), &st) == 0);
  CHECK(S_ISCHR(st.st_mode));
}

TEST_CASE("image store: import an OCI layout, Get unpacks, overlay stacks the layers") {
  TempDir dir;
  TestImage t = kubit::test::MakeTestImage("v1");
  WriteFile(dir.File("oci.tar"), kubit::test::OciLayoutTar(t, "example.com/team/app:v1"));
  auto store = MustOpen(dir.File("data"));
  CHECK(MustImport(store.get(), dir.File("oci.tar")) == std::vector<std::string>{"example.com/team/app:v1"});

  std::string error;
  std::vector<ImageRecord> list = store->List(&error);
  REQUIRE(list.size() == 1);
  CHECK(list[0].name == "example.com/team/app:v1");
  CHECK(list[0].digest == t.manifest_digest());
  CHECK(list[0].config_digest == t.config_digest());
  CHECK(list[0].size == static_cast<int64_t>(t.layers[0].size() + t.layers[1].size()));
  CHECK(list[0].platform == HostPlatform().String());

  Image img;
  REQUIRE_MESSAGE(store->Get("example.com/team/app:v1", &img, &error), error);
  struct stat st;
  REQUIRE(stat(dir.File("data/agent/snapshots").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);  // device nodes and setuid files of images are root's only
  CHECK(img.name == "example.com/team/app:v1");
  CHECK(img.digest == t.manifest_digest());
  CheckImage(img, t, "v1");
  // By image ID (as ls shows it, or a prefix of 12+), and by repo@digest.
  Image again;
  REQUIRE_MESSAGE(store->Get(t.config_digest(), &again, &error), error);
  CHECK(again.layer_dirs == img.layer_dirs);
  REQUIRE_MESSAGE(store->Get(t.config_digest().substr(7, 12), &again, &error), error);
  REQUIRE_MESSAGE(store->Get("example.com/team/app@" + t.manifest_digest(), &again, &error), error);
  CHECK_FALSE(store->Get("example.com/team/app:v2", &again, &error));
  CHECK(error == "image not found: example.com/team/app:v2");

  std::string mnt = dir.File("mnt");
  std::filesystem::create_directory(mnt);
  std::string opts = "lowerdir=" + img.layer_dirs[1] + ":" + img.layer_dirs[0];
  if (mount("overlay", mnt.c_str(), "overlay", MS_RDONLY, opts.c_str()) == 0) {
    CHECK(Read(mnt + "/bin/tool") == "tool");
    CHECK(Read(mnt + "/opaque/new") == "new");
    CHECK_FALSE(std::filesystem::exists(mnt + "/opaque/old"));
    CHECK_FALSE(std::filesystem::exists(mnt + "/gone"));
    umount2(mnt.c_str(), MNT_DETACH);
  }
}

TEST_CASE("image store: a layer repeated in an image is stacked once, at its upper place") {
  TempDir dir;
  TestImage t = kubit::test::MakeTestImage("v1");
  // base, upper, base again: the base's files come back on top.
  t.layers.push_back(t.layers[0]);
  t.diff_ids.push_back(t.diff_ids[0]);
  nlohmann::json c = nlohmann::json::parse(t.config), m = nlohmann::json::parse(t.manifest);
  c["rootfs"]["diff_ids"] = t.diff_ids;
  t.config = c.dump();
  m["config"]["digest"] = t.config_digest();
  m["config"]["size"] = t.config.size();
  m["layers"].push_back(m["layers"][0]);
  t.manifest = m.dump();
  kubit::test::WriteFile(dir.File("oci.tar"), kubit::test::OciLayoutTar(t, "dup:1"));
  auto store = MustOpen(dir.File("data"));
  MustImport(store.get(), dir.File("oci.tar"));
  Image img;
  std::string error;
  REQUIRE_MESSAGE(store->Get("dup:1", &img, &error), error);
  REQUIRE(img.layer_dirs.size() == 2);
  CHECK(Read(img.layer_dirs[0] + "/etc/upper") == "v1");
  CHECK(Read(img.layer_dirs[1] + "/etc/os-release") == "NAME=test v1\n");
  std::string mnt = dir.File("mnt");
  std::filesystem::create_directory(mnt);
  std::string opts = "lowerdir=" + img.layer_dirs[1] + ":" + img.layer_dirs[0];
  if (mount("overlay", mnt.c_str(), "overlay", MS_RDONLY, opts.c_str()) == 0) {
    CHECK(Read(mnt + "/gone") == "gone");  // whited out by the middle layer, back from the top one
    CHECK(Read(mnt + "/opaque/old") == "old");
    umount2(mnt.c_str(), MNT_DETACH);
  }
}

TEST_CASE("image store: docker save tarballs, layers shared between images, rm and prune sweep") {
  TempDir dir;
  TestImage t = kubit::test::MakeTestImage("v1");
  WriteFile(dir.File("save.tar"), kubit::test::DockerSaveTar(t, {"busybox:1", "registry.local:5000/bb:2"}));
  WriteFile(dir.File("oci.tar"), kubit::test::OciLayoutTar(t, "other:1", "io.containerd.image.name"));
  auto store = MustOpen(dir.File("data"));
  CHECK(MustImport(store.get(), dir.File("save.tar")) ==
        std::vector<std::string>{"docker.io/library/busybox:1", "registry.local:5000/bb:2"});
  CHECK(MustImport(store.get(), dir.File("oci.tar")) == std::vector<std::string>{"docker.io/library/other:1"});
  std::string error;
  Image a, b;
  REQUIRE_MESSAGE(store->Get("busybox:1", &a, &error), error);
  REQUIRE_MESSAGE(store->Get("other:1", &b, &error), error);
  CheckImage(a, t, "v1");
  // The same diff_ids, so the same snapshots, though the blobs differ
  // (docker save keeps layers uncompressed).
  CHECK(a.layer_dirs == b.layer_dirs);
  std::string snapshots = dir.File("data/agent/snapshots"), blobs = dir.File("data/agent/content/sha256");
  CHECK(CountFiles(snapshots) == 2);
  // busybox's manifest, config, 2 plain layers; other's manifest, 2 compressed layers.
  // The docker save's per-layer json files were dropped.
  CHECK(CountFiles(blobs) == 7);

  InUse in_use = {"docker.io/library/other:1"};
  CHECK_FALSE(store->Remove("other:1", in_use, &error));
  CHECK(error.find("in use") != std::string::npos);
  REQUIRE_MESSAGE(store->Remove("registry.local:5000/bb:2", in_use, &error), error);
  CHECK(CountFiles(blobs) == 7);  // busybox:1 still uses the same blobs
  std::vector<std::string> removed;
  REQUIRE_MESSAGE(store->Prune({t.config_digest()}, &removed, &error), error);
  CHECK(removed.empty());  // both remaining share the config digest in use
  REQUIRE_MESSAGE(store->Prune(in_use, &removed, &error), error);
  CHECK(removed == std::vector<std::string>{"docker.io/library/busybox:1"});
  CHECK(CountFiles(blobs) == 4);
  CHECK(CountFiles(snapshots) == 2);
  REQUIRE_MESSAGE(store->Prune({}, &removed, &error), error);
  CHECK(CountFiles(blobs) == 0);
  CHECK(CountFiles(snapshots) == 0);
  CHECK(store->List(&error).empty());
}

TEST_CASE("image store: an image with a blob removed by hand is an error for Get, and rm still works") {
  TempDir dir;
  TestImage a = kubit::test::MakeTestImage("a"), b = kubit::test::MakeTestImage("b");
  kubit::test::WriteFile(dir.File("a.tar"), kubit::test::OciLayoutTar(a, "a:1"));
  kubit::test::WriteFile(dir.File("b.tar"), kubit::test::OciLayoutTar(b, "b:1"));
  auto store = MustOpen(dir.File("data"));
  MustImport(store.get(), dir.File("a.tar"));
  MustImport(store.get(), dir.File("b.tar"));
  std::filesystem::remove(dir.File("data/agent/content/sha256/" + kubit::test::Hex(a.config_digest())));
  Image img;
  std::string error;
  CHECK_FALSE(store->Get("a:1", &img, &error));
  CHECK_MESSAGE(error.find("blob " + a.config_digest() + " is not in the content store") != std::string::npos, error);
  REQUIRE_MESSAGE(store->Remove("b:1", {}, &error), error);
  REQUIRE_MESSAGE(store->Remove("a:1", {}, &error), error);
  CHECK(CountFiles(dir.File("data/agent/content/sha256")) == 0);
  CHECK(CountFiles(dir.File("data/agent/snapshots")) == 0);
}

TEST_CASE("image store: GC by disk usage removes least recently used unused images") {
  TempDir dir;
  auto store = MustOpen(dir.File("data"));
  for (const char* tag : {"1", "2", "3"}) {
    TestImage t = kubit::test::MakeTestImage(tag);
    WriteFile(dir.File("i.tar"), kubit::test::OciLayoutTar(t, std::string("app:") + tag));
    MustImport(store.get(), dir.File("i.tar"));
    usleep(20 * 1000);  // distinct last-used times
  }
  std::string error;
  std::vector<std::string> removed;
  // Under the high threshold: nothing happens.
  REQUIRE_MESSAGE(store->GarbageCollect({100, 100}, {}, &removed, &error), error);
  CHECK(removed.empty());
  CHECK_FALSE(store->GarbageCollect({50, 60}, {}, &removed, &error));
  // Any usage is over 0%: every unused image goes, oldest use first, the
  // one in use stays.
  Image img;
  REQUIRE(store->Get("app:1", &img, &error));  // app:1 is now the most recently used
  REQUIRE_MESSAGE(store->GarbageCollect({0, 0}, {"docker.io/library/app:2"}, &removed, &error), error);
  CHECK(removed == std::vector<std::string>{"docker.io/library/app:3", "docker.io/library/app:1"});
  auto left = store->List(&error);
  REQUIRE(left.size() == 1);
  CHECK(left[0].name == "docker.io/library/app:2");
}

TEST_CASE("image store: the air-gap directory is imported once per file version") {
  TempDir dir;
  auto store = MustOpen(dir.File("data"));
  std::string drop = dir.File("data/agent/images");
  TestImage t = kubit::test::MakeTestImage("v1");
  WriteFile(drop + "/a.tar", kubit::test::OciLayoutTar(t, "a:1"));
  WriteFile(drop + "/b.tar.gz", kubit::test::Gzip(kubit::test::DockerSaveTar(t, {"b:1"})));
  WriteFile(drop + "/c.tar.zst", kubit::test::Zstd(kubit::test::OciLayoutTar(t, "c:1")));
  WriteFile(drop + "/broken.tar", "not a tarball at all, just text padded out" + std::string(600, ' '));
  WriteFile(drop + "/notes.txt", "ignored");
  std::vector<std::string> imported, errors;
  store->ImportDirectory(&imported, &errors);
  CHECK(imported == std::vector<std::string>{"a.tar", "b.tar.gz", "c.tar.zst"});
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("broken.tar") != std::string::npos);
  std::string error;
  CHECK(store->List(&error).size() == 3);

  imported.clear();
  errors.clear();
  store->ImportDirectory(&imported, &errors);
  CHECK(imported.empty());
  CHECK(errors.size() == 1);  // the broken one is tried again
  // A new version of a file (size or mtime changed) is imported again.
  WriteFile(drop + "/a.tar", kubit::test::OciLayoutTar(kubit::test::MakeTestImage("v2"), "a:1"));
  imported.clear();
  store->ImportDirectory(&imported, &errors);
  CHECK(imported == std::vector<std::string>{"a.tar"});
  Image img;
  REQUIRE_MESSAGE(store->Get("a:1", &img, &error), error);
  CHECK(img.config.labels.at("tag") == "v2");
}

TEST_CASE("image store: bad archives fail clearly and leave nothing behind") {
  TempDir dir;
  auto store = MustOpen(dir.File("data"));
  std::string blobs = dir.File("data/agent/content/sha256"), snapshots = dir.File("data/agent/snapshots");
  std::string ingest = dir.File("data/agent/content/ingest");
  TestImage t = kubit::test::MakeTestImage("v1");
  std::vector<std::string> names;
  std::string error;
  auto fails = [&](const std::string& tar, const std::string& want) {
    WriteFile(dir.File("bad.tar"), tar);
    CHECK_FALSE(store->Import(dir.File("bad.tar"), &names, &error));
    CHECK_MESSAGE(error.find(want) != std::string::npos, error);
    CHECK(CountFiles(blobs) == 0);
    CHECK(CountFiles(snapshots) == 0);
    CHECK(CountFiles(ingest) == 0);
    CHECK(store->List(&error).empty());
  };

  SUBCASE("a blob that does not hash to its name") {
    std::string tar = kubit::test::OciLayoutTar(t, "x:1");
    std::string needle = t.layers[0].substr(100, 40);
    size_t at = tar.find(needle);
    REQUIRE(at != std::string::npos);
    tar[at] ^= 1;
    fails(tar, "digest mismatch");
  }
  SUBCASE("a layer whose content is not the config's diff_id") {
    TestImage bad = t;
    bad.layers[1] = kubit::test::Zstd(kubit::test::TarBuilder().File("other", "x").Finish());
    nlohmann::json m = nlohmann::json::parse(bad.manifest);
    m["layers"][1]["digest"] = DigestOf(bad.layers[1]);
    m["layers"][1]["size"] = bad.layers[1].size();
    bad.manifest = m.dump();
    fails(kubit::test::OciLayoutTar(bad, "x:1"), "does not match the image config");
  }
  SUBCASE("a hostile layer") {
    TestImage bad = t;
    bad.plain[1] = kubit::test::TarBuilder().Symlink("esc", "/tmp").File("esc/owned", "x").Finish();
    bad.diff_ids[1] = DigestOf(bad.plain[1]);
    nlohmann::json c = nlohmann::json::parse(bad.config);
    c["rootfs"]["diff_ids"] = bad.diff_ids;
    bad.config = c.dump();
    fails(kubit::test::DockerSaveTar(bad, {"x:1"}), "refusing to write through the symlink esc");
    CHECK_FALSE(std::filesystem::exists("/tmp/owned"));
  }
  SUBCASE("a truncated archive") {
    std::string tar = kubit::test::Gzip(kubit::test::OciLayoutTar(t, "x:1"));
    fails(tar.substr(0, tar.size() * 2 / 3), "truncated");
  }
  SUBCASE("an archive without images") {
    fails(kubit::test::TarBuilder().File("hello", "x").Finish(), "neither a docker save archive");
    fails(kubit::test::OciLayoutTar(t, ""), "no named image");
  }
  SUBCASE("an index naming a blob the archive lacks") {
    nlohmann::json index = {{"schemaVersion", 2},
                            {"manifests", {{{"digest", DigestOf("nothing")}, {"size", 7},
                                            {"annotations", {{"org.opencontainers.image.ref.name", "x:1"}}}}}}};
    fails(kubit::test::TarBuilder().File("oci-layout", "{}").File("index.json", index.dump()).Finish(),
          "does not hold");
  }
}

TEST_CASE("image store: leftovers of a killed process are cleared at open, partial downloads kept") {
  TempDir dir;
  { MustOpen(dir.File("data")); }
  // A pid that cannot be running: beyond pid_max.
  std::string dead = std::to_string(1 << 23);
  std::string agent = dir.File("data/agent");
  WriteFile(agent + "/content/ingest/tmp-" + dead + "-0", "half");
  WriteFile(agent + "/content/ingest/" + std::string(64, 'a') + ".partial", "resume me");
  std::filesystem::create_directories(agent + "/snapshots/.tmp-" + dead + "-0-abc/etc");
  WriteFile(agent + "/content/ingest/tmp-" + std::to_string(getpid()) + "-99", "mine");
  MustOpen(dir.File("data"));
  CHECK_FALSE(std::filesystem::exists(agent + "/content/ingest/tmp-" + dead + "-0"));
  CHECK_FALSE(std::filesystem::exists(agent + "/snapshots/.tmp-" + dead + "-0-abc"));
  CHECK(std::filesystem::exists(agent + "/content/ingest/" + std::string(64, 'a') + ".partial"));
  CHECK(std::filesystem::exists(agent + "/content/ingest/tmp-" + std::to_string(getpid()) + "-99"));
}

TEST_CASE("image content store: writers verify digests and resume partial files") {
  TempDir dir;
  std::string error;
  auto cs = ContentStore::Open(dir.File("c"), &error);
  REQUIRE_MESSAGE(cs, error);
  std::string data = "hello, blob";
  std::string digest = DigestOf(data);
  {
    auto w = cs->NewWriter(digest, true, &error);
    REQUIRE(w);
    REQUIRE(w->Write(data.data(), 5, &error));
  }  // dropped mid-way: the partial file stays
  CHECK_FALSE(cs->Has(digest));
  auto w = cs->NewWriter(digest, true, &error);
  REQUIRE(w);
  CHECK(w->offset() == 5);
  REQUIRE(w->Write(data.data() + 5, data.size() - 5, &error));
  std::string got;
  REQUIRE_MESSAGE(w->Commit(&got, &error), error);
  CHECK(got == digest);
  std::string back;
  REQUIRE(cs->ReadSmall(digest, &back, &error));
  CHECK(back == data);

  auto bad = cs->NewWriter(DigestOf("other"), false, &error);
  REQUIRE(bad->Write(data.data(), data.size(), &error));
  CHECK_FALSE(bad->Commit(&got, &error));
  CHECK(error.find("digest mismatch") != std::string::npos);
  CHECK_FALSE(cs->Has(DigestOf("other")));
  CHECK(CountFiles(dir.File("c/ingest")) == 0);
}

}  // namespace
