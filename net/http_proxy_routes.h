// ProxyRouteTable: what the HTTP reverse proxy (net/http_proxy.h) serves,
// as plain data: routes by host and path to lists of backend addresses,
// an optional default backend, and TLS certificates by server name. The
// matching follows the Kubernetes Ingress rules, but nothing here knows
// an Ingress: core/network builds tables from the cluster's objects.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace kubit::net {

// Prefix matches by path elements split on '/': "/foo" matches "/foo",
// "/foo/" and "/foo/bar", never "/foobar"; a trailing '/' of either side
// is ignored. Exact matches the path as written, case-sensitively.
enum class ProxyPathType { kPrefix, kExact };

struct ProxyBackend {
  std::string name;                    // for messages: "ns/service:port"
  std::vector<std::string> endpoints;  // ready "ip:port"; empty: 503
};

struct ProxyRoute {
  // Empty: any host. "*.foo.com" matches exactly one label in front of
  // foo.com ("bar.foo.com", not "foo.com" nor "baz.bar.foo.com").
  std::string host;
  std::string path = "/";
  ProxyPathType type = ProxyPathType::kPrefix;
  ProxyBackend backend;
};

struct ProxyCertificate {
  std::vector<std::string> hosts;  // server names it is for ("*.foo.com" allowed)
  std::string cert_pem, key_pem;
};

struct ProxyRouteTable {
  std::vector<ProxyRoute> routes;
  bool has_default_backend = false;
  ProxyBackend default_backend;
  std::vector<ProxyCertificate> certificates;
};

// Whether `host` (lower case, no port) is matched by a route's `pattern`.
bool HostMatches(const std::string& pattern, const std::string& host);
// Whether request path `path` (no query) is matched by `rule`.
bool PathMatches(ProxyPathType type, const std::string& rule, const std::string& path);

// The backend for a request, or null (404). Routes whose host is the
// request's host exactly are tried first, then wildcard hosts, then routes
// for any host; in the first of those groups with a matching path the
// longest path wins, Exact before Prefix at equal length. The default
// backend answers what no route matches.
const ProxyBackend* MatchRoute(const ProxyRouteTable& table, const std::string& host,
                               const std::string& path);

// The certificate for a TLS server name: an exact host first, then a
// wildcard; null if none is for it.
const ProxyCertificate* MatchCertificate(const ProxyRouteTable& table, const std::string& server_name);

// The Host header's name: lower case, without the port ("[::1]:8080" ->
// "::1") or a trailing dot.
std::string HostWithoutPort(const std::string& host_header);

}  // namespace kubit::net
