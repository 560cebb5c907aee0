// client::Status: how a request through core/client ended. Either OK, a
// transport failure (code 0: connect, TLS, stream cut), or the API
// server's answer decoded from its Kubernetes Status body (HTTP code,
// reason, message), with the predicates controllers branch on, as
// k8s.io/apimachinery/pkg/api/errors has them.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace kubit::client {

class Status {
 public:
  Status() = default;  // OK
  static Status Transport(std::string message) { return Status(0, "", std::move(message)); }
  static Status Api(int code, std::string reason, std::string message) {
    return Status(code, std::move(reason), std::move(message));
  }
  // From a non-2xx response: its Status body if it has one, else the body
  // text (or the status line's meaning) as the message.
  static Status FromResponse(int code, const std::string& body);
  // From a Status object (a watch's ERROR event carries one).
  static Status FromStatusObject(const nlohmann::json& status);

  bool ok() const { return ok_; }
  int code() const { return code_; }
  const std::string& reason() const { return reason_; }
  const std::string& message() const { return message_; }
  int retry_after_seconds() const { return retry_after_; }
  // "NotFound (404): configmaps \"x\" not found", or the transport error.
  std::string ToString() const;

  bool IsNotFound() const { return Is("NotFound", 404); }
  bool IsAlreadyExists() const { return !ok_ && reason_ == "AlreadyExists"; }
  bool IsConflict() const { return Is("Conflict", 409); }
  bool IsInvalid() const { return Is("Invalid", 422); }
  bool IsForbidden() const { return Is("Forbidden", 403); }
  bool IsUnauthorized() const { return Is("Unauthorized", 401); }
  bool IsBadRequest() const { return Is("BadRequest", 400); }
  bool IsMethodNotSupported() const { return Is("MethodNotAllowed", 405); }
  bool IsTooManyRequests() const { return Is("TooManyRequests", 429); }
  // The resource version asked for is compacted away: list again
  // (upstream's IsGone or IsResourceExpired).
  bool IsGone() const { return !ok_ && (code_ == 410 || reason_ == "Gone" || reason_ == "Expired"); }
  bool IsTransport() const { return !ok_ && code_ == 0; }

 private:
  Status(int code, std::string reason, std::string message)
      : ok_(false), code_(code), reason_(std::move(reason)), message_(std::move(message)) {}
  // Upstream's rule: the reason decides; the code only when the reason is
  // missing.
  bool Is(const char* reason, int code) const {
    return !ok_ && (reason_ == reason || (reason_.empty() && code_ == code));
  }

  bool ok_ = true;
  int code_ = 0;
  std::string reason_;
  std::string message_;
  int retry_after_ = 0;
};

}  // namespace kubit::client
