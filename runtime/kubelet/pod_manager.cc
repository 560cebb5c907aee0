#include "runtime/kubelet/pod_manager.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "runtime/kubelet/host_info.h"
#include "runtime/kubelet/pod_naming.h"
#include "runtime/kubelet/static_pods.h"

namespace kubit::kubelet {

using Json = nlohmann::json;
namespace ctr = runtime::container;
namespace img = runtime::image;

namespace {
const client::Resource kPods{"", "v1", "pods"};
}

PodManager::PodManager(client::Client* client, PodManagerOptions options)
    : client_(client), opts_(std::move(options)), local_paths_(client, opts_.node_name, opts_.data_dir, opts_.log) {}

PodManager::~PodManager() { Stop(); }

Lookup PodManager::GetObject(const std::string& resource, const std::string& ns,
                             const std::string& name, Json* out, std::string* error) {
  client::Resource r{"", "v1", resource};
  client::Status s = client_->Get(r, ns, name, out);
  std::string cache_error;
  if (s.ok()) {
    if (cache_ && !cache_->Put(resource, *out, &cache_error)) opts_.log(cache_error);
    return Lookup::kFound;
  }
  if (s.code() == 404) {
    if (cache_ && !cache_->Remove(resource, ns, name, &cache_error)) opts_.log(cache_error);
    return Lookup::kNotFound;
  }
  // The server is away (or failing): as last seen.
  if ((s.IsTransport() || s.code() >= 500) && cache_ && cache_->Get(resource, ns, name, out)) return Lookup::kFound;
  *error = s.message();
  return Lookup::kError;
}

net::PodNetwork* PodManager::Network(std::string* error) {
  std::lock_guard<std::mutex> lock(network_mu_);
  if (network_) return network_.get();
  Json node;
  client::Status s = client_->Get({"", "v1", "nodes"}, "", opts_.node_name, &node);
  std::string cache_error;
  if (s.ok() && cache_ && !cache_->Put("nodes", node, &cache_error)) opts_.log(cache_error);
  if (!s.ok() && cache_ && cache_->Get("nodes", "", opts_.node_name, &node)) s = client::Status();
  if (!s.ok()) {
    *error = "cannot read node " + opts_.node_name + " for its podCIDR: " + s.message();
    return nullptr;
  }
  net::PodNetworkOptions o;
  o.data_dir = runtime_->data_dir();
  o.pod_cidr = node.value("spec", Json::object()).value("podCIDR", "");
  o.cluster_cidr = opts_.cluster_cidr;
  o.mtu = opts_.pod_mtu;
  if (o.pod_cidr.empty()) {
    *error = "node " + opts_.node_name + " has no podCIDR yet";
    return nullptr;
  }
  if (!net::OpenBridgePodNetwork(o, &network_, error)) return nullptr;
  opts_.log("pod network on " + o.pod_cidr);
  return network_.get();
}

bool PodManager::Start(std::string* error) {
  img::ImageStoreOptions io;
  io.data_dir = opts_.data_dir;
  io.private_registry = opts_.private_registry;
  images_ = img::ImageStore::Open(io, error);
  if (!images_) return false;
  std::vector<std::string> imported, failures;
  images_->ImportDirectory(&imported, &failures);
  for (const auto& i : imported) opts_.log("imported image " + i);
  for (const auto& f : failures) opts_.log("image import failed: " + f);
  runtime_ = std::make_unique<ctr::Runtime>(opts_.data_dir);
  events_ = std::make_unique<EventRecorder>(client_, opts_.node_name, opts_.log);

  HostInfo host = ReadHostInfo(opts_.data_dir);
  deps_.client = client_;
  deps_.runtime = runtime_.get();
  deps_.images = images_.get();
  if (opts_.pod_network) deps_.network = [this](std::string* e) { return Network(e); };
  deps_.events = events_.get();
  deps_.objects = [this](const std::string& r, const std::string& ns, const std::string& n, Json* out,
                         std::string* e) { return GetObject(r, ns, n, out, e); };
  deps_.node_name = opts_.node_name;
  deps_.data_dir = runtime_->data_dir();
  deps_.host_ip = opts_.host_ip;
  deps_.dns = opts_.dns;
  deps_.node_cpu_milli = host.cpus * 1000;
  deps_.node_memory_bytes = host.memory_bytes;
  deps_.log = opts_.log;
  exits_ = std::make_unique<ctr::ExitWatch>([this](const std::string& id) {
    std::string uid, name;
    int n;
    if (!ParseContainerId(id, &uid, &name, &n)) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto w = workers_.find(uid);
    if (w != workers_.end()) w->second->Wake();
  });
  std::string watch_error;
  if (exits_->Start(&watch_error)) {
    deps_.watch_exit = [this](const std::string& id, pid_t pid, uint64_t start) { exits_->Watch(id, pid, start); };
  } else {
    opts_.log("container exits are looked for every second: " + watch_error);
    exits_.reset();
  }

  // What runs already, before any worker starts: workers adopt these
  // instead of starting new attempts.
  std::vector<ctr::ContainerInfo> all;
  if (!runtime_->List(&all, error)) return false;
  for (const auto& c : all) {
    std::string uid, name;
    int n;
    if (ParseContainerId(c.id, &uid, &name, &n)) adoptable_[uid].push_back(c.id);
  }

  if (!AgentCache::Open(opts_.data_dir, &cache_, error)) {
    opts_.log("no autonomy while the server is away: " + *error);
    error->clear();
  }
  started_ = std::chrono::steady_clock::now();
  client::InformerOptions o;
  o.selection.field_selector = "spec.nodeName=" + opts_.node_name;
  o.log = opts_.log;
  pods_ = std::make_unique<client::Informer>(client_, kPods, o);
  pods_->AddHandler({
      [this](const client::ObjectPtr& p) { OnPod(p, false); },
      [this](const client::ObjectPtr&, const client::ObjectPtr& p) { OnPod(p, false); },
      [this](const client::ObjectPtr& p, bool) { OnPod(p, true); },
  });
  pods_->Start();
  housekeeping_ = std::thread([this] { Housekeeping(); });
  return true;
}

void PodManager::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    cv_.notify_all();
  }
  if (pods_) pods_->Stop();
  if (housekeeping_.joinable()) housekeeping_.join();
  std::map<std::string, std::unique_ptr<PodWorker>> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    workers.swap(workers_);
  }
  for (auto& [uid, w] : workers) w->Stop();
  exits_.reset();
}

void PodManager::StartWorker(const client::ObjectPtr& pod) {
  std::string uid = (*pod)["metadata"].value("uid", "");
  std::vector<std::string> adopted;
  auto a = adoptable_.find(uid);
  if (a != adoptable_.end()) {
    adopted = a->second;
    adoptable_.erase(a);
  }
  auto w = std::make_unique<PodWorker>(&deps_, uid, std::move(adopted));
  w->Update(pod);
  w->Start();
  workers_[uid] = std::move(w);
}

void PodManager::OnPod(const client::ObjectPtr& pod, bool deleted) {
  std::string uid = (*pod)["metadata"].value("uid", "");
  // A mirror pod only shows a static pod, whose worker runs from the file.
  if (uid.empty() || IsMirrorPod(*pod)) return;
  if (deleted) local_paths_.PodGone(*pod);
  if (cache_) {
    std::string error;
    const Json& meta = (*pod)["metadata"];
    if (deleted ? !cache_->Remove("pods", meta.value("namespace", ""), meta.value("name", ""), &error)
                : !cache_->Put("pods", *pod, &error))
      opts_.log(error);
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return;
  auto it = workers_.find(uid);
  if (it == workers_.end()) {
    if (!deleted) StartWorker(pod);  // a deleted one never ran here: housekeeping removes leftovers
    return;
  }
  if (deleted) it->second->Update(nullptr);
  else it->second->Update(pod);
}

void PodManager::Housekeeping() {
  auto next_orphans = std::chrono::steady_clock::now();
  while (true) {
    SyncStaticPods();
    bool synced = pods_->HasSynced();
    if (!synced && cache_ && !ran_from_cache_ && std::chrono::steady_clock::now() - started_ >= opts_.offline_after)
      RunFromCache();
    if (synced && cache_ && !cache_pruned_) PruneCache();
    if (synced) {
      SyncMirrorPods();
      local_paths_.Sync();
      if (std::chrono::steady_clock::now() >= next_orphans) {
        CollectOrphans();
        next_orphans = std::chrono::steady_clock::now() + opts_.housekeeping;
      }
    }
    std::unique_lock<std::mutex> lock(mu_);
    // Until the first orphan pass, look every second for the informer's sync.
    auto wait = adopted_ ? opts_.static_pods : std::chrono::seconds(1);
    cv_.wait_for(lock, wait, [&] { return stopping_; });
    if (stopping_) return;
  }
}

void PodManager::RunFromCache() {
  std::vector<Json> kept = cache_->List("pods");
  std::lock_guard<std::mutex> lock(mu_);
  ran_from_cache_ = true;
  if (stopping_) return;
  int n = 0;
  for (Json& p : kept) {
    std::string uid = p["metadata"].value("uid", "");
    if (uid.empty() || workers_.count(uid)) continue;
    StartWorker(std::make_shared<const Json>(std::move(p)));
    ++n;
  }
  opts_.log("the server has not listed this node's pods within " + std::to_string(opts_.offline_after.count()) +
            "s: running the " + std::to_string(n) + " kept in agent/state.db until it does");
}

void PodManager::PruneCache() {
  // The kept ones first: a pod that comes meanwhile is then in both or
  // in neither.
  std::vector<Json> kept = cache_->List("pods");
  std::set<std::string> live;
  for (const auto& p : pods_->List()) live.insert((*p)["metadata"].value("uid", ""));
  for (const Json& p : kept) {
    const Json& meta = p["metadata"];
    std::string uid = meta.value("uid", ""), error;
    if (live.count(uid)) continue;
    // Deleted while this agent was down or away.
    if (!cache_->Remove("pods", meta.value("namespace", ""), meta.value("name", ""), &error)) opts_.log(error);
    std::lock_guard<std::mutex> lock(mu_);
    auto w = workers_.find(uid);
    if (w == workers_.end() || static_pods_.count(uid)) continue;
    opts_.log("pod " + meta.value("namespace", "") + "/" + meta.value("name", "") +
              " went from the server while it was away: stopping it");
    w->second->Update(nullptr);
  }
  cache_pruned_ = true;
}

void PodManager::SyncStaticPods() {
  std::vector<std::string> errors;
  std::vector<Json> found =
      ReadStaticPods(runtime_->data_dir() + "/agent/pod-manifests", opts_.node_name, &errors);
  std::string joined;
  for (const auto& e : errors) joined += (joined.empty() ? "" : "; ") + e;
  if (joined != static_errors_ && !joined.empty()) opts_.log("static pod manifests: " + joined);
  static_errors_ = joined;
  std::map<std::string, client::ObjectPtr> next;
  for (auto& p : found) {
    std::string uid = p["metadata"]["uid"];
    auto old = static_pods_.find(uid);
    // Unchanged manifests keep their object (config.seen and all).
    next[uid] = old != static_pods_.end() ? old->second : std::make_shared<const Json>(std::move(p));
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return;
  for (const auto& [uid, pod] : static_pods_)
    if (!next.count(uid)) {
      auto it = workers_.find(uid);
      if (it != workers_.end()) it->second->Update(nullptr);
      opts_.log("static pod " + (*pod)["metadata"].value("name", "") + " removed");
    }
  for (const auto& [uid, pod] : next)
    if (!static_pods_.count(uid) && !workers_.count(uid)) {
      opts_.log("static pod " + (*pod)["metadata"].value("name", "") + " from " +
                runtime_->data_dir() + "/agent/pod-manifests");
      StartWorker(pod);
    }
  // Mirrors of removed static pods are deleted by SyncMirrorPods; it needs
  // to know them: keep the removed ones' names until then.
  for (const auto& [uid, pod] : static_pods_)
    if (!next.count(uid)) removed_static_.push_back(pod);
  static_pods_ = std::move(next);
}

void PodManager::SyncMirrorPods() {
  std::vector<client::ObjectPtr> statics, removed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [uid, pod] : static_pods_) statics.push_back(pod);
    removed.swap(removed_static_);
  }
  std::set<std::string> wanted;
  for (const auto& p : statics) wanted.insert(client::ObjectKey(*p));
  client::DeleteOptions now;
  now.grace_period_seconds = 0;
  for (const auto& p : removed) {
    std::string ns = (*p)["metadata"].value("namespace", ""), name = (*p)["metadata"].value("name", "");
    client::ObjectPtr mirror = pods_->Get(ns, name);
    if (mirror && IsMirrorPod(*mirror) && !wanted.count(client::ObjectKey(*p))) {
      client::Status s = client_->Delete(kPods, ns, name, now);
      if (!s.ok() && s.code() != 404) {
        opts_.log("delete of mirror pod " + ns + "/" + name + ": " + s.message());
        std::lock_guard<std::mutex> lock(mu_);
        removed_static_.push_back(p);  // again next time
      }
    }
  }
  for (const auto& p : statics) {
    std::string ns = (*p)["metadata"].value("namespace", ""), name = (*p)["metadata"].value("name", "");
    std::string uid = (*p)["metadata"].value("uid", "");
    client::ObjectPtr mirror = pods_->Get(ns, name);
    if (mirror) {
      if (!IsMirrorPod(*mirror)) continue;  // a pod of the API holds the name: leave it
      const Json& ann = (*mirror)["metadata"]["annotations"];
      if (ann.value(kConfigMirrorAnnotation, "") == uid && !(*mirror)["metadata"].contains("deletionTimestamp"))
        continue;
      // An old version of the manifest, or deleted by a user: made again.
      client::Status s = client_->Delete(kPods, ns, name, now);
      if (!s.ok() && s.code() != 404) continue;
    }
    client::Status s = client_->Create(kPods, ns, MirrorPod(*p));
    if (s.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      auto w = workers_.find(uid);
      if (w != workers_.end()) w->second->ResendStatus();
    } else if (s.code() != 409) {
      opts_.log("mirror pod " + ns + "/" + name + ": " + s.message());
    }
  }
}

void PodManager::CollectOrphans() {
  // Workers whose pods are gone and torn down.
  std::vector<std::unique_ptr<PodWorker>> done;
  std::set<std::string> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = workers_.begin(); it != workers_.end();) {
      if (it->second->finished()) {
        done.push_back(std::move(it->second));
        it = workers_.erase(it);
      } else {
        live.insert(it->first);
        ++it;
      }
    }
    adopted_ = true;
  }
  done.clear();  // joins their threads
  // Containers of pods this node no longer has (deleted while kubit was
  // down, or by a force delete) go, with their sandboxes and files.
  std::vector<ctr::ContainerInfo> all;
  std::string error;
  std::map<std::string, std::vector<std::string>> orphans;
  std::set<std::string> in_use;
  if (runtime_->List(&all, &error)) {
    for (const auto& c : all) {
      in_use.insert(c.image);
      std::string uid, name;
      int n;
      if (!ParseContainerId(c.id, &uid, &name, &n)) continue;
      if (!live.count(uid)) orphans[uid].push_back(c.id);
    }
  }
  for (const auto& [uid, ids] : orphans) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (workers_.count(uid)) continue;  // a worker appeared meanwhile
      adoptable_.erase(uid);
    }
    opts_.log("removing containers of pod " + uid + ", which this node no longer has");
    if (!RemovePodResources(deps_, uid, ids, 0, &error))
      opts_.log("cleanup of pod " + uid + ": " + error);
  }
  std::vector<std::string> removed;
  if (!images_->GarbageCollect({}, in_use, &removed, &error))
    opts_.log("image garbage collection: " + error);
  for (const auto& r : removed) opts_.log("image garbage collection removed " + r);
}

std::vector<PodManager::ContainerRef> PodManager::FindContainers(const std::string& ns,
                                                                 const std::string& pod,
                                                                 const std::string& container) {
  std::vector<ContainerRef> out;
  client::ObjectPtr p = pods_ ? pods_->Get(ns, pod) : nullptr;
  if (!p) return out;
  std::string want = (*p)["metadata"].value("uid", "");
  std::vector<ctr::ContainerInfo> all;
  std::string error;
  if (!runtime_->List(&all, &error)) return out;
  for (const auto& c : all) {
    std::string uid, name;
    int n;
    if (!ParseContainerId(c.id, &uid, &name, &n) || uid != want || name != container) continue;
    out.push_back({c.id, ContainerLogPath(deps_.data_dir, ns, pod, uid, name, n), n});
  }
  std::sort(out.begin(), out.end(),
            [](const ContainerRef& a, const ContainerRef& b) { return a.attempt < b.attempt; });
  return out;
}

}  // namespace kubit::kubelet
