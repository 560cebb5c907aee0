// The JSON documents of an image: Docker schema2 and OCI manifests, Docker
// manifest lists and OCI indexes (with platform selection for the machine
// kubit runs on), and the image config. Parsing checks what kubit relies
// on later (digests, sizes, media types) so that a bad document fails here
// with its reason, not at unpack time.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "runtime/image/image.h"

namespace kubit::runtime::image {

namespace media_type {
inline constexpr const char* kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr const char* kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr const char* kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr const char* kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr const char* kDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr const char* kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr const char* kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr const char* kDockerLayer = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr const char* kDockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
}  // namespace media_type

struct Platform {
  std::string os, architecture, variant;
  std::string String() const;  // "linux/arm/v7"
};

// The platform of this build of kubit: linux and the compile-time
// architecture (amd64, arm64, arm/v7, ...).
Platform HostPlatform();

struct Descriptor {
  std::string media_type, digest;
  int64_t size = 0;
  Platform platform;  // index entries only
  std::map<std::string, std::string> annotations;
};

struct Manifest {
  std::string media_type;
  Descriptor config;
  std::vector<Descriptor> layers;
};

struct Index {
  std::string media_type;
  std::vector<Descriptor> manifests;
};

bool IsIndexType(const std::string& media_type);
bool IsManifestType(const std::string& media_type);

// The media type of a manifest document: its own mediaType field, else
// `content_type` (what the registry said), else guessed from its fields
// (OCI makes mediaType optional). Schema1 and unknown types are errors.
bool ManifestMediaType(const std::string& json, const std::string& content_type, std::string* media_type,
                       std::string* error);

bool ParseManifest(const std::string& json, Manifest* out, std::string* error);
bool ParseIndex(const std::string& json, Index* out, std::string* error);

// The index entry for `want`: same os and architecture; an exact variant
// first, then a compatible one (arm/v6 runs on v7, an unset variant
// matches), attestation and unknown entries skipped.
bool SelectPlatform(const Index& index, const Platform& want, Descriptor* out, std::string* error);

// The config's container settings, platform and rootfs.diff_ids.
bool ParseImageConfig(const std::string& json, ImageConfig* out, std::vector<std::string>* diff_ids,
                      std::string* error);

}  // namespace kubit::runtime::image
