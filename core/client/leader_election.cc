#include "core/client/leader_election.h"

#include <time.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <random>

#include "core/api/meta.h"

namespace kubit::client {

namespace {

const Resource kLeases{"coordination.k8s.io", "v1", "leases"};

// metav1.MicroTime as upstream writes it: "2006-01-02T15:04:05.000000Z".
std::string MicroTimeNow() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t;
  gmtime_r(&ts.tv_sec, &t);
  char buf[64];
  snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
           t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec / 1000);
  return buf;
}

// client-go's wait.Jitter(retryPeriod, 1.2): up to 20% more, so that
// candidates started together do not keep colliding.
std::chrono::milliseconds Jittered(std::chrono::milliseconds d) {
  static thread_local std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<double> f(0, 0.2);
  return d + std::chrono::milliseconds(static_cast<int64_t>(d.count() * f(rng)));
}

}  // namespace

std::string LeaderIdentity() {
  char host[256] = "";
  gethostname(host, sizeof(host) - 1);
  return std::string(host) + "_" + api::NewUID();
}

LeaderElector::LeaderElector(Client* client, LeaderElectionConfig config)
    : client_(client), config_(std::move(config)) {}

LeaderElector::~LeaderElector() { Stop(); }

void LeaderElector::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void LeaderElector::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool LeaderElector::IsLeader() const {
  std::lock_guard<std::mutex> lock(mu_);
  return leader_;
}

bool LeaderElector::Sleep(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, d, [this] { return stopping_; });
}

void LeaderElector::Run() {
  auto log = [this](const std::string& m) {
    if (config_.log) config_.log(m);
  };
  const std::string lease = config_.ns + "/" + config_.name;
  for (;;) {
    // Campaign.
    bool acquired = false;
    while (!acquired) {
      acquired = TryAcquireOrRenew();
      if (!acquired && !Sleep(Jittered(config_.retry_period))) return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        Release();
        return;
      }
      leader_ = true;
    }
    log("successfully acquired lease " + lease);
    if (config_.on_started_leading) config_.on_started_leading();
    // Lead: renew every retry period; a lease not renewed within the
    // renew deadline is given up before another candidate may take it.
    auto last_renew = std::chrono::steady_clock::now();
    bool stopping = false;
    for (;;) {
      if (!Sleep(config_.retry_period)) {
        stopping = true;
        break;
      }
      if (TryAcquireOrRenew()) {
        last_renew = std::chrono::steady_clock::now();
      } else if (std::chrono::steady_clock::now() - last_renew >= config_.renew_deadline) {
        break;
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      leader_ = false;
    }
    if (config_.on_stopped_leading) config_.on_stopped_leading();
    if (stopping) {
      Release();
      return;
    }
    log("lost lease " + lease + ": not renewed within the renew deadline; campaigning again");
  }
}

bool LeaderElector::TryAcquireOrRenew() {
  std::string now = MicroTimeNow();
  int64_t duration_s = std::chrono::duration_cast<std::chrono::seconds>(config_.lease_duration).count();
  Json lease;
  Status s = client_->Get(kLeases, config_.ns, config_.name, &lease);
  if (s.IsNotFound()) {
    Json obj = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", {{"name", config_.name}, {"namespace", config_.ns}}},
                {"spec",
                 {{"holderIdentity", config_.identity},
                  {"leaseDurationSeconds", duration_s},
                  {"acquireTime", now},
                  {"renewTime", now},
                  {"leaseTransitions", 0}}}};
    if (!client_->Create(kLeases, config_.ns, obj).ok()) return false;
    observed_holder_ = config_.identity;
    observed_renew_time_ = now;
    observed_at_ = std::chrono::steady_clock::now();
    return true;
  }
  if (!s.ok()) return false;
  Json spec = lease.contains("spec") && lease["spec"].is_object() ? lease["spec"] : Json::object();
  std::string holder = spec.value("holderIdentity", "");
  std::string renew_time = spec.value("renewTime", "");
  auto seen = std::chrono::steady_clock::now();
  if (holder != observed_holder_ || renew_time != observed_renew_time_) {
    observed_holder_ = holder;
    observed_renew_time_ = renew_time;
    observed_at_ = seen;
  }
  int64_t held_s = spec.value("leaseDurationSeconds", int64_t{0});
  bool expired = seen - observed_at_ >= std::chrono::seconds(held_s);
  if (!holder.empty() && holder != config_.identity && !expired) return false;
  if (holder != config_.identity) {
    spec["acquireTime"] = now;
    spec["leaseTransitions"] = spec.value("leaseTransitions", int64_t{0}) + 1;
  }
  spec["holderIdentity"] = config_.identity;
  spec["leaseDurationSeconds"] = duration_s;
  spec["renewTime"] = now;
  lease["spec"] = spec;
  // The update carries the resourceVersion read: two candidates taking
  // over at once cannot both succeed.
  if (!client_->Update(kLeases, config_.ns, lease).ok()) return false;
  observed_holder_ = config_.identity;
  observed_renew_time_ = now;
  observed_at_ = std::chrono::steady_clock::now();
  return true;
}

void LeaderElector::Release() {
  Json lease;
  if (!client_->Get(kLeases, config_.ns, config_.name, &lease).ok()) return;
  if (!lease.contains("spec") || lease["spec"].value("holderIdentity", "") != config_.identity) return;
  // As client-go's ReleaseOnCancel: no holder, a lease of one second.
  lease["spec"]["holderIdentity"] = "";
  lease["spec"]["leaseDurationSeconds"] = 1;
  std::string now = MicroTimeNow();
  lease["spec"]["renewTime"] = now;
  lease["spec"]["acquireTime"] = now;
  client_->Update(kLeases, config_.ns, lease);
}

}  // namespace kubit::client
