// Node.status.images from the image store, as upstream's kubelet reports
// them: one entry per image (names: repo@digest and each repo:tag), the
// largest first, at most 50 (nodeStatusMaxImages). The scheduler's
// ImageLocality score reads them.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "runtime/image/image_store.h"

namespace kubit::kubelet {

inline constexpr size_t kNodeStatusMaxImages = 50;

nlohmann::json NodeImages(const std::vector<runtime::image::ImageRecord>& records);

}  // namespace kubit::kubelet
