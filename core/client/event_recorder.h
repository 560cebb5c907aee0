// EventRecorder: core/v1 Events about any object, as client-go's event
// recorder writes them, so that `kubectl describe` and `kubectl events`
// list what a controller did. The same event again (same object, type,
// reason and message) bumps count and lastTimestamp of the Event written
// first instead of adding another, as client-go's correlator does.
//
// Events about cluster-scoped objects (Nodes, ...) go to the "default"
// namespace, as upstream puts them.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "core/client/client.h"

namespace kubit::client {

inline constexpr const char* kEventTypeNormal = "Normal";
inline constexpr const char* kEventTypeWarning = "Warning";

class EventRecorder {
 public:
  // `component`: source.component and reportingComponent
  // ("replicaset-controller"); `host`: source.host (a kubelet's node), may
  // be empty. `client` must outlive the recorder.
  EventRecorder(Client* client, std::string component, std::string host = "");

  // `obj` is the object the event is about (apiVersion, kind, metadata);
  // `type` kEventTypeNormal or kEventTypeWarning. Failures are returned
  // for the log; callers never fail their own work over an Event.
  Status Event(const Json& obj, const std::string& type, const std::string& reason,
               const std::string& message);

 private:
  struct Written {
    std::string ns, name;
    int64_t count = 0;
  };
  Client* client_;
  std::string component_;
  std::string host_;
  std::mutex mu_;
  std::map<std::string, Written> written_;  // uid, type, reason, message -> the Event
};

}  // namespace kubit::client
