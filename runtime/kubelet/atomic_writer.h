// AtomicWriter: the files of a configMap, secret, downwardAPI or projected
// volume, replaced all at once as upstream's volume/util/atomic_writer.go
// does, so a container never reads a mix of old and new files:
//
//   <dir>/..2026_11_22_08_00_00.123456789/<files>   this version
//   <dir>/..data -> ..2026_...                       swapped by rename()
//   <dir>/<name> -> ..data/<name>                    one per top-level name
//
// A payload equal to what is there writes nothing.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>

namespace kubit::kubelet {

struct FileProjection {
  std::string data;
  int mode = 0644;
};
// Relative paths ("key", "dir/key") to contents.
using Payload = std::map<std::string, FileProjection>;

// *changed: a new version was written. uid/gid >= 0 chown the files (fsGroup: gid).
bool WriteAtomic(const std::string& dir, const Payload& payload, bool* changed, std::string* error,
                 gid_t gid = static_cast<gid_t>(-1));

// A path a payload may hold: relative, no ".." element, no leading "..".
bool ValidPayloadPath(const std::string& path);

}  // namespace kubit::kubelet
