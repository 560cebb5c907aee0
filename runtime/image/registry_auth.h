// Registry authentication (distribution spec, Docker token auth): a 401
// carries `WWW-Authenticate: Bearer realm="...",service="...",scope="..."`
// (or `Basic realm=...`); a Bearer challenge is answered by fetching a
// token from the realm (anonymously, with basic credentials, or with an
// identity token as an OAuth2 refresh token) and retrying with it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "net/http_client.h"
#include "runtime/image/registry_config.h"

namespace kubit::runtime::image {

struct AuthChallenge {
  std::string scheme;                         // lower-cased: "bearer", "basic"
  std::map<std::string, std::string> params;  // names lower-cased
};

// Every challenge of a WWW-Authenticate value (there may be several,
// comma-separated, each with its own parameters). False on a malformed one.
bool ParseWwwAuthenticate(const std::string& header, std::vector<AuthChallenge>* out, std::string* error);

// "username:password" from the config's username/password or its base64
// `auth`; empty when there are none.
std::string BasicCredentials(const RegistryAuth& auth);

// The Authorization header value that answers `challenges` for `scope`
// ("repository:library/busybox:pull"): "Basic ..." or "Bearer <token>".
// False with *error when the token server refuses or cannot be reached.
bool Authorize(net::HttpClient* client, const std::vector<AuthChallenge>& challenges, const RegistryAuth& auth,
               const std::string& scope, std::string* header, std::string* error);

}  // namespace kubit::runtime::image
