// PodWorker: one thread per pod on this node that makes the pod's reality
// match its spec, as upstream's pod workers and kuberuntime_manager do:
// sandbox (namespaces and pod network), volumes, init containers in order
// (sidecars, restartPolicy Always, started in order and kept running), app
// containers with restartPolicy and crash-loop back-off, probes, hooks,
// and the pod's status (PATCHed only when it changed). When the pod is
// being deleted it stops the containers (preStop, then the stop signal,
// SIGKILL at the end of the grace period), removes what the pod had and
// finishes the deletion with a DELETE of grace 0 for the pod's uid.
//
// A thread per pod, not a shared queue: a pod's steps (image pulls, exec
// probes, grace periods) block for seconds, and an edge board runs tens of
// pods, not thousands. The thread wakes on a new spec, on a due probe or
// back-off, and once a second to see container exits (a state file read
// per container).
//
// The worker keeps no state that matters on disk: the containers' ids
// (pod_naming.h) and their state records are the truth, so a restarted
// kubit re-adopts running containers without restarting them.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/client/client.h"
#include "core/client/informer.h"
#include "net/pod_network.h"
#include "runtime/container/runtime.h"
#include "runtime/image/image_store.h"
#include "runtime/kubelet/backoff.h"
#include "runtime/kubelet/events.h"
#include "runtime/kubelet/object_source.h"
#include "runtime/kubelet/pod_files.h"
#include "runtime/kubelet/pod_status.h"
#include "runtime/kubelet/probe.h"

namespace kubit::kubelet {

// What every worker of a node shares; owned by the PodManager.
struct KubeletDeps {
  client::Client* client = nullptr;
  runtime::container::Runtime* runtime = nullptr;
  runtime::image::ImageStore* images = nullptr;
  // The node's pod network, opened on first use (it needs the Node's
  // podCIDR); null function: pods get a loopback-only namespace, no IP.
  std::function<net::PodNetwork*(std::string* error)> network;
  EventRecorder* events = nullptr;
  ObjectSource objects;
  std::string node_name, data_dir, host_ip;
  DnsSettings dns;
  int64_t node_cpu_milli = 0, node_memory_bytes = 0;
  std::function<void(const std::string&)> log;
  // Asks to hear (PodWorker::Wake) when the running container `id`'s shim
  // exits (runtime/container/exit_watch.h). Null: workers look at their
  // containers every second instead of every 10 s.
  std::function<void(const std::string& id, pid_t shim_pid, uint64_t shim_start)> watch_exit;
};

// Stops and removes everything kubit made for pod `uid`: containers (SIGKILL
// after grace_seconds), sandbox and its network, volumes, logs, cgroup.
// Used for pods that are gone from the API.
bool RemovePodResources(const KubeletDeps& deps, const std::string& uid,
                        const std::vector<std::string>& container_ids, int grace_seconds,
                        std::string* error);

class PodWorker {
 public:
  // `adopted`: ids of containers of this pod already in the runtime.
  PodWorker(const KubeletDeps* deps, std::string uid, std::vector<std::string> adopted);
  ~PodWorker();
  PodWorker(const PodWorker&) = delete;
  PodWorker& operator=(const PodWorker&) = delete;

  // The latest pod object; null once it is gone from the API.
  void Update(client::ObjectPtr pod);
  // Writes the status again at the next sync even if unchanged (a mirror
  // pod was made anew).
  void ResendStatus();
  // Syncs now (a container of the pod ended).
  void Wake();
  void Start();
  // kubit is stopping: the thread ends; containers keep running.
  void Stop();
  // The pod was torn down: nothing of it is left; the worker can go.
  bool finished() const { return finished_; }

 private:
  struct Attempt;
  struct Slot;
  using Clock = std::chrono::steady_clock;

  void Run();
  // One pass over the pod; returns when it wants to run again.
  Clock::time_point Sync(const nlohmann::json& pod);
  // One pass of the pod's termination: stop signals (after preStop hooks)
  // to the running containers, app containers before sidecars, SIGKILL to
  // those still running at the deadline (the pod's deletionTimestamp, so
  // a restarted kubit keeps it). True once every container is gone and
  // the pod is cleaned up (and its API object deleted); false with *wake
  // when it wants to look again (an exit also wakes it).
  bool Terminate(const nlohmann::json& pod, bool deleted_from_api, Clock::time_point* wake);
  bool EnsureSandbox(const nlohmann::json& pod, std::string* error);
  bool WritePodFiles(const nlohmann::json& pod, std::string* error);
  void Observe();
  // Asks the exit watch about every running container (deps_->watch_exit).
  void WatchExits();
  // Starts attempt `n` of a container; false when it could not (the slot's
  // waiting reason says why).
  bool StartContainer(const nlohmann::json& pod, const nlohmann::json& c, Slot* slot, int n);
  bool TryStart(const nlohmann::json& pod, const nlohmann::json& c, Slot* slot, int n);
  bool EnsureImage(const nlohmann::json& pod, const nlohmann::json& c, Slot* slot,
                   runtime::image::Image* image);
  // The Killing event, the preStop hook (within grace_seconds) and the
  // stop signal (the image's STOPSIGNAL or SIGTERM); does not wait.
  void BeginStop(const nlohmann::json& pod, const nlohmann::json& c, const std::string& id, int grace_seconds,
                 const std::string& message);
  // BeginStop, then the exit waited for until grace_seconds, then SIGKILL.
  void KillContainer(const nlohmann::json& pod, const nlohmann::json& c, const std::string& id,
                     int grace_seconds, const std::string& message);
  // Restarts an exited container (when `restart`) unless in crash-loop back-off.
  void HandleExited(const nlohmann::json& pod, const nlohmann::json& c, Slot* slot, bool restart,
                    Clock::time_point* wake);
  void RunProbes(const nlohmann::json& pod, const nlohmann::json& c, Slot* slot,
                 Clock::time_point* wake);
  PodView BuildView(const nlohmann::json& pod);
  // spec.activeDeadlineSeconds has passed since the pod's startTime.
  bool DeadlineExceeded(const nlohmann::json& pod) const;
  void ReportStatus(const nlohmann::json& pod);
  bool TokenFor(const nlohmann::json& pod, const std::string& audience, int64_t expiration,
                std::string* token, std::string* error);
  void Log(const std::string& m) const;

  const KubeletDeps* deps_;
  std::string uid_;
  std::vector<std::string> adopted_;

  std::mutex mu_;
  std::condition_variable cv_;
  client::ObjectPtr pod_;      // latest
  bool pod_changed_ = false;
  bool gone_ = false;          // deleted from the API
  bool stopping_ = false;
  std::atomic<bool> finished_{false};
  std::thread thread_;

  // The worker thread's own state.
  std::map<std::string, std::unique_ptr<Slot>> slots_;  // by container name
  BackOff crash_backoff_{std::chrono::seconds(10), std::chrono::minutes(5)};
  BackOff pull_backoff_{std::chrono::seconds(10), std::chrono::minutes(5)};
  bool sandbox_ready_ = false;
  std::string pod_ip_;
  std::string start_time_;
  std::string last_status_;  // JSON text last written
  nlohmann::json last_written_;  // the status last written
  std::atomic<bool> resend_status_{false};
  std::string status_error_;  // the last failure to write it, logged once
  bool terminal_ = false;    // phase Succeeded or Failed reached
  bool deadline_exceeded_ = false;
  bool account_checked_ = false;    // the ServiceAccount was read
  bool account_automounts_ = true;  // its automountServiceAccountToken
  Clock::time_point volumes_due_{};
  std::string volume_error_;
  struct Token {
    std::string value;
    std::chrono::system_clock::time_point refresh;
  };
  std::map<std::string, Token> tokens_;  // by audience and expiration
  nlohmann::json last_pod_;
  // Termination (Terminate): containers sent their stop signal, and when
  // they get SIGKILL.
  std::set<std::string> stopping_ids_;
  std::set<std::string> killed_ids_;
  Clock::time_point kill_at_{};
  bool terminating_ = false;
};

}  // namespace kubit::kubelet
