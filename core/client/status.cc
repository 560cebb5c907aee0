#include "core/client/status.h"

#include <nlohmann/json.hpp>

#include "net/http_server.h"

namespace kubit::client {

Status Status::FromStatusObject(const nlohmann::json& o) {
  if (!o.is_object()) return Api(500, "InternalError", "malformed Status object");
  Status s(o.value("code", 0), o.value("reason", ""), o.value("message", ""));
  const auto& details = o.value("details", nlohmann::json::object());
  if (details.is_object()) s.retry_after_ = details.value("retryAfterSeconds", 0);
  return s;
}

Status Status::FromResponse(int code, const std::string& body) {
  nlohmann::json o = nlohmann::json::parse(body, nullptr, false);
  if (o.is_object() && o.value("kind", "") == "Status") {
    Status s = FromStatusObject(o);
    if (s.code_ == 0) s.code_ = code;
    return s;
  }
  std::string text = body;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  // A bare status as upstream's client names it when no Status came back.
  return Status(code, "", text.empty() ? "the server responded with " + std::to_string(code) + " " +
                                             net::StatusText(code)
                                       : text);
}

std::string Status::ToString() const {
  if (ok_) return "OK";
  if (code_ == 0) return message_;
  return (reason_.empty() ? std::string("HTTP") : reason_) + " (" + std::to_string(code_) + "): " + message_;
}

}  // namespace kubit::client
