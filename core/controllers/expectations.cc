#include "core/controllers/expectations.h"

#include <algorithm>

namespace kubit::controllers {
namespace {

// Upstream's ExpectationsTimeout.
constexpr std::chrono::minutes kExpectationsTimeout{5};

}  // namespace

bool ControllerExpectations::SatisfiedExpectations(const std::string& controller) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = records_.find(controller);
  if (it == records_.end()) return true;  // never asked for anything, or forgotten
  const Record& r = it->second;
  if (r.adds <= 0 && r.deletes.empty()) return true;
  return std::chrono::steady_clock::now() - r.timestamp > kExpectationsTimeout;
}

void ControllerExpectations::ExpectCreations(const std::string& controller, int adds) {
  std::lock_guard<std::mutex> lock(mu_);
  records_[controller] = {adds, {}, std::chrono::steady_clock::now()};
}

void ControllerExpectations::ExpectDeletions(const std::string& controller,
                                             const std::vector<std::string>& keys) {
  std::lock_guard<std::mutex> lock(mu_);
  records_[controller] = {0, std::set<std::string>(keys.begin(), keys.end()),
                          std::chrono::steady_clock::now()};
}

void ControllerExpectations::CreationObserved(const std::string& controller) { LowerCreations(controller, 1); }

void ControllerExpectations::LowerCreations(const std::string& controller, int n) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = records_.find(controller);
  if (it != records_.end() && it->second.adds > 0) it->second.adds -= std::min(n, it->second.adds);
}

void ControllerExpectations::DeletionObserved(const std::string& controller, const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = records_.find(controller);
  if (it != records_.end()) it->second.deletes.erase(key);
}

void ControllerExpectations::DeleteExpectations(const std::string& controller) {
  std::lock_guard<std::mutex> lock(mu_);
  records_.erase(controller);
}

}  // namespace kubit::controllers
