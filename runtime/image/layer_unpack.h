// UnpackLayer: one image layer (a tar stream, plain, gzip or zstd) written
// into a directory as an overlayfs lower layer: OCI whiteouts become what
// overlayfs reads — `.wh.NAME` a 0/0 character device NAME, `.wh..wh..opq`
// the xattr trusted.overlay.opaque=y on its directory — so that stacking
// the layers' directories gives the image's file system.
//
// The layer is hostile input. Every path is resolved one component at a
// time from the directory with O_NOFOLLOW: a leading '/' is dropped, a
// `..` that climbs above the root, a write through a symlink (even one the
// layer itself made) and a hardlink to anything outside are refused, so
// nothing is ever written outside `dir`. Symlinks are created as they are
// and never followed.
#pragma once

#include <string>

#include "runtime/image/reader.h"

namespace kubit::runtime::image {

struct UnpackStats {
  std::string diff_id;  // sha256 of the uncompressed tar stream
  int64_t entries = 0;
  int64_t bytes = 0;    // uncompressed tar bytes
};

// Unpacks `layer` into `dir` (an existing, empty directory). On failure
// `dir` holds a partial tree the caller removes.
bool UnpackLayer(Reader* layer, const std::string& dir, UnpackStats* stats, std::string* error);

}  // namespace kubit::runtime::image
