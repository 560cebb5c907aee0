// LeaderElector: client-go's leader election over a coordination.k8s.io
// Lease, so that several servers sharing one datastore run each controller
// (and the scheduler) once. The holder renews every retry period; a lease
// not renewed for its duration (as this process observed it, so clocks
// need not agree) may be taken over. Unlike client-go, losing the lease
// does not end the process: the work is stopped and the elector campaigns
// again.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "core/client/client.h"

namespace kubit::client {

struct LeaderElectionConfig {
  std::string ns = "kube-system";
  std::string name;      // the Lease: "kube-controller-manager", "kube-scheduler"
  std::string identity;  // this candidate: "<host>_<uuid>" as upstream
  // Upstream's defaults for kube-controller-manager and kube-scheduler.
  std::chrono::milliseconds lease_duration{15000};
  std::chrono::milliseconds renew_deadline{10000};
  std::chrono::milliseconds retry_period{2000};
  // Called from the elector's thread; start and stop the work without
  // waiting on this elector.
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;
  std::function<void(const std::string& message)> log;
};

class LeaderElector {
 public:
  // `client` must outlive the elector.
  LeaderElector(Client* client, LeaderElectionConfig config);
  ~LeaderElector();  // Stop
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  void Start();
  // Stops campaigning; a leader stops its work (on_stopped_leading) and
  // gives the lease up at once, so another candidate need not wait it out.
  void Stop();
  bool IsLeader() const;

 private:
  void Run();
  // One try: true when this candidate holds the lease afterwards.
  bool TryAcquireOrRenew();
  void Release();
  bool Sleep(std::chrono::milliseconds d);  // false when stopping

  Client* client_;
  LeaderElectionConfig config_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool leader_ = false;
  std::thread thread_;
  // What this process last saw of the lease, and when it saw it change.
  std::string observed_holder_;
  std::string observed_renew_time_;
  std::chrono::steady_clock::time_point observed_at_{};
};

// "<hostname>_<uuid>": a candidate's identity, unique per process as
// upstream makes it.
std::string LeaderIdentity();

}  // namespace kubit::client
