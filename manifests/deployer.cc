#include "manifests/deployer.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "manifests/apply.h"
#include "net/pki.h"

namespace kubit::manifests {

namespace {

using Clock = std::chrono::steady_clock;

bool HasManifestExtension(const std::string& name) {
  for (const char* ext : {".yaml", ".yml", ".json"}) {
    size_t n = strlen(ext);
    if (name.size() > n && name.compare(name.size() - n, n, ext) == 0) return true;
  }
  return false;
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return !in.bad();
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : "; ") + l;
  return out;
}

}  // namespace

ManifestDeployer::ManifestDeployer(client::Client* client, DeployerOptions options)
    : client_(client), options_(std::move(options)), kinds_(client), events_(client, "kubit-deploy") {}

ManifestDeployer::~ManifestDeployer() { Stop(); }

bool ManifestDeployer::Start(std::string* error) {
  if (mkdir(options_.dir.c_str(), 0700) != 0 && errno != EEXIST) {
    *error = "mkdir " + options_.dir + ": " + strerror(errno);
    return false;
  }
  inotify_fd_ = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (inotify_fd_ < 0 ||
      inotify_add_watch(inotify_fd_, options_.dir.c_str(),
                        IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_ATTRIB) < 0) {
    *error = "inotify on " + options_.dir + ": " + strerror(errno);
    if (inotify_fd_ >= 0) close(inotify_fd_);
    inotify_fd_ = -1;
    return false;
  }
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    *error = std::string("eventfd: ") + strerror(errno);
    close(inotify_fd_);
    inotify_fd_ = -1;
    return false;
  }
  thread_ = std::thread([this] { Run(); });
  return true;
}

void ManifestDeployer::Stop() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    if (write(wake_fd_, &one, sizeof(one)) < 0) {
      // An eventfd write fails only on overflow: the thread is woken anyway.
    }
    thread_.join();
  }
  if (inotify_fd_ >= 0) close(inotify_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
  inotify_fd_ = wake_fd_ = -1;
}

void ManifestDeployer::Log(bool error, const std::string& message) {
  if (options_.log) options_.log(error, message);
}

void ManifestDeployer::Run() {
  Clock::time_point next_resync = Clock::now() + options_.resync;
  Clock::time_point due = Pass(true);
  for (;;) {
    auto now = Clock::now();
    auto until = std::min(due, next_resync);
    int timeout_ms = until <= now ? 0
                                  : static_cast<int>(std::min<int64_t>(
                                        std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count() + 1,
                                        INT32_MAX));
    pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    int n = poll(fds, 2, timeout_ms);
    if (n < 0 && errno != EINTR) {
      Log(true, std::string("poll: ") + strerror(errno));
      return;
    }
    if (fds[1].revents) return;
    if (fds[0].revents) {
      // Editors and `cp` write in several steps: let them finish, then
      // drain the events and look at the directory once.
      poll(&fds[1], 1, 300);
      if (fds[1].revents) return;
      char buf[4096];
      while (read(inotify_fd_, buf, sizeof(buf)) > 0) {
      }
    }
    bool resync = Clock::now() >= next_resync;
    if (resync) next_resync = Clock::now() + options_.resync;
    due = Pass(resync);
  }
}

bool ManifestDeployer::LoadAddons() {
  std::string error;
  if (!EnsureAddonDefinition(client_, &error)) {
    Log(true, error);
    return false;
  }
  client::Json list;
  client::Status s = client_->List(kAddons, kAddonNamespace, {}, &list);
  if (!s.ok()) {
    Log(true, "listing Addons: " + s.message());
    return false;
  }
  // Addons of files in this directory only: others are someone else's.
  const std::string prefix = options_.dir + "/";
  for (const auto& item : list["items"]) {
    Addon a = AddonFrom(item);
    if (a.source.compare(0, prefix.size(), prefix) != 0) continue;
    FileState& st = files_[a.name];
    st.path = a.source;
    st.checksum = a.checksum;
    st.objects = a.objects;
  }
  return true;
}

Clock::time_point ManifestDeployer::Pass(bool check_objects) {
  Clock::time_point retry = Clock::now() + options_.retry;
  if (!loaded_ && !(loaded_ = LoadAddons())) return retry;
  Clock::time_point due = Clock::time_point::max();

  // The files now: Addon name -> path.
  std::map<std::string, std::string> present;
  if (DIR* d = opendir(options_.dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name.empty() || name[0] == '.' || !HasManifestExtension(name)) continue;
      std::string path = options_.dir + "/" + name;
      struct stat st;
      if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      if (Exists(path + ".skip")) continue;
      std::string addon = AddonName(name);
      if (addon.empty()) {
        Log(true, "manifest " + path + ": no Addon name can be made of the file name; skipped");
        continue;
      }
      auto [it, added] = present.emplace(addon, path);
      if (!added) Log(true, "manifest " + path + ": Addon " + addon + " is " + it->second + "'s; skipped");
    }
    closedir(d);
  } else {
    Log(true, "reading " + options_.dir + ": " + strerror(errno));
    return retry;
  }

  for (const auto& [name, path] : present) {
    std::string text;
    if (!ReadFile(path, &text)) {
      Log(true, "reading " + path + ": " + strerror(errno));
      due = std::min(due, retry);
      continue;
    }
    std::string checksum = net::Sha256Hex(text);
    auto it = files_.find(name);
    if (it != files_.end() && it->second.path == path) {
      const FileState& st = it->second;
      if (!st.failed_checksum.empty() && st.failed_checksum == checksum && Clock::now() < st.retry_at) {
        due = std::min(due, st.retry_at);
        continue;
      }
      if (st.failed_checksum.empty() && st.checksum == checksum && (!check_objects || ObjectsPresent(st))) continue;
    }
    Deploy(name, path, text, checksum);
    if (!files_[name].failed_checksum.empty()) due = std::min(due, files_[name].retry_at);
  }

  std::vector<std::string> gone;
  for (const auto& [name, state] : files_) {
    if (!present.count(name)) gone.push_back(name);
  }
  for (const auto& name : gone) {
    Remove(name);
    if (files_.count(name)) due = std::min(due, retry);
  }
  return due;
}

bool ManifestDeployer::ObjectsPresent(const FileState& state) {
  for (const auto& o : state.objects) {
    ResolvedKind rk;
    std::string error;
    if (kinds_.Resolve(o.api_version, o.kind, &rk, &error) != KindResolver::kResolved) return false;
    client::Json obj;
    client::Status s = client_->Get(rk.resource, o.ns, o.name, &obj);
    if (s.IsNotFound()) return false;
    // Other errors: the server is busy or away; the next resync looks again.
  }
  return true;
}

client::Json ManifestDeployer::SaveAddon(const std::string& name, const FileState& state) {
  Addon a{name, state.path, state.checksum, state.objects};
  client::Json desired = AddonObject(a);
  client::Json current, out;
  client::Status s = client_->Get(kAddons, kAddonNamespace, name, &current);
  if (s.IsNotFound()) {
    s = client_->Create(kAddons, kAddonNamespace, desired, &out);
  } else if (s.ok()) {
    desired["metadata"] = current["metadata"];
    s = client_->Update(kAddons, kAddonNamespace, desired, &out);
  }
  if (!s.ok()) {
    Log(true, "Addon " + name + ": " + s.message());
    return nullptr;
  }
  return out;
}

void ManifestDeployer::Deploy(const std::string& name, const std::string& path, const std::string& text,
                              const std::string& checksum) {
  FileState& state = files_[name];
  FileState before = state;
  state.path = path;
  // The Addon first, so that the events below have their object.
  client::Json addon = SaveAddon(name, state);
  auto fail = [&](const std::string& why, bool retry) {
    Log(true, "manifest " + path + ": " + why);
    if (!addon.is_null()) events_.Event(addon, client::kEventTypeWarning, "ApplyManifestFailed", why);
    bool again = state.failed_checksum == checksum;
    state.failed_checksum = checksum;
    state.backoff = again ? std::min(state.backoff * 2, options_.max_retry) : options_.retry;
    state.retry_at = retry ? Clock::now() + state.backoff : Clock::time_point::max();
  };
  std::vector<client::Json> objects;
  std::string error;
  if (!ParseManifest(text, &objects, &error)) {
    fail("cannot be read: " + error, false);
    return;
  }
  if (!addon.is_null()) {
    events_.Event(addon, client::kEventTypeNormal, "ApplyingManifest", "Applying manifest at \"" + path + "\"");
  }
  ApplyResult result = ApplyObjects(client_, &kinds_, objects, options_.default_namespace);
  // What the file held before and holds no more; on a failure, also what
  // it still holds but could not be applied, so nothing is forgotten.
  std::set<ObjectRef> now(result.applied.begin(), result.applied.end());
  std::vector<ObjectRef> dropped;
  for (const auto& o : before.objects) {
    if (!now.count(o)) dropped.push_back(o);
  }
  if (!result.errors.empty()) {
    state.objects = result.applied;
    for (const auto& o : dropped) state.objects.push_back(o);
    SaveAddon(name, state);
    fail(Join(result.errors), true);
    return;
  }
  std::vector<std::string> errors = DeleteObjects(client_, &kinds_, dropped);
  state.objects = result.applied;
  if (!errors.empty()) {
    for (const auto& o : dropped) state.objects.push_back(o);
    SaveAddon(name, state);
    fail("deleting what the file no longer holds: " + Join(errors), true);
    return;
  }
  state.checksum = checksum;
  addon = SaveAddon(name, state);
  if (addon.is_null()) {
    fail("the Addon could not be saved", true);
    return;
  }
  state.failed_checksum.clear();
  state.backoff = std::chrono::seconds(0);
  Log(false, "applied manifest " + path + " (" + std::to_string(result.applied.size()) + " objects)");
  events_.Event(addon, client::kEventTypeNormal, "AppliedManifest", "Applied manifest at \"" + path + "\"");
}

void ManifestDeployer::Remove(const std::string& name) {
  FileState& state = files_[name];
  std::vector<std::string> errors = DeleteObjects(client_, &kinds_, state.objects);
  if (!errors.empty()) {
    Log(true, "manifest " + state.path + " removed; deleting its objects: " + Join(errors));
    return;
  }
  client::Status s = client_->Delete(kAddons, kAddonNamespace, name);
  if (!s.ok() && !s.IsNotFound()) {
    Log(true, "Addon " + name + ": " + s.message());
    return;
  }
  Log(false, "manifest " + state.path + " removed; deleted its " + std::to_string(state.objects.size()) +
                 " objects");
  files_.erase(name);
}

}  // namespace kubit::manifests
