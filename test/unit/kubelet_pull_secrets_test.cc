// Unit tests of imagePullSecrets (runtime/kubelet/pull_secrets.h).
#include "runtime/kubelet/pull_secrets.h"

#include <doctest/doctest.h>

#include "net/base64.h"

namespace {

using Json = nlohmann::json;
using namespace kubit::kubelet;

Json Secret(const std::string& name, const std::string& type, const std::string& key, const Json& cfg) {
  return {{"metadata", {{"name", name}}}, {"type", type},
          {"data", {{key, kubit::net::Base64Encode(cfg.dump())}}}};
}

TEST_CASE("kubelet pull secrets: dockerconfigjson and dockercfg by registry host") {
  RegistryCredentials c;
  std::string error;
  REQUIRE(AddPullSecret(Secret("a", "kubernetes.io/dockerconfigjson", ".dockerconfigjson",
                               {{"auths", {{"https://index.docker.io/v1/", {{"username", "u"}, {"password", "p"}}},
                                           {"http://host:5000/v2/", {{"auth", "dTpw"}}}}}}),
                        &c, &error));
  REQUIRE(AddPullSecret(Secret("b", "kubernetes.io/dockercfg", ".dockercfg",
                               {{"quay.io", {{"identitytoken", "tok"}}}, {"host:5000", {{"username", "later"}}}}),
                        &c, &error));
  CHECK(c["registry-1.docker.io"].username == "u");
  CHECK(c["registry-1.docker.io"].password == "p");
  CHECK(c["host:5000"].auth == "dTpw");  // the first secret wins
  CHECK(c["quay.io"].identity_token == "tok");
  CHECK_FALSE(AddPullSecret({{"metadata", {{"name", "o"}}}, {"type", "Opaque"}}, &c, &error));
  CHECK(error == "secret \"o\" is of type Opaque, not kubernetes.io/dockerconfigjson");
}

TEST_CASE("kubelet pull secrets: a pod's secrets, missing ones named") {
  Json good = Secret("reg", "kubernetes.io/dockerconfigjson", ".dockerconfigjson",
                     {{"auths", {{"r.example:443", {{"username", "x"}}}}}});
  ObjectSource objects = [&](const std::string&, const std::string&, const std::string& n, Json* out,
                             std::string*) {
    if (n != "reg") return Lookup::kNotFound;
    *out = good;
    return Lookup::kFound;
  };
  Json pod = {{"metadata", {{"namespace", "ns"}}},
              {"spec", {{"imagePullSecrets", {{{"name", "reg"}}, {{"name", "gone"}}}}}}};
  std::string missing;
  RegistryCredentials c = PodPullCredentials(pod, objects, &missing);
  CHECK(c.size() == 1);
  CHECK(c["r.example:443"].username == "x");
  CHECK(missing == "gone");
}

}  // namespace
