// SecureJoin: a path inside a root directory, with every symlink on the way
// resolved as if the root were "/" (an absolute link target restarts at the
// root, ".." stops there). Mount targets inside an image's rootfs go through
// it, so a hostile image cannot aim /proc or a volume at the host's /etc
// with a symlink. The image is not running yet when this is used, so
// nothing can swap a component between the check and the mount.
#pragma once

#include <string>

namespace kubit::runtime::container {

// root must be an absolute, symlink-free path. The result is root + the
// resolved path; components that do not exist are kept as written.
// False (with *error) on a symlink loop (more than 255 links).
bool SecureJoin(const std::string& root, const std::string& path, std::string* out,
                std::string* error);

}  // namespace kubit::runtime::container
