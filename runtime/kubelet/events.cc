#include "runtime/kubelet/events.h"

#include <ctime>

#include "core/api/meta.h"

namespace kubit::kubelet {

using Json = nlohmann::json;

namespace {
const client::Resource kEvents{"", "v1", "events"};
}

std::string ContainerFieldPath(bool init, const std::string& name) {
  return std::string(init ? "spec.initContainers{" : "spec.containers{") + name + "}";
}

Json EventRecorder::BuildEvent(const Json& pod, const std::string& node,
                               const std::string& field_path, const std::string& type,
                               const std::string& reason, const std::string& message,
                               const std::string& now) {
  const Json& m = pod["metadata"];
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  char suffix[24];
  // Upstream names events <object>.<unix nanoseconds in hex>.
  snprintf(suffix, sizeof(suffix), "%llx",
           static_cast<unsigned long long>(ts.tv_sec) * 1000000000ULL + ts.tv_nsec);
  Json involved = {{"kind", "Pod"},
                   {"namespace", m.value("namespace", "")},
                   {"name", m.value("name", "")},
                   {"uid", m.value("uid", "")},
                   {"apiVersion", "v1"},
                   {"resourceVersion", m.value("resourceVersion", "")}};
  if (!field_path.empty()) involved["fieldPath"] = field_path;
  return {{"apiVersion", "v1"},
          {"kind", "Event"},
          {"metadata", {{"name", m.value("name", "") + "." + suffix}, {"namespace", m.value("namespace", "")}}},
          {"involvedObject", involved},
          {"reason", reason},
          {"message", message},
          {"source", {{"component", "kubelet"}, {"host", node}}},
          {"firstTimestamp", now},
          {"lastTimestamp", now},
          {"count", 1},
          {"type", type},
          {"eventTime", nullptr},
          {"reportingComponent", "kubelet"},
          {"reportingInstance", node}};
}

void EventRecorder::Record(const Json& pod, const std::string& field_path, const std::string& type,
                           const std::string& reason, const std::string& message) {
  std::string now = api::Now();
  std::string key = pod["metadata"].value("uid", "") + "\n" + field_path + "\n" + type + "\n" +
                    reason + "\n" + message;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = posted_.find(key);
  if (it != posted_.end()) {
    Json patch = {{"count", it->second.count + 1}, {"lastTimestamp", now}};
    client::Status s = client_->Patch(kEvents, it->second.ns, it->second.name,
                                      client::PatchType::kMerge, patch.dump());
    if (s.ok()) {
      it->second.count++;
      return;
    }
    posted_.erase(it);  // expired (events live an hour) or removed: post anew
  }
  Json ev = BuildEvent(pod, node_, field_path, type, reason, message, now);
  std::string ns = ev["metadata"]["namespace"];
  client::Status s = client_->Create(kEvents, ns, ev);
  if (!s.ok()) {
    if (log_) log_("event " + reason + " for pod " + ns + "/" + pod["metadata"].value("name", "") +
                   " not recorded: " + s.message());
    return;
  }
  // Bounded memory: the table only needs recent events to coalesce repeats.
  if (posted_.size() > 4096) posted_.clear();
  posted_[key] = {ns, ev["metadata"]["name"], 1};
}

}  // namespace kubit::kubelet
