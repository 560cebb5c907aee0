// ControllerExpectations: what a controller has asked the API server to
// create and delete and not yet seen come back through its informer, as
// upstream's ControllerExpectations. A controller that syncs while its
// cache lags would otherwise count the pods it just made as missing and
// make them again. Sync acts only when SatisfiedExpectations(key); the
// informer handlers call CreationObserved / DeletionObserved. A record
// older than five minutes counts as satisfied (a watch event was lost), as
// upstream's ExpectationsTimeout.
//
// Deletions are tracked by object key (upstream's
// UIDTrackingControllerExpectations), so a delete event seen twice, or a
// pod that was already going, is counted once.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace kubit::controllers {

class ControllerExpectations {
 public:
  // `controller` is the owner's key ("ns/name").
  bool SatisfiedExpectations(const std::string& controller) const;
  // Replaces the record: `adds` creations are awaited.
  void ExpectCreations(const std::string& controller, int adds);
  // Replaces the record: the deletions of `keys` (objects' "ns/name") are awaited.
  void ExpectDeletions(const std::string& controller, const std::vector<std::string>& keys);
  void CreationObserved(const std::string& controller);
  // A creation that failed will never be observed.
  void LowerCreations(const std::string& controller, int n = 1);
  void DeletionObserved(const std::string& controller, const std::string& key);
  // The owner is gone.
  void DeleteExpectations(const std::string& controller);

 private:
  struct Record {
    int adds = 0;
    std::set<std::string> deletes;
    std::chrono::steady_clock::time_point timestamp;
  };
  mutable std::mutex mu_;
  std::map<std::string, Record> records_;
};

}  // namespace kubit::controllers
