// The identity a container's process runs as: a spec's user string
// ("1000", "1000:1000", "nobody", "app:staff", "1000:staff") resolved
// against the container's own /etc/passwd and /etc/group, as Docker and runc
// do: numeric ids need no entry, names must have one; the supplementary
// groups are those of /etc/group that list the user by name.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace kubit::runtime::container {

struct ResolvedUser {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary, without gid
  std::string home = "/";     // from /etc/passwd; "/" without an entry
};

// passwd and group are the files' contents ("" when a file is missing).
bool ResolveUser(const std::string& user, const std::string& passwd, const std::string& group,
                 ResolvedUser* out, std::string* error);

// Reads /etc/passwd and /etc/group of the calling process's root (the
// container's, after pivot_root or setns) and resolves `user`.
bool ResolveUserInRoot(const std::string& user, ResolvedUser* out, std::string* error);

}  // namespace kubit::runtime::container
