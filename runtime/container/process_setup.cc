#include "runtime/container/process_setup.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/container/seccomp_profile.h"

namespace kubit::runtime::container {
namespace {

bool HasEnv(const std::vector<std::string>& env, const char* key) {
  size_t n = strlen(key);
  for (const auto& e : env)
    if (e.size() > n && e.compare(0, n, key) == 0 && e[n] == '=') return true;
  return false;
}

std::string EnvValue(const std::vector<std::string>& env, const char* key) {
  size_t n = strlen(key);
  for (const auto& e : env)
    if (e.size() > n && e.compare(0, n, key) == 0 && e[n] == '=') return e.substr(n + 1);
  return "";
}

bool SetCapabilities(CapSet caps, std::string* error) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  for (int i = 0; i < 2; i++) {
    uint32_t bits = static_cast<uint32_t>(caps >> (32 * i));
    data[i].effective = bits;
    data[i].permitted = bits;
    data[i].inheritable = 0;  // empty, as moby since CVE-2022-24769
  }
  if (syscall(SYS_capset, &header, data) != 0) {
    *error = Errno("capset");
    return false;
  }
  return true;
}

// What this process may hand on: a privileged container gets every
// capability kubit itself holds, not more (capset would refuse more).
CapSet PermittedNow() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &header, data) != 0) return ~CapSet{0};
  return CapSet{data[0].permitted} | (CapSet{data[1].permitted} << 32);
}

}  // namespace

std::string Errno(const std::string& what) { return what + ": " + strerror(errno); }

namespace {

bool SpecCaps(const ContainerSpec& spec, CapSet* caps, std::string* error) {
  if (!ComputeCapabilities(spec.security.privileged, spec.security.cap_add, spec.security.cap_drop,
                           KernelLastCap(), caps, error))
    return false;
  *caps &= PermittedNow();
  return true;
}

bool SpecSeccomp(const ContainerSpec& spec) {
  return !spec.security.privileged && spec.security.seccomp == SeccompMode::kRuntimeDefault;
}

}  // namespace

bool ResolveIdentity(const ContainerSpec& spec, const std::string& user, ProcessIdentity* out,
                     std::string* error) {
  if (!ResolveUserInRoot(user, &out->user, error) || !SpecCaps(spec, &out->caps, error)) return false;
  out->no_new_privs = spec.security.no_new_privs;
  out->seccomp = SpecSeccomp(spec);
  return true;
}

bool PrepareSeccomp(const ContainerSpec& spec, std::vector<sock_filter>* out, std::string* error) {
  out->clear();
  CapSet caps;
  return !SpecSeccomp(spec) || (SpecCaps(spec, &caps, error) && DefaultSeccompProgram(caps, out, error));
}

namespace {

bool LoadSeccomp(const ProcessIdentity& id, std::string* error) {
  if (!id.seccomp_program.empty()) return LoadSeccompProgram(id.seccomp_program, error);
  return ApplyDefaultSeccomp(id.caps, error);
}

}  // namespace

bool ApplyIdentity(const ProcessIdentity& id, const std::vector<uint32_t>& additional_gids,
                   std::string* error) {
  // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which the
  // uid change below may take away: load it now (the profile allows every
  // call that follows).
  if (id.seccomp && !id.no_new_privs && !LoadSeccomp(id, error)) return false;
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
    *error = Errno("prctl PR_SET_KEEPCAPS");
    return false;
  }
  int last = KernelLastCap();
  for (int c = 0; c <= last; c++) {
    if ((id.caps >> c) & 1) continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL) {
      *error = Errno("prctl PR_CAPBSET_DROP " + CapabilityName(c));
      return false;
    }
  }
  std::vector<gid_t> groups = id.user.groups;
  for (uint32_t g : additional_gids) groups.push_back(g);
  if (setgroups(groups.size(), groups.data()) != 0) {
    *error = Errno("setgroups");
    return false;
  }
  if (setresgid(id.user.gid, id.user.gid, id.user.gid) != 0) {
    *error = Errno("setresgid " + std::to_string(id.user.gid));
    return false;
  }
  if (setresuid(id.user.uid, id.user.uid, id.user.uid) != 0) {
    *error = Errno("setresuid " + std::to_string(id.user.uid));
    return false;
  }
  if (!SetCapabilities(id.caps, error)) return false;
  if (id.no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    *error = Errno("prctl PR_SET_NO_NEW_PRIVS");
    return false;
  }
  if (id.seccomp && id.no_new_privs && !LoadSeccomp(id, error)) return false;
  return true;
}

std::vector<std::string> ProcessEnv(const std::vector<std::string>& env, const std::string& home,
                                    const std::string& hostname, bool tty) {
  std::vector<std::string> out = env;
  if (!HasEnv(out, "PATH"))
    out.push_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  if (!HasEnv(out, "HOSTNAME") && !hostname.empty()) out.push_back("HOSTNAME=" + hostname);
  if (tty && !HasEnv(out, "TERM")) out.push_back("TERM=xterm");
  if (!HasEnv(out, "HOME")) out.push_back("HOME=" + (home.empty() ? std::string("/") : home));
  return out;
}

void ExecProcess(const std::vector<std::string>& args, const std::vector<std::string>& env,
                 std::string* error) {
  // The process starts with every signal deliverable and at its default
  // action, as runc does: a mask or an ignored signal inherited from the
  // starter (kubit server blocks SIGTERM for its sigwait, and ignores
  // SIGPIPE) would survive execve and make the container deaf to them.
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  std::vector<char*> argv, envp;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const std::string& name = args[0];
  if (name.find('/') != std::string::npos) {
    execve(name.c_str(), argv.data(), envp.data());
    *error = Errno("exec " + name);
    return;
  }
  // PATH lookup as execvp does, but in the container's PATH.
  std::string path = EnvValue(env, "PATH");
  int first_errno = ENOENT;
  size_t start = 0;
  while (start <= path.size()) {
    size_t colon = path.find(':', start);
    if (colon == std::string::npos) colon = path.size();
    std::string dir = path.substr(start, colon - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    execve(candidate.c_str(), argv.data(), envp.data());
    if (errno != ENOENT && errno != ENOTDIR) first_errno = errno;
    start = colon + 1;
  }
  errno = first_errno;
  *error = first_errno == ENOENT
               ? "exec " + name + ": executable file not found in $PATH"
               : Errno("exec " + name);
}

bool MakeDirsInRoot(const std::string& dir, std::string* error) {
  for (size_t i = 1; i <= dir.size(); i++) {
    if (i != dir.size() && dir[i] != '/') continue;
    std::string p = dir.substr(0, i);
    if (mkdir(p.c_str(), 0755) != 0 && errno != EEXIST) {
      *error = Errno("mkdir " + p);
      return false;
    }
  }
  return true;
}

}  // namespace kubit::runtime::container
