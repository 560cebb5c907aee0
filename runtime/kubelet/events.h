// EventRecorder: core/v1 Events about pods, as upstream's kubelet records
// them (source.component "kubelet", source.host and reportingInstance the
// node). The same event again (same object, field path, type, reason and
// message) bumps count and lastTimestamp of the one already posted instead
// of adding another. Failures are logged, never returned: events are
// best effort.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "core/client/client.h"

namespace kubit::kubelet {

class EventRecorder {
 public:
  EventRecorder(client::Client* client, std::string node,
                std::function<void(const std::string&)> log = nullptr)
      : client_(client), node_(std::move(node)), log_(std::move(log)) {}

  // field_path: "spec.containers{name}" or "" for the pod itself.
  void Record(const nlohmann::json& pod, const std::string& field_path, const std::string& type,
              const std::string& reason, const std::string& message);

  // The Event object a first occurrence posts (exposed for tests).
  static nlohmann::json BuildEvent(const nlohmann::json& pod, const std::string& node,
                                   const std::string& field_path, const std::string& type,
                                   const std::string& reason, const std::string& message,
                                   const std::string& now);

 private:
  struct Posted {
    std::string ns, name;
    int64_t count = 0;
  };
  client::Client* client_;
  std::string node_;
  std::function<void(const std::string&)> log_;
  std::mutex mu_;
  std::map<std::string, Posted> posted_;  // by the event's identity
};

// "spec.containers{web}" or "spec.initContainers{setup}".
std::string ContainerFieldPath(bool init, const std::string& name);

}  // namespace kubit::kubelet
