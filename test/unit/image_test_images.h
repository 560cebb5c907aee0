// Test images built in memory for the image tests: two-layer images as an
// OCI image layout tarball or a `docker save` tarball, made of TarBuilder
// layers, so that each test can bend one part (a digest, a layer) at will.
#pragma once

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/image/digest.h"
#include "runtime/image/manifest.h"
#include "test/unit/image_test_tar.h"

namespace kubit::test {

struct TestImage {
  std::vector<std::string> layers;    // blobs as stored (compressed or not)
  std::vector<std::string> plain;     // the uncompressed tars
  std::vector<std::string> diff_ids;  // their digests
  std::string config, manifest;
  std::string manifest_digest() const { return runtime::image::DigestOf(manifest); }
  std::string config_digest() const { return runtime::image::DigestOf(config); }
};

// A base layer (etc/os-release, bin/tool, a dir to be made opaque) and an
// upper one (a whiteout, an opaque dir, a new file); gzip for the base,
// zstd for the upper.
inline TestImage MakeTestImage(const std::string& tag = "v1") {
  TestImage img;
  std::string base = TarBuilder()
                         .Dir("etc/")
                         .File("etc/os-release", "NAME=test " + tag + "\n")
                         .File("bin/tool", "tool", {0755})
                         .File("opaque/old", "old")
                         .File("gone", "gone")
                         .Finish();
  std::string upper = TarBuilder()
                          .File(".wh.gone", "")
                          .Dir("opaque/")
                          .File("opaque/.wh..wh..opq", "")
                          .File("opaque/new", "new")
                          .File("etc/upper", tag)
                          .Finish();
  img.plain = {base, upper};
  img.layers = {Gzip(base), Zstd(upper)};
  img.diff_ids = {runtime::image::DigestOf(base), runtime::image::DigestOf(upper)};
  auto platform = runtime::image::HostPlatform();
  nlohmann::json config = {{"architecture", platform.architecture},
                           {"os", "linux"},
                           {"config",
                            {{"Entrypoint", {"/bin/tool"}},
                             {"Cmd", {"--flag"}},
                             {"Env", {"PATH=/bin", "TAG=" + tag}},
                             {"WorkingDir", "/etc"},
                             {"User", "1000:1000"},
                             {"Labels", {{"tag", tag}}}}},
                           {"rootfs", {{"type", "layers"}, {"diff_ids", img.diff_ids}}}};
  if (!platform.variant.empty()) config["variant"] = platform.variant;
  img.config = config.dump();
  nlohmann::json layers = nlohmann::json::array();
  layers.push_back({{"mediaType", runtime::image::media_type::kOciLayerGzip},
                    {"digest", runtime::image::DigestOf(img.layers[0])},
                    {"size", img.layers[0].size()}});
  layers.push_back({{"mediaType", runtime::image::media_type::kOciLayerZstd},
                    {"digest", runtime::image::DigestOf(img.layers[1])},
                    {"size", img.layers[1].size()}});
  nlohmann::json manifest = {{"schemaVersion", 2},
                             {"mediaType", runtime::image::media_type::kOciManifest},
                             {"config",
                              {{"mediaType", runtime::image::media_type::kOciConfig},
                               {"digest", img.config_digest()},
                               {"size", img.config.size()}}},
                             {"layers", layers}};
  img.manifest = manifest.dump();
  return img;
}

inline std::string Hex(const std::string& digest) { return digest.substr(7); }

// An OCI image layout tarball naming the image `ref_name`.
inline std::string OciLayoutTar(const TestImage& img, const std::string& ref_name,
                                const std::string& annotation = "org.opencontainers.image.ref.name") {
  nlohmann::json index = {
      {"schemaVersion", 2},
      {"manifests",
       {{{"mediaType", runtime::image::media_type::kOciManifest},
         {"digest", img.manifest_digest()},
         {"size", img.manifest.size()},
         {"annotations", {{annotation, ref_name}}}}}}};
  TarBuilder t;
  t.File("oci-layout", R"({"imageLayoutVersion":"1.0.0"})").File("index.json", index.dump()).Dir("blobs/sha256/");
  for (const auto& blob : {img.manifest, img.config, img.layers[0], img.layers[1]})
    t.File("blobs/sha256/" + Hex(runtime::image::DigestOf(blob)), blob);
  return t.Finish();
}

// A `docker save` tarball (uncompressed layers, as docker writes them).
inline std::string DockerSaveTar(const TestImage& img, const std::vector<std::string>& tags) {
  const std::vector<std::string>& plain_layers = img.plain;
  nlohmann::json layers = nlohmann::json::array();
  TarBuilder t;
  for (size_t i = 0; i < plain_layers.size(); i++) {
    std::string dir = "layer" + std::to_string(i);
    t.Dir(dir + "/").File(dir + "/layer.tar", plain_layers[i]).File(dir + "/json", "{}");
    layers.push_back(dir + "/layer.tar");
  }
  // docker links a layer it saved already instead of storing it twice.
  t.Symlink("dup/layer.tar", "../layer0/layer.tar");
  t.File(Hex(img.config_digest()) + ".json", img.config);
  nlohmann::json manifest = {{{"Config", Hex(img.config_digest()) + ".json"}, {"RepoTags", tags}, {"Layers", layers}}};
  t.File("manifest.json", manifest.dump()).File("repositories", "{}");
  return t.Finish();
}

inline void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f << data;
}

}  // namespace kubit::test
