#include "core/client/event_recorder.h"

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/api/meta.h"

namespace kubit::client {
namespace {

const Resource kEvents{"", "v1", "events"};
// Bounds the correlation map; forgetting only means a new Event object.
constexpr size_t kMaxRemembered = 4096;

// Names as client-go makes them: the object's name and the time in hex.
std::string EventName(const std::string& object_name) {
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  char suffix[32];
  snprintf(suffix, sizeof(suffix), ".%llx", static_cast<unsigned long long>(nanos));
  return object_name + suffix;
}

}  // namespace

EventRecorder::EventRecorder(Client* client, std::string component, std::string host)
    : client_(client), component_(std::move(component)), host_(std::move(host)) {}

Status EventRecorder::Event(const Json& obj, const std::string& type, const std::string& reason,
                            const std::string& message) {
  const Json meta = obj.value("metadata", Json::object());
  const std::string obj_ns = meta.value("namespace", ""), name = meta.value("name", "");
  const std::string ns = obj_ns.empty() ? "default" : obj_ns;
  const std::string uid = meta.value("uid", "");
  const std::string now = api::Now();
  const std::string key = uid + "\n" + name + "\n" + type + "\n" + reason + "\n" + message;

  Written seen;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = written_.find(key); it != written_.end()) {
      it->second.count++;
      seen = it->second;
    }
  }
  if (!seen.name.empty()) {
    Json patch = {{"count", seen.count}, {"lastTimestamp", now}};
    Status s = client_->Patch(kEvents, seen.ns, seen.name, PatchType::kMerge, patch.dump());
    if (!s.IsNotFound()) return s;  // else it expired (Events live an hour): write a new one
  }

  Json involved = {{"kind", obj.value("kind", "")},
                   {"apiVersion", obj.value("apiVersion", "")},
                   {"name", name},
                   {"uid", uid},
                   {"resourceVersion", meta.value("resourceVersion", "")}};
  if (!obj_ns.empty()) involved["namespace"] = obj_ns;
  Json source = {{"component", component_}};
  if (!host_.empty()) source["host"] = host_;
  const std::string event_name = EventName(name);
  Json event = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"name", event_name}, {"namespace", ns}}},
      {"involvedObject", involved},
      {"reason", reason},
      {"message", message},
      {"type", type},
      {"source", source},
      {"reportingComponent", component_},
      {"reportingInstance", host_.empty() ? component_ : component_ + "-" + host_},
      {"firstTimestamp", now},
      {"lastTimestamp", now},
      {"count", 1},
  };
  Status s = client_->Create(kEvents, ns, event);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (written_.size() >= kMaxRemembered) written_.clear();
    written_[key] = {ns, event_name, 1};
  }
  return s;
}

}  // namespace kubit::client
