#include "runtime/image/registry_auth.h"

#include <openssl/evp.h>

#include <cctype>
#include <cstring>
#include <nlohmann/json.hpp>

namespace kubit::runtime::image {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return s;
}

bool IsTokenChar(char c) {
  return isalnum(static_cast<unsigned char>(c)) || strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

std::string Base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

bool Unbase64(const std::string& in, std::string* out) {
  if (in.size() % 4 != 0) return false;
  std::string buf(in.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(buf.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return false;
  size_t pad = 0;
  for (size_t i = in.size(); i > 0 && in[i - 1] == '='; i--) pad++;
  buf.resize(static_cast<size_t>(n) - pad);
  *out = buf;
  return true;
}

std::string QueryEscape(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

bool ParseWwwAuthenticate(const std::string& h, std::vector<AuthChallenge>* out, std::string* error) {
  out->clear();
  size_t i = 0, n = h.size();
  auto skip_ws = [&] {
    while (i < n && (h[i] == ' ' || h[i] == '\t')) i++;
  };
  auto token = [&] {
    size_t s = i;
    while (i < n && IsTokenChar(h[i])) i++;
    return h.substr(s, i - s);
  };
  while (true) {
    skip_ws();
    while (i < n && h[i] == ',') {
      i++;
      skip_ws();
    }
    if (i >= n) break;
    AuthChallenge c;
    c.scheme = Lower(token());
    if (c.scheme.empty()) {
      *error = "malformed WWW-Authenticate header \"" + h + "\"";
      return false;
    }
    // Parameters: name=value or name="quoted", separated by commas; a
    // token not followed by '=' starts the next challenge.
    while (true) {
      skip_ws();
      size_t save = i;
      std::string name = token();
      skip_ws();
      if (name.empty() || i >= n || h[i] != '=') {
        i = save;
        break;
      }
      i++;
      skip_ws();
      std::string value;
      if (i < n && h[i] == '"') {
        i++;
        while (i < n && h[i] != '"') {
          if (h[i] == '\\' && i + 1 < n) i++;
          value += h[i++];
        }
        if (i >= n) {
          *error = "unterminated quoted string in WWW-Authenticate \"" + h + "\"";
          return false;
        }
        i++;
      } else {
        value = token();
      }
      c.params[Lower(name)] = value;
      skip_ws();
      if (i < n && h[i] == ',') i++;
    }
    out->push_back(c);
  }
  if (out->empty()) {
    *error = "empty WWW-Authenticate header";
    return false;
  }
  return true;
}

std::string BasicCredentials(const RegistryAuth& auth) {
  if (!auth.username.empty() || !auth.password.empty()) return auth.username + ":" + auth.password;
  std::string decoded;
  if (!auth.auth.empty() && Unbase64(auth.auth, &decoded)) return decoded;
  return "";
}

bool Authorize(net::HttpClient* client, const std::vector<AuthChallenge>& challenges, const RegistryAuth& auth,
               const std::string& scope, std::string* header, std::string* error) {
  std::string basic = BasicCredentials(auth);
  for (const auto& c : challenges) {
    if (c.scheme != "bearer") continue;
    auto realm = c.params.find("realm");
    if (realm == c.params.end() || realm->second.empty()) {
      *error = "Bearer challenge without a realm";
      return false;
    }
    std::string service = c.params.count("service") ? c.params.at("service") : "";
    std::string want_scope = c.params.count("scope") ? c.params.at("scope") : scope;
    net::HttpClientRequest req;
    net::HttpClientResponse resp;
    if (!auth.identity_token.empty()) {
      // An identity token is an OAuth2 refresh token (Docker's token spec).
      req.method = "POST";
      req.url = realm->second;
      req.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
      req.body = "grant_type=refresh_token&client_id=kubit&service=" + QueryEscape(service) +
                 "&scope=" + QueryEscape(want_scope) + "&refresh_token=" + QueryEscape(auth.identity_token);
    } else {
      std::string url = realm->second;
      url += url.find('?') == std::string::npos ? "?" : "&";
      if (!service.empty()) url += "service=" + QueryEscape(service) + "&";
      url += "scope=" + QueryEscape(want_scope);
      req.url = url;
      if (!basic.empty()) req.headers.push_back({"Authorization", "Basic " + Base64(basic)});
    }
    req.follow_redirects = true;
    if (!client->Do(req, &resp, error)) {
      *error = "token server " + realm->second + ": " + *error;
      return false;
    }
    if (resp.status != 200) {
      *error = "token server " + realm->second + " returned " + std::to_string(resp.status) +
               (resp.status == 401 || resp.status == 403 ? " (bad or missing credentials)" : "");
      return false;
    }
    nlohmann::json j = nlohmann::json::parse(resp.body, nullptr, false);
    std::string token;
    if (j.is_object()) {
      if (j.contains("token") && j["token"].is_string()) token = j["token"].get<std::string>();
      if (token.empty() && j.contains("access_token") && j["access_token"].is_string())
        token = j["access_token"].get<std::string>();
    }
    if (token.empty()) {
      *error = "token server " + realm->second + " answered without a token";
      return false;
    }
    *header = "Bearer " + token;
    return true;
  }
  for (const auto& c : challenges) {
    if (c.scheme != "basic") continue;
    if (basic.empty()) {
      *error = "the registry wants a username and password (configs.<host>.auth in the registry configuration)";
      return false;
    }
    *header = "Basic " + Base64(basic);
    return true;
  }
  *error = "no supported authentication scheme in the registry's challenge";
  return false;
}

}  // namespace kubit::runtime::image
