// Reading image tarballs into the content store: `docker save` archives
// (manifest.json with Config, RepoTags and Layers) and OCI image layouts
// (oci-layout, index.json, blobs/sha256/...), either of them plain, gzip
// or zstd compressed. The archive is read once, front to back; every file
// in it goes into the content store by its hash, so a blob named by digest
// that does not hash to its name is refused.
#pragma once

#include <string>
#include <vector>

#include "runtime/image/content_store.h"

namespace kubit::runtime::image {

struct ArchiveImage {
  std::string name;        // normalised reference
  std::string digest;      // manifest or index
  std::string media_type;  // of `digest`
};

struct ArchiveContents {
  std::vector<ArchiveImage> images;
  // Blobs this import put into the store that were not there before; the
  // caller removes those no image references.
  std::vector<std::string> added;
};

bool ReadImageArchive(const std::string& path, ContentStore* content, ArchiveContents* out, std::string* error);

}  // namespace kubit::runtime::image
