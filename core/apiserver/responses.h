// Sending JSON answers and Status errors.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "core/apiserver/api_error.h"

namespace kubit::net {
class HttpResponse;
}

namespace kubit::apiserver {

void SendJson(net::HttpResponse& resp, int code, const nlohmann::json& body);
void SendError(net::HttpResponse& resp, const ApiError& e);

}  // namespace kubit::apiserver
