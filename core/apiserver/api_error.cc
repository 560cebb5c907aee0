#include "core/apiserver/api_error.h"

#include <nlohmann/json.hpp>

namespace kubit::apiserver {

using api::Json;

std::string ApiError::ToJson() const {
  Json j = {{"kind", "Status"},   {"apiVersion", "v1"}, {"metadata", Json::object()},
            {"status", "Failure"}, {"message", message}, {"reason", reason},
            {"code", code}};
  if (!details_name.empty() || !details_kind.empty() || !causes.empty() || !other_causes.empty() ||
      retry_after) {
    Json d = Json::object();
    if (!details_name.empty()) d["name"] = details_name;
    if (!details_group.empty()) d["group"] = details_group;
    if (!details_kind.empty()) d["kind"] = details_kind;
    if (!causes.empty()) {
      d["causes"] = Json::array();
      for (const auto& c : causes) {
        std::string msg = c.type;
        if (!c.value.empty()) msg += ": " + c.value;
        if (!c.detail.empty()) msg += ": " + c.detail;
        d["causes"].push_back({{"reason", "Field" + std::string(c.type == "Required value" ? "ValueRequired"
                                                              : c.type == "Invalid value" ? "ValueInvalid"
                                                              : c.type == "Forbidden"     ? "ValueForbidden"
                                                              : c.type == "Unsupported value" ? "ValueNotSupported"
                                                              : c.type == "Duplicate value" ? "ValueDuplicate"
                                                                                           : "ValueInvalid")},
                               {"message", msg},
                               {"field", c.field}});
      }
    }
    for (const auto& c : other_causes) {
      if (!d.contains("causes")) d["causes"] = Json::array();
      Json cause = {{"reason", c.reason}, {"message", c.message}};
      if (!c.field.empty()) cause["field"] = c.field;
      d["causes"].push_back(cause);
    }
    if (retry_after) d["retryAfterSeconds"] = retry_after;
    j["details"] = d;
  }
  return j.dump();
}

ApiError ApiError::NotFound(const api::ResourceType& t, const std::string& name) {
  ApiError e{404, "NotFound", t.plural + (t.group.empty() ? "" : "." + t.group) + " \"" + name +
                                  "\" not found"};
  e.details_name = name;
  e.details_group = t.group;
  e.details_kind = t.plural;
  return e;
}

ApiError ApiError::NotFoundPath() {
  return {404, "NotFound", "the server could not find the requested resource"};
}

ApiError ApiError::AlreadyExists(const api::ResourceType& t, const std::string& name) {
  ApiError e{409, "AlreadyExists", t.plural + (t.group.empty() ? "" : "." + t.group) + " \"" +
                                       name + "\" already exists"};
  e.details_name = name;
  e.details_group = t.group;
  e.details_kind = t.plural;
  return e;
}

ApiError ApiError::Conflict(const api::ResourceType& t, const std::string& name, std::string why) {
  ApiError e{409, "Conflict", "Operation cannot be fulfilled on " + t.plural +
                                  (t.group.empty() ? "" : "." + t.group) + " \"" + name +
                                  "\": " + why};
  e.details_name = name;
  e.details_group = t.group;
  e.details_kind = t.plural;
  return e;
}

ApiError ApiError::Invalid(const api::ResourceType& t, const std::string& name,
                           std::vector<api::FieldError> causes) {
  std::string msg = t.kind + (t.group.empty() ? "" : "." + t.group) + " \"" + name + "\" is invalid: ";
  if (causes.size() == 1) {
    msg += causes[0].ToString();
  } else {
    msg += "[";
    for (size_t i = 0; i < causes.size(); i++) msg += (i ? ", " : "") + causes[i].ToString();
    msg += "]";
  }
  ApiError e{422, "Invalid", msg};
  e.details_name = name;
  e.details_group = t.group;
  e.details_kind = t.kind;
  e.causes = std::move(causes);
  return e;
}

ApiError ApiError::FromStore(const store::Status& s, const api::ResourceType& t,
                             const std::string& name) {
  switch (s.code()) {
    case store::Status::Code::kNotFound: return NotFound(t, name);
    case store::Status::Code::kAlreadyExists: return AlreadyExists(t, name);
    case store::Status::Code::kConflict:
      return Conflict(t, name,
                      "the object has been modified; please apply your changes to the latest "
                      "version and try again");
    case store::Status::Code::kGone: return Gone("The provided resourceVersion is too old: " + s.message());
    case store::Status::Code::kFutureRevision: {
      ApiError e{504, "Timeout", "Too large resource version: " + s.message()};
      e.retry_after = 1;
      return e;
    }
    case store::Status::Code::kInvalidArgument: return BadRequest(s.message());
    default: return Internal(s.ToString());
  }
}

}  // namespace kubit::apiserver
