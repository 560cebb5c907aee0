// Registry configuration in k3s's registries.yaml format
// (`--private-registry FILE`):
//
//   mirrors:
//     docker.io:                       # or "*" for every registry
//       endpoint: ["http://10.0.0.5:5000", "https://mirror.example.com"]
//       rewrite: {"^rancher/(.*)": "mirrors/rancher/$1"}
//   configs:
//     "10.0.0.5:5000":                 # an endpoint's host[:port]
//       auth: {username: u, password: p}   # or auth: base64(u:p), or identitytoken
//       tls: {ca_file: F, cert_file: F, key_file: F, insecure_skip_verify: true}
//
// A registry's endpoints are tried in order, its mirrors' first and the
// registry itself ("default endpoint") last; an http:// endpoint is plain
// HTTP. Rewrites apply to mirror endpoints only, as in k3s.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace kubit::runtime::image {

struct RegistryAuth {
  std::string username, password;
  std::string auth;            // base64 of "username:password"
  std::string identity_token;  // an OAuth2 refresh token
  bool empty() const { return username.empty() && password.empty() && auth.empty() && identity_token.empty(); }
};

struct RegistryTls {
  std::string ca_file, cert_file, key_file;
  bool insecure_skip_verify = false;
};

struct RegistryHostConfig {
  RegistryAuth auth;
  RegistryTls tls;
};

struct RegistryMirror {
  std::vector<std::string> endpoints;
  std::vector<std::pair<std::string, std::string>> rewrites;  // regex -> replacement
};

// One place to try: base is "scheme://host[:port]/v2-prefix" (no trailing
// slash), host is the key for `configs`.
struct RegistryEndpoint {
  std::string base;
  std::string host;
  std::string repository;  // the repository path to ask it for (after rewrites)
  bool is_default = false;
  RegistryHostConfig config;
};

class RegistryConfig {
 public:
  // An empty path is an empty configuration.
  static bool Load(const std::string& path, RegistryConfig* out, std::string* error);
  static bool Parse(const std::string& yaml, RegistryConfig* out, std::string* error);

  // Where to fetch `repository` (path without the domain) of registry
  // `domain` ("docker.io", "host:5000"), in order.
  bool Endpoints(const std::string& domain, const std::string& repository, std::vector<RegistryEndpoint>* out,
                 std::string* error) const;

  std::map<std::string, RegistryMirror> mirrors;
  std::map<std::string, RegistryHostConfig> configs;
};

}  // namespace kubit::runtime::image
