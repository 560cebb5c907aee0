#include "runtime/kubelet/host_info.h"

#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cctype>
#include <fstream>
#include <sstream>

namespace kubit::kubelet {
namespace {

std::string FirstLine(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  std::getline(f, line);
  while (!line.empty() && isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
  return line;
}

// "MemTotal:  16318412 kB" -> bytes.
int64_t MeminfoBytes(const std::string& text, const std::string& field) {
  size_t p = text.find("\n" + field + ":");
  if (p == std::string::npos && text.rfind(field + ":", 0) == 0) p = 0;
  else if (p == std::string::npos) return 0;
  else p++;
  std::istringstream in(text.substr(p + field.size() + 1));
  int64_t kb = 0;
  in >> kb;
  return kb * 1024;
}

std::string OsImage() {
  std::ifstream f("/etc/os-release");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("PRETTY_NAME=", 0) != 0) continue;
    std::string v = line.substr(12);
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'')) v = v.substr(1, v.size() - 2);
    return v;
  }
  return "Linux";
}

}  // namespace

const char* GoArch() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__arm__)
  return "arm";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#else
  return "unknown";
#endif
}

HostInfo ReadHostInfo(const std::string& data_dir) {
  HostInfo h;
  h.cpus = sysconf(_SC_NPROCESSORS_ONLN);
  std::ifstream mf("/proc/meminfo");
  std::stringstream ms;
  ms << mf.rdbuf();
  h.memory_bytes = MeminfoBytes(ms.str(), "MemTotal");
  h.memory_available_bytes = MeminfoBytes(ms.str(), "MemAvailable");
  struct statvfs st;
  if (statvfs(data_dir.c_str(), &st) == 0) {
    h.storage_bytes = static_cast<int64_t>(st.f_blocks) * static_cast<int64_t>(st.f_frsize);
    h.storage_free_bytes = static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
  }
  h.machine_id = FirstLine("/etc/machine-id");
  h.system_uuid = FirstLine("/sys/class/dmi/id/product_uuid");
  h.boot_id = FirstLine("/proc/sys/kernel/random/boot_id");
  struct utsname u;
  if (uname(&u) == 0) h.kernel_version = u.release;
  h.os_image = OsImage();
  h.architecture = GoArch();
  char host[256] = "";
  if (gethostname(host, sizeof(host) - 1) == 0) h.hostname = host;
  return h;
}

}  // namespace kubit::kubelet
