// Unit tests of container environments (runtime/kubelet/env.h): $(VAR)
// expansion, valueFrom, envFrom, and upstream's error messages.
#include "runtime/kubelet/env.h"

#include <doctest/doctest.h>

#include <map>

namespace {

using Json = nlohmann::json;
using namespace kubit::kubelet;

ObjectSource Fake(std::map<std::string, Json> objects) {
  return [objects](const std::string& r, const std::string& ns, const std::string& n, Json* out,
                   std::string*) {
    auto it = objects.find(r + "/" + ns + "/" + n);
    if (it == objects.end()) return Lookup::kNotFound;
    *out = it->second;
    return Lookup::kFound;
  };
}

Json Pod() {
  return Json::parse(R"j({"metadata":{"name":"web","namespace":"prod","uid":"u-1",
    "labels":{"app":"shop"},"annotations":{"note":"x"}},
    "spec":{"nodeName":"board1","serviceAccountName":"sa1","containers":[{"name":"c"}]}})j");
}

TEST_CASE("kubelet env: $(VAR) expansion as upstream's expansion package") {
  EnvList env = {{"A", "1"}, {"B", "two"}};
  CHECK(ExpandVars("$(A)-$(B)", env) == "1-two");
  CHECK(ExpandVars("$$(A)", env) == "$(A)");      // escaped
  CHECK(ExpandVars("$(MISSING)", env) == "$(MISSING)");
  CHECK(ExpandVars("a$b $", env) == "a$b $");
  CHECK(ExpandVars("$(A", env) == "$(A");          // unterminated
  CHECK(ExpandVars("$()", env) == "$()");
  CHECK(ExpandVars("$$$$", env) == "$$");
}

TEST_CASE("kubelet env: values, expansion over earlier ones, fieldRef, resourceFieldRef") {
  Json c = Json::parse(R"j({"name":"c","resources":{"limits":{"memory":"64Mi"},"requests":{"cpu":"250m"}},
    "env":[{"name":"A","value":"x"},{"name":"B","value":"$(A)y$(C)"},{"name":"C","value":"late"},
      {"name":"POD","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}},
      {"name":"APP","valueFrom":{"fieldRef":{"fieldPath":"metadata.labels['app']"}}},
      {"name":"IP","valueFrom":{"fieldRef":{"fieldPath":"status.podIP"}}},
      {"name":"NODE","valueFrom":{"fieldRef":{"fieldPath":"spec.nodeName"}}},
      {"name":"SA","valueFrom":{"fieldRef":{"fieldPath":"spec.serviceAccountName"}}},
      {"name":"MEM","valueFrom":{"resourceFieldRef":{"resource":"limits.memory","divisor":"1Mi"}}},
      {"name":"CPU","valueFrom":{"resourceFieldRef":{"resource":"limits.cpu"}}},
      {"name":"REQ","valueFrom":{"resourceFieldRef":{"resource":"requests.cpu","divisor":"1m"}}},
      {"name":"A","value":"again"}]})j");
  PodFacts facts{"10.42.0.7", "192.168.1.5", 4000, 8LL << 30};
  EnvList env;
  std::string error;
  REQUIRE(BuildEnv(Pod(), c, facts, Fake({}), &env, &error));
  std::map<std::string, std::string> m(env.begin(), env.end());
  CHECK(m["B"] == "xy$(C)");
  CHECK(m["POD"] == "web");
  CHECK(m["APP"] == "shop");
  CHECK(m["IP"] == "10.42.0.7");
  CHECK(m["NODE"] == "board1");
  CHECK(m["SA"] == "sa1");
  CHECK(m["MEM"] == "64");
  CHECK(m["CPU"] == "4");  // no limit: the node's allocatable
  CHECK(m["REQ"] == "250");
  CHECK(m["A"] == "again");
  CHECK(env[0].first == "A");  // keeps its first place
}

TEST_CASE("kubelet env: configMap and secret refs, envFrom with prefix, optional") {
  Json cm = Json::parse(R"j({"data":{"color":"blue","size":"L"}})j");
  Json secret = Json::parse(R"j({"data":{"password":"czNjcjN0"}})j");  // "s3cr3t"
  auto objects = Fake({{"configmaps/prod/cfg", cm}, {"secrets/prod/creds", secret}});
  Json c = Json::parse(R"j({"name":"c",
    "envFrom":[{"configMapRef":{"name":"cfg"},"prefix":"CFG_"},{"secretRef":{"name":"gone","optional":true}}],
    "env":[{"name":"COLOR","valueFrom":{"configMapKeyRef":{"name":"cfg","key":"color"}}},
      {"name":"PW","valueFrom":{"secretKeyRef":{"name":"creds","key":"password"}}},
      {"name":"OPT","valueFrom":{"configMapKeyRef":{"name":"cfg","key":"nope","optional":true}}}]})j");
  EnvList env;
  std::string error;
  REQUIRE(BuildEnv(Pod(), c, {}, objects, &env, &error));
  std::map<std::string, std::string> m(env.begin(), env.end());
  CHECK(m["CFG_color"] == "blue");
  CHECK(m["CFG_size"] == "L");
  CHECK(m["COLOR"] == "blue");
  CHECK(m["PW"] == "s3cr3t");
  CHECK(m.count("OPT") == 0);

  Json missing_key = Json::parse(R"j({"name":"c","env":[{"name":"X","valueFrom":{"configMapKeyRef":{"name":"cfg","key":"nope"}}}]})j");
  CHECK_FALSE(BuildEnv(Pod(), missing_key, {}, objects, &env, &error));
  CHECK(error == "couldn't find key nope in ConfigMap prod/cfg");
  Json missing_secret = Json::parse(R"j({"name":"c","env":[{"name":"X","valueFrom":{"secretKeyRef":{"name":"zz","key":"k"}}}]})j");
  CHECK_FALSE(BuildEnv(Pod(), missing_secret, {}, objects, &env, &error));
  CHECK(error == "secret \"zz\" not found");
  Json missing_cm = Json::parse(R"j({"name":"c","envFrom":[{"configMapRef":{"name":"zz"}}]})j");
  CHECK_FALSE(BuildEnv(Pod(), missing_cm, {}, objects, &env, &error));
  CHECK(error == "configmap \"zz\" not found");
}

TEST_CASE("kubelet env: downward API values and unsupported paths") {
  std::string v, error;
  PodFacts facts{"10.42.0.7", "192.168.1.5"};
  REQUIRE(PodFieldValue(Pod(), facts, "metadata.labels", &v, &error));
  CHECK(v == "app=\"shop\"");
  REQUIRE(PodFieldValue(Pod(), facts, "metadata.annotations['note']", &v, &error));
  CHECK(v == "x");
  REQUIRE(PodFieldValue(Pod(), facts, "status.hostIP", &v, &error));
  CHECK(v == "192.168.1.5");
  CHECK_FALSE(PodFieldValue(Pod(), facts, "spec.bogus", &v, &error));
  CHECK(error == "unsupported fieldPath: spec.bogus");
}

}  // namespace
