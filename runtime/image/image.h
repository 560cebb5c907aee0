// The image contract between runtime/image (which pulls, imports and
// unpacks images) and runtime/container and the kubelet (which run them):
// an image is its config plus the unpacked layer directories to stack.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kubit::runtime::image {

// The parts of the OCI image config ("config" object) a container uses.
struct ImageConfig {
  std::vector<std::string> entrypoint, cmd, env;  // env as "K=V"
  std::string working_dir, user, stop_signal;
  std::map<std::string, std::string> labels;
  std::string os, architecture, variant;
};

struct Image {
  std::string name;           // normalised reference, "docker.io/library/busybox:latest"
  std::string digest;         // manifest digest, "sha256:..."
  std::string config_digest;  // the image ID as `crictl images` shows it
  ImageConfig config;
  // Unpacked layer snapshot directories, lowest (base) layer first: the
  // lowerdir stack of an overlay mount, reversed. Each directory appears
  // once (a layer repeated in the image keeps only its upper place).
  std::vector<std::string> layer_dirs;
  int64_t size = 0;  // compressed bytes of the layers, as registries report
};

}  // namespace kubit::runtime::image
