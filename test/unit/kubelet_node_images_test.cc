// Unit tests of Node.status.images (runtime/kubelet/node_images.h).
#include "runtime/kubelet/node_images.h"

#include <doctest/doctest.h>

namespace {

using kubit::runtime::image::ImageRecord;

ImageRecord Rec(const std::string& name, const std::string& digest, const std::string& id, int64_t size) {
  ImageRecord r;
  r.name = name;
  r.digest = digest;
  r.config_digest = id;
  r.size = size;
  return r;
}

TEST_CASE("kubelet node images: names per image, largest first, at most 50") {
  auto j = kubit::kubelet::NodeImages({Rec("docker.io/library/busybox:1", "sha256:m1", "sha256:c1", 100),
                                       Rec("docker.io/library/busybox:latest", "sha256:m1", "sha256:c1", 100),
                                       Rec("host:5000/app:2", "sha256:m2", "sha256:c2", 5000)});
  REQUIRE(j.size() == 2);
  CHECK(j[0]["names"] == nlohmann::json({"host:5000/app@sha256:m2", "host:5000/app:2"}));
  CHECK(j[0]["sizeBytes"] == 5000);
  CHECK(j[1]["names"] == nlohmann::json({"docker.io/library/busybox@sha256:m1", "docker.io/library/busybox:1",
                                         "docker.io/library/busybox:latest"}));
  std::vector<ImageRecord> many;
  for (int i = 0; i < 60; i++)
    many.push_back(Rec("img" + std::to_string(i) + ":1", "sha256:m" + std::to_string(i), "sha256:c" + std::to_string(i), i));
  auto capped = kubit::kubelet::NodeImages(many);
  CHECK(capped.size() == 50);
  CHECK(capped[0]["sizeBytes"] == 59);
}

}  // namespace
