#include "runtime/kubelet/pod_worker.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>

#include "core/api/meta.h"
#include "runtime/container/cgroup.h"
#include "runtime/container/cri_log.h"
#include "runtime/container/layout.h"
#include "runtime/container/sandbox.h"
#include "runtime/container/signal_name.h"
#include "runtime/image/reference.h"
#include "runtime/kubelet/container_spec.h"
#include "runtime/kubelet/env.h"
#include "runtime/kubelet/pod_naming.h"
#include "runtime/kubelet/pull_secrets.h"
#include "runtime/kubelet/static_pods.h"
#include "runtime/kubelet/volumes.h"

namespace kubit::kubelet {

using Json = nlohmann::json;
namespace ctr = runtime::container;
namespace img = runtime::image;

namespace {

const client::Resource kPods{"", "v1", "pods"};
const client::Resource kServiceAccounts{"", "v1", "serviceaccounts"};
const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

std::string TimeOf(int64_t ns) {
  if (ns <= 0) return "";
  time_t s = static_cast<time_t>(ns / 1000000000);
  tm t;
  gmtime_r(&s, &t);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &t);
  return buf;
}

std::chrono::system_clock::time_point SystemTimeOf(int64_t ns) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(ns)));
}

// Replaces the file unless it already holds `data`: a worker calls this on
// every sync, and rewriting unchanged files would wear a board's flash.
bool WriteFile(const std::string& path, const std::string& data, std::string* error) {
  {
    std::ifstream in(path, std::ios::binary);
    std::string old((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.good() || in.eof())
      if (old == data && !old.empty()) return true;
  }
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write(fd, data.data(), data.size()) != ssize_t(data.size())) {
    *error = "write " + tmp + ": " + strerror(errno);
    if (fd >= 0) close(fd);
    return false;
  }
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    *error = "rename " + tmp + ": " + strerror(errno);
    return false;
  }
  return true;
}

std::string ReadText(const std::string& path, size_t max = 1 << 20) {
  std::ifstream in(path, std::ios::binary);
  std::string s;
  char buf[4096];
  while (in && s.size() < max) {
    in.read(buf, sizeof(buf));
    s.append(buf, size_t(in.gcount()));
  }
  if (s.size() > max) s.resize(max);
  return s;
}

bool MkdirAll(const std::string& path, mode_t mode) {
  for (size_t i = 1; i <= path.size(); i++) {
    if (i != path.size() && path[i] != '/') continue;
    if (mkdir(path.substr(0, i).c_str(), mode) != 0 && errno != EEXIST) return false;
  }
  return true;
}

void RemoveTree(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    if (DIR* d = opendir(path.c_str())) {
      while (dirent* e = readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") RemoveTree(path + "/" + n);
      }
      closedir(d);
    }
    rmdir(path.c_str());
  } else {
    unlink(path.c_str());
  }
}

// The last lines of a CRI log's content, for FallbackToLogsOnError: up to
// 80 lines and 2048 bytes, as upstream.
std::string LogTail(const std::string& log_path) {
  std::istringstream in(ReadText(log_path, 4 << 20));
  std::vector<std::string> lines;
  std::string line, cur;
  while (std::getline(in, line)) {
    ctr::CriRecord r;
    if (!ctr::ParseCriLine(line, &r)) continue;
    cur += r.content;
    if (!r.partial) {
      lines.push_back(cur + "\n");
      cur.clear();
    }
  }
  std::string out;
  for (size_t i = lines.size() > 80 ? lines.size() - 80 : 0; i < lines.size(); i++) out += lines[i];
  if (out.size() > 2048) out = out.substr(out.size() - 2048);
  return out;
}

bool IsSidecar(const Json& c) { return c.value("restartPolicy", "") == "Always"; }

// The image reference as the pod status shows imageID: repository@digest.
std::string ImageId(const img::Image& image) {
  std::string repo = image.name;
  size_t slash = repo.rfind('/'), colon = repo.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) repo.resize(colon);
  return repo + "@" + image.digest;
}

// The pod as the worker runs it: the service account token volume added
// (kubit's API server does not add it at admission, as upstream's
// ServiceAccount admission plugin does, so the kubelet does) unless the pod
// opts out or mounts something there itself.
Json WithServiceAccountVolume(const Json& pod, bool account_automounts) {
  const Json& spec = pod["spec"];
  // The pod's automountServiceAccountToken wins over its ServiceAccount's.
  bool automount = spec.contains("automountServiceAccountToken") && spec["automountServiceAccountToken"].is_boolean()
                       ? spec["automountServiceAccountToken"].get<bool>()
                       : account_automounts;
  if (!automount) return pod;
  for (const auto& v : spec.value("volumes", Json::array()))
    if (v.value("name", "").rfind("kube-api-access-", 0) == 0) return pod;
  Json out = pod;
  std::string name = "kube-api-access-" + pod["metadata"].value("uid", "").substr(0, 5);
  Json volume = {
      {"name", name},
      {"projected",
       {{"defaultMode", 0644},
        {"sources",
         {{{"serviceAccountToken", {{"expirationSeconds", 3607}, {"path", "token"}}}},
          {{"configMap", {{"name", "kube-root-ca.crt"}, {"items", {{{"key", "ca.crt"}, {"path", "ca.crt"}}}}}}},
          {{"downwardAPI",
            {{"items", {{{"path", "namespace"}, {"fieldRef", {{"apiVersion", "v1"}, {"fieldPath", "metadata.namespace"}}}}}}}}}}}}}};
  out["spec"]["volumes"].push_back(volume);
  for (const char* list : {"initContainers", "containers"}) {
    if (!out["spec"].contains(list)) continue;
    for (auto& c : out["spec"][list]) {
      bool taken = false;
      for (const auto& m : c.value("volumeMounts", Json::array()))
        if (m.value("mountPath", "") == kServiceAccountDir) taken = true;
      if (!taken)
        c["volumeMounts"].push_back({{"name", name}, {"mountPath", kServiceAccountDir}, {"readOnly", true}});
    }
  }
  return out;
}

int GracePeriod(const Json& pod) {
  return static_cast<int>(pod["spec"].value("terminationGracePeriodSeconds", int64_t{30}));
}

// The container's image is not the one its running container was made from
// (both normalised: "busybox" is "docker.io/library/busybox:latest").
bool ImageChanged(const Json& c, const std::string& running) {
  img::Reference r;
  std::string error;
  if (running.empty() || !img::ParseReference(c.value("image", ""), &r, &error)) return false;
  return r.String() != running;
}

}  // namespace

struct PodWorker::Attempt {
  std::string id;
  ctr::ContainerInfo info;
  bool known = false;       // info was read
  bool start_error = false;  // the runtime could not start it: no container exists
  Terminated error_state;
  int64_t failed_at_ns = 0;
  mutable std::optional<Terminated> final_state;  // once it has ended
};

struct PodWorker::Slot {
  bool init = false, sidecar = false;
  std::map<int, Attempt> attempts;
  std::string waiting_reason, waiting_message;
  std::string image_name, image_id;
  std::string probed_id;  // the container the trackers below are for
  std::unique_ptr<ProbeTracker> startup, liveness, readiness;
  int backoff_event_for = -1;  // the attempt whose crash-loop was reported
  std::chrono::system_clock::time_point pull_failed_at{};
  // After a config error (a missing key, say), the next try; 5 s later.
  std::chrono::steady_clock::time_point retry_at{};

  const Attempt* Latest() const { return attempts.empty() ? nullptr : &attempts.rbegin()->second; }
  int LatestN() const { return attempts.empty() ? -1 : attempts.rbegin()->first; }
  bool Running() const {
    const Attempt* a = Latest();
    return a && !a->start_error && a->known && a->info.state.status == ctr::ContainerStatus::kRunning;
  }
  bool Exited() const {
    const Attempt* a = Latest();
    return a && (a->start_error || (a->known && a->info.state.status != ctr::ContainerStatus::kRunning));
  }
  // Exit code of the latest attempt (start errors: 128, as containerd's StartError).
  int ExitCode() const {
    const Attempt* a = Latest();
    if (!a) return 0;
    if (a->start_error) return a->error_state.exit_code;
    if (a->info.state.status == ctr::ContainerStatus::kUnknown) return 137;
    return a->info.state.exit_code;
  }
};

bool PodWorker::DeadlineExceeded(const Json& pod) const {
  const Json& spec = pod["spec"];
  if (!spec.contains("activeDeadlineSeconds") || !spec["activeDeadlineSeconds"].is_number_integer())
    return false;
  struct tm t = {};
  if (!strptime(start_time_.c_str(), "%Y-%m-%dT%H:%M:%SZ", &t)) return false;
  return time(nullptr) - timegm(&t) >= spec["activeDeadlineSeconds"].get<int64_t>();
}

PodWorker::PodWorker(const KubeletDeps* deps, std::string uid, std::vector<std::string> adopted)
    : deps_(deps), uid_(std::move(uid)), adopted_(std::move(adopted)) {}

PodWorker::~PodWorker() { Stop(); }

void PodWorker::Log(const std::string& m) const {
  if (deps_->log) deps_->log(m);
}

void PodWorker::Update(client::ObjectPtr pod) {
  std::lock_guard<std::mutex> lock(mu_);
  if (pod) pod_ = std::move(pod);
  else gone_ = true;
  pod_changed_ = true;
  cv_.notify_all();
}

void PodWorker::ResendStatus() {
  resend_status_ = true;
  std::lock_guard<std::mutex> lock(mu_);
  pod_changed_ = true;
  cv_.notify_all();
}

void PodWorker::Wake() {
  std::lock_guard<std::mutex> lock(mu_);
  pod_changed_ = true;
  cv_.notify_all();
}

void PodWorker::Start() { thread_ = std::thread([this] { Run(); }); }

void PodWorker::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void PodWorker::Run() {
  for (const auto& id : adopted_) {
    std::string uid, name;
    int n = 0;
    if (!ParseContainerId(id, &uid, &name, &n)) continue;
    auto& slot = slots_[name];
    if (!slot) slot = std::make_unique<Slot>();
    slot->attempts[n].id = id;
  }
  while (true) {
    client::ObjectPtr pod;
    bool gone;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      pod = pod_;
      gone = gone_;
      pod_changed_ = false;
    }
    if (!pod) return;
    if (!account_checked_) {
      // Once per pod: the ServiceAccount's automountServiceAccountToken.
      const Json& m = (*pod)["metadata"];
      Json sa;
      std::string error;
      Lookup l = deps_->objects("serviceaccounts", m.value("namespace", "default"),
                                (*pod)["spec"].value("serviceAccountName", "default"), &sa, &error);
      if (l == Lookup::kFound && sa.contains("automountServiceAccountToken") &&
          sa["automountServiceAccountToken"] == false)
        account_automounts_ = false;
      account_checked_ = l != Lookup::kError || IsStaticPod(*pod);
    }
    Json p = WithServiceAccountVolume(*pod, account_automounts_);
    Clock::time_point wake;
    if (gone || p["metadata"].contains("deletionTimestamp")) {
      if (Terminate(p, gone, &wake)) {
        finished_ = true;
        return;
      }
    } else {
      wake = Sync(p);
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_until(lock, wake, [&] { return stopping_ || pod_changed_; });
  }
}

bool PodWorker::EnsureSandbox(const Json& pod, std::string* error) {
  std::string sid = SandboxId(uid_);
  std::string dir = ctr::SandboxDir(deps_->data_dir, sid);
  if (!ctr::SandboxAlive(deps_->data_dir, sid)) {
    // None yet, or one whose namespaces are gone (killall, a reboot): its
    // leftover directory goes, and the pod's address is set up anew.
    ctr::SandboxPaths paths;
    if (!ctr::RemoveSandbox(deps_->data_dir, sid, error) ||
        !ctr::CreateSandbox(deps_->data_dir, sid, PodHostname(pod), &paths, error))
      return false;
    pod_ip_.clear();
  }
  bool host_net = pod["spec"].value("hostNetwork", false);
  if (host_net) {
    pod_ip_ = deps_->host_ip;
  } else if (deps_->network && pod_ip_.empty()) {
    net::PodNetwork* network = deps_->network(error);
    if (!network) return false;
    std::vector<net::PortMapping> ports;
    for (const auto& c : pod["spec"].value("containers", Json::array()))
      for (const auto& p : c.value("ports", Json::array()))
        if (p.value("hostPort", 0) > 0)
          ports.push_back({p.value("protocol", "TCP"), p.value("containerPort", 0),
                           p.value("hostPort", 0), p.value("hostIP", "")});
    if (!network->Setup(sid, dir + "/net", ports, &pod_ip_, error)) return false;
  }
  return true;
}

bool PodWorker::WritePodFiles(const Json& pod, std::string* error) {
  std::string dir = PodDir(deps_->data_dir, uid_);
  if (!MkdirAll(dir, 0750)) {
    *error = "mkdir " + dir + ": " + strerror(errno);
    return false;
  }
  return WriteFile(dir + "/etc-hosts", HostsFile(pod, pod_ip_, deps_->dns, ReadText("/etc/hosts")), error) &&
         WriteFile(dir + "/resolv.conf", ResolvConf(pod, deps_->dns, ReadText(deps_->dns.resolv_conf)), error) &&
         WriteFile(dir + "/hostname", PodHostname(pod) + "\n", error);
}

void PodWorker::Observe() {
  for (auto& [name, slot] : slots_)
    for (auto it = slot->attempts.begin(); it != slot->attempts.end();) {
      Attempt& a = it->second;
      if (a.start_error) {
        ++it;
        continue;
      }
      std::string error;
      if (!deps_->runtime->Get(a.id, &a.info, &error)) {
        // Removed behind our back (`kubit ctr rm`): forget it.
        it = slot->attempts.erase(it);
        continue;
      }
      a.known = true;
      ++it;
    }
}

bool PodWorker::EnsureImage(const Json& pod, const Json& c, Slot* slot, img::Image* image) {
  std::string ref = c.value("image", "");
  std::string field = ContainerFieldPath(slot->init, c.value("name", ""));
  std::string policy = c.value("imagePullPolicy", "");
  if (policy.empty()) {
    // Upstream's default: Always for :latest or no tag, else IfNotPresent.
    size_t slash = ref.rfind('/'), colon = ref.rfind(':');
    bool tagged = colon != std::string::npos && (slash == std::string::npos || colon > slash);
    bool digest = ref.find('@') != std::string::npos;
    policy = digest || (tagged && ref.substr(colon + 1) != "latest") ? "IfNotPresent" : "Always";
  }
  std::string error;
  bool present = deps_->images->Get(ref, image, &error);
  if (present && policy != "Always") {
    deps_->events->Record(pod, field, "Normal", "Pulled",
                          "Container image \"" + ref + "\" already present on machine");
    return true;
  }
  if (policy == "Never") {
    slot->waiting_reason = "ErrImageNeverPull";
    slot->waiting_message = "Container image \"" + ref + "\" is not present with pull policy of Never";
    deps_->events->Record(pod, field, "Warning", "ErrImageNeverPull", slot->waiting_message);
    return false;
  }
  std::string key = uid_ + "/" + ref;
  auto now = std::chrono::system_clock::now();
  if (slot->pull_failed_at.time_since_epoch().count() != 0 &&
      pull_backoff_.InBackOffSince(key, slot->pull_failed_at, now)) {
    slot->waiting_reason = "ImagePullBackOff";
    slot->waiting_message = "Back-off pulling image \"" + ref + "\"";
    return false;
  }
  deps_->events->Record(pod, field, "Normal", "Pulling", "Pulling image \"" + ref + "\"");
  auto started = std::chrono::steady_clock::now();
  std::string missing;
  RegistryCredentials creds = PodPullCredentials(pod, deps_->objects, &missing);
  if (!missing.empty())
    deps_->events->Record(pod, "", "Warning", "FailedToRetrieveImagePullSecret",
                          "Unable to retrieve some image pull secrets (" + missing +
                              "); attempting to pull the image may not succeed.");
  if (!deps_->images->Pull(ref, nullptr, image, &error, creds)) {
    if (present && policy == "Always") {
      // A registry that cannot be reached does not stop an image we have.
      Log("pull of " + ref + " failed, using the local image: " + error);
      return true;
    }
    pull_backoff_.Next(key, now);
    slot->pull_failed_at = now;
    slot->waiting_reason = "ErrImagePull";
    slot->waiting_message = error;
    deps_->events->Record(pod, field, "Warning", "Failed",
                          "Failed to pull image \"" + ref + "\": " + error);
    deps_->events->Record(pod, field, "Warning", "Failed", "Error: ErrImagePull");
    return false;
  }
  pull_backoff_.Reset(key);
  slot->pull_failed_at = {};
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  char took[32];
  snprintf(took, sizeof(took), "%.3fs", secs);
  deps_->events->Record(pod, field, "Normal", "Pulled",
                        "Successfully pulled image \"" + ref + "\" in " + took + " (" + took +
                            " including waiting). Image size: " + std::to_string(image->size) +
                            " bytes.");
  return true;
}

bool PodWorker::TokenFor(const Json& pod, const std::string& audience, int64_t expiration,
                         std::string* token, std::string* error) {
  std::string key = audience + "\n" + std::to_string(expiration);
  auto now = std::chrono::system_clock::now();
  auto it = tokens_.find(key);
  if (it != tokens_.end() && now < it->second.refresh) {
    *token = it->second.value;
    return true;
  }
  Json spec = {{"expirationSeconds", expiration},
               {"boundObjectRef",
                {{"kind", "Pod"}, {"apiVersion", "v1"}, {"name", pod["metadata"].value("name", "")},
                 {"uid", uid_}}}};
  if (!audience.empty()) spec["audiences"] = Json::array({audience});
  Json req = {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenRequest"}, {"spec", spec}};
  Json out;
  std::string sa = pod["spec"].value("serviceAccountName", "default");
  client::Status s = deps_->client->CreateSubresource(
      kServiceAccounts, pod["metadata"].value("namespace", "default"), sa, "token", req, &out);
  if (!s.ok() || !out.contains("status") || !out["status"].contains("token")) {
    // A token we have stays good until it expires: keep it on a failed refresh.
    if (it != tokens_.end()) {
      *token = it->second.value;
      return true;
    }
    *error = "failed to fetch token: " + (s.ok() ? std::string("no token in the response") : s.message());
    return false;
  }
  *token = out["status"]["token"].get<std::string>();
  // Refreshed after 80% of its life, as upstream's token manager does.
  tokens_[key] = {*token, now + std::chrono::seconds(expiration * 8 / 10)};
  return true;
}

bool PodWorker::StartContainer(const Json& pod, const Json& c, Slot* slot, int n) {
  if (Clock::now() < slot->retry_at) return false;
  bool ok = TryStart(pod, c, slot, n);
  if (!ok && slot->waiting_reason == "CreateContainerConfigError")
    slot->retry_at = Clock::now() + std::chrono::seconds(5);
  return ok;
}

bool PodWorker::TryStart(const Json& pod, const Json& c, Slot* slot, int n) {
  std::string name = c.value("name", "");
  std::string field = ContainerFieldPath(slot->init, name);
  std::string ns = pod["metadata"].value("namespace", "default");
  std::string pname = pod["metadata"].value("name", "");
  img::Image image;
  if (!EnsureImage(pod, c, slot, &image)) return false;
  slot->image_name = c.value("image", "");
  slot->image_id = ImageId(image);

  auto config_error = [&](const std::string& message) {
    slot->waiting_reason = "CreateContainerConfigError";
    slot->waiting_message = message;
    deps_->events->Record(pod, field, "Warning", "Failed", "Error: " + message);
    return false;
  };
  PodFacts facts{pod_ip_, deps_->host_ip, deps_->node_cpu_milli, deps_->node_memory_bytes};
  ContainerContext ctx;
  std::string error;
  if (!BuildEnv(pod, c, facts, deps_->objects, &ctx.env, &error)) return config_error(error);
  VolumeEnv venv{deps_->data_dir, facts, deps_->objects,
                 [this](const Json& p, const std::string& aud, int64_t exp, std::string* t, std::string* e) {
                   return TokenFor(p, aud, exp, t, e);
                 }};
  VolumePaths volumes;
  if (!SetUpVolumes(pod, venv, &volumes, &error)) return config_error(error);
  if (!ContainerMounts(c, volumes, ctx.env, &ctx.mounts, &error)) return config_error(error);
  auto mounted = [&](const std::string& dest) {
    for (const auto& m : ctx.mounts)
      if (m.destination == dest) return true;
    return false;
  };
  std::string pdir = PodDir(deps_->data_dir, uid_);
  for (const auto& [file, dest] : {std::pair<std::string, std::string>{"etc-hosts", "/etc/hosts"},
                                   {"resolv.conf", "/etc/resolv.conf"},
                                   {"hostname", "/etc/hostname"}})
    if (!mounted(dest)) {
      ctr::Mount m;
      m.source = pdir + "/" + file;
      m.destination = dest;
      m.recursive = false;
      ctx.mounts.push_back(m);
    }
  // The termination message file, one per attempt.
  std::string term_dir = pdir + "/containers/" + name;
  MkdirAll(term_dir, 0750);
  std::string term_file = term_dir + "/" + std::to_string(n);
  WriteFile(term_file, "", &error);
  chmod(term_file.c_str(), 0666);
  std::string term_path = c.value("terminationMessagePath", "/dev/termination-log");
  if (!term_path.empty() && !mounted(term_path)) {
    ctr::Mount m;
    m.source = term_file;
    m.destination = term_path;
    m.recursive = false;
    ctx.mounts.push_back(m);
  }
  std::string sdir = ctr::SandboxDir(deps_->data_dir, SandboxId(uid_));
  ctx.sandbox = {sdir + "/net", sdir + "/ipc", sdir + "/uts"};
  ctx.id = ContainerId(uid_, name, n);
  ctx.log_path = ContainerLogPath(deps_->data_dir, ns, pname, uid_, name, n);
  ctr::ContainerSpec spec;
  if (!BuildContainerSpec(pod, c, image, ctx, &spec, &error)) return config_error(error);

  // A leftover of this attempt (a start that died half way) goes first.
  deps_->runtime->Remove(ctx.id, true, &error);
  ctr::Started started;
  Attempt a;
  a.id = ctx.id;
  if (!deps_->runtime->Start(spec, {}, &started, &error)) {
    // Counted as an attempt that ended at once, as containerd's StartError.
    a.start_error = true;
    a.failed_at_ns = ctr::NowNs();
    std::string now = api::Now();
    a.error_state = {128, 0, "StartError", error, now, now, ""};
    slot->attempts[n] = a;
    slot->waiting_reason.clear();
    deps_->events->Record(pod, field, "Warning", "Failed", "Error: " + error);
    Log("pod " + ns + "/" + pname + " container " + name + ": " + error);
    return false;
  }
  deps_->events->Record(pod, field, "Normal", "Created", "Created container " + name);
  deps_->events->Record(pod, field, "Normal", "Started", "Started container " + name);
  deps_->runtime->Get(ctx.id, &a.info, &error);
  a.known = true;
  slot->attempts[n] = a;
  slot->waiting_reason.clear();
  slot->waiting_message.clear();
  // One dead container is kept beside the live one (logs --previous).
  for (auto it = slot->attempts.begin(); it != slot->attempts.end();) {
    if (it->first < n - 1) {
      if (!it->second.start_error) deps_->runtime->Remove(it->second.id, true, &error);
      unlink((term_dir + "/" + std::to_string(it->first)).c_str());
      it = slot->attempts.erase(it);
    } else {
      ++it;
    }
  }
  // postStart: a failed hook kills the container, as upstream.
  const Json hook = c.value("lifecycle", Json::object()).value("postStart", Json::object());
  if (hook.contains("exec") || hook.contains("httpGet")) {
    std::string out;
    ProbeTarget t{deps_->runtime, ctx.id, pod_ip_, &c};
    if (!RunProbe(hook, t, &out)) {
      deps_->events->Record(pod, field, "Warning", "FailedPostStartHook",
                            "PostStartHook failed: " + out);
      KillContainer(pod, c, ctx.id, 0, "FailedPostStartHook");
    }
  }
  return true;
}

void PodWorker::BeginStop(const Json& pod, const Json& c, const std::string& id, int grace,
                          const std::string& message) {
  std::string name = c.value("name", "");
  bool init = false;
  for (const auto& ic : pod["spec"].value("initContainers", Json::array()))
    if (ic.value("name", "") == name) init = true;
  deps_->events->Record(pod, ContainerFieldPath(init, name), "Normal", "Killing", message);
  const Json pre = c.value("lifecycle", Json::object()).value("preStop", Json::object());
  if (grace > 0 && (pre.contains("exec") || pre.contains("httpGet"))) {
    std::string out;
    ProbeTarget t{deps_->runtime, id, pod_ip_, &c};
    if (!RunProbe(pre, t, &out))
      deps_->events->Record(pod, ContainerFieldPath(init, name), "Warning", "FailedPreStopHook",
                            "PreStopHook failed: " + out);
  } else if (grace > 0 && pre.contains("sleep")) {
    int s = std::min<int>(pre["sleep"].value("seconds", 0), grace);
    std::this_thread::sleep_for(std::chrono::seconds(s));
  }
  std::string error;
  int sig = SIGTERM;
  // The image's STOPSIGNAL, recorded nowhere else: the image config.
  img::Image image;
  if (deps_->images->Get(c.value("image", ""), &image, &error) && !image.config.stop_signal.empty()) {
    int s = ctr::ParseSignal(image.config.stop_signal);
    if (s > 0) sig = s;
  }
  if (!deps_->runtime->Kill(id, grace > 0 ? sig : SIGKILL, &error)) Log("stop of container " + id + ": " + error);
}

void PodWorker::KillContainer(const Json& pod, const Json& c, const std::string& id, int grace,
                              const std::string& message) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(grace);
  BeginStop(pod, c, id, grace, message);
  int left_ms = static_cast<int>(std::max<int64_t>(
      0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
             .count()));
  std::string error;
  bool exited = false;
  if (!deps_->runtime->Wait(id, left_ms, &exited, &error)) {
    Log("stop of container " + id + ": " + error);
    return;
  }
  if (!exited && !deps_->runtime->Stop(id, 0, SIGKILL, &error)) Log("stop of container " + id + ": " + error);
}

void PodWorker::HandleExited(const Json& pod, const Json& c, Slot* slot, bool restart,
                             Clock::time_point* wake) {
  if (!restart) return;
  std::string name = c.value("name", "");
  const Attempt* a = slot->Latest();
  std::string key = uid_ + "/" + name;
  auto finished = SystemTimeOf(a->start_error ? a->failed_at_ns : a->info.state.finished_at_ns);
  auto now = std::chrono::system_clock::now();
  if (crash_backoff_.InBackOffSince(key, finished, now)) {
    auto delay = crash_backoff_.Get(key);
    slot->waiting_reason = "CrashLoopBackOff";
    slot->waiting_message = "back-off " + FormatDuration(delay) + " restarting failed container=" +
                            name + " pod=" + PodRef(pod);
    if (slot->backoff_event_for != slot->LatestN()) {
      slot->backoff_event_for = slot->LatestN();
      deps_->events->Record(pod, ContainerFieldPath(slot->init, name), "Warning", "BackOff",
                            "Back-off restarting failed container " + name + " in pod " + PodRef(pod));
    }
    auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(finished + delay - now);
    *wake = std::min(*wake, until + std::chrono::milliseconds(10));
    return;
  }
  crash_backoff_.Next(key, finished);
  StartContainer(pod, c, slot, slot->LatestN() + 1);
}

void PodWorker::RunProbes(const Json& pod, const Json& c, Slot* slot, Clock::time_point* wake) {
  const Attempt* a = slot->Latest();
  if (!slot->Running()) return;
  auto now = Clock::now();
  if (slot->probed_id != a->id) {
    // New container: fresh trackers timed from its start.
    slot->probed_id = a->id;
    auto started = now - std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(
                             std::max<int64_t>(0, ctr::NowNs() - a->info.state.started_at_ns)));
    auto make = [&](const char* field, ProbeKind kind) -> std::unique_ptr<ProbeTracker> {
      if (!c.contains(field) || !c[field].is_object()) return nullptr;
      return std::make_unique<ProbeTracker>(kind, ProbeTiming::FromJson(c[field]), started);
    };
    slot->startup = make("startupProbe", ProbeKind::kStartup);
    slot->liveness = make("livenessProbe", ProbeKind::kLiveness);
    slot->readiness = make("readinessProbe", ProbeKind::kReadiness);
  }
  std::string field = ContainerFieldPath(slot->init, c.value("name", ""));
  bool started = !slot->startup || slot->startup->result();
  for (ProbeTracker* t : {slot->startup.get(), slot->liveness.get(), slot->readiness.get()}) {
    if (!t) continue;
    if (t->kind() == ProbeKind::kStartup && t->result()) continue;  // done for this container
    if (t->kind() != ProbeKind::kStartup && !started) continue;
    if (!t->Due(now)) {
      *wake = std::min(*wake, t->next());
      continue;
    }
    const char* field_name = t->kind() == ProbeKind::kStartup    ? "startupProbe"
                             : t->kind() == ProbeKind::kLiveness ? "livenessProbe"
                                                                 : "readinessProbe";
    std::string out;
    ProbeTarget target{deps_->runtime, a->id, pod_ip_, &c};
    bool ok = RunProbe(c[field_name], target, &out);
    if (!ok)
      deps_->events->Record(pod, field, "Warning", "Unhealthy",
                            std::string(ProbeName(t->kind())) + " probe failed: " + out);
    bool flipped = t->Record(ok, Clock::now());
    *wake = std::min(*wake, t->next());
    if (flipped && !t->result() && t->kind() != ProbeKind::kReadiness) {
      int grace = static_cast<int>(pod["spec"].value("terminationGracePeriodSeconds", int64_t{30}));
      if (c[field_name].contains("terminationGracePeriodSeconds"))
        grace = c[field_name].value("terminationGracePeriodSeconds", grace);
      std::string what = t->kind() == ProbeKind::kLiveness ? "liveness" : "startup";
      KillContainer(pod, c, a->id, grace,
                    "Container " + c.value("name", "") + " failed " + what + " probe, will be restarted");
      return;
    }
    if (t->kind() == ProbeKind::kStartup && t->result()) started = true;
  }
}

PodWorker::Clock::time_point PodWorker::Sync(const Json& pod) {
  // Exits come from the exit watch; without it, containers are looked at
  // every second. Probes and back-offs set their own times.
  auto wake = Clock::now() + std::chrono::seconds(deps_->watch_exit ? 10 : 1);
  last_pod_ = pod;
  if (start_time_.empty()) {
    const Json st = pod.value("status", Json::object());
    start_time_ = st.value("startTime", api::Now());
  }
  for (const char* list : {"initContainers", "containers"})
    for (const auto& c : pod["spec"].value(list, Json::array())) {
      auto& slot = slots_[c.value("name", "")];
      if (!slot) slot = std::make_unique<Slot>();
      slot->init = std::string(list) == "initContainers";
      slot->sidecar = slot->init && IsSidecar(c);
    }
  Observe();
  std::string error;
  // A pod the API already holds as finished never runs again here (its
  // containers may be gone: a reboot, a cleanup).
  std::string api_phase = pod.value("status", Json::object()).value("phase", "");
  if (api_phase == "Succeeded" || api_phase == "Failed") terminal_ = true;
  if (!terminal_ && DeadlineExceeded(pod)) {
    for (const char* list : {"containers", "initContainers"})
      for (const auto& c : pod["spec"].value(list, Json::array())) {
        Slot* s = slots_[c.value("name", "")].get();
        if (s->Running())
          KillContainer(pod, c, s->Latest()->id, GracePeriod(pod),
                        "Stopping container " + c.value("name", ""));
      }
    deps_->events->Record(pod, "", "Normal", "DeadlineExceeded",
                          "Pod was active on the node longer than the specified deadline");
    deadline_exceeded_ = true;
    terminal_ = true;
  }
  if (terminal_) {
    // Finished: sidecars and anything left running stop; nothing restarts.
    for (const auto& c : pod["spec"].value("initContainers", Json::array())) {
      Slot* s = slots_[c.value("name", "")].get();
      if (s->Running()) KillContainer(pod, c, s->Latest()->id, 30, "Stopping container " + c.value("name", ""));
    }
    ReportStatus(pod);
    return Clock::now() + std::chrono::seconds(10);
  }
  // The pod's files follow its IP and spec: written at start, then with
  // the volumes' refresh, not on every sync.
  bool files_due = !sandbox_ready_ || Clock::now() >= volumes_due_;
  if (!EnsureSandbox(pod, &error) || (files_due && !WritePodFiles(pod, &error))) {
    sandbox_ready_ = false;
    deps_->events->Record(pod, "", "Warning", "FailedCreatePodSandBox",
                          "Failed to create pod sandbox: " + error);
    ReportStatus(pod);
    return Clock::now() + std::chrono::seconds(5);
  }
  sandbox_ready_ = true;
  // Volumes are refreshed every 10 s: configMap and secret changes reach
  // running containers (upstream: about a minute).
  if (Clock::now() >= volumes_due_) {
    PodFacts facts{pod_ip_, deps_->host_ip, deps_->node_cpu_milli, deps_->node_memory_bytes};
    VolumeEnv venv{deps_->data_dir, facts, deps_->objects,
                   [this](const Json& p, const std::string& aud, int64_t exp, std::string* t, std::string* e) {
                     return TokenFor(p, aud, exp, t, e);
                   }};
    VolumePaths paths;
    if (!SetUpVolumes(pod, venv, &paths, &error)) {
      if (error != volume_error_)
        deps_->events->Record(pod, "", "Warning", "FailedMount",
                              "MountVolume.SetUp failed: " + error);
      volume_error_ = error;
      ReportStatus(pod);
      return Clock::now() + std::chrono::seconds(2);
    }
    volume_error_.clear();
    volumes_due_ = Clock::now() + std::chrono::seconds(10);
  }

  std::string policy = pod["spec"].value("restartPolicy", "Always");
  // Init containers, in order. Once an app container exists the pod was
  // initialized: regular init containers do not run again.
  bool app_started = false;
  for (const auto& c : pod["spec"].value("containers", Json::array()))
    if (!slots_[c.value("name", "")]->attempts.empty()) app_started = true;
  bool initialized = true;
  for (const auto& c : pod["spec"].value("initContainers", Json::array())) {
    Slot* s = slots_[c.value("name", "")].get();
    if (s->sidecar) {
      if (s->attempts.empty()) {
        StartContainer(pod, c, s, 0);
        Observe();
      } else if (s->Exited()) {
        HandleExited(pod, c, s, true, &wake);
      }
      RunProbes(pod, c, s, &wake);
      bool started = s->Running() && (!s->startup || s->startup->result());
      if (!started && !app_started) {
        initialized = false;
        break;
      }
      continue;
    }
    if (app_started) continue;
    if (s->attempts.empty()) {
      StartContainer(pod, c, s, 0);
      initialized = false;
      break;
    }
    if (s->Running()) {
      initialized = false;
      break;
    }
    if (s->ExitCode() == 0) continue;
    initialized = false;
    HandleExited(pod, c, s, policy != "Never", &wake);
    break;
  }
  if (initialized) {
    for (const auto& c : pod["spec"].value("containers", Json::array())) {
      Slot* s = slots_[c.value("name", "")].get();
      if (s->attempts.empty()) {
        StartContainer(pod, c, s, 0);
      } else if (s->Exited()) {
        bool restart = policy == "Always" || (policy == "OnFailure" && s->ExitCode() != 0);
        HandleExited(pod, c, s, restart, &wake);
      } else if (s->Running() && ImageChanged(c, s->Latest()->info.image)) {
        // The one mutable part of a container: a new image restarts it.
        KillContainer(pod, c, s->Latest()->id, GracePeriod(pod),
                      "Container " + c.value("name", "") + " definition changed, will be restarted");
        crash_backoff_.Reset(uid_ + "/" + c.value("name", ""));
        continue;
      }
      RunProbes(pod, c, s, &wake);
    }
  } else {
    for (const auto& c : pod["spec"].value("containers", Json::array())) {
      Slot* s = slots_[c.value("name", "")].get();
      if (s->attempts.empty() && s->waiting_reason.empty()) s->waiting_reason = "PodInitializing";
    }
  }
  Observe();
  WatchExits();
  ReportStatus(pod);
  // Back soon for what no event brings: a status write to try again, the
  // volumes' refresh, an active deadline.
  if (!status_error_.empty()) wake = std::min(wake, Clock::now() + std::chrono::seconds(1));
  wake = std::min(wake, volumes_due_);
  if (pod["spec"].contains("activeDeadlineSeconds")) wake = std::min(wake, Clock::now() + std::chrono::seconds(1));
  return wake;
}

void PodWorker::WatchExits() {
  if (!deps_->watch_exit) return;
  for (auto& [name, slot] : slots_)
    for (auto& [n, a] : slot->attempts)
      if (a.known && a.info.state.status == ctr::ContainerStatus::kRunning)
        deps_->watch_exit(a.id, a.info.state.shim_pid, a.info.state.shim_start);
}

PodView PodWorker::BuildView(const Json& pod) {
  PodView v;
  v.sandbox_ready = sandbox_ready_;
  v.pod_ip = pod_ip_;
  v.host_ip = deps_->host_ip;
  v.start_time = start_time_;
  auto term_of = [&](const Json& c, const Attempt& a, int n) {
    if (a.start_error) return a.error_state;
    // An ended container never changes: read its files once.
    if (a.final_state) return *a.final_state;
    Terminated t;
    const auto& st = a.info.state;
    if (st.status == ctr::ContainerStatus::kUnknown) {
      t.exit_code = 137;
      t.reason = "ContainerStatusUnknown";
      t.message = "The container could not be located when the pod was terminated";
    } else {
      t.exit_code = st.exit_code;
      t.signal = 0;
      t.reason = st.Reason();
    }
    t.started_at = TimeOf(st.started_at_ns);
    t.finished_at = TimeOf(st.finished_at_ns);
    t.container_id = "kubit://" + a.id;
    std::string term_file = PodDir(deps_->data_dir, uid_) + "/containers/" + c.value("name", "") +
                            "/" + std::to_string(n);
    std::string written = ReadText(term_file, 4096);
    if (!written.empty()) t.message = written;
    if (t.message.empty() && t.exit_code != 0 &&
        c.value("terminationMessagePolicy", "File") == "FallbackToLogsOnError") {
      ctr::ContainerSpec spec;
      spec.log_path = ContainerLogPath(deps_->data_dir, pod["metadata"].value("namespace", ""),
                                       pod["metadata"].value("name", ""), uid_, c.value("name", ""), n);
      t.message = LogTail(deps_->runtime->LogPath(spec));
    }
    a.final_state = t;
    return t;
  };
  for (const char* list : {"initContainers", "containers"}) {
    bool init = std::string(list) == "initContainers";
    for (const auto& c : pod["spec"].value(list, Json::array())) {
      Slot* s = slots_[c.value("name", "")].get();
      ContainerView cv;
      cv.name = c.value("name", "");
      cv.image = s->image_name.empty() ? c.value("image", "") : s->image_name;
      cv.image_id = s->image_id;
      cv.sidecar = s->sidecar;
      const Attempt* a = s->Latest();
      if (a) {
        int n = s->LatestN();
        cv.restart_count = n;
        if (!a->start_error) cv.container_id = "kubit://" + a->id;
        auto prev = s->attempts.find(n - 1);
        if (s->Running()) {
          cv.state = ContainerView::State::kRunning;
          cv.started_at = TimeOf(a->info.state.started_at_ns);
          cv.started = !s->startup || s->startup->result();
          cv.ready = cv.started && (!s->readiness || s->readiness->result());
          if (init && !s->sidecar) cv.ready = false;
          if (prev != s->attempts.end()) {
            cv.has_last = true;
            cv.last = term_of(c, prev->second, n - 1);
          }
        } else if (!s->waiting_reason.empty()) {
          cv.state = ContainerView::State::kWaiting;
          cv.reason = s->waiting_reason;
          cv.message = s->waiting_message;
          cv.has_last = true;
          cv.last = term_of(c, *a, n);
        } else {
          cv.state = ContainerView::State::kTerminated;
          cv.terminated = term_of(c, *a, n);
          cv.ready = init && !s->sidecar && cv.terminated.exit_code == 0;
          if (prev != s->attempts.end()) {
            cv.has_last = true;
            cv.last = term_of(c, prev->second, n - 1);
          }
        }
        if (cv.state == ContainerView::State::kWaiting && a->start_error) cv.container_id.clear();
      } else {
        cv.state = ContainerView::State::kWaiting;
        cv.reason = s->waiting_reason.empty() ? "ContainerCreating" : s->waiting_reason;
        cv.message = s->waiting_message;
      }
      (init ? v.init : v.app).push_back(cv);
    }
  }
  return v;
}

void PodWorker::ReportStatus(const Json& pod) {
  PodView view = BuildView(pod);
  // Transition times carry over from what this worker last wrote (the
  // informer's copy may lag; a static pod has none).
  Json old = last_written_.is_object() ? last_written_ : pod.value("status", Json::object());
  if (!old.contains("qosClass") && pod.contains("status") && pod["status"].contains("qosClass"))
    old["qosClass"] = pod["status"]["qosClass"];
  if (!old.contains("qosClass")) old["qosClass"] = QosClassOf(pod);
  if (pod.contains("status") && pod["status"].contains("conditions"))
    for (const auto& c : pod["status"]["conditions"])
      if (c.value("type", "") == "PodScheduled") {
        Json conds = Json::array();
        for (const auto& o : old.value("conditions", Json::array()))
          if (o.value("type", "") != "PodScheduled") conds.push_back(o);
        conds.push_back(c);
        old["conditions"] = conds;
      }
  if (resend_status_.exchange(false)) last_status_.clear();
  // The API says otherwise than this worker last wrote (the node lifecycle
  // controller marked the pod not Ready while this node was out of touch):
  // written again. (Until the informer has this worker's last write, that
  // write may go twice: the same patch.)
  auto ready_of = [](const Json& st) {
    for (const auto& c : st.value("conditions", Json::array()))
      if (c.value("type", "") == "Ready") return c.value("status", "");
    return std::string();
  };
  if (last_written_.is_object() && pod.contains("status") && ready_of(pod["status"]) != ready_of(last_written_))
    last_status_.clear();
  Json status = BuildPodStatus(pod, view, old, api::Now());
  if (deadline_exceeded_) {
    status["phase"] = "Failed";
    status["reason"] = "DeadlineExceeded";
    status["message"] = "Pod was active on the node longer than the specified deadline";
  }
  std::string phase = status.value("phase", "");
  std::string api_phase = pod.value("status", Json::object()).value("phase", "");
  if ((api_phase == "Succeeded" || api_phase == "Failed") && phase != api_phase) return;
  if (phase == "Succeeded" || phase == "Failed") terminal_ = true;
  std::string text = status.dump();
  if (text == last_status_) return;
  // Transition times come from the last written status when the informer
  // has not caught up yet: compare without them.
  Json patch = Json::array({{{"op", "add"}, {"path", "/status"}, {"value", status}}});
  client::Status s = deps_->client->Patch(kPods, pod["metadata"].value("namespace", ""),
                                          pod["metadata"].value("name", ""), client::PatchType::kJson,
                                          patch.dump(), nullptr, {}, "status");
  if (s.ok()) {
    last_status_ = text;
    last_written_ = status;
    status_error_.clear();
  } else if (s.message() != status_error_) {  // once per error, not every second
    status_error_ = s.message();
    Log("status of pod " + pod["metadata"].value("namespace", "") + "/" +
        pod["metadata"].value("name", "") + ": " + s.message());
  }
}

bool PodWorker::Terminate(const Json& pod, bool deleted_from_api, Clock::time_point* wake) {
  std::string ns = pod["metadata"].value("namespace", ""), name = pod["metadata"].value("name", "");
  int grace = static_cast<int>(pod["metadata"].value(
      "deletionGracePeriodSeconds", pod["spec"].value("terminationGracePeriodSeconds", int64_t{30})));
  if (deleted_from_api) grace = 0;
  if (!terminating_ || deleted_from_api) {
    terminating_ = true;
    // The API's deletionTimestamp is the delete's time plus the grace
    // period: the same deadline after a restart of kubit.
    kill_at_ = Clock::now() + std::chrono::seconds(grace);
    std::string ts = pod["metadata"].value("deletionTimestamp", "");
    struct tm t = {};
    if (!deleted_from_api && !ts.empty() && strptime(ts.c_str(), "%Y-%m-%dT%H:%M:%SZ", &t))
      kill_at_ = Clock::now() + std::chrono::seconds(timegm(&t) - time(nullptr));
  }
  Observe();
  // App containers first, sidecars once they are gone (upstream stops
  // sidecars last); the containers of a list stop at once.
  bool running = false;
  for (const char* list : {"containers", "initContainers"}) {
    std::vector<std::thread> stops;
    for (const auto& c : pod["spec"].value(list, Json::array())) {
      auto it = slots_.find(c.value("name", ""));
      if (it == slots_.end() || !it->second->Running()) continue;
      running = true;
      std::string id = it->second->Latest()->id;
      if (stopping_ids_.insert(id).second) {
        int left = static_cast<int>(
            std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::seconds>(kill_at_ - Clock::now()).count()));
        stops.emplace_back([this, &pod, c, id, left] {
          BeginStop(pod, c, id, left, "Stopping container " + c.value("name", ""));
        });
      } else if (Clock::now() >= kill_at_ && killed_ids_.insert(id).second) {
        std::string error;
        if (!deps_->runtime->Kill(id, SIGKILL, &error)) Log("stop of container " + id + ": " + error);
      }
    }
    for (auto& t : stops) t.join();
    if (running) break;
  }
  if (running) {
    // An exit wakes the worker (the exit watch); the SIGKILL waits for the deadline.
    Observe();
    WatchExits();
    auto poll = Clock::now() + std::chrono::seconds(deps_->watch_exit ? 10 : 1);
    // Past the deadline: SIGKILLed, soon gone.
    *wake = Clock::now() >= kill_at_ ? Clock::now() + std::chrono::milliseconds(200) : std::min(poll, kill_at_);
    return false;
  }
  std::vector<std::string> ids;
  for (const auto& [n, s] : slots_)
    for (const auto& [k, a] : s->attempts)
      if (!a.start_error) ids.push_back(a.id);
  std::string error;
  if (!RemovePodResources(*deps_, uid_, ids, 0, &error))
    Log("cleanup of pod " + ns + "/" + name + ": " + error);
  if (deleted_from_api) return true;
  client::DeleteOptions opts;
  opts.grace_period_seconds = 0;
  opts.precondition_uid = uid_;
  client::Status s = deps_->client->Delete(kPods, ns, name, opts);
  if (!s.ok() && s.code() != 404 && s.code() != 409)
    Log("final delete of pod " + ns + "/" + name + ": " + s.message());
  else
    Log("pod " + ns + "/" + name + " deleted");
  return true;
}

bool RemovePodResources(const KubeletDeps& deps, const std::string& uid,
                        const std::vector<std::string>& ids, int grace_seconds,
                        std::string* error) {
  bool ok = true;
  std::string why;
  for (const auto& id : ids) {
    ctr::ContainerInfo info;
    if (!deps.runtime->Get(id, &info, &why)) continue;
    if (info.state.status == ctr::ContainerStatus::kRunning)
      deps.runtime->Stop(id, grace_seconds * 1000, SIGTERM, &why);
    if (!deps.runtime->Remove(id, true, &why)) {
      *error = why;
      ok = false;
    }
  }
  if (deps.network) {
    net::PodNetwork* network = deps.network(&why);
    if (!network || !network->Teardown(SandboxId(uid), &why)) {
      *error = why;
      ok = false;
    }
  }
  if (!ctr::RemoveSandbox(deps.data_dir, SandboxId(uid), &why)) {
    *error = why;
    ok = false;
  }
  if (!TearDownVolumes(deps.data_dir, uid, &why)) {
    *error = why;
    ok = false;
  }
  // Logs: agent/logs/<ns>_<pod>_<uid>.
  std::string logs = deps.data_dir + "/agent/logs";
  if (DIR* d = opendir(logs.c_str())) {
    std::vector<std::string> mine;
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > uid.size() && n.compare(n.size() - uid.size() - 1, std::string::npos, "_" + uid) == 0)
        mine.push_back(logs + "/" + n);
    }
    closedir(d);
    for (const auto& m : mine) RemoveTree(m);
  }
  // The pod's cgroup, in whichever QoS class it was.
  ctr::Cgroups cgroups;
  std::string base = ctr::DataDirCgroup(deps.data_dir);
  for (const char* qos : {"kubepods/", "kubepods/burstable/", "kubepods/besteffort/"})
    cgroups.Remove(base + "/" + qos + "pod" + uid, &why);
  return ok;
}

}  // namespace kubit::kubelet
