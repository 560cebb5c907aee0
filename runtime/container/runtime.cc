#include "runtime/container/runtime.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>

#include "runtime/container/launcher.h"
#include "runtime/container/layout.h"
#include "runtime/container/process_setup.h"
#include "runtime/container/shim_client.h"
#include "runtime/container/spec_json.h"

namespace kubit::runtime::container {
namespace {

std::string Absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof(cwd))) return path;
  return std::string(cwd) + "/" + path;
}

bool MakeDirs(const std::string& path, mode_t mode, std::string* error) {
  for (size_t i = 1; i <= path.size(); i++) {
    if (i != path.size() && path[i] != '/') continue;
    std::string p = path.substr(0, i);
    if (mkdir(p.c_str(), mode) != 0 && errno != EEXIST) {
      *error = Errno("mkdir " + p);
      return false;
    }
  }
  return true;
}

bool WriteFileAtomic(const std::string& path, const std::string& data, std::string* error) {
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = Errno("open " + tmp);
    return false;
  }
  bool ok = write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    *error = Errno("write " + path);
    unlink(tmp.c_str());
    return false;
  }
  return true;
}

bool ReadFile(const std::string& path, std::string* out, std::string* error) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = Errno("open " + path);
    return false;
  }
  char buf[8192];
  ssize_t n;
  out->clear();
  while ((n = read(fd, buf, sizeof(buf))) > 0) out->append(buf, n);
  close(fd);
  return true;
}

}  // namespace

Runtime::Runtime(const std::string& data_dir, const std::string& cgroup_root)
    : data_dir_(Absolute(data_dir)), cgroups_(cgroup_root), specs_(std::make_shared<SpecCache>()) {
  while (data_dir_.size() > 1 && data_dir_.back() == '/') data_dir_.pop_back();
}

std::string Runtime::CgroupOf(const ContainerSpec& spec) const {
  return ContainerCgroup(data_dir_, spec.cgroup_parent, spec.id);
}

std::string Runtime::LogPath(const ContainerSpec& spec) const {
  return spec.log_path.empty() ? ContainerDir(data_dir_, spec.id) + "/container.log"
                               : spec.log_path;
}

bool Runtime::Start(const ContainerSpec& spec, const StartOptions& options, Started* out,
                    std::string* error) {
  if (!ValidateSpec(spec, error)) return false;
  std::string dir = ContainerDir(data_dir_, spec.id);
  if (!MakeDirs(ContainersDir(data_dir_), 0700, error)) return false;
  if (mkdir(dir.c_str(), 0700) != 0) {
    *error = errno == EEXIST ? "container " + spec.id + " already exists (kubit ctr rm " +
                                   spec.id + " removes it)"
                             : Errno("mkdir " + dir);
    return false;
  }
  std::string cgroup = CgroupOf(spec);
  auto undo = [&]() {
    std::string ignored;
    cgroups_.Remove(cgroup, &ignored);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  };
  for (const char* sub : {"/rootfs", "/upper", "/work"})
    if (mkdir((dir + sub).c_str(), 0755) != 0) {
      *error = Errno("mkdir " + dir + sub);
      undo();
      return false;
    }
  std::string log = LogPath(spec);
  if (!WriteFileAtomic(dir + "/spec.json", SpecToJson(spec), error) ||
      !MakeDirs(log.substr(0, log.rfind('/')), 0755, error) ||
      !cgroups_.Create(cgroup, spec.resources, spec.security.privileged, error)) {
    undo();
    return false;
  }
  LaunchConfig lc;
  lc.spec = &spec;
  lc.container_dir = dir;
  lc.log_path = log;
  lc.oom_file = cgroups_.OomEventsFile(cgroup);
  lc.cgroup = cgroup;
  lc.cgroup_root = cgroups_.root();
  lc.attach = options.attach;
  Launched launched;
  if (!Launch(lc, &launched, error)) {
    undo();
    return false;
  }
  out->pid = launched.pid;
  out->done_fd = launched.done_fd;
  return true;
}

bool Runtime::Get(const std::string& id, ContainerInfo* out, std::string* error) {
  std::string dir = ContainerDir(data_dir_, id);
  std::shared_ptr<const ContainerSpec> spec = SharedSpec(id, error);
  if (!spec) return false;
  out->id = id;
  out->image = spec->image;
  std::string state_error;
  if (!ReadState(dir + "/state", &out->state, &state_error)) {
    if (access((dir + "/state").c_str(), F_OK) == 0) {
      *error = state_error;
      return false;
    }
    out->state = ContainerState();
    out->state.status = ContainerStatus::kCreated;
    return true;
  }
  ContainerState& s = out->state;
  if (s.status == ContainerStatus::kRunning && !ProcessAlive(s.shim_pid, s.shim_start)) {
    // The shim may have just written the exit and gone: read again first.
    ContainerState again;
    if (ReadState(dir + "/state", &again, &state_error) &&
        again.status != ContainerStatus::kRunning) {
      s = again;
      return true;
    }
    s.status = ContainerStatus::kUnknown;
    s.finished_at_ns = NowNs();
    int err;
    WriteState((dir + "/state").c_str(), s, &err);
  }
  return true;
}

struct Runtime::SpecCache {
  struct Entry {
    dev_t dev;
    ino_t ino;
    off_t size;
    int64_t mtime_ns;
    std::shared_ptr<const ContainerSpec> spec;
  };
  std::mutex mu;
  std::map<std::string, Entry> by_id;
};

std::shared_ptr<const ContainerSpec> Runtime::SharedSpec(const std::string& id, std::string* error) {
  std::string dir = ContainerDir(data_dir_, id), text;
  if (id.empty() || id.find('/') != std::string::npos || id[0] == '.' ||
      access(dir.c_str(), F_OK) != 0) {
    std::lock_guard<std::mutex> lock(specs_->mu);
    specs_->by_id.erase(id);
    *error = "no such container: " + id;
    return nullptr;
  }
  std::string path = dir + "/spec.json";
  struct stat st;
  bool stated = stat(path.c_str(), &st) == 0;
  int64_t mtime_ns = stated ? int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec : 0;
  if (stated) {
    std::lock_guard<std::mutex> lock(specs_->mu);
    auto it = specs_->by_id.find(id);
    if (it != specs_->by_id.end() && it->second.dev == st.st_dev && it->second.ino == st.st_ino &&
        it->second.size == st.st_size && it->second.mtime_ns == mtime_ns)
      return it->second.spec;
  }
  auto spec = std::make_shared<ContainerSpec>();
  if (!ReadFile(path, &text, error) || !SpecFromJson(text, spec.get(), error)) return nullptr;
  if (stated) {
    std::lock_guard<std::mutex> lock(specs_->mu);
    specs_->by_id[id] = {st.st_dev, st.st_ino, st.st_size, mtime_ns, spec};
  }
  return spec;
}

bool Runtime::LoadSpec(const std::string& id, ContainerSpec* out, std::string* error) {
  std::shared_ptr<const ContainerSpec> spec = SharedSpec(id, error);
  if (!spec) return false;
  *out = *spec;
  return true;
}

bool Runtime::List(std::vector<ContainerInfo>* out, std::string* error) {
  out->clear();
  DIR* d = opendir(ContainersDir(data_dir_).c_str());
  if (!d) {
    if (errno == ENOENT) return true;
    *error = Errno("open " + ContainersDir(data_dir_));
    return false;
  }
  std::vector<std::string> ids;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ids.push_back(e->d_name);
  closedir(d);
  std::sort(ids.begin(), ids.end());
  for (const auto& id : ids) {
    ContainerInfo info;
    std::string ignored;
    // A directory caught halfway through Start or Remove is skipped.
    if (Get(id, &info, &ignored)) out->push_back(std::move(info));
  }
  return true;
}

bool Runtime::Kill(const std::string& id, int signal, std::string* error) {
  ContainerInfo info;
  if (!Get(id, &info, error)) return false;
  if (info.state.status != ContainerStatus::kRunning) {
    *error = "container " + id + " is not running (" + StatusName(info.state.status) + ")";
    return false;
  }
  if (!ShimRequest(ContainerDir(data_dir_, id), "kill " + std::to_string(signal), error)) {
    *error = "kill container " + id + ": " + *error;
    return false;
  }
  return true;
}

bool Runtime::Wait(const std::string& id, int timeout_ms, bool* exited, std::string* error) {
  ContainerInfo info;
  if (!Get(id, &info, error)) return false;
  if (info.state.status != ContainerStatus::kRunning) {
    *exited = true;
    return true;
  }
  return ShimWait(ContainerDir(data_dir_, id), timeout_ms, exited, error);
}

bool Runtime::Stop(const std::string& id, int grace_ms, int signal, std::string* error) {
  bool exited = false;
  if (!Kill(id, signal, error)) {
    // Already gone is a stopped container.
    ContainerInfo info;
    return Get(id, &info, error) && info.state.status != ContainerStatus::kRunning;
  }
  if (!Wait(id, grace_ms, &exited, error)) return false;
  if (exited) return true;
  std::string ignored;
  Kill(id, SIGKILL, &ignored);
  if (!Wait(id, 10000, &exited, error)) return false;
  if (!exited) *error = "container " + id + " did not exit after SIGKILL";
  return exited;
}

bool Runtime::Remove(const std::string& id, bool force, std::string* error) {
  ContainerInfo info;
  ContainerSpec spec;
  if (!Get(id, &info, error) || !LoadSpec(id, &spec, error)) return false;
  std::string cgroup = CgroupOf(spec);
  if (info.state.status == ContainerStatus::kRunning) {
    if (!force) {
      *error = "container " + id + " is running: stop it first, or remove it with --force";
      return false;
    }
    if (!Stop(id, 0, SIGKILL, error)) return false;
  }
  // Processes the shim no longer watches (its record is unknown) go too.
  for (pid_t p : cgroups_.Processes(cgroup)) kill(p, SIGKILL);
  if (!cgroups_.Remove(cgroup, error)) return false;
  std::error_code ec;
  std::filesystem::remove_all(ContainerDir(data_dir_, id), ec);
  {
    std::lock_guard<std::mutex> lock(specs_->mu);
    specs_->by_id.erase(id);
  }
  if (ec) {
    *error = "remove " + ContainerDir(data_dir_, id) + ": " + ec.message();
    return false;
  }
  return true;
}

bool Runtime::Exec(const std::string& id, const ExecOptions& options, int* exit_code,
                   std::string* error) {
  ContainerInfo info;
  ContainerSpec spec;
  if (!Get(id, &info, error) || !LoadSpec(id, &spec, error)) return false;
  if (info.state.status != ContainerStatus::kRunning) {
    *error = "container " + id + " is not running";
    return false;
  }
  ExecTarget t;
  t.spec = &spec;
  t.pid = info.state.pid;
  t.cgroup_dirs = cgroups_.Dirs(CgroupOf(spec));
  return ExecInContainer(t, options, exit_code, error);
}

bool Runtime::Stats(const std::string& id, CgroupStats* out, std::string* error) {
  ContainerSpec spec;
  if (!LoadSpec(id, &spec, error)) return false;
  return cgroups_.Stats(CgroupOf(spec), out, error);
}

}  // namespace kubit::runtime::container
