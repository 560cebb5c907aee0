// EventRecorder: core/v1 Events about pods, as the scheduler writes them
// (source.component and reportingComponent "default-scheduler"), so that
// `kubectl describe pod` lists them. The same event again (same object,
// reason and message) bumps count and lastTimestamp of the first one
// instead of adding another, as client-go's correlator does.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "core/client/client.h"

namespace kubit::scheduler {

class EventRecorder {
 public:
  EventRecorder(client::Client* client, std::string component)
      : client_(client), component_(std::move(component)) {}

  // `type`: "Normal" or "Warning". Failures are returned for the log.
  client::Status Record(const client::Json& pod, const std::string& type, const std::string& reason,
                        const std::string& message);

 private:
  struct Seen {
    std::string name;
    int64_t count = 0;
  };
  client::Client* client_;
  std::string component_;
  std::mutex mu_;
  std::map<std::string, Seen> seen_;  // uid, reason, message -> the event written
};

}  // namespace kubit::scheduler
