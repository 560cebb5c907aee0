// Unit tests of manifest, index and config parsing and of the platform
// choice in an index (runtime/image/manifest.h).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "runtime/image/digest.h"
#include "runtime/image/manifest.h"

namespace {

using namespace kubit::runtime::image;
using nlohmann::json;

json Entry(const std::string& arch, const std::string& variant, const std::string& os = "linux") {
  json p = {{"os", os}, {"architecture", arch}};
  if (!variant.empty()) p["variant"] = variant;
  return {{"mediaType", media_type::kOciManifest},
          {"digest", DigestOf(os + arch + variant)},
          {"size", 100},
          {"platform", p}};
}

Index MakeIndex(const std::vector<json>& entries) {
  json j = {{"schemaVersion", 2}, {"mediaType", media_type::kOciIndex}, {"manifests", entries}};
  Index idx;
  std::string error;
  REQUIRE_MESSAGE(ParseIndex(j.dump(), &idx, &error), error);
  return idx;
}

std::string Pick(const Index& idx, const Platform& want) {
  Descriptor d;
  std::string error;
  if (!SelectPlatform(idx, want, &d, &error)) return "error: " + error;
  return d.platform.String();
}

TEST_CASE("image manifest: platform selection by architecture and variant") {
  Index all = MakeIndex({Entry("amd64", ""), Entry("arm", "v6"), Entry("arm", "v7"), Entry("arm64", "v8"),
                         Entry("unknown", "", "unknown"), Entry("amd64", "", "windows")});
  CHECK(Pick(all, {"linux", "amd64", ""}) == "linux/amd64");
  CHECK(Pick(all, {"linux", "arm", "v7"}) == "linux/arm/v7");
  CHECK(Pick(all, {"linux", "arm", "v6"}) == "linux/arm/v6");
  CHECK(Pick(all, {"linux", "arm64", ""}) == "linux/arm64/v8");
  // An ARMv7 board runs v6 code, not the other way round.
  Index v6 = MakeIndex({Entry("arm", "v6"), Entry("arm", "v5")});
  CHECK(Pick(v6, {"linux", "arm", "v7"}) == "linux/arm/v6");
  Index v7 = MakeIndex({Entry("arm", "v7")});
  CHECK(Pick(v7, {"linux", "arm", "v6"}).rfind("error: no image for platform linux/arm/v6", 0) == 0);
  Index plain_arm = MakeIndex({Entry("arm", "")});
  CHECK(Pick(plain_arm, {"linux", "arm", "v7"}) == "linux/arm");
  Index none = MakeIndex({Entry("s390x", ""), Entry("ppc64le", "")});
  CHECK(Pick(none, {"linux", "arm64", ""}) ==
        "error: no image for platform linux/arm64 (the index has: linux/s390x, linux/ppc64le)");
  CHECK(Pick(MakeIndex({}), {"linux", "amd64", ""}) ==
        "error: no image for platform linux/amd64 (the index has: none)");
}

TEST_CASE("image manifest: this build's platform") {
  Platform p = HostPlatform();
  CHECK(p.os == "linux");
#if defined(__x86_64__)
  CHECK(p.String() == "linux/amd64");
#elif defined(__aarch64__)
  CHECK(p.String() == "linux/arm64");
#elif defined(__arm__)
  CHECK(p.architecture == "arm");
#endif
}

TEST_CASE("image manifest: media types, schema1 and guessed types") {
  std::string mt, error;
  json m = {{"schemaVersion", 2},
            {"config", {{"mediaType", media_type::kOciConfig}, {"digest", DigestOf("c")}, {"size", 1}}},
            {"layers", json::array()}};
  REQUIRE(ManifestMediaType(m.dump(), "", &mt, &error));
  CHECK(mt == media_type::kOciManifest);  // no mediaType: guessed from the fields
  REQUIRE(ManifestMediaType(m.dump(), std::string(media_type::kDockerManifest) + "; charset=utf-8", &mt, &error));
  CHECK(mt == media_type::kDockerManifest);
  REQUIRE(ManifestMediaType(R"({"schemaVersion":2,"manifests":[]})", "application/json", &mt, &error));
  CHECK(mt == media_type::kOciIndex);
  CHECK_FALSE(ManifestMediaType(R"({"schemaVersion":1,"fsLayers":[]})",
                                "application/vnd.docker.distribution.manifest.v1+prettyjws", &mt, &error));
  CHECK(error.find("schema1") != std::string::npos);
  CHECK_FALSE(ManifestMediaType(R"({"mediaType":"application/x-other"})", "", &mt, &error));
  CHECK(error == "unsupported manifest media type \"application/x-other\"");
  CHECK_FALSE(ManifestMediaType("[1,2]", "", &mt, &error));
}

TEST_CASE("image manifest: manifests are checked before anything is fetched") {
  auto with_layer = [](const json& layer) {
    return json{{"schemaVersion", 2},
                {"config", {{"mediaType", media_type::kOciConfig}, {"digest", DigestOf("c")}, {"size", 1}}},
                {"layers", {layer}}}
        .dump();
  };
  Manifest m;
  std::string error;
  REQUIRE(ParseManifest(
      with_layer({{"mediaType", media_type::kDockerLayerGzip}, {"digest", DigestOf("l")}, {"size", 5}}), &m, &error));
  REQUIRE(m.layers.size() == 1);
  CHECK(m.layers[0].size == 5);
  CHECK(m.config.digest == DigestOf("c"));
  CHECK_FALSE(ParseManifest(
      with_layer({{"mediaType", "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"},
                  {"digest", DigestOf("l")},
                  {"size", 5}}),
      &m, &error));
  CHECK(error.find("unsupported media type") != std::string::npos);
  CHECK_FALSE(ParseManifest(with_layer({{"mediaType", media_type::kOciLayer}, {"digest", "sha256:xyz"}, {"size", 5}}),
                            &m, &error));
  CHECK(error.find("malformed digest") != std::string::npos);
  CHECK_FALSE(ParseManifest(with_layer({{"mediaType", media_type::kOciLayer}, {"digest", DigestOf("l")}, {"size", -1}}),
                            &m, &error));
  CHECK(error.find("negative size") != std::string::npos);
  CHECK_FALSE(ParseManifest(R"({"schemaVersion":2,"layers":[]})", &m, &error));
}

TEST_CASE("image manifest: the image config") {
  ImageConfig c;
  std::vector<std::string> diffs;
  std::string error;
  json j = {{"architecture", "arm"},
            {"variant", "v7"},
            {"os", "linux"},
            {"config",
             {{"Entrypoint", {"/init"}},
              {"Cmd", nullptr},
              {"Env", {"A=1"}},
              {"User", "nobody"},
              {"WorkingDir", "/w"},
              {"StopSignal", "SIGQUIT"},
              {"Labels", {{"k", "v"}}}}},
            {"rootfs", {{"type", "layers"}, {"diff_ids", {DigestOf("a"), DigestOf("b")}}}}};
  REQUIRE_MESSAGE(ParseImageConfig(j.dump(), &c, &diffs, &error), error);
  CHECK(c.entrypoint == std::vector<std::string>{"/init"});
  CHECK(c.cmd.empty());
  CHECK(c.env == std::vector<std::string>{"A=1"});
  CHECK(c.user == "nobody");
  CHECK(c.working_dir == "/w");
  CHECK(c.stop_signal == "SIGQUIT");
  CHECK(c.labels.at("k") == "v");
  CHECK(c.architecture == "arm");
  CHECK(c.variant == "v7");
  CHECK(diffs == std::vector<std::string>{DigestOf("a"), DigestOf("b")});
  j["rootfs"]["diff_ids"] = {"md5:abc"};
  CHECK_FALSE(ParseImageConfig(j.dump(), &c, &diffs, &error));
  j.erase("rootfs");
  CHECK_FALSE(ParseImageConfig(j.dump(), &c, &diffs, &error));
  CHECK(error == "image config has no rootfs.diff_ids");
}

}  // namespace
