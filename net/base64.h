// Standard base64 (RFC 4648 section 4, padded), for HTTP basic credentials
// and the *-data fields of kubeconfigs. The URL-safe form is in jwt.h.
#pragma once

#include <string>

namespace kubit::net {

std::string Base64Encode(const std::string& in);
// Accepts input with or without padding; false on any other character.
bool Base64Decode(const std::string& in, std::string* out);

}  // namespace kubit::net
