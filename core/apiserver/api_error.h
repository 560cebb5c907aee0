// ApiError: a failed request as Kubernetes reports it, a Status object
// with code, reason and message (and details for field errors).
#pragma once

#include <string>
#include <vector>

#include "core/api/meta.h"
#include "core/api/resources.h"
#include "store/status.h"

namespace kubit::apiserver {

struct ApiError {
  int code = 500;
  std::string reason;  // "NotFound", "AlreadyExists", ...
  std::string message;
  std::string details_name, details_group, details_kind;
  std::vector<api::FieldError> causes;
  // Causes that are not field errors ("DisruptionBudget", say), sent as is.
  struct Cause {
    std::string reason, message, field;
  };
  std::vector<Cause> other_causes;
  int retry_after = 0;

  std::string ToJson() const;

  static ApiError BadRequest(std::string msg) { return {400, "BadRequest", std::move(msg)}; }
  static ApiError Unauthorized() { return {401, "Unauthorized", "Unauthorized"}; }
  static ApiError Forbidden(std::string msg) { return {403, "Forbidden", std::move(msg)}; }
  static ApiError MethodNotAllowed(std::string msg) { return {405, "MethodNotAllowed", std::move(msg)}; }
  static ApiError Internal(std::string msg) { return {500, "InternalError", std::move(msg)}; }
  static ApiError NotFound(const api::ResourceType& t, const std::string& name);
  static ApiError NotFoundPath();  // no such path
  static ApiError AlreadyExists(const api::ResourceType& t, const std::string& name);
  static ApiError Conflict(const api::ResourceType& t, const std::string& name, std::string why);
  static ApiError Invalid(const api::ResourceType& t, const std::string& name,
                          std::vector<api::FieldError> causes);
  static ApiError Gone(std::string msg) { return {410, "Expired", std::move(msg)}; }
  // A store failure while serving `t`/`name`.
  static ApiError FromStore(const store::Status& s, const api::ResourceType& t,
                            const std::string& name);
};

}  // namespace kubit::apiserver
