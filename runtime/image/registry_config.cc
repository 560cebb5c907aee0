#include "runtime/image/registry_config.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "net/http_client.h"

namespace kubit::runtime::image {
namespace {

std::string Scalar(const YAML::Node& n, const char* key) {
  YAML::Node v = n[key];
  return v && v.IsScalar() ? v.as<std::string>() : "";
}

// "https://host:5000" or "https://host/path" -> base with the /v2 prefix.
bool EndpointBase(const std::string& raw, std::string* base, std::string* host, std::string* error) {
  std::string url = raw;
  if (url.find("://") == std::string::npos) url = "https://" + url;
  net::Url u;
  if (!net::ParseUrl(url, &u) || (u.scheme != "http" && u.scheme != "https")) {
    *error = "registries.yaml: bad endpoint \"" + raw + "\"";
    return false;
  }
  std::string path = u.path_and_query.substr(0, u.path_and_query.find('?'));
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (path.size() < 3 || path.compare(path.size() - 3, 3, "/v2") != 0) path += "/v2";
  bool default_port = (u.scheme == "https" && u.port == 443) || (u.scheme == "http" && u.port == 80);
  *host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  if (!default_port) *host += ":" + std::to_string(u.port);
  *base = u.scheme + "://" + *host + path;
  return true;
}

}  // namespace

bool RegistryConfig::Load(const std::string& path, RegistryConfig* out, std::string* error) {
  *out = RegistryConfig{};
  if (path.empty()) return true;
  std::ifstream f(path);
  if (!f) {
    *error = "cannot read the registry configuration " + path;
    return false;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  if (!Parse(ss.str(), out, error)) {
    *error = path + ": " + *error;
    return false;
  }
  return true;
}

bool RegistryConfig::Parse(const std::string& text, RegistryConfig* out, std::string* error) {
  RegistryConfig c;
  try {
    YAML::Node root = YAML::Load(text);
    if (root && !root.IsNull() && !root.IsMap()) {
      *error = "registries.yaml must be a mapping with mirrors and configs";
      return false;
    }
    if (YAML::Node mirrors = root["mirrors"]; mirrors && mirrors.IsMap()) {
      for (const auto& m : mirrors) {
        RegistryMirror mirror;
        std::string name = m.first.as<std::string>();
        if (YAML::Node eps = m.second["endpoint"]; eps && eps.IsSequence()) {
          for (const auto& e : eps) {
            std::string base, host;
            if (!EndpointBase(e.as<std::string>(), &base, &host, error)) return false;
            mirror.endpoints.push_back(e.as<std::string>());
          }
        }
        if (YAML::Node rw = m.second["rewrite"]; rw && rw.IsMap()) {
          for (const auto& r : rw) {
            std::string pattern = r.first.as<std::string>();
            try {
              std::regex check(pattern);
            } catch (const std::regex_error&) {
              *error = "mirror " + name + ": bad rewrite pattern \"" + pattern + "\"";
              return false;
            }
            mirror.rewrites.emplace_back(pattern, r.second.as<std::string>());
          }
        }
        c.mirrors[name] = mirror;
      }
    }
    if (YAML::Node configs = root["configs"]; configs && configs.IsMap()) {
      for (const auto& h : configs) {
        RegistryHostConfig hc;
        if (YAML::Node a = h.second["auth"]; a && a.IsMap()) {
          hc.auth.username = Scalar(a, "username");
          hc.auth.password = Scalar(a, "password");
          hc.auth.auth = Scalar(a, "auth");
          hc.auth.identity_token = Scalar(a, "identitytoken");
        }
        if (YAML::Node t = h.second["tls"]; t && t.IsMap()) {
          hc.tls.ca_file = Scalar(t, "ca_file");
          hc.tls.cert_file = Scalar(t, "cert_file");
          hc.tls.key_file = Scalar(t, "key_file");
          if (t["insecure_skip_verify"]) hc.tls.insecure_skip_verify = t["insecure_skip_verify"].as<bool>();
          if (hc.tls.cert_file.empty() != hc.tls.key_file.empty()) {
            *error = "configs." + h.first.as<std::string>() + ".tls: cert_file and key_file go together";
            return false;
          }
        }
        // Keys may be written as URLs; the host is what counts.
        std::string key = h.first.as<std::string>(), base, host;
        if (key.find("://") != std::string::npos) {
          if (!EndpointBase(key, &base, &host, error)) return false;
          key = host;
        }
        c.configs[key] = hc;
      }
    }
  } catch (const YAML::Exception& e) {
    *error = std::string("registries.yaml: ") + e.what();
    return false;
  }
  *out = c;
  return true;
}

bool RegistryConfig::Endpoints(const std::string& domain, const std::string& repository,
                               std::vector<RegistryEndpoint>* out, std::string* error) const {
  out->clear();
  auto mirror = mirrors.find(domain);
  if (mirror == mirrors.end()) mirror = mirrors.find("*");
  auto add = [&](const std::string& raw, const std::string& repo, bool is_default) {
    RegistryEndpoint e;
    if (!EndpointBase(raw, &e.base, &e.host, error)) return false;
    e.repository = repo;
    e.is_default = is_default;
    if (auto c = configs.find(e.host); c != configs.end()) e.config = c->second;
    for (const auto& x : *out)
      if (x.base == e.base && x.repository == e.repository) return true;  // listed twice
    out->push_back(e);
    return true;
  };
  if (mirror != mirrors.end()) {
    for (const auto& raw : mirror->second.endpoints) {
      std::string repo = repository;
      for (const auto& [pattern, replacement] : mirror->second.rewrites) {
        std::regex re(pattern);
        if (std::regex_search(repo, re)) {
          repo = std::regex_replace(repo, re, replacement, std::regex_constants::format_first_only);
          break;
        }
      }
      if (!add(raw, repo, false)) return false;
    }
  }
  // The default endpoint, always last; docker.io's API lives elsewhere.
  std::string def = domain == "docker.io" ? "https://registry-1.docker.io" : "https://" + domain;
  return add(def, repository, true);
}

}  // namespace kubit::runtime::image
