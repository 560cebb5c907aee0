#include "core/client/event_recorder.h"

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/api/meta.h"

namespace kubit::client {
namespace {

const Resource kEvents{"", "v1", "events"};
// Bounds the correlator's maps; forgetting only means a new Event object
// or a fresh budget.
constexpr size_t kMaxRemembered = 4096;
// client-go's defaults (tools/record/events_cache.go).
constexpr size_t kAggregateMaxMessages = 10;
constexpr auto kAggregateInterval = std::chrono::minutes(10);
constexpr double kSpamBurst = 25;
constexpr double kSpamRefillPerSecond = 1.0 / 300;
constexpr const char* kCombinedPrefix = "(combined from similar events): ";

template <typename M>
void Bound(M* m) {
  if (m->size() >= kMaxRemembered) m->clear();
}

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

EventRecorder::EventRecorder(Client* client, std::string component, std::string host, Clock clock)
    : client_(client), component_(std::move(component)), host_(std::move(host)), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return std::chrono::steady_clock::now(); };
}

Status EventRecorder::Event(const Json& obj, const std::string& type, const std::string& reason,
                            const std::string& msg_in) {
  const Json meta = obj.value("metadata", Json::object());
  const std::string obj_ns = meta.value("namespace", ""), name = meta.value("name", "");
  const std::string ns = obj_ns.empty() ? "default" : obj_ns;
  const std::string uid = meta.value("uid", "");
  const std::string now = api::Now();
  const std::string object = uid + "\n" + obj.value("apiVersion", "") + "\n" +
                             obj.value("kind", "") + "\n" + ns + "\n" + name;
  const std::string similar_key = object + "\n" + type + "\n" + reason;
  std::string message = msg_in;

  // As client-go: aggregate, then count, then filter; a dropped Event is
  // still counted, so the next one written carries the whole count.
  Written seen;
  std::string event_name;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto t = clock_();
    std::string key = similar_key + "\n" + message;
    auto sim = similar_.find(similar_key);
    if (sim == similar_.end() || t - sim->second.last > kAggregateInterval) {
      Bound(&similar_);
      sim = similar_.insert_or_assign(similar_key, Similar{{}, t}).first;
    }
    sim->second.messages.insert(message);
    sim->second.last = t;
    if (sim->second.messages.size() >= kAggregateMaxMessages) {
      sim->second.messages.erase(sim->second.messages.begin());  // stays just under the threshold
      message = kCombinedPrefix + message;
      key = similar_key;  // one Event for them all
    }

    if (auto it = written_.find(key); it != written_.end()) {
      it->second.count++;
      seen = it->second;
    } else {
      Bound(&written_);
      event_name = EventName(name);
      written_[key] = {ns, event_name, 1};
    }

    if (!budgets_.count(object)) Bound(&budgets_);
    Budget& budget = budgets_.try_emplace(object, Budget{kSpamBurst, t}).first->second;
    const double refill = std::chrono::duration<double>(t - budget.refilled).count() * kSpamRefillPerSecond;
    budget.tokens = std::min(kSpamBurst, budget.tokens + refill);
    budget.refilled = t;
    if (budget.tokens < 1) return Status();
    budget.tokens -= 1;
  }
  if (!seen.name.empty()) {
    Json patch = {{"count", seen.count}, {"lastTimestamp", now}, {"message", message}};
    Status s = client_->Patch(kEvents, seen.ns, seen.name, PatchType::kMerge, patch.dump());
    if (!s.IsNotFound()) return s;  // else it expired (Events live an hour) or was dropped: write it now
    event_name = seen.name;
  }

  Json involved = {{"kind", obj.value("kind", "")},
                   {"apiVersion", obj.value("apiVersion", "")},
                   {"name", name},
                   {"uid", uid},
                   {"resourceVersion", meta.value("resourceVersion", "")}};
  if (!obj_ns.empty()) involved["namespace"] = obj_ns;
  Json source = {{"component", component_}};
  if (!host_.empty()) source["host"] = host_;
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
      {"count", seen.name.empty() ? 1 : seen.count},
  };
  return client_->Create(kEvents, ns, event);
}

}  // namespace kubit::client
