// Status: the outcome of a store operation, carried back instead of an
// exception. Callers above map the codes to their own errors (the API layer
// turns NotFound into 404, Conflict into 409, Gone into 410, ...).
#pragma once

#include <string>
#include <utility>

namespace kubit::store {

class Status {
 public:
  enum class Code {
    kOk,
    kNotFound,
    kAlreadyExists,
    kConflict,         // compare-and-swap on the mod revision failed
    kGone,             // the revision asked for has been compacted
    kInvalidArgument,  // bad key or value; nothing was written
    kCorruption,       // the database file failed its check
    kIOError,          // the database refused a read or a write
    kBusy,             // another process holds the data directory
    kTooSlow,          // a watcher fell too far behind and was closed
    kClosed,           // the store or the watch was closed
    kFutureRevision,   // a read at a revision the store has not reached
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
  static Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
  static Status Gone(std::string m) { return {Code::kGone, std::move(m)}; }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status IOError(std::string m) { return {Code::kIOError, std::move(m)}; }
  static Status Busy(std::string m) { return {Code::kBusy, std::move(m)}; }
  static Status TooSlow(std::string m) { return {Code::kTooSlow, std::move(m)}; }
  static Status Closed(std::string m) { return {Code::kClosed, std::move(m)}; }
  static Status FutureRevision(std::string m) { return {Code::kFutureRevision, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsAlreadyExists() const { return code_ == Code::kAlreadyExists; }
  bool IsConflict() const { return code_ == Code::kConflict; }
  bool IsGone() const { return code_ == Code::kGone; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }

  std::string ToString() const;

 private:
  Status(Code c, std::string m) : code_(c), message_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace kubit::store
