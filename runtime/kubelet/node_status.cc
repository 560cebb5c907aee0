#include "runtime/kubelet/node_status.h"

#include <sys/time.h>

#include <ctime>
#include <nlohmann/json.hpp>

namespace kubit::kubelet {
namespace {

using Json = nlohmann::json;

const client::Resource kNodes{"", "v1", "nodes"};
const client::Resource kLeases{"coordination.k8s.io", "v1", "leases"};

std::string Rfc3339(bool micro) {
  struct timeval tv;
  gettimeofday(&tv, nullptr);
  struct tm tm;
  gmtime_r(&tv.tv_sec, &tm);
  char buf[40];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string s = buf;
  if (micro) {
    char us[16];
    snprintf(us, sizeof(us), ".%06ld", static_cast<long>(tv.tv_usec));
    s += us;
  }
  return s + "Z";
}

std::string Ki(int64_t bytes) { return std::to_string(bytes / 1024) + "Ki"; }

// Upstream's default hard eviction thresholds, which allocatable leaves out:
// memory.available<100Mi, nodefs.available<10%.
const int64_t kEvictionMemory = 100 << 20;

struct Condition {
  const char* type;
  bool bad;  // True for Ready means good; the pressures are bad when True
  const char* reason;
  const char* message;
};

Json Conditions(const HostInfo& host, const Json& previous, const std::string& now) {
  bool memory_pressure = host.memory_available_bytes > 0 && host.memory_available_bytes < kEvictionMemory;
  bool disk_pressure = host.storage_bytes > 0 && host.storage_free_bytes < host.storage_bytes / 10;
  std::vector<std::pair<Condition, bool>> conds = {
      {{"MemoryPressure", false, memory_pressure ? "KubeletHasInsufficientMemory" : "KubeletHasSufficientMemory",
        memory_pressure ? "kubelet has insufficient memory available" : "kubelet has sufficient memory available"},
       memory_pressure},
      {{"DiskPressure", false, disk_pressure ? "KubeletHasDiskPressure" : "KubeletHasNoDiskPressure",
        disk_pressure ? "kubelet has disk pressure" : "kubelet has no disk pressure"},
       disk_pressure},
      {{"PIDPressure", false, "KubeletHasSufficientPID", "kubelet has sufficient PID available"}, false},
      {{"Ready", false, "KubeletReady", "kubelet is posting ready status"}, true},
  };
  Json out = Json::array();
  for (const auto& [c, value] : conds) {
    std::string status = value ? "True" : "False";
    std::string since = now;
    if (previous.is_object() && previous.contains("conditions"))
      for (const auto& p : previous["conditions"])
        if (p.value("type", "") == c.type && p.value("status", "") == status)
          since = p.value("lastTransitionTime", now);
    out.push_back({{"type", c.type}, {"status", status}, {"lastHeartbeatTime", now},
                   {"lastTransitionTime", since}, {"reason", c.reason}, {"message", c.message}});
  }
  return out;
}

// The status without heartbeat times: what decides whether to report.
std::string Comparable(Json status) {
  if (status.contains("conditions"))
    for (auto& c : status["conditions"]) c.erase("lastHeartbeatTime");
  return status.dump();
}

}  // namespace

bool ParseTaint(const std::string& text, Json* taint, std::string* error) {
  size_t colon = text.rfind(':');
  std::string kv = colon == std::string::npos ? "" : text.substr(0, colon);
  std::string effect = colon == std::string::npos ? "" : text.substr(colon + 1);
  if (kv.empty() || (effect != "NoSchedule" && effect != "PreferNoSchedule" && effect != "NoExecute")) {
    *error = "invalid taint \"" + text + "\": want key=value:Effect with Effect one of NoSchedule, "
             "PreferNoSchedule, NoExecute";
    return false;
  }
  size_t eq = kv.find('=');
  *taint = {{"key", kv.substr(0, eq)}, {"effect", effect}};
  if (eq != std::string::npos) (*taint)["value"] = kv.substr(eq + 1);
  return true;
}

Json BuildNodeStatus(const NodeOptions& opts, const HostInfo& host, const Json& previous,
                     const std::string& now) {
  Json capacity = {{"cpu", std::to_string(host.cpus)},
                   {"memory", Ki(host.memory_bytes)},
                   {"pods", "110"},
                   {"ephemeral-storage", Ki(host.storage_bytes)},
                   {"hugepages-1Gi", "0"},
                   {"hugepages-2Mi", "0"}};
  Json allocatable = capacity;
  allocatable["memory"] = Ki(std::max<int64_t>(0, host.memory_bytes - kEvictionMemory));
  // Upstream prints allocatable storage in bytes: capacity less 10%.
  allocatable["ephemeral-storage"] = std::to_string(host.storage_bytes - host.storage_bytes / 10);
  Json addresses = Json::array();
  for (const auto& ip : opts.ips) addresses.push_back({{"type", "InternalIP"}, {"address", ip}});
  addresses.push_back({{"type", "Hostname"}, {"address", opts.name}});
  return {{"capacity", capacity},
          {"allocatable", allocatable},
          {"conditions", Conditions(host, previous, now)},
          {"addresses", addresses},
          {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", 10250}}}}},
          {"nodeInfo",
           {{"machineID", host.machine_id},
            {"systemUUID", host.system_uuid},
            {"bootID", host.boot_id},
            {"kernelVersion", host.kernel_version},
            {"osImage", host.os_image},
            {"containerRuntimeVersion", opts.runtime_version},
            {"kubeletVersion", opts.kubelet_version},
            {"kubeProxyVersion", ""},
            {"operatingSystem", "linux"},
            {"architecture", host.architecture}}}};
}

Json BuildNode(const NodeOptions& opts, const HostInfo& host, const std::string& now) {
  Json labels = {{"kubernetes.io/hostname", opts.name},
                 {"kubernetes.io/os", "linux"},
                 {"kubernetes.io/arch", host.architecture},
                 {"beta.kubernetes.io/os", "linux"},
                 {"beta.kubernetes.io/arch", host.architecture}};
  if (opts.control_plane) labels["node-role.kubernetes.io/control-plane"] = "true";
  for (const auto& [k, v] : opts.labels) labels[k] = v;
  Json node = {{"apiVersion", "v1"},
               {"kind", "Node"},
               {"metadata",
                {{"name", opts.name},
                 {"labels", labels},
                 {"annotations",
                  {{"node.alpha.kubernetes.io/ttl", "0"},
                   {"volumes.kubernetes.io/controller-managed-attach-detach", "true"}}}}},
               {"spec", Json::object()},
               {"status", BuildNodeStatus(opts, host, Json(), now)}};
  Json taints = Json::array();
  for (const auto& t : opts.taints) {
    Json taint;
    std::string error;
    if (ParseTaint(t, &taint, &error)) taints.push_back(taint);
  }
  if (!taints.empty()) node["spec"]["taints"] = taints;
  return node;
}

NodeStatus::NodeStatus(client::Client* client, NodeOptions options)
    : client_(client), opts_(std::move(options)) {}

NodeStatus::~NodeStatus() { Stop(); }

void NodeStatus::Start() {
  std::lock_guard<std::mutex> l(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void NodeStatus::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void NodeStatus::Log(const std::string& m) const {
  if (opts_.log) opts_.log(m);
}

void NodeStatus::Run() {
  auto next_lease = std::chrono::steady_clock::now();
  auto next_status = next_lease;
  std::chrono::seconds retry{1};
  for (;;) {
    std::string error;
    bool ok = true;
    if (!registered_) {
      ok = Register(&error);
      if (ok) {
        registered_ = true;
        Log("registered node " + opts_.name);
      }
    }
    auto now = std::chrono::steady_clock::now();
    if (ok && now >= next_lease) {
      ok = RenewLease(&error);
      if (ok) next_lease = now + opts_.lease_renew;
    }
    if (ok && now >= next_status) {
      ok = ReportStatus(false, &error);
      if (ok) next_status = now + opts_.status_check;
    }
    // One line per change of state, not one per failed attempt.
    if (!ok && error != last_error_) Log("cannot update node " + opts_.name + ": " + error);
    if (ok && !last_error_.empty()) Log("node " + opts_.name + " reaches the server again");
    last_error_ = ok ? "" : error;
    retry = ok ? std::chrono::seconds(1) : std::min(retry * 2, std::chrono::seconds(10));
    auto wake = ok ? std::min(next_lease, next_status) : std::chrono::steady_clock::now() + retry;
    std::unique_lock<std::mutex> l(mu_);
    if (cv_.wait_until(l, wake, [this] { return stopping_; })) return;
  }
}

bool NodeStatus::Register(std::string* error) {
  Json node;
  client::Status s = client_->Get(kNodes, "", opts_.name, &node);
  if (s.IsNotFound()) {
    HostInfo host = ReadHostInfo(opts_.data_dir);
    Json created;
    s = client_->Create(kNodes, "", BuildNode(opts_, host, Rfc3339(false)), &created);
    if (s.IsAlreadyExists()) return Register(error);
    if (!s.ok()) {
      *error = s.message();
      return false;
    }
    node_uid_ = created["metadata"].value("uid", "");
    last_report_ = std::chrono::steady_clock::now();
    last_status_ = Comparable(created.value("status", Json::object()));
    return true;
  }
  if (!s.ok()) {
    *error = s.message();
    return false;
  }
  node_uid_ = node["metadata"].value("uid", "");
  // An existing Node keeps its taints; the labels this node sets are
  // brought up to date (upstream reconciles the same ones).
  Json want = BuildNode(opts_, ReadHostInfo(opts_.data_dir), Rfc3339(false));
  Json labels = Json::object();
  for (const auto& [k, v] : want["metadata"]["labels"].items())
    if (node["metadata"].value("labels", Json::object()).value(k, "") != v) labels[k] = v;
  if (!labels.empty()) {
    Json patch = {{"metadata", {{"labels", labels}}}};
    s = client_->Patch(kNodes, "", opts_.name, client::PatchType::kMerge, patch.dump());
    if (!s.ok()) {
      *error = s.message();
      return false;
    }
  }
  return ReportStatus(true, error);
}

bool NodeStatus::RenewLease(std::string* error) {
  Json lease;
  client::Status s = client_->Get(kLeases, "kube-node-lease", opts_.name, &lease);
  std::string now = Rfc3339(true);
  if (s.IsNotFound()) {
    Json obj = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", {{"name", opts_.name}, {"namespace", "kube-node-lease"}}},
                {"spec",
                 {{"holderIdentity", opts_.name},
                  {"leaseDurationSeconds", opts_.lease_duration_seconds},
                  {"renewTime", now}}}};
    if (!node_uid_.empty())
      obj["metadata"]["ownerReferences"] = {
          {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", opts_.name}, {"uid", node_uid_}}};
    s = client_->Create(kLeases, "kube-node-lease", obj);
  } else if (s.ok()) {
    lease["spec"]["renewTime"] = now;
    lease["spec"]["holderIdentity"] = opts_.name;
    lease["spec"]["leaseDurationSeconds"] = opts_.lease_duration_seconds;
    s = client_->Update(kLeases, "kube-node-lease", lease);
  }
  if (!s.ok()) *error = "lease: " + s.message();
  return s.ok();
}

bool NodeStatus::ReportStatus(bool force, std::string* error) {
  Json node;
  client::Status s = client_->Get(kNodes, "", opts_.name, &node);
  if (s.IsNotFound()) {
    // Someone deleted the Node: register it again.
    registered_ = false;
    *error = "the Node was deleted; registering again";
    return false;
  }
  if (!s.ok()) {
    *error = s.message();
    return false;
  }
  HostInfo host = ReadHostInfo(opts_.data_dir);
  Json status = BuildNodeStatus(opts_, host, node.value("status", Json::object()), Rfc3339(false));
  if (opts_.images) status["images"] = opts_.images();
  std::string comparable = Comparable(status);
  auto now = std::chrono::steady_clock::now();
  if (!force && comparable == last_status_ && now - last_report_ < opts_.status_report) return true;
  Json patch = {{"status", status}};
  s = client_->Patch(kNodes, "", opts_.name, client::PatchType::kStrategicMerge, patch.dump(), nullptr,
                     {}, "status");
  if (!s.ok()) {
    *error = s.message();
    return false;
  }
  last_status_ = comparable;
  last_report_ = now;
  return true;
}

}  // namespace kubit::kubelet
