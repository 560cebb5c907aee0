// Unit tests of the registry side of runtime/image: WWW-Authenticate
// parsing, registries.yaml, and pulls against a fake OCI distribution
// registry (net/http_server.h, plain HTTP on 127.0.0.1) with Bearer token
// auth behind basic credentials, an index to pick the platform from, blob
// redirects, a transfer cut short (resumed with Range), errors.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>

#include "net/http_server.h"
#include "net/pki.h"
#include "runtime/image/image_store.h"
#include "runtime/image/registry_auth.h"
#include "runtime/image/registry_config.h"
#include "test/unit/image_test_images.h"
#include "test/unit/temp_dir.h"

namespace {

using namespace kubit::runtime::image;
using kubit::test::TempDir;
using kubit::test::TestImage;

TEST_CASE("image registry: WWW-Authenticate challenges") {
  std::vector<AuthChallenge> c;
  std::string error;
  REQUIRE(ParseWwwAuthenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")",
      &c, &error));
  REQUIRE(c.size() == 1);
  CHECK(c[0].scheme == "bearer");
  CHECK(c[0].params["realm"] == "https://auth.docker.io/token");
  CHECK(c[0].params["service"] == "registry.docker.io");
  CHECK(c[0].params["scope"] == "repository:library/busybox:pull");

  REQUIRE(ParseWwwAuthenticate(R"(Basic realm="Registry Realm", BEARER Realm=x,scope="a:b:pull,push" , error="insufficient_scope")",
                               &c, &error));
  REQUIRE(c.size() == 2);
  CHECK(c[0].scheme == "basic");
  CHECK(c[0].params["realm"] == "Registry Realm");
  CHECK(c[1].scheme == "bearer");
  CHECK(c[1].params["realm"] == "x");
  CHECK(c[1].params["scope"] == "a:b:pull,push");
  CHECK(c[1].params["error"] == "insufficient_scope");

  CHECK_FALSE(ParseWwwAuthenticate(R"(Bearer realm="unterminated)", &c, &error));
  CHECK_FALSE(ParseWwwAuthenticate("", &c, &error));

  RegistryAuth a;
  a.auth = "dXNlcjpwYXNz";  // user:pass
  CHECK(BasicCredentials(a) == "user:pass");
  a.username = "u";
  a.password = "p";
  CHECK(BasicCredentials(a) == "u:p");
}

TEST_CASE("image registry: registries.yaml mirrors, rewrites, configs and the default endpoint") {
  RegistryConfig c;
  std::string error;
  REQUIRE_MESSAGE(RegistryConfig::Parse(R"yaml(
mirrors:
  docker.io:
    endpoint:
      - "http://10.0.0.5:5000"
      - "https://mirror.example.com/prefix/v2"
    rewrite:
      "^rancher/(.*)": "mirrored/rancher-$1"
  "*":
    endpoint: ["https://catch-all.example.com"]
configs:
  "10.0.0.5:5000":
    auth: {username: u, password: p}
    tls: {insecure_skip_verify: true}
  "https://mirror.example.com":
    auth: {identitytoken: idt}
)yaml",
                                        &c, &error),
                  error);
  std::vector<RegistryEndpoint> eps;
  REQUIRE(c.Endpoints("docker.io", "rancher/pause", &eps, &error));
  REQUIRE(eps.size() == 3);
  CHECK(eps[0].base == "http://10.0.0.5:5000/v2");
  CHECK(eps[0].repository == "mirrored/rancher-pause");
  CHECK(eps[0].config.auth.username == "u");
  CHECK(eps[0].config.tls.insecure_skip_verify);
  CHECK(eps[1].base == "https://mirror.example.com/prefix/v2");
  CHECK(eps[1].config.auth.identity_token == "idt");
  CHECK(eps[2].base == "https://registry-1.docker.io/v2");
  CHECK(eps[2].repository == "rancher/pause");  // no rewrite on the default endpoint
  CHECK(eps[2].is_default);
  REQUIRE(c.Endpoints("quay.io", "a/b", &eps, &error));
  REQUIRE(eps.size() == 2);
  CHECK(eps[0].base == "https://catch-all.example.com/v2");
  CHECK(eps[1].base == "https://quay.io/v2");

  CHECK_FALSE(RegistryConfig::Parse("mirrors: [1, 2", &c, &error));
  CHECK(error.find("registries.yaml") != std::string::npos);
  CHECK_FALSE(RegistryConfig::Parse("mirrors:\n  x:\n    endpoint: ['ftp://x']\n", &c, &error));
  CHECK(error.find("bad endpoint") != std::string::npos);
  CHECK_FALSE(RegistryConfig::Parse("configs:\n  x:\n    tls: {cert_file: a}\n", &c, &error));
}

// A registry serving one repository, "team/app", with tag "1" pointing at
// an index of two platforms, and "single" at the host's manifest.
class FakeRegistry {
 public:
  // With `tls`, HTTPS with that certificate; with `client_ca` too,
  // clients must show a certificate it signed.
  explicit FakeRegistry(const TestImage& img, const kubit::net::KeyPair* tls = nullptr,
                        const std::string& client_ca = "")
      : img_(img), scheme_(tls ? "https" : "http") {
    Platform other{"linux", HostPlatform().architecture == "s390x" ? "amd64" : "s390x", ""};
    nlohmann::json index = {
        {"schemaVersion", 2},
        {"mediaType", media_type::kOciIndex},
        {"manifests",
         {{{"mediaType", media_type::kOciManifest},
           {"digest", DigestOf("other platform")},
           {"size", 14},
           {"platform", {{"os", other.os}, {"architecture", other.architecture}}}},
          {{"mediaType", media_type::kOciManifest},
           {"digest", img.manifest_digest()},
           {"size", img.manifest.size()},
           {"platform",
            {{"os", "linux"}, {"architecture", HostPlatform().architecture}, {"variant", HostPlatform().variant}}}},
          {{"mediaType", media_type::kOciManifest},
           {"digest", DigestOf("attestation")},
           {"size", 11},
           {"platform", {{"os", "unknown"}, {"architecture", "unknown"}}}}}}};
    index_ = index.dump();
    for (const auto& b : {img.config, img.layers[0], img.layers[1]}) blobs_[DigestOf(b)] = b;
    kubit::net::HttpServerOptions o;
    o.bind_address = "127.0.0.1";
    if (tls) {
      o.cert_pem = tls->cert_pem;
      o.key_pem = tls->key_pem;
      o.client_ca_pem = client_ca;
    }
    server_ = std::make_unique<kubit::net::HttpServer>(
        o, [this](kubit::net::HttpRequest& req, kubit::net::HttpResponse& res) { Handle(req, res); });
    std::string error;
    REQUIRE_MESSAGE(server_->Start(&error), error);
  }
  ~FakeRegistry() { server_->Stop(); }

  std::string host() const { return "127.0.0.1:" + std::to_string(server_->port()); }
  std::string index_digest() const { return DigestOf(index_); }

  std::atomic<bool> cut_first_layer{false};  // the first layer's first transfer stops half way
  std::atomic<bool> cut_always{false};       // ...and every one after it too
  std::atomic<bool> corrupt_layer{false};
  std::atomic<bool> require_client_cert{false};
  std::atomic<int> range_requests{0}, token_requests{0}, manifest_status{0};
  std::string last_scope;

 private:
  void Handle(kubit::net::HttpRequest& req, kubit::net::HttpResponse& res) {
    const std::string& p = req.path;
    if (p == "/token") {
      token_requests++;
      {
        std::lock_guard<std::mutex> lock(mu_);
        last_scope = req.Param("scope");
      }
      // "user:secret" in base64
      if (req.Header("authorization") != "Basic dXNlcjpzZWNyZXQ=") {
        res.Send(401, R"({"details":"bad credentials"})");
        return;
      }
      if (req.Param("service") != "fake-registry") {
        res.Send(400, "wrong service");
        return;
      }
      res.Send(200, R"({"token":"tok-123","expires_in":300})");
      return;
    }
    if (require_client_cert && !(req.conn && req.conn->peer().present)) {
      res.Send(403, R"({"errors":[{"code":"DENIED","message":"client certificate required"}]})");
      return;
    }
    if (p.rfind("/storage/", 0) == 0) return ServeBlob(p.substr(9), req, res);
    if (req.Header("authorization") != "Bearer tok-123") {
      res.SetHeader("WWW-Authenticate", "Bearer realm=\"" + scheme_ + "://" + host() +
                                            "/token\",service=\"fake-registry\",scope=\"repository:team/app:pull\"");
      res.Send(401, R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})");
      return;
    }
    const std::string prefix = "/v2/team/app/";
    if (p.rfind(prefix + "manifests/", 0) == 0) {
      std::string ref = p.substr(prefix.size() + 10);
      if (int s = manifest_status; s != 0) {
        res.Send(s, R"({"errors":[{"code":"UNKNOWN","message":"storage backend down"}]})");
        return;
      }
      if (ref == "1" || ref == index_digest()) {
        res.SetHeader("Content-Type", media_type::kOciIndex);
        res.SetHeader("Docker-Content-Digest", index_digest());
        res.Send(200, index_);
      } else if (ref == "single" || ref == img_.manifest_digest()) {
        res.SetHeader("Content-Type", media_type::kOciManifest);
        res.Send(200, img_.manifest);
      } else {
        res.Send(404, R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]})");
      }
      return;
    }
    if (p.rfind(prefix + "blobs/", 0) == 0) {
      // Blobs live elsewhere, as on registries backed by object storage.
      res.SetHeader("Location", "/storage/" + p.substr(prefix.size() + 6));
      res.Send(307, "");
      return;
    }
    res.Send(404, R"({"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]})");
  }

  void ServeBlob(const std::string& digest, kubit::net::HttpRequest& req, kubit::net::HttpResponse& res) {
    auto it = blobs_.find(digest);
    if (it == blobs_.end()) {
      res.Send(404, R"({"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]})");
      return;
    }
    std::string body = it->second;
    if (corrupt_layer && digest == DigestOf(img_.layers[1])) body[body.size() / 2] ^= 1;
    std::string range = req.Header("range");
    size_t from = 0;
    if (cut_always && digest == DigestOf(img_.layers[0])) {
      if (!range.empty()) {
        range_requests++;
        from = std::stoul(range.substr(6));
        res.SetHeader("Content-Range", "bytes " + std::to_string(from) + "-" + std::to_string(body.size() - 1) +
                                           "/" + std::to_string(body.size()));
      }
      res.SetHeader("Content-Length", std::to_string(body.size() - from));
      std::string buffered;
      std::unique_ptr<kubit::net::Conn> conn = res.Hijack(range.empty() ? 200 : 206, &buffered);
      if (conn) conn->Write(body.substr(from, std::min<size_t>(10, body.size() - from)));
      return;
    }
    if (range.rfind("bytes=", 0) == 0) {
      range_requests++;
      from = std::stoul(range.substr(6));
      res.SetHeader("Content-Range", "bytes " + std::to_string(from) + "-" + std::to_string(body.size() - 1) + "/" +
                                         std::to_string(body.size()));
      res.Send(206, body.substr(from));
      return;
    }
    if (digest == DigestOf(img_.layers[0]) && cut_first_layer.exchange(false)) {
      res.SetHeader("Content-Length", std::to_string(body.size()));
      std::string buffered;
      std::unique_ptr<kubit::net::Conn> conn = res.Hijack(200, &buffered);
      if (conn) conn->Write(body.substr(0, body.size() / 2));
      return;  // the connection closes here, half way through
    }
    res.Send(200, body);
  }

  TestImage img_;
  std::string scheme_;
  std::string index_;
  std::map<std::string, std::string> blobs_;
  std::mutex mu_;
  std::unique_ptr<kubit::net::HttpServer> server_;
};

struct PullSetup {
  TempDir dir;
  TestImage img = kubit::test::MakeTestImage("reg");
  FakeRegistry registry{img};
  std::unique_ptr<ImageStore> store;

  explicit PullSetup(const std::string& password = "secret", const std::string& extra_endpoint = "") {
    std::string endpoints = extra_endpoint.empty() ? "" : "\"" + extra_endpoint + "\", ";
    endpoints += "\"http://" + registry.host() + "\"";
    kubit::test::WriteFile(dir.File("registries.yaml"),
                           "mirrors:\n  registry.test:\n    endpoint: [" + endpoints + "]\nconfigs:\n  \"" +
                               registry.host() + "\":\n    auth:\n      username: user\n      password: " + password +
                               "\n");
    ImageStoreOptions o;
    o.data_dir = dir.File("data");
    o.private_registry = dir.File("registries.yaml");
    std::string error;
    store = ImageStore::Open(o, &error);
    REQUIRE_MESSAGE(store, error);
  }
};

TEST_CASE("image registry: pull through token auth, an index, redirects and a resumed layer") {
  PullSetup s;
  s.registry.cut_first_layer = true;
  std::vector<PullProgress> seen;
  Image img;
  std::string error;
  REQUIRE_MESSAGE(s.store->Pull("registry.test/team/app:1", [&](const PullProgress& p) { seen.push_back(p); }, &img,
                                &error),
                  error);
  CHECK(img.name == "registry.test/team/app:1");
  CHECK(img.digest == s.registry.index_digest());
  CHECK(img.config_digest == s.img.config_digest());
  REQUIRE(img.layer_dirs.size() == 2);
  CHECK(s.registry.range_requests == 1);  // the cut layer went on from where it stopped
  CHECK(s.registry.token_requests >= 1);
  CHECK(s.registry.last_scope == "repository:team/app:pull");
  int layers_done = 0;
  for (const auto& p : seen)
    if (p.what == "layer" && p.finished) layers_done++;
  CHECK(layers_done == 2);

  // The list shows the index digest and this platform; a second pull
  // fetches no blob again.
  auto list = s.store->List(&error);
  REQUIRE(list.size() == 1);
  CHECK(list[0].media_type == media_type::kOciIndex);
  CHECK(list[0].platform == HostPlatform().String());
  seen.clear();
  REQUIRE_MESSAGE(s.store->Pull("registry.test/team/app:1", [&](const PullProgress& p) { seen.push_back(p); }, &img,
                                &error),
                  error);
  for (const auto& p : seen)
    if (p.what == "layer" || p.what == "config") CHECK(p.cached);

  // By digest, and a plain manifest by tag.
  REQUIRE_MESSAGE(s.store->Pull("registry.test/team/app@" + s.img.manifest_digest(), nullptr, &img, &error), error);
  CHECK(img.digest == s.img.manifest_digest());
  REQUIRE_MESSAGE(s.store->Pull("registry.test/team/app:single", nullptr, &img, &error), error);
  Image got;
  REQUIRE_MESSAGE(s.store->Get("registry.test/team/app:single", &got, &error), error);
  CHECK(got.layer_dirs == img.layer_dirs);
}

TEST_CASE("image registry: clear errors for 404, 5xx, bad credentials and corrupt blobs") {
  Image img;
  std::string error;
  SUBCASE("unknown tag") {
    PullSetup s;
    CHECK_FALSE(s.store->Pull("registry.test/team/app:missing", nullptr, &img, &error));
    CHECK_MESSAGE(error.find("registry " + s.registry.host() +
                             " returned 404 (not found) for manifest team/app:missing: MANIFEST_UNKNOWN manifest "
                             "unknown") != std::string::npos,
                  error);
    CHECK(error.rfind("pull registry.test/team/app:missing: ", 0) == 0);
  }
  SUBCASE("registry error") {
    PullSetup s;
    s.registry.manifest_status = 503;
    CHECK_FALSE(s.store->Pull("registry.test/team/app:1", nullptr, &img, &error));
    CHECK_MESSAGE(error.find("returned 503 (registry error) for manifest team/app:1: UNKNOWN storage backend down") !=
                      std::string::npos,
                  error);
  }
  SUBCASE("wrong password") {
    PullSetup s("wrong");
    CHECK_FALSE(s.store->Pull("registry.test/team/app:1", nullptr, &img, &error));
    CHECK_MESSAGE(error.find("authentication failed: token server http://" + s.registry.host() +
                             "/token returned 401 (bad or missing credentials)") != std::string::npos,
                  error);
  }
  SUBCASE("a registry that closes every transfer early") {
    PullSetup s;
    s.registry.cut_always = true;
    CHECK_FALSE(s.store->Pull("registry.test/team/app:1", nullptr, &img, &error));
    CHECK_MESSAGE(error.find("blob " + DigestOf(s.img.layers[0]) + ": closed early") != std::string::npos, error);
    CHECK(s.registry.range_requests == 2);  // three attempts, the later two resuming
    CHECK(s.store->List(&error).empty());
  }
  SUBCASE("a blob that does not match its digest") {
    PullSetup s;
    s.registry.corrupt_layer = true;
    CHECK_FALSE(s.store->Pull("registry.test/team/app:1", nullptr, &img, &error));
    CHECK_MESSAGE(error.find("digest mismatch: expected " + DigestOf(s.img.layers[1])) != std::string::npos, error);
    CHECK(s.store->List(&error).empty());
    std::string ignored;
    CHECK_FALSE(s.store->Get("registry.test/team/app:1", &img, &ignored));
  }
}

TEST_CASE("image registry: a dead mirror falls through to the next endpoint") {
  // Port 1 on loopback: nothing listens there, the connection is refused.
  PullSetup s("secret", "http://127.0.0.1:1");
  Image img;
  std::string error;
  REQUIRE_MESSAGE(s.store->Pull("registry.test/team/app:1", nullptr, &img, &error), error);
  CHECK(img.config_digest == s.img.config_digest());
}

}  // namespace

namespace {

TEST_CASE("image registry: HTTPS endpoints with ca_file, insecure_skip_verify and client certificates") {
  using kubit::net::KeyPair;
  KeyPair ca, server, client;
  std::string error;
  REQUIRE(kubit::net::GenerateCA("registry-ca", &ca, &error));
  kubit::net::CertRequest sreq;
  sreq.common_name = "registry";
  sreq.ip_addresses = {"127.0.0.1"};
  sreq.server = true;
  REQUIRE(kubit::net::IssueCertificate(ca, sreq, &server, &error));
  kubit::net::CertRequest creq;
  creq.common_name = "kubit-node";
  creq.client = true;
  REQUIRE(kubit::net::IssueCertificate(ca, creq, &client, &error));

  TempDir dir;
  for (const auto& [name, pem] : {std::pair<std::string, std::string>{"ca.pem", ca.cert_pem},
                                  {"client.pem", client.cert_pem},
                                  {"client-key.pem", client.key_pem}})
    kubit::test::WriteFile(dir.File(name), pem);
  TestImage img = kubit::test::MakeTestImage("tls");
  FakeRegistry registry(img, &server, ca.cert_pem);
  registry.require_client_cert = true;
  auto pull = [&](const std::string& tls_yaml, std::string* err) {
    kubit::test::WriteFile(dir.File("registries.yaml"),
                           "mirrors:\n  registry.test:\n    endpoint: [\"https://" + registry.host() +
                               "\"]\nconfigs:\n  \"" + registry.host() +
                               "\":\n    auth: {username: user, password: secret}\n    tls:\n" + tls_yaml);
    ImageStoreOptions o;
    o.data_dir = dir.File("data");
    o.private_registry = dir.File("registries.yaml");
    auto store = ImageStore::Open(o, err);
    REQUIRE_MESSAGE(store, *err);
    Image out;
    return store->Pull("registry.test/team/app:1", nullptr, &out, err);
  };
  std::string certs = "      cert_file: " + dir.File("client.pem") + "\n      key_file: " + dir.File("client-key.pem") + "\n";
  CHECK_MESSAGE(pull("      ca_file: " + dir.File("ca.pem") + "\n" + certs, &error), error);
  CHECK_MESSAGE(pull("      insecure_skip_verify: true\n" + certs, &error), error);
  // Not trusted: the system's CAs do not know this one.
  CHECK_FALSE(pull(certs, &error));
  CHECK_MESSAGE(error.find("registry " + registry.host()) != std::string::npos, error);
  // Without the client certificate the registry says no.
  std::filesystem::remove_all(dir.File("data"));
  CHECK_FALSE(pull("      ca_file: " + dir.File("ca.pem") + "\n", &error));
  CHECK_MESSAGE(error.find("returned 403 (forbidden)") != std::string::npos, error);
}

}  // namespace

namespace {

// The token request itself: anonymous, basic credentials, and an identity
// token sent as an OAuth2 refresh token.
TEST_CASE("image registry: token requests for each kind of credentials") {
  std::mutex mu;
  std::vector<kubit::net::HttpRequest> seen;
  kubit::net::HttpServerOptions o;
  o.bind_address = "127.0.0.1";
  kubit::net::HttpServer server(o, [&](kubit::net::HttpRequest& req, kubit::net::HttpResponse& res) {
    {
      std::lock_guard<std::mutex> lock(mu);
      seen.push_back(req);
    }
    if (req.method == "POST") res.Send(200, R"({"access_token":"oauth-tok"})");
    else if (req.Param("scope") == "repository:none:pull") res.Send(200, R"({"other":"field"})");
    else res.Send(200, R"({"token":"plain-tok"})");
  });
  std::string error;
  REQUIRE_MESSAGE(server.Start(&error), error);
  std::string realm = "http://127.0.0.1:" + std::to_string(server.port()) + "/token";
  std::vector<AuthChallenge> challenges;
  REQUIRE(ParseWwwAuthenticate("Bearer realm=\"" + realm + "\",service=\"svc\"", &challenges, &error));
  kubit::net::HttpClient client;
  std::string header;

  REQUIRE_MESSAGE(Authorize(&client, challenges, {}, "repository:a/b:pull", &header, &error), error);
  CHECK(header == "Bearer plain-tok");
  CHECK(seen.back().Header("authorization").empty());
  CHECK(seen.back().Param("service") == "svc");
  CHECK(seen.back().Param("scope") == "repository:a/b:pull");

  RegistryAuth basic;
  basic.username = "u";
  basic.password = "p:w";
  REQUIRE_MESSAGE(Authorize(&client, challenges, basic, "repository:a/b:pull", &header, &error), error);
  CHECK(seen.back().Header("authorization") == "Basic dTpwOnc=");  // u:p:w

  RegistryAuth oauth;
  oauth.identity_token = "refresh/me";
  REQUIRE_MESSAGE(Authorize(&client, challenges, oauth, "repository:a/b:pull", &header, &error), error);
  CHECK(header == "Bearer oauth-tok");
  CHECK(seen.back().method == "POST");
  CHECK(seen.back().body.find("grant_type=refresh_token") != std::string::npos);
  CHECK(seen.back().body.find("refresh_token=refresh%2Fme") != std::string::npos);
  CHECK(seen.back().body.find("scope=repository%3Aa%2Fb%3Apull") != std::string::npos);

  CHECK_FALSE(Authorize(&client, challenges, {}, "repository:none:pull", &header, &error));
  CHECK(error == "token server " + realm + " answered without a token");

  std::vector<AuthChallenge> basic_only;
  REQUIRE(ParseWwwAuthenticate("Basic realm=\"r\"", &basic_only, &error));
  CHECK_FALSE(Authorize(&client, basic_only, {}, "x", &header, &error));
  CHECK(error.find("wants a username and password") != std::string::npos);
  REQUIRE(Authorize(&client, basic_only, basic, "x", &header, &error));
  CHECK(header == "Basic dTpwOnc=");
  server.Stop();
}

}  // namespace
