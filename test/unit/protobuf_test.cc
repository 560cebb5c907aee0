// Unit tests of kubit::api::DecodeProtobufObject: protobuf bodies built by
// hand, as kubectl's typed clients send them, decoded into the API's JSON.
#include "core/api/protobuf.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <string_view>

#include "core/api/schema.h"

namespace {

using Json = nlohmann::json;
using kubit::api::DecodeProtobufMessage;
using kubit::api::DecodeProtobufObject;
namespace schema = kubit::api::schema;

// A tiny protobuf encoder: fields appended in the order written.
struct Pb {
  std::string s;

  static void PutVarint(std::string* out, uint64_t v) {
    while (v >= 0x80) {
      out->push_back(char(v | 0x80));
      v >>= 7;
    }
    out->push_back(char(v));
  }
  Pb& Tag(int field, int wire_type) {
    PutVarint(&s, uint64_t(field) << 3 | uint64_t(wire_type));
    return *this;
  }
  Pb& Varint(int field, uint64_t v) {
    Tag(field, 0);
    PutVarint(&s, v);
    return *this;
  }
  Pb& Int(int field, int64_t v) { return Varint(field, uint64_t(v)); }
  Pb& Fixed64(int field, uint64_t v) {
    Tag(field, 1);
    for (int i = 0; i < 8; i++) s.push_back(char(v >> (8 * i)));
    return *this;
  }
  Pb& Bytes(int field, std::string_view v) {
    Tag(field, 2);
    PutVarint(&s, v.size());
    s.append(v);
    return *this;
  }
  Pb& Msg(int field, const Pb& m) { return Bytes(field, m.s); }
  // A map<string, string> (or bytes) entry.
  Pb& Map(int field, std::string_view k, std::string_view v) {
    return Msg(field, Pb().Bytes(1, k).Bytes(2, v));
  }
  Pb& MapMsg(int field, std::string_view k, const Pb& v) {
    return Msg(field, Pb().Bytes(1, k).Msg(2, v));
  }
};

// "k8s\0" + runtime.Unknown{typeMeta{apiVersion, kind}, raw, "", ""}, as
// client-go writes it.
std::string Body(std::string_view api_version, std::string_view kind, const Pb& raw) {
  Pb u;
  u.Msg(1, Pb().Bytes(1, api_version).Bytes(2, kind)).Bytes(2, raw.s).Bytes(3, "").Bytes(4, "");
  return std::string("k8s\0", 4) + u.s;
}

// ObjectMeta as gogo-protobuf writes it: every non-pointer field present,
// the zero Time as an empty message.
Pb Meta(std::string_view name, std::string_view ns) {
  return Pb()
      .Bytes(1, name)
      .Bytes(2, "")
      .Bytes(3, ns)
      .Bytes(4, "")
      .Bytes(5, "")
      .Bytes(6, "")
      .Varint(7, 0)
      .Msg(8, Pb());
}

Json Decode(const std::string& body) {
  Json out;
  std::string err;
  bool ok = DecodeProtobufObject(body, &out, &err);
  INFO("error: " << err);
  REQUIRE(ok);
  return out;
}

std::string DecodeError(const std::string& body) {
  Json out;
  std::string err;
  CHECK_FALSE(DecodeProtobufObject(body, &out, &err));
  CHECK_FALSE(err.empty());
  return err;
}

constexpr int64_t k20060102150405 = 1136214245;  // 2006-01-02T15:04:05Z

TEST_CASE("protobuf: ConfigMap with labels and data") {
  Pb meta = Meta("cfg", "default");
  meta.Map(11, "app", "web").Map(11, "tier", "front");
  Pb cm;
  cm.Msg(1, meta).Map(2, "a", "b").Map(2, "greeting", "hello world");
  Json j = Decode(Body("v1", "ConfigMap", cm));
  Json want = {{"apiVersion", "v1"},
               {"kind", "ConfigMap"},
               {"metadata",
                {{"name", "cfg"},
                 {"namespace", "default"},
                 {"creationTimestamp", nullptr},
                 {"labels", {{"app", "web"}, {"tier", "front"}}}}},
               {"data", {{"a", "b"}, {"greeting", "hello world"}}}};
  CHECK(j == want);
}

TEST_CASE("protobuf: Secret bytes become base64") {
  Pb s;
  s.Msg(1, Meta("s", "default"))
      .Map(2, "password", "s3cr3t")
      .Map(2, "bin", std::string("\xff\x00\x01", 3))
      .Map(2, "empty", "")
      .Bytes(3, "Opaque")
      .Map(4, "plain", "text");
  Json j = Decode(Body("v1", "Secret", s));
  CHECK(j["kind"] == "Secret");
  CHECK(j["data"] == Json({{"password", "czNjcjN0"}, {"bin", "/wAB"}, {"empty", ""}}));
  CHECK(j["type"] == "Opaque");
  CHECK(j["stringData"] == Json({{"plain", "text"}}));
  CHECK_FALSE(j.contains("immutable"));
}

TEST_CASE("protobuf: Deployment") {
  Pb meta = Meta("web", "default");
  meta.s.clear();
  meta.Bytes(1, "web").Bytes(3, "default").Msg(8, Pb().Int(1, k20060102150405).Int(2, 5));
  meta.Map(11, "app", "web");

  Pb port;
  port.Bytes(1, "").Varint(2, 0).Varint(3, 80).Bytes(4, "TCP").Bytes(5, "");
  Pb resources;
  resources.MapMsg(1, "cpu", Pb().Bytes(1, "500m")).MapMsg(1, "memory", Pb().Bytes(1, "128Mi"));
  Pb container;
  container.Bytes(1, "nginx")
      .Bytes(2, "nginx:1.27")
      .Msg(6, port)
      .Msg(8, resources)
      .Bytes(13, "")
      .Bytes(14, "IfNotPresent")
      .Varint(16, 0)
      .Varint(18, 0);
  Pb pod_spec;
  pod_spec.Msg(2, container).Bytes(3, "Always").Bytes(6, "ClusterFirst");
  Pb tmpl_meta;
  tmpl_meta.Bytes(1, "").Msg(8, Pb()).Map(11, "app", "web");
  Pb strategy;
  strategy.Bytes(1, "RollingUpdate")
      .Msg(2, Pb().Msg(1, Pb().Varint(1, 0).Varint(2, 1).Bytes(3, ""))       // maxUnavailable: 1
                  .Msg(2, Pb().Varint(1, 1).Varint(2, 0).Bytes(3, "25%")));  // maxSurge: "25%"
  Pb spec;
  spec.Varint(1, 3)
      .Msg(2, Pb().Map(1, "app", "web"))
      .Msg(3, Pb().Msg(1, tmpl_meta).Msg(2, pod_spec))
      .Msg(4, strategy)
      .Varint(5, 0)
      .Varint(7, 0);
  Pb d;
  d.Msg(1, meta).Msg(2, spec).Msg(3, Pb());

  Json j = Decode(Body("apps/v1", "Deployment", d));
  Json want = Json::parse(R"({
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
      "name": "web",
      "namespace": "default",
      "creationTimestamp": "2006-01-02T15:04:05Z",
      "labels": {"app": "web"}
    },
    "spec": {
      "replicas": 3,
      "selector": {"matchLabels": {"app": "web"}},
      "template": {
        "metadata": {"creationTimestamp": null, "labels": {"app": "web"}},
        "spec": {
          "containers": [{
            "name": "nginx",
            "image": "nginx:1.27",
            "ports": [{"containerPort": 80, "protocol": "TCP"}],
            "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}},
            "imagePullPolicy": "IfNotPresent"
          }],
          "restartPolicy": "Always",
          "dnsPolicy": "ClusterFirst"
        }
      },
      "strategy": {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}
      }
    },
    "status": {}
  })");
  CHECK_MESSAGE(j == want, j.dump(2));

  SUBCASE("a zero in a pointer field is kept") {
    Pb spec0;
    spec0.Varint(1, 0).Msg(3,
                           Pb().Msg(2, Pb().Msg(2, Pb().Bytes(1, "c").Msg(15, Pb().Varint(7, 0)))));
    Json z = Decode(Body("apps/v1", "Deployment", Pb().Msg(2, spec0)));
    CHECK(z["spec"]["replicas"] == 0);
    CHECK(z["spec"]["template"]["spec"]["containers"][0]["securityContext"] ==
          Json({{"allowPrivilegeEscalation", false}}));
  }
}

TEST_CASE("protobuf: TokenRequest") {
  Pb spec;
  spec.Bytes(1, "https://kubernetes.default.svc")
      .Bytes(1, "vault")
      .Msg(3, Pb().Bytes(1, "Pod").Bytes(2, "v1").Bytes(3, "p").Bytes(4, "1234"))
      .Varint(4, 3600);
  Pb tr;
  tr.Msg(1, Meta("default", "")).Msg(2, spec).Msg(3, Pb().Bytes(1, "").Msg(2, Pb()));
  Json j = Decode(Body("authentication.k8s.io/v1", "TokenRequest", tr));
  CHECK(j["apiVersion"] == "authentication.k8s.io/v1");
  CHECK(j["kind"] == "TokenRequest");
  CHECK(j["metadata"]["name"] == "default");
  CHECK_FALSE(j["metadata"].contains("namespace"));
  CHECK(j["spec"]["audiences"] == Json({"https://kubernetes.default.svc", "vault"}));
  CHECK(j["spec"]["expirationSeconds"] == 3600);
  CHECK(j["spec"]["expirationSeconds"].is_number_integer());
  // The JSON name is "uid" although the proto's is spelled differently.
  CHECK(j["spec"]["boundObjectRef"] ==
        Json({{"kind", "Pod"}, {"apiVersion", "v1"}, {"name", "p"}, {"uid", "1234"}}));
  CHECK(j["status"] == Json({{"token", ""}, {"expirationTimestamp", nullptr}}));
}

TEST_CASE("protobuf: SelfSubjectAccessReview") {
  Pb attrs;
  attrs.Bytes(1, "default")
      .Bytes(2, "create")
      .Bytes(3, "")
      .Bytes(4, "")
      .Bytes(5, "pods")
      .Bytes(6, "")
      .Bytes(7, "");
  Pb review;
  review.Msg(1, Meta("", "")).Msg(2, Pb().Msg(1, attrs)).Msg(3, Pb().Varint(1, 0).Bytes(2, ""));
  Json j = Decode(Body("authorization.k8s.io/v1", "SelfSubjectAccessReview", review));
  CHECK(j["kind"] == "SelfSubjectAccessReview");
  CHECK(j["metadata"] == Json({{"creationTimestamp", nullptr}}));
  CHECK(j["spec"] == Json::parse(R"({"resourceAttributes":
                                      {"namespace": "default", "verb": "create", "resource": "pods"}})"));
  // "allowed" has no omitempty: false stays.
  CHECK(j["status"] == Json({{"allowed", false}}));
}

TEST_CASE("protobuf: SubjectAccessReview extra is a map of lists") {
  Pb spec;
  spec.Bytes(3, "alice")
      .Bytes(4, "dev")
      .Bytes(4, "ops")
      .MapMsg(5, "scopes", Pb().Bytes(1, "a").Bytes(1, "b"))
      .MapMsg(5, "none", Pb());
  Json j = Decode(Body("authorization.k8s.io/v1", "SubjectAccessReview", Pb().Msg(2, spec)));
  CHECK(j["spec"] == Json::parse(R"({"user": "alice", "groups": ["dev", "ops"],
                                     "extra": {"scopes": ["a", "b"], "none": []}})"));
}

TEST_CASE("protobuf: special shapes") {
  SUBCASE("MicroTime in a Lease") {
    Pb spec;
    spec.Bytes(1, "node-1")
        .Varint(2, 40)
        .Msg(3, Pb().Int(1, k20060102150405).Int(2, 123456789))
        .Msg(4, Pb().Int(1, 0).Int(2, 0))
        .Varint(5, 0);
    Json j = Decode(Body("coordination.k8s.io/v1", "Lease", Pb().Msg(2, spec)));
    CHECK(j["spec"] == Json::parse(R"({"holderIdentity": "node-1", "leaseDurationSeconds": 40,
                                       "acquireTime": "2006-01-02T15:04:05.123456Z",
                                       "renewTime": "1970-01-01T00:00:00.000000Z",
                                       "leaseTransitions": 0})"));
  }
  SUBCASE("Time before 1970 and far ahead") {
    Pb meta;
    meta.Msg(8, Pb().Int(1, -1)).Msg(9, Pb().Int(1, 253402300799));
    Json j = Decode(Body("v1", "ConfigMap", Pb().Msg(1, meta)));
    CHECK(j["metadata"]["creationTimestamp"] == "1969-12-31T23:59:59Z");
    CHECK(j["metadata"]["deletionTimestamp"] == "9999-12-31T23:59:59Z");
  }
  SUBCASE("Duration") {
    const schema::Message* m = schema::FindMessage("k8s.io.apimachinery.pkg.apis.meta.v1.Duration");
    REQUIRE(m);
    auto dur = [&](int64_t ns) {
      Json j;
      std::string err;
      REQUIRE(DecodeProtobufMessage(*m, Pb().Int(1, ns).s, &j, &err));
      return j.get<std::string>();
    };
    CHECK(dur(0) == "0s");
    CHECK(dur(3600'000'000'000) == "1h0m0s");
    CHECK(dur(30'000'000'000) == "30s");
    CHECK(dur(1'500'000'000) == "1.5s");
    CHECK(dur(90'000'000'000) == "1m30s");
    CHECK(dur(3723'000'000'001) == "1h2m3.000000001s");
    CHECK(dur(2'000'000) == "2ms");
    CHECK(dur(1'500) == "1.5\xC2\xB5s");
    CHECK(dur(7) == "7ns");
    CHECK(dur(-1'500'000'000) == "-1.5s");
    Json j;
    std::string err;
    REQUIRE(DecodeProtobufMessage(*m, "", &j, &err));
    CHECK(j == "0s");
  }
  SUBCASE("IntOrString in a Service port") {
    Pb svc_spec;
    svc_spec.Msg(1, Pb().Bytes(1, "http").Varint(3, 80).Msg(4, Pb().Varint(1, 1).Bytes(3, "web")))
        .Msg(1, Pb().Bytes(1, "m").Varint(3, 9090).Msg(4, Pb().Varint(1, 0).Varint(2, 9091)));
    Json j = Decode(Body("v1", "Service", Pb().Msg(2, svc_spec)));
    CHECK(j["spec"]["ports"] == Json::parse(R"([{"name": "http", "port": 80, "targetPort": "web"},
                                                 {"name": "m", "port": 9090, "targetPort": 9091}])"));
  }
  SUBCASE("RawExtension: JSON and protobuf") {
    Pb inner_cm;
    inner_cm.Msg(1, Pb().Bytes(1, "x")).Map(2, "k", "v");
    Pb cr1;
    cr1.Msg(2, Pb().Bytes(1, R"({"spec":{"template":{"x":1}}})")).Varint(3, 2);
    Json j = Decode(Body("apps/v1", "ControllerRevision", cr1));
    CHECK(j["data"] == Json::parse(R"({"spec":{"template":{"x":1}}})"));
    CHECK(j["revision"] == 2);
    Pb cr2;
    cr2.Msg(2, Pb().Bytes(1, Body("v1", "ConfigMap", inner_cm)));
    j = Decode(Body("apps/v1", "ControllerRevision", cr2));
    CHECK(j["data"] == Json::parse(R"({"apiVersion":"v1","kind":"ConfigMap",
                                       "metadata":{"name":"x"},"data":{"k":"v"}})"));
    DecodeError(Body("apps/v1", "ControllerRevision", Pb().Msg(2, Pb().Bytes(1, "{not json"))));
  }
  SUBCASE("FieldsV1 in managedFields") {
    Pb mf;
    mf.Bytes(1, "kubectl-create")
        .Bytes(2, "Update")
        .Bytes(3, "v1")
        .Msg(4, Pb().Int(1, k20060102150405))
        .Bytes(6, "FieldsV1")
        .Msg(7, Pb().Bytes(1, R"({"f:data":{".":{},"f:a":{}}})"));
    Json j = Decode(Body("v1", "ConfigMap", Pb().Msg(1, Pb().Msg(17, mf))));
    CHECK(j["metadata"]["managedFields"] == Json::parse(R"([{
      "manager": "kubectl-create", "operation": "Update", "apiVersion": "v1",
      "time": "2006-01-02T15:04:05Z", "fieldsType": "FieldsV1",
      "fieldsV1": {"f:data": {".": {}, "f:a": {}}}}])"));
  }
  SUBCASE("inlined messages: probe handler, volume source, key selector") {
    Pb probe;
    probe.Msg(1, Pb().Msg(2, Pb().Bytes(1, "/healthz").Msg(2, Pb().Varint(1, 0).Varint(2, 8080))))
        .Varint(2, 5);
    Pb env;
    env.Bytes(1, "PASS").Msg(3, Pb().Msg(4, Pb().Msg(1, Pb().Bytes(1, "db")).Bytes(2, "password")));
    Pb container;
    container.Bytes(1, "app").Msg(7, env).Msg(10, probe);
    Pb vol;
    vol.Bytes(1, "cfg").Msg(2, Pb().Msg(19, Pb().Msg(1, Pb().Bytes(1, "app-config"))));
    Pb pod;
    pod.Msg(2, Pb().Msg(1, vol).Msg(2, container));
    Json j = Decode(Body("v1", "Pod", pod));
    CHECK(j["spec"] == Json::parse(R"({
      "volumes": [{"name": "cfg", "configMap": {"name": "app-config"}}],
      "containers": [{
        "name": "app",
        "env": [{"name": "PASS", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}],
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "initialDelaySeconds": 5}
      }]})"));
  }
  SUBCASE("packed and unpacked repeated scalars") {
    Pb packed;
    Pb::PutVarint(&packed.s, 1000);
    Pb::PutVarint(&packed.s, 2000);
    Pb psc;
    psc.Bytes(4, packed.s).Varint(4, 3000);
    Json j = Decode(Body("v1", "Pod", Pb().Msg(2, Pb().Msg(14, psc))));
    CHECK(j["spec"]["securityContext"]["supplementalGroups"] == Json({1000, 2000, 3000}));
  }
  SUBCASE("unknown field numbers are skipped") {
    Pb cm;
    cm.Msg(1, Pb().Bytes(1, "x").Bytes(99, "ignored").Varint(98, 7).Fixed64(97, 1))
        .Bytes(50, "ignored")
        .Map(2, "a", "b");
    Json j = Decode(Body("v1", "ConfigMap", cm));
    CHECK(j == Json::parse(R"({"apiVersion": "v1", "kind": "ConfigMap",
                               "metadata": {"name": "x"}, "data": {"a": "b"}})"));
  }
  SUBCASE("int64 beyond 2^53 stays exact") {
    Json j = Decode(Body("v1", "ConfigMap", Pb().Msg(1, Pb().Int(7, 9007199254740993))));
    CHECK(j["metadata"]["generation"].get<int64_t>() == 9007199254740993);
  }
  SUBCASE("invalid UTF-8 in strings is replaced") {
    Json j = Decode(Body("v1", "ConfigMap",
                         Pb().Map(2, "k",
                                  "a\xff"
                                  "b")));
    CHECK(j["data"]["k"] ==
          "a\xEF\xBF\xBD"
          "b");
    CHECK_NOTHROW(j.dump());
  }
  SUBCASE("meta kinds resolve to meta.v1") {
    Json j = Decode(Body("apps/v1", "DeleteOptions", Pb().Int(1, 30).Bytes(5, "All")));
    CHECK(j["gracePeriodSeconds"] == 30);
    CHECK(j["dryRun"] == Json({"All"}));
  }
}

TEST_CASE("protobuf: malformed bodies are refused") {
  Pb cm;
  cm.Msg(1, Meta("cfg", "default").Map(11, "app", "web")).Map(2, "a", "b");
  std::string good = Body("v1", "ConfigMap", cm);

  SUBCASE("bad magic") {
    std::string bad = good;
    bad[0] = 'K';
    CHECK(DecodeError(bad).find("magic") != std::string::npos);
    DecodeError("");
    DecodeError("k8s");
    DecodeError("{\"apiVersion\":\"v1\"}");
  }
  SUBCASE("unknown kind") {
    std::string err = DecodeError(Body("v1", "Frobnicator", cm));
    CHECK(err.find("Frobnicator") != std::string::npos);
    DecodeError(Body("nosuch.example.com/v1", "ConfigMap", cm));
    DecodeError(Body("v1", "", cm));
    DecodeError(Body("", "ConfigMap", cm));
    // Types that are not objects are not kinds.
    DecodeError(Body("meta.k8s.io/v1", "Time", cm));
  }
  SUBCASE("every truncation is an error or a shorter object, never a crash") {
    int errors = 0;
    for (size_t n = 0; n < good.size(); n++) {
      Json out;
      std::string err;
      if (!DecodeProtobufObject(good.substr(0, n), &out, &err)) {
        errors++;
        CHECK_FALSE(err.empty());
      }
    }
    CHECK(errors > int(good.size()) / 2);
  }
  SUBCASE("truncated varint") {
    std::string err = DecodeError(good.substr(0, 4) + "\x0a\x80");
    CHECK(err.find("varint") != std::string::npos);
    DecodeError(std::string("k8s\0", 4) + std::string(11, '\x80'));
  }
  SUBCASE("length past the end") {
    Pb u;
    u.Msg(1, Pb().Bytes(1, "v1").Bytes(2, "ConfigMap")).Tag(2, 2);
    Pb::PutVarint(&u.s, 1000);
    u.s += "short";
    std::string err = DecodeError(std::string("k8s\0", 4) + u.s);
    CHECK(err.find("past the end") != std::string::npos);
    // A length near 2^64 must not wrap around.
    Pb v;
    v.Msg(1, Pb().Bytes(1, "v1").Bytes(2, "ConfigMap")).Tag(2, 2);
    Pb::PutVarint(&v.s, ~uint64_t(0));
    DecodeError(std::string("k8s\0", 4) + v.s + "xx");
    // Inside the object too.
    Pb raw;
    raw.Tag(1, 2);
    Pb::PutVarint(&raw.s, 50);
    raw.s += "abc";
    DecodeError(Body("v1", "ConfigMap", raw));
  }
  SUBCASE("wrong wire type") {
    DecodeError(Body("v1", "ConfigMap", Pb().Varint(1, 5)));
    DecodeError(Body("v1", "ConfigMap", Pb().Msg(1, Pb().Varint(1, 5))));
    DecodeError(Body("v1", "ConfigMap", Pb().Msg(1, Pb().Bytes(7, "x"))));
    DecodeError(Body("v1", "ConfigMap", Pb().Tag(1, 3)));  // groups
    DecodeError(Body("v1", "ConfigMap", Pb().Tag(1, 7)));
    DecodeError(Body("v1", "ConfigMap", Pb().Tag(0, 0).Varint(1, 0)));
  }
  SUBCASE("unsupported envelope encodings") {
    Pb u;
    u.Msg(1, Pb().Bytes(1, "v1").Bytes(2, "ConfigMap")).Bytes(2, cm.s).Bytes(3, "gzip");
    DecodeError(std::string("k8s\0", 4) + u.s);
  }
  SUBCASE("nesting deeper than 100") {
    // ControllerRevision.data can hold a protobuf object: nest them.
    Pb obj = Pb().Msg(1, Pb().Bytes(1, "leaf"));
    std::string body = Body("v1", "ConfigMap", obj);
    for (int i = 0; i < 60; i++)
      body = Body("apps/v1", "ControllerRevision", Pb().Msg(2, Pb().Bytes(1, body)));
    std::string err = DecodeError(body);
    CHECK(err.find("deeper than 100") != std::string::npos);
    // And JSON nested too deep inside a RawExtension.
    std::string deep = std::string(500, '[') + std::string(500, ']');
    DecodeError(Body("apps/v1", "ControllerRevision", Pb().Msg(2, Pb().Bytes(1, deep))));
    // A few levels are fine.
    std::string shallow = Body("v1", "ConfigMap", obj);
    for (int i = 0; i < 5; i++)
      shallow = Body("apps/v1", "ControllerRevision", Pb().Msg(2, Pb().Bytes(1, shallow)));
    Json j = Decode(shallow);
    CHECK(j["data"]["data"]["data"]["data"]["data"]["metadata"]["name"] == "leaf");
  }
  SUBCASE("random corruption never crashes") {
    Pb d;
    d.Msg(1, Meta("web", "default"))
        .Msg(2,
             Pb().Varint(1, 3).Msg(
                 3, Pb().Msg(2, Pb().Msg(2, Pb().Bytes(1, "c").Msg(
                                                8, Pb().MapMsg(1, "cpu", Pb().Bytes(1, "1")))))));
    std::string base = Body("apps/v1", "Deployment", d);
    std::mt19937 rng(42);
    for (int i = 0; i < 20000; i++) {
      std::string b = base;
      int flips = 1 + int(rng() % 4);
      for (int k = 0; k < flips; k++) b[4 + rng() % (b.size() - 4)] = char(rng());
      if (rng() % 4 == 0) b.resize(4 + rng() % (b.size() - 4));
      Json out;
      std::string err;
      bool ok = DecodeProtobufObject(b, &out, &err);
      if (ok)
        CHECK_NOTHROW(out.dump());
      else
        CHECK_FALSE(err.empty());
    }
  }
}

}  // namespace
