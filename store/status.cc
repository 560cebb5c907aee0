#include "store/status.h"

namespace kubit::store {

std::string Status::ToString() const {
  static const char* const kNames[] = {
      "OK",      "NotFound", "AlreadyExists", "Conflict", "Gone",   "InvalidArgument",
      "Corruption", "IOError", "Busy",        "TooSlow",  "Closed", "FutureRevision"};
  std::string s = kNames[static_cast<int>(code_)];
  if (!message_.empty()) s += ": " + message_;
  return s;
}

}  // namespace kubit::store
