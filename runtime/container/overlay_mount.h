// MountOverlay: a container's root filesystem, an overlay of an image's
// layers with the container's own upper and work directories. The mount
// options must fit one page (4096 bytes), which absolute layer paths
// (.../snapshots/<64 hex>) pass at about 40 layers; images have up to 127.
// Longer stacks are named relative to the layers' common directory (the
// mount is made from there), and when even that is too long, through the
// new mount API's "lowerdir+" (one layer per call, Linux 6.8 and later).
#pragma once

#include <string>
#include <vector>

namespace kubit::runtime::container {

// `layers`: lowest (base) layer first. False with *error naming the call
// that failed.
bool MountOverlay(const std::vector<std::string>& layers, const std::string& upper, const std::string& work,
                  const std::string& target, std::string* error);

}  // namespace kubit::runtime::container
