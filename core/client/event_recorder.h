// EventRecorder: core/v1 Events about any object, as client-go's event
// recorder writes them, so that `kubectl describe` and `kubectl events`
// list what a controller did. Its correlator does what client-go's does:
//   - the same event again (same object, type, reason and message) bumps
//     count, lastTimestamp and message of the Event written first instead
//     of adding another;
//   - similar events (same object, type and reason, other messages): the
//     10th distinct message within 10 minutes of the last becomes one Event
//     "(combined from similar events): <message>", counted as above;
//   - spam: a component may write 25 Events about one object in a burst,
//     then one every 5 minutes; the rest are dropped (a ReplicaSet of a
//     thousand pods gets a handful of SuccessfulCreate Events, not a
//     thousand writes).
//
// Events about cluster-scoped objects (Nodes, ...) go to the "default"
// namespace, as upstream puts them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "core/client/client.h"

namespace kubit::client {

inline constexpr const char* kEventTypeNormal = "Normal";
inline constexpr const char* kEventTypeWarning = "Warning";

class EventRecorder {
 public:
  // `component`: source.component and reportingComponent
  // ("replicaset-controller"); `host`: source.host (a kubelet's node), may
  // be empty. `client` must outlive the recorder. `clock` (tests) stands
  // in for the steady clock that ages aggregation and refills the spam
  // budget.
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  EventRecorder(Client* client, std::string component, std::string host = "", Clock clock = nullptr);

  // `obj` is the object the event is about (apiVersion, kind, metadata);
  // `type` kEventTypeNormal or kEventTypeWarning. Failures are returned
  // for the log; callers never fail their own work over an Event. An
  // Event the spam filter drops is no failure.
  Status Event(const Json& obj, const std::string& type, const std::string& reason,
               const std::string& message);

 private:
  struct Written {
    std::string ns, name;
    int64_t count = 0;
  };
  struct Similar {
    std::set<std::string> messages;
    std::chrono::steady_clock::time_point last;
  };
  struct Budget {
    double tokens = 0;
    std::chrono::steady_clock::time_point refilled;
  };
  Client* client_;
  std::string component_;
  std::string host_;
  Clock clock_;
  std::mutex mu_;
  std::map<std::string, Written> written_;  // object, type, reason, message -> the Event
  std::map<std::string, Similar> similar_;  // object, type, reason -> messages seen
  std::map<std::string, Budget> budgets_;   // object -> what it may still write
};

}  // namespace kubit::client
