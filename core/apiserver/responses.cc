#include "core/apiserver/responses.h"

#include <nlohmann/json.hpp>

#include "net/http_server.h"

namespace kubit::apiserver {

void SendJson(net::HttpResponse& resp, int code, const nlohmann::json& body) {
  resp.SetHeader("Content-Type", "application/json");
  resp.Send(code, body.dump());
}

void SendError(net::HttpResponse& resp, const ApiError& e) {
  resp.SetHeader("Content-Type", "application/json");
  resp.Send(e.code, e.ToJson());
}

}  // namespace kubit::apiserver
