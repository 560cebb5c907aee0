// The image table of a data directory, <data-dir>/agent/image-index.json:
// which names point at which manifests, when each was last used, and which
// air-gap tarballs were imported already. Small; rewritten whole and
// atomically on every change (see WriteFileAtomic), under a lock the
// caller holds.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace kubit::runtime::image {

struct ImageEntry {
  std::string name;             // normalised reference
  std::string digest;           // what the name points at: an index or a manifest
  std::string media_type;       // of `digest`
  std::string manifest_digest;  // the manifest for this platform (== digest without an index)
  std::string config_digest;
  std::string platform;
  int64_t size = 0;
  int64_t last_used_ms = 0;  // unix milliseconds
};

struct ImportedFile {
  int64_t size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const ImportedFile&) const = default;
};

struct ImageIndex {
  std::map<std::string, ImageEntry> images;       // by name
  std::map<std::string, ImportedFile> imported;   // air-gap file name -> what it was
};

// A missing file is an empty index.
bool LoadImageIndex(const std::string& path, ImageIndex* out, std::string* error);
bool SaveImageIndex(const std::string& path, const ImageIndex& index, std::string* error);

}  // namespace kubit::runtime::image
