#include "runtime/container/seccomp_profile.h"

#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <linux/seccomp.h>

namespace kubit::runtime::container {
namespace {

constexpr int kNever = -1;

// From moby profiles/seccomp/default.json: what a container without extra
// capabilities cannot call, and the capability that moby's "includes"
// sections let enable each. Syscalls that do not exist on an architecture
// are skipped when the filter is built.
constexpr SeccompRule kRules[] = {
    // Kernel keyrings are not namespaced.
    {"add_key", kNever}, {"keyctl", kNever}, {"request_key", kNever},
    // Kernel modules and the running kernel.
    {"init_module", CAP_SYS_MODULE}, {"finit_module", CAP_SYS_MODULE},
    {"delete_module", CAP_SYS_MODULE}, {"create_module", kNever},
    {"get_kernel_syms", kNever}, {"query_module", kNever},
    {"kexec_load", CAP_SYS_BOOT}, {"kexec_file_load", CAP_SYS_BOOT},
    {"reboot", CAP_SYS_BOOT},
    // The clock is the host's.
    {"settimeofday", CAP_SYS_TIME}, {"stime", CAP_SYS_TIME},
    {"clock_settime", CAP_SYS_TIME}, {"clock_settime64", CAP_SYS_TIME},
    {"clock_adjtime", CAP_SYS_TIME}, {"clock_adjtime64", CAP_SYS_TIME},
    // Mounts and namespaces.
    {"mount", CAP_SYS_ADMIN}, {"umount", CAP_SYS_ADMIN}, {"umount2", CAP_SYS_ADMIN},
    {"pivot_root", CAP_SYS_ADMIN}, {"move_mount", CAP_SYS_ADMIN},
    {"open_tree", CAP_SYS_ADMIN}, {"fsopen", CAP_SYS_ADMIN}, {"fsconfig", CAP_SYS_ADMIN},
    {"fsmount", CAP_SYS_ADMIN}, {"fspick", CAP_SYS_ADMIN}, {"mount_setattr", CAP_SYS_ADMIN},
    {"unshare", CAP_SYS_ADMIN}, {"setns", CAP_SYS_ADMIN},
    {"quotactl", CAP_SYS_ADMIN}, {"quotactl_fd", CAP_SYS_ADMIN},
    {"swapon", CAP_SYS_ADMIN}, {"swapoff", CAP_SYS_ADMIN},
    {"lookup_dcookie", CAP_SYS_ADMIN}, {"fanotify_init", CAP_SYS_ADMIN},
    {"bpf", CAP_SYS_ADMIN}, {"perf_event_open", CAP_SYS_ADMIN},
    {"name_to_handle_at", CAP_SYS_ADMIN},
    {"open_by_handle_at", CAP_DAC_READ_SEARCH},
    // Other processes' descriptors and memory (ptrace and process_vm_*
    // moby allows on kernels >= 4.8, where ptrace respects the pid namespace).
    {"kcmp", CAP_SYS_PTRACE},
    {"pidfd_getfd", CAP_SYS_PTRACE}, {"process_madvise", CAP_SYS_PTRACE},
    {"userfaultfd", CAP_SYS_PTRACE},
    // NUMA policy of the host's memory.
    {"mbind", CAP_SYS_NICE}, {"set_mempolicy", CAP_SYS_NICE}, {"get_mempolicy", CAP_SYS_NICE},
    {"move_pages", CAP_SYS_NICE},
    // Hardware and accounting.
    {"iopl", CAP_SYS_RAWIO}, {"ioperm", CAP_SYS_RAWIO}, {"acct", CAP_SYS_PACCT},
    {"syslog", CAP_SYSLOG}, {"vhangup", CAP_SYS_TTY_CONFIG},
    // Obsolete or unsafe.
    {"nfsservctl", kNever}, {"sysfs", kNever}, {"_sysctl", kNever}, {"uselib", kNever},
    {"ustat", kNever}, {"vm86", kNever}, {"vm86old", kNever},
    {"io_uring_setup", kNever}, {"io_uring_enter", kNever}, {"io_uring_register", kNever},
};

// The namespace flags of clone that moby refuses without CAP_SYS_ADMIN.
constexpr unsigned long kCloneNamespaceFlags[] = {
    CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
    CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP,
};

bool Has(CapSet caps, int cap) { return cap >= 0 && (caps >> cap) & 1; }

std::string Failed(const char* what, int rc) {
  return std::string("seccomp: ") + what + ": " + strerror(-rc);
}

}  // namespace

const SeccompRule* DefaultSeccompRules(int* count) {
  *count = sizeof(kRules) / sizeof(kRules[0]);
  return kRules;
}

bool DefaultSeccompProgram(CapSet caps, std::vector<sock_filter>* out, std::string* error) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) {
    *error = "seccomp_init failed";
    return false;
  }
  // The compat ABIs get the same rules: without them a 32-bit syscall
  // number would slip past a 64-bit-only deny list.
  int rc = 0;
#if defined(__x86_64__)
  for (uint32_t arch : {SCMP_ARCH_X86, SCMP_ARCH_X32})
    if ((rc = seccomp_arch_add(ctx, arch)) != 0 && rc != -EEXIST) break;
#elif defined(__aarch64__)
  if ((rc = seccomp_arch_add(ctx, SCMP_ARCH_ARM)) == -EEXIST) rc = 0;
#endif
  if (rc != 0 && rc != -EEXIST) {
    seccomp_release(ctx);
    *error = Failed("adding the compat architectures", rc);
    return false;
  }
  for (const auto& r : kRules) {
    if (Has(caps, r.allowed_by_cap)) continue;
    int nr = seccomp_syscall_resolve_name(r.syscall);
    if (nr == __NR_SCMP_ERROR) continue;
    if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0)) != 0) {
      seccomp_release(ctx);
      *error = Failed(r.syscall, rc);
      return false;
    }
  }
  if (!Has(caps, CAP_SYS_ADMIN)) {
    for (unsigned long flag : kCloneNamespaceFlags) {
      rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                            SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag));
      if (rc != 0) break;
    }
    int clone3 = seccomp_syscall_resolve_name("clone3");
    if (rc == 0 && clone3 != __NR_SCMP_ERROR)
      rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), clone3, 0);
    if (rc != 0) {
      seccomp_release(ctx);
      *error = Failed("clone rules", rc);
      return false;
    }
  }
  // libseccomp 2.5 exports to a descriptor only.
  int fd = memfd_create("seccomp", MFD_CLOEXEC);
  if (fd < 0) {
    seccomp_release(ctx);
    *error = std::string("memfd_create: ") + strerror(errno);
    return false;
  }
  rc = seccomp_export_bpf(ctx, fd);
  seccomp_release(ctx);
  off_t size = rc == 0 ? lseek(fd, 0, SEEK_END) : -1;
  out->assign(size > 0 ? size / sizeof(sock_filter) : 0, sock_filter{});
  bool read_ok = size > 0 && size % sizeof(sock_filter) == 0 &&
                 pread(fd, out->data(), size, 0) == static_cast<ssize_t>(size);
  close(fd);
  if (rc != 0 || !read_ok) {
    *error = rc != 0 ? Failed("export", rc) : "seccomp: the exported program could not be read back";
    return false;
  }
  return true;
}

bool LoadSeccompProgram(const std::vector<sock_filter>& program, std::string* error) {
  sock_fprog prog{static_cast<unsigned short>(program.size()), const_cast<sock_filter*>(program.data())};
  if (program.empty() || program.size() > BPF_MAXINSNS || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
    *error = std::string("seccomp: loading the filter: ") + (program.empty() ? "empty program" : strerror(errno));
    return false;
  }
  return true;
}

bool ApplyDefaultSeccomp(CapSet caps, std::string* error) {
  std::vector<sock_filter> program;
  return DefaultSeccompProgram(caps, &program, error) && LoadSeccompProgram(program, error);
}

}  // namespace kubit::runtime::container
