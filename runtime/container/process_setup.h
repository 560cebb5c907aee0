// The last steps before a container's process (its first one, or one
// started by exec) becomes the user's program, in the order the kernel
// needs them: identity (groups, gid, uid) with capabilities kept across the
// uid change, the capability sets, no_new_privs, seccomp, then execve.
// Used in a forked child that is already inside the container's
// namespaces and root; each function returns false with the failing call
// and its errno in *error.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "runtime/container/capabilities.h"
#include "runtime/container/spec.h"
#include "runtime/container/user.h"

namespace kubit::runtime::container {

struct ProcessIdentity {
  ResolvedUser user;
  CapSet caps = 0;
  bool no_new_privs = false;
  bool seccomp = true;  // the default profile
  // Its program when made beforehand (PrepareSeccomp); empty: made when applied.
  std::vector<sock_filter> seccomp_program;
};

// What a spec's security section and user string come to, read in the
// calling process's root (the container's).
bool ResolveIdentity(const ContainerSpec& spec, const std::string& user,
                     ProcessIdentity* out, std::string* error);

// The default seccomp program the spec's processes get (empty when they
// get none), made ahead of ApplyIdentity: building it takes milliseconds
// that a container's init spends while it waits anyway.
bool PrepareSeccomp(const ContainerSpec& spec, std::vector<sock_filter>* out, std::string* error);

// Bounding set, groups, gid, uid, capability sets, no_new_privs, seccomp.
bool ApplyIdentity(const ProcessIdentity& id, const std::vector<uint32_t>& additional_gids,
                   std::string* error);

// The environment a process starts with: `env` with PATH, HOME (from the
// user), HOSTNAME and, with a tty, TERM added when missing, as Docker does.
std::vector<std::string> ProcessEnv(const std::vector<std::string>& env, const std::string& home,
                                    const std::string& hostname, bool tty);

// execve of args[0], looked up in the PATH of `env` when it has no '/'.
// Returns only on failure.
void ExecProcess(const std::vector<std::string>& args, const std::vector<std::string>& env,
                 std::string* error);

// Creates dir and its parents (mode 0755) inside the current root.
bool MakeDirsInRoot(const std::string& dir, std::string* error);

std::string Errno(const std::string& what);  // "what: strerror(errno)"

}  // namespace kubit::runtime::container
