// The route matching of the ingress proxy (net/http_proxy_routes.h)
// against the examples of the Kubernetes Ingress documentation.
#include <doctest/doctest.h>

#include "net/http_proxy_routes.h"

namespace kubit::net {
namespace {

ProxyRoute Route(const std::string& host, const std::string& path, ProxyPathType type, const std::string& name) {
  ProxyRoute r;
  r.host = host;
  r.path = path;
  r.type = type;
  r.backend.name = name;
  return r;
}

std::string Match(const ProxyRouteTable& t, const std::string& host, const std::string& path) {
  const ProxyBackend* b = MatchRoute(t, host, path);
  return b ? b->name : "404";
}

constexpr auto kPrefix = ProxyPathType::kPrefix;
constexpr auto kExact = ProxyPathType::kExact;

TEST_CASE("ingress routes: Prefix matches by path elements, Exact as written") {
  // The Ingress documentation's table of examples.
  CHECK(PathMatches(kPrefix, "/", "/anything"));
  CHECK(PathMatches(kExact, "/foo", "/foo"));
  CHECK_FALSE(PathMatches(kExact, "/foo", "/bar"));
  CHECK_FALSE(PathMatches(kExact, "/foo", "/foo/"));
  CHECK_FALSE(PathMatches(kExact, "/foo/", "/foo"));
  CHECK(PathMatches(kPrefix, "/foo", "/foo"));
  CHECK(PathMatches(kPrefix, "/foo", "/foo/"));
  CHECK(PathMatches(kPrefix, "/foo/", "/foo"));
  CHECK(PathMatches(kPrefix, "/foo/", "/foo/"));
  CHECK(PathMatches(kPrefix, "/aaa/bbb", "/aaa/bbb"));
  CHECK_FALSE(PathMatches(kPrefix, "/aaa/bb", "/aaa/bbb"));
  CHECK(PathMatches(kPrefix, "/aaa/bbb", "/aaa/bbb/ccc"));
  CHECK_FALSE(PathMatches(kPrefix, "/aaa/bbb", "/aaa/bbbxyz"));
  CHECK_FALSE(PathMatches(kPrefix, "/aaa/bbb/", "/aaa"));
}

TEST_CASE("ingress routes: hosts match exactly or by a one-label wildcard") {
  CHECK(HostMatches("", "anything.example"));
  CHECK(HostMatches("foo.bar.com", "foo.bar.com"));
  CHECK_FALSE(HostMatches("foo.bar.com", "bar.com"));
  CHECK(HostMatches("*.foo.com", "bar.foo.com"));
  CHECK_FALSE(HostMatches("*.foo.com", "baz.bar.foo.com"));
  CHECK_FALSE(HostMatches("*.foo.com", "foo.com"));
  CHECK_FALSE(HostMatches("*.foo.com", "xfoo.com"));
  CHECK(HostWithoutPort("Foo.Example.COM:8080") == "foo.example.com");
  CHECK(HostWithoutPort("[::1]:80") == "::1");
  CHECK(HostWithoutPort("example.com.") == "example.com");
  CHECK(HostWithoutPort("10.0.0.1") == "10.0.0.1");
}

TEST_CASE("ingress routes: longest path wins, Exact before Prefix, hosts before any host") {
  ProxyRouteTable t;
  t.routes.push_back(Route("", "/", kPrefix, "any-root"));
  t.routes.push_back(Route("foo.com", "/", kPrefix, "foo-root"));
  t.routes.push_back(Route("foo.com", "/api", kPrefix, "foo-api"));
  t.routes.push_back(Route("foo.com", "/api", kExact, "foo-api-exact"));
  t.routes.push_back(Route("foo.com", "/api/v2", kPrefix, "foo-api-v2"));
  t.routes.push_back(Route("*.foo.com", "/", kPrefix, "wild-root"));
  t.routes.push_back(Route("bar.com", "/only", kExact, "bar-only"));
  CHECK(Match(t, "foo.com", "/") == "foo-root");
  CHECK(Match(t, "foo.com", "/api") == "foo-api-exact");
  CHECK(Match(t, "foo.com", "/api/") == "foo-api");
  CHECK(Match(t, "foo.com", "/api/v2/x") == "foo-api-v2");
  CHECK(Match(t, "foo.com", "/apis") == "foo-root");
  CHECK(Match(t, "a.foo.com", "/api") == "wild-root");
  CHECK(Match(t, "bar.com", "/only") == "bar-only");
  // A host whose own paths miss falls to the rules for any host.
  CHECK(Match(t, "bar.com", "/other") == "any-root");
  CHECK(Match(t, "unknown.org", "/x") == "any-root");
}

TEST_CASE("ingress routes: the default backend answers what no rule matches, else 404") {
  ProxyRouteTable t;
  t.routes.push_back(Route("foo.com", "/app", kPrefix, "app"));
  CHECK(Match(t, "foo.com", "/app/x") == "app");
  CHECK(Match(t, "foo.com", "/other") == "404");
  CHECK(Match(t, "other.com", "/app") == "404");
  t.has_default_backend = true;
  t.default_backend.name = "default";
  CHECK(Match(t, "other.com", "/app") == "default");
  CHECK(Match(t, "foo.com", "/app") == "app");
}

TEST_CASE("ingress routes: certificates by server name, exact before wildcard") {
  ProxyRouteTable t;
  t.certificates.push_back({{"*.foo.com"}, "wild", ""});
  t.certificates.push_back({{"a.foo.com", "b.com"}, "exact", ""});
  REQUIRE(MatchCertificate(t, "a.foo.com"));
  CHECK(MatchCertificate(t, "a.foo.com")->cert_pem == "exact");
  CHECK(MatchCertificate(t, "B.com")->cert_pem == "exact");
  CHECK(MatchCertificate(t, "z.foo.com")->cert_pem == "wild");
  CHECK(MatchCertificate(t, "foo.com") == nullptr);
}

}  // namespace
}  // namespace kubit::net
