#include "net/http_proxy_routes.h"

#include <cctype>

namespace kubit::net {
namespace {

// "/a//b/" -> {"a", "b"}: empty elements carry no meaning for Prefix.
std::vector<std::string> PathElements(const std::string& path) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    if (slash > pos) out.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return out;
}

bool IsWildcard(const std::string& host) { return host.size() > 2 && host.compare(0, 2, "*.") == 0; }

}  // namespace

bool HostMatches(const std::string& pattern, const std::string& host) {
  if (pattern.empty()) return true;
  if (!IsWildcard(pattern)) return pattern == host;
  // "*.foo.com": one non-empty label, then ".foo.com".
  const std::string suffix = pattern.substr(1);
  if (host.size() <= suffix.size() || host.compare(host.size() - suffix.size(), suffix.size(), suffix) != 0)
    return false;
  return host.find('.') == host.size() - suffix.size();
}

bool PathMatches(ProxyPathType type, const std::string& rule, const std::string& path) {
  if (type == ProxyPathType::kExact) return rule == path;
  std::vector<std::string> want = PathElements(rule), got = PathElements(path);
  if (want.size() > got.size()) return false;
  for (size_t i = 0; i < want.size(); i++)
    if (want[i] != got[i]) return false;
  return true;
}

const ProxyBackend* MatchRoute(const ProxyRouteTable& table, const std::string& host, const std::string& path) {
  // 0: this exact host, 1: a wildcard over it, 2: any host.
  for (int group = 0; group < 3; group++) {
    const ProxyRoute* best = nullptr;
    for (const ProxyRoute& r : table.routes) {
      int g = r.host.empty() ? 2 : IsWildcard(r.host) ? 1 : 0;
      if (g != group || !HostMatches(r.host, host) || !PathMatches(r.type, r.path, path)) continue;
      if (!best || r.path.size() > best->path.size() ||
          (r.path.size() == best->path.size() && r.type == ProxyPathType::kExact &&
           best->type != ProxyPathType::kExact))
        best = &r;
    }
    if (best) return &best->backend;
  }
  return table.has_default_backend ? &table.default_backend : nullptr;
}

const ProxyCertificate* MatchCertificate(const ProxyRouteTable& table, const std::string& server_name) {
  std::string name = HostWithoutPort(server_name);
  for (int wildcard = 0; wildcard < 2; wildcard++)
    for (const ProxyCertificate& c : table.certificates)
      for (const std::string& h : c.hosts)
        if (IsWildcard(h) == (wildcard == 1) && HostMatches(h, name)) return &c;
  return nullptr;
}

std::string HostWithoutPort(const std::string& host_header) {
  std::string h = host_header;
  if (!h.empty() && h[0] == '[') {
    size_t close = h.find(']');
    h = h.substr(1, close == std::string::npos ? std::string::npos : close - 1);
  } else if (size_t colon = h.find(':'); colon != std::string::npos && h.find(':', colon + 1) == std::string::npos) {
    h = h.substr(0, colon);
  }
  if (!h.empty() && h.back() == '.') h.pop_back();
  for (char& c : h) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return h;
}

}  // namespace kubit::net
