#include "core/client/config.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/api/yaml.h"
#include "net/jwt.h"

namespace kubit::client {
namespace {

using Json = nlohmann::json;

bool ReadWholeFile(const std::string& path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::stringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return true;
}

// Standard base64 (kubeconfig's *-data fields), through the URL-safe
// decoder that JWTs already need.
bool DecodeBase64(std::string in, std::string* out) {
  std::string url;
  for (char c : in) {
    if (c == '+') url += '-';
    else if (c == '/') url += '_';
    else if (c == '-' || c == '_') return false;
    else if (!isspace(static_cast<unsigned char>(c))) url += c;
  }
  return net::Base64UrlDecode(url, out);
}

// The entry of `list` (clusters, users, contexts) called `name`.
const Json* Named(const Json& doc, const char* list, const std::string& name) {
  auto it = doc.find(list);
  if (it == doc.end() || !it->is_array()) return nullptr;
  for (const Json& e : *it)
    if (e.is_object() && e.value("name", "") == name) return &e;
  return nullptr;
}

// A `<field>-data` (base64) or `<field>` (a file) value, whichever is set.
bool DataOrFile(const Json& obj, const std::string& field, const std::string& dir,
                std::string* out, std::string* error) {
  std::string data = obj.value(field + "-data", "");
  if (!data.empty()) {
    if (DecodeBase64(data, out)) return true;
    *error = field + "-data is not valid base64";
    return false;
  }
  std::string file = obj.value(field, "");
  if (file.empty()) return true;
  if (file[0] != '/') file = dir + file;
  if (ReadWholeFile(file, out)) return true;
  *error = "cannot read " + field + " " + file;
  return false;
}

}  // namespace

bool LoadKubeconfig(const std::string& path, const std::string& context, Config* out,
                    std::string* error) {
  std::string text;
  if (!ReadWholeFile(path, &text)) {
    *error = "cannot read kubeconfig " + path;
    return false;
  }
  Json doc;
  std::string why;
  if (!api::ParseYaml(text, &doc, &why) || !doc.is_object()) {
    *error = "kubeconfig " + path + ": " + (why.empty() ? "not a mapping" : why);
    return false;
  }
  std::string dir = path.substr(0, path.rfind('/') + 1);
  auto fail = [&](const std::string& msg) {
    *error = "kubeconfig " + path + ": " + msg;
    return false;
  };
  try {
    std::string ctx_name = context.empty() ? doc.value("current-context", "") : context;
    if (ctx_name.empty()) return fail("no current-context");
    const Json* ctx = Named(doc, "contexts", ctx_name);
    if (!ctx || !ctx->contains("context")) return fail("no context \"" + ctx_name + "\"");
    const Json& c = (*ctx)["context"];
    std::string cluster_name = c.value("cluster", ""), user_name = c.value("user", "");
    const Json* cluster = Named(doc, "clusters", cluster_name);
    if (!cluster || !cluster->contains("cluster")) return fail("no cluster \"" + cluster_name + "\"");
    const Json& cl = (*cluster)["cluster"];
    Config cfg;
    cfg.server = cl.value("server", "");
    if (cfg.server.empty()) return fail("cluster \"" + cluster_name + "\" has no server");
    while (cfg.server.size() > 1 && cfg.server.back() == '/') cfg.server.pop_back();
    net::Url u;
    if (!net::ParseUrl(cfg.server, &u)) return fail("bad server URL \"" + cfg.server + "\"");
    if (!DataOrFile(cl, "certificate-authority", dir, &cfg.tls.ca_pem, &why)) return fail(why);
    cfg.tls.insecure_skip_verify = cl.value("insecure-skip-tls-verify", false);
    cfg.tls.server_name = cl.value("tls-server-name", "");
    cfg.ns = c.value("namespace", "default");
    if (!user_name.empty()) {
      const Json* user = Named(doc, "users", user_name);
      if (!user) return fail("no user \"" + user_name + "\"");
      const Json& us = user->value("user", Json::object());
      if (!DataOrFile(us, "client-certificate", dir, &cfg.tls.cert_pem, &why) ||
          !DataOrFile(us, "client-key", dir, &cfg.tls.key_pem, &why))
        return fail(why);
      if (cfg.tls.cert_pem.empty() != cfg.tls.key_pem.empty())
        return fail("user \"" + user_name + "\" has a client certificate without a key or a key without a certificate");
      cfg.bearer_token = us.value("token", "");
      std::string token_file = us.value("tokenFile", "");
      if (cfg.bearer_token.empty() && !token_file.empty()) {
        if (token_file[0] != '/') token_file = dir + token_file;
        if (!ReadWholeFile(token_file, &cfg.bearer_token)) return fail("cannot read tokenFile " + token_file);
        while (!cfg.bearer_token.empty() && isspace(static_cast<unsigned char>(cfg.bearer_token.back())))
          cfg.bearer_token.pop_back();
      }
    }
    *out = std::move(cfg);
    return true;
  } catch (const Json::exception& e) {
    return fail(std::string("malformed: ") + e.what());
  }
}

Config InProcessConfig(std::function<int(std::string* error)> dial) {
  Config cfg;
  // The host is a name for logs and the Host header only: every connection
  // comes from `dial`.
  cfg.server = "http://kubit-apiserver";
  cfg.dial = std::move(dial);
  cfg.ns = "default";
  return cfg;
}

}  // namespace kubit::client
