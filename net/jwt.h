// JWT (JWS compact form) signed with ES256, for ServiceAccount tokens.
// Knows nothing of Kubernetes claims: callers pass and read JSON text.
#pragma once

#include <string>

namespace kubit::net {

// "header.payload.signature" with header {"alg":"ES256","kid":kid}.
bool SignJwtES256(const std::string& key_pem, const std::string& kid,
                  const std::string& payload_json, std::string* token, std::string* error);
// Checks the signature with the public half of `key_pem` (a private key PEM)
// and returns the payload JSON text. Expiry is the caller's to check.
bool VerifyJwtES256(const std::string& key_pem, const std::string& token, std::string* payload_json);
// The key id: base64url of the SHA-256 of the public key (DER).
std::string KeyId(const std::string& key_pem);

std::string Base64UrlEncode(const std::string& in);
bool Base64UrlDecode(const std::string& in, std::string* out);

}  // namespace kubit::net
