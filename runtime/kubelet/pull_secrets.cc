#include "runtime/kubelet/pull_secrets.h"

namespace kubit::kubelet {

using Json = nlohmann::json;

namespace {

std::string RegistryHost(std::string key) {
  size_t scheme = key.find("://");
  if (scheme != std::string::npos) key = key.substr(scheme + 3);
  key = key.substr(0, key.find('/'));
  if (key == "index.docker.io" || key == "docker.io" || key == "registry.hub.docker.com")
    return "registry-1.docker.io";
  return key;
}

}  // namespace

bool AddPullSecret(const Json& secret, RegistryCredentials* out, std::string* error) {
  std::string type = secret.value("type", "");
  const char* key = type == "kubernetes.io/dockerconfigjson" ? ".dockerconfigjson"
                    : type == "kubernetes.io/dockercfg"      ? ".dockercfg"
                                                             : nullptr;
  std::string name = secret.contains("metadata") ? secret["metadata"].value("name", "") : "";
  if (!key) {
    *error = "secret \"" + name + "\" is of type " + type + ", not kubernetes.io/dockerconfigjson";
    return false;
  }
  std::string text;
  if (!ObjectValue("secrets", secret, key, &text)) {
    *error = "secret \"" + name + "\" has no " + key;
    return false;
  }
  Json cfg = Json::parse(text, nullptr, false);
  if (cfg.is_discarded() || !cfg.is_object()) {
    *error = "secret \"" + name + "\": " + key + " is not JSON";
    return false;
  }
  const Json auths = std::string(key) == ".dockerconfigjson" ? cfg.value("auths", Json::object()) : cfg;
  for (auto it = auths.begin(); it != auths.end(); ++it) {
    if (!it.value().is_object()) continue;
    runtime::image::RegistryAuth a;
    a.username = it.value().value("username", "");
    a.password = it.value().value("password", "");
    a.auth = it.value().value("auth", "");
    a.identity_token = it.value().value("identitytoken", "");
    // The first secret naming a host wins, as upstream tries them in order.
    out->emplace(RegistryHost(it.key()), a);
  }
  return true;
}

RegistryCredentials PodPullCredentials(const Json& pod, const ObjectSource& objects,
                                       std::string* missing) {
  RegistryCredentials out;
  std::string ns = pod["metadata"].value("namespace", "default");
  for (const auto& ref : pod["spec"].value("imagePullSecrets", Json::array())) {
    std::string name = ref.value("name", ""), error;
    Json secret;
    if (objects("secrets", ns, name, &secret, &error) != Lookup::kFound ||
        !AddPullSecret(secret, &out, &error))
      *missing += (missing->empty() ? "" : ", ") + name;
  }
  return out;
}

}  // namespace kubit::kubelet
