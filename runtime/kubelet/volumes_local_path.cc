#include "runtime/kubelet/volumes_local_path.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

namespace kubit::kubelet {

using Json = nlohmann::json;

namespace {

constexpr const char* kAnnLocalPathDir = "kubit.io/local-path-dir";  // core/controllers/local_path_provisioner.h's
// How long after a claim's pod left the directories are checked at every
// pass (graceful termination, then the user deleting the claim), and how
// often they are checked otherwise.
constexpr auto kBusyFor = std::chrono::minutes(3);
constexpr auto kIdleScan = std::chrono::minutes(1);

}  // namespace

LocalPathVolumes::LocalPathVolumes(client::Client* client, std::string node_name, std::string data_dir,
                                   std::function<void(const std::string&)> log)
    : client_(client), node_name_(std::move(node_name)), dir_(data_dir + "/storage"), log_(std::move(log)) {}

void LocalPathVolumes::Sync() {
  auto now = std::chrono::steady_clock::now();
  bool busy = now.time_since_epoch().count() < busy_until_.load();
  if (published_ && !busy && now < next_scan_) return;
  if (now >= next_scan_) {
    // Looked at again each minute: a Node made anew has lost the annotation.
    published_ = false;
    next_scan_ = now + kIdleScan;
  }
  std::string error;
  if (!published_ && !(published_ = Publish(&error)) && log_) log_("local-path: " + error);
  RemoveDeleted();
}

void LocalPathVolumes::PodGone(const Json& pod) {
  bool claims = false;
  for (const Json& v : pod["spec"].value("volumes", Json::array()))
    claims = claims || v.contains("persistentVolumeClaim") || v.contains("ephemeral");
  if (claims) busy_until_ = (std::chrono::steady_clock::now() + kBusyFor).time_since_epoch().count();
}

bool LocalPathVolumes::Publish(std::string* error) {
  Json node;
  client::Status s = client_->Get({"", "v1", "nodes"}, "", node_name_, &node);
  if (!s.ok()) {
    *error = "cannot read node " + node_name_ + ": " + s.message();
    return false;
  }
  const Json& ann = node["metadata"].value("annotations", Json::object());
  if (ann.value(kAnnLocalPathDir, "") == dir_) return true;
  Json patch = {{"metadata", {{"annotations", {{kAnnLocalPathDir, dir_}}}}}};
  s = client_->Patch({"", "v1", "nodes"}, "", node_name_, client::PatchType::kMerge, patch.dump());
  if (!s.ok()) {
    *error = "cannot annotate node " + node_name_ + " with its storage directory: " + s.message();
    return false;
  }
  return true;
}

void LocalPathVolumes::RemoveDeleted() {
  DIR* d = opendir(dir_.c_str());
  if (!d) return;  // nothing provisioned here yet
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.rfind("pvc-", 0) == 0 && n.find('_') != std::string::npos) names.push_back(n);
  }
  closedir(d);
  for (const std::string& n : names) {
    std::string volume = n.substr(0, n.find('_'));
    Json pv;
    client::Status s = client_->Get({"", "v1", "persistentvolumes"}, "", volume, &pv);
    // Only a volume the server says is gone: an error or a refusal keeps the data.
    if (!s.IsNotFound()) continue;
    std::string error;
    if (!RemoveLocalVolumeDir(dir_ + "/" + n, &error)) {
      if (log_) log_("local-path: " + error);
      continue;
    }
    if (log_) log_("local-path: removed " + dir_ + "/" + n + " of deleted volume " + volume);
  }
}

bool RemoveLocalVolumeDir(const std::string& path, std::string* error) {
  struct stat root;
  if (lstat(path.c_str(), &root) != 0) {
    if (errno == ENOENT) return true;
    *error = "stat " + path + ": " + strerror(errno);
    return false;
  }
  std::vector<std::string> stack = {path}, order;
  while (!stack.empty()) {
    std::string p = stack.back();
    stack.pop_back();
    order.push_back(p);
    struct stat st;
    if (lstat(p.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    if (st.st_dev != root.st_dev) {
      *error = "remove " + path + ": " + p + " is a mount point";
      return false;
    }
    if (DIR* d = opendir(p.c_str())) {
      while (dirent* e = readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") stack.push_back(p + "/" + n);
      }
      closedir(d);
    }
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    struct stat st;
    if (lstat(it->c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode) ? rmdir(it->c_str()) != 0 : unlink(it->c_str()) != 0) {
      *error = "remove " + *it + ": " + strerror(errno);
      return false;
    }
  }
  return true;
}

}  // namespace kubit::kubelet
