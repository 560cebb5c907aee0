// PodManager: the kubelet's pods on one node. An informer of the pods bound
// to this node (fieldSelector spec.nodeName=<node>) and the static pod
// manifests of agent/pod-manifests/ (static_pods.h, read every 5 s, with
// their mirror pods kept in the API) feed one PodWorker per pod uid. At start it imports the air-gap images (agent/images/), then,
// once the informer has synced, re-adopts the containers of pods that still
// exist and removes those of pods that are gone (again every minute). It
// also runs image garbage collection, sparing the images pods use.
//
// Stop ends the workers and leaves every container running: a restarted
// kubit picks them up again.
//
// Autonomy: the pods, the objects they read and the Node are kept in
// agent/state.db (agent_cache.h). While the server cannot be reached,
// objects come from there; when it has not answered the pods' list
// `offline_after` after the start, the kept pods' workers start from
// there (re-adopting their containers) and run them per their restart
// policies; once the server answers, pods it no longer has are stopped.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/client/client.h"
#include "core/client/informer.h"
#include "net/pod_network.h"
#include "runtime/container/exit_watch.h"
#include "runtime/container/runtime.h"
#include "runtime/image/image_store.h"
#include "runtime/kubelet/agent_cache.h"
#include "runtime/kubelet/events.h"
#include "runtime/kubelet/pod_files.h"
#include "runtime/kubelet/pod_worker.h"
#include "runtime/kubelet/volumes_local_path.h"

namespace kubit::kubelet {

struct PodManagerOptions {
  std::string node_name;
  std::string data_dir;
  std::string host_ip;
  std::string private_registry;  // registries.yaml
  DnsSettings dns;
  bool pod_network = true;  // false: pods get only loopback and no IP
  std::string cluster_cidr;  // every node's pods (not masqueraded among themselves)
  int pod_mtu = 0;           // 0: the default route's (no overlay between nodes)
  std::function<void(const std::string&)> log;
  std::chrono::seconds housekeeping{60};
  std::chrono::seconds static_pods{5};
  std::chrono::seconds offline_after{5};
};

class PodManager {
 public:
  PodManager(client::Client* client, PodManagerOptions options);
  ~PodManager();
  PodManager(const PodManager&) = delete;
  PodManager& operator=(const PodManager&) = delete;

  // False with *error when the image store cannot be opened.
  bool Start(std::string* error);
  void Stop();

  // The containers of a pod's container, newest attempt last: ids and CRI
  // log paths (for logs and exec through the API server later).
  struct ContainerRef {
    std::string id, log_path;
    int attempt = 0;
  };
  std::vector<ContainerRef> FindContainers(const std::string& ns, const std::string& pod,
                                           const std::string& container);

  runtime::image::ImageStore* images() { return images_.get(); }

 private:
  void OnPod(const client::ObjectPtr& pod, bool deleted);
  void Housekeeping();
  // Removes workers whose pods are gone, and containers of pods this node
  // no longer has; image GC.
  void CollectOrphans();
  // Reads the manifests: starts, replaces and ends static pod workers.
  void SyncStaticPods();
  // Creates, replaces or deletes mirror pods to match the static pods.
  void SyncMirrorPods();
  void StartWorker(const client::ObjectPtr& pod);
  // Starts the workers of the pods kept in agent/state.db (no server yet).
  void RunFromCache();
  // At the first list: kept pods the server no longer has go from
  // agent/state.db, and their workers stop if they ran from there.
  void PruneCache();
  // The bridge network for the Node's podCIDR, opened on first use.
  net::PodNetwork* Network(std::string* error);
  Lookup GetObject(const std::string& resource, const std::string& ns, const std::string& name,
                   nlohmann::json* out, std::string* error);

  client::Client* client_;
  PodManagerOptions opts_;
  std::unique_ptr<runtime::container::Runtime> runtime_;
  std::unique_ptr<runtime::image::ImageStore> images_;
  std::unique_ptr<EventRecorder> events_;
  KubeletDeps deps_;
  std::unique_ptr<client::Informer> pods_;
  std::unique_ptr<runtime::container::ExitWatch> exits_;  // null: workers poll
  std::unique_ptr<AgentCache> cache_;  // null when agent/state.db cannot be opened
  std::chrono::steady_clock::time_point started_;
  std::mutex network_mu_;
  std::unique_ptr<net::PodNetwork> network_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool adopted_ = false;  // the first housekeeping after sync has run
  std::map<std::string, std::unique_ptr<PodWorker>> workers_;  // by uid
  std::map<std::string, std::vector<std::string>> adoptable_;  // uid -> container ids at start
  std::map<std::string, client::ObjectPtr> static_pods_;       // by uid; housekeeping thread only
  std::string static_errors_;                                  // the last ones logged
  std::vector<client::ObjectPtr> removed_static_;              // whose mirrors go next
  // Housekeeping thread only.
  bool ran_from_cache_ = false;  // RunFromCache has run (once per start)
  bool cache_pruned_ = false;
  LocalPathVolumes local_paths_;  // the local-path provisioner's directories here
  std::thread housekeeping_;
};

}  // namespace kubit::kubelet
