#include "core/scheduler/event_recorder.h"

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/api/meta.h"

namespace kubit::scheduler {
namespace {

const client::Resource kEvents{"", "v1", "events"};
// Keeps the correlation map small; forgetting only means a new Event.
constexpr size_t kMaxSeen = 4096;

}  // namespace

client::Status EventRecorder::Record(const client::Json& pod, const std::string& type,
                                     const std::string& reason, const std::string& message) {
  const client::Json meta = pod.value("metadata", client::Json::object());
  const std::string ns = meta.value("namespace", ""), name = meta.value("name", "");
  const std::string uid = meta.value("uid", "");
  const std::string now = api::Now();
  const std::string key = uid + "\n" + reason + "\n" + message;

  Seen seen;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = seen_.find(key); it != seen_.end()) {
      it->second.count++;
      seen = it->second;
    }
  }
  if (!seen.name.empty()) {
    client::Json patch = {{"count", seen.count}, {"lastTimestamp", now}};
    client::Status s = client_->Patch(kEvents, ns, seen.name, client::PatchType::kMerge, patch.dump());
    if (!s.IsNotFound()) return s;  // else it expired: write a new one
  }

  // Names as client-go makes them: the object's name and the time in hex.
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::system_clock::now().time_since_epoch()).count();
  char suffix[32];
  snprintf(suffix, sizeof(suffix), ".%llx", static_cast<unsigned long long>(nanos));
  client::Json event = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"name", name + suffix}, {"namespace", ns}}},
      {"involvedObject",
       {{"kind", "Pod"}, {"apiVersion", "v1"}, {"namespace", ns}, {"name", name}, {"uid", uid},
        {"resourceVersion", meta.value("resourceVersion", "")}}},
      {"reason", reason},
      {"message", message},
      {"type", type},
      {"source", {{"component", component_}}},
      {"reportingComponent", component_},
      {"reportingInstance", component_},
      {"firstTimestamp", now},
      {"lastTimestamp", now},
      {"count", 1},
  };
  client::Status s = client_->Create(kEvents, ns, event);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (seen_.size() >= kMaxSeen) seen_.clear();
    seen_[key] = {name + suffix, 1};
  }
  return s;
}

}  // namespace kubit::scheduler
