// Validation of networking.k8s.io/v1 (Ingress, IngressClass, NetworkPolicy)
// and discovery.k8s.io/v1 (EndpointSlice).
#include <arpa/inet.h>

#include <set>

#include "core/api/validation_internal.h"

namespace kubit::api::validation {
namespace {

// ---- Ingress -------------------------------------------------------------------

void ValidateTypedLocalObjectReference(const Json& ref, const Path& p, Errs* errs) {
  if (Has(ref, "apiGroup")) AddAll(errs, p.Child("apiGroup"), Str(ref, "apiGroup"), IsDNS1123Subdomain(Str(ref, "apiGroup")));
  for (const char* f : {"kind", "name"}) {
    std::string v = Str(ref, f);
    if (v.empty()) errs->push_back(Required(p.Child(f)));
    else AddAll(errs, p.Child(f), v, IsValidPathSegmentName(v));
  }
}

void ValidateIngressBackend(const Json& b, const Path& p, Errs* errs) {
  const Json* res = GetObj(b, "resource");
  const Json* svc = GetObj(b, "service");
  if (res && svc) return errs->push_back(Invalid(p, Q(""), "cannot set both resource and service backends"));
  if (res) return ValidateTypedLocalObjectReference(*res, p.Child("resource"), errs);
  if (!svc) return errs->push_back(Invalid(p, Q(""), "resource or service backend is required"));
  std::string name = Str(*svc, "name");
  if (name.empty()) errs->push_back(Required(p.Child("service").Child("name")));
  else AddAll(errs, p.Child("service").Child("name"), name, IsDNS1035Label(name));
  const Json& port = ObjOrEmpty(*svc, "port");
  std::string pname = Str(port, "name");
  int64_t pnum = Int(port, "number").value_or(0);
  if (!pname.empty() && pnum != 0) {
    errs->push_back(Invalid(p, Q(""), "cannot set both port name & port number"));
  } else if (!pname.empty()) {
    AddAll(errs, p.Child("service").Child("port").Child("name"), pname, IsValidPortName(pname));
  } else if (pnum != 0) {
    for (const auto& m : IsValidPortNum(pnum))
      errs->push_back(Invalid(p.Child("service").Child("port").Child("number"), GoInt(pnum), m));
  } else {
    errs->push_back(Required(p, "port name or number is required"));
  }
}

void ValidateIngressPath(const Json& path, const Path& p, Errs* errs) {
  if (!Has(path, "pathType")) return errs->push_back(Required(p.Child("pathType"), "pathType must be specified"));
  std::string type = Str(path, "pathType"), value = Str(path, "path");
  if (type == "Exact" || type == "Prefix") {
    if (value.rfind("/", 0) != 0) errs->push_back(Invalid(p.Child("path"), Q(value), "must be an absolute path"));
    if (!value.empty()) {
      for (const char* seq : {"//", "/./", "/../", "%2f", "%2F"})
        if (value.find(seq) != std::string::npos)
          errs->push_back(Invalid(p.Child("path"), Q(value), std::string("must not contain '") + seq + "'"));
      for (const char* suffix : {"/..", "/."}) {
        std::string s = suffix;
        if (value.size() >= s.size() && value.compare(value.size() - s.size(), s.size(), s) == 0)
          errs->push_back(Invalid(p.Child("path"), Q(value), "cannot end with '" + s + "'"));
      }
    }
  } else if (type == "ImplementationSpecific") {
    if (!value.empty() && value[0] != '/') errs->push_back(Invalid(p.Child("path"), Q(value), "must be an absolute path"));
  } else {
    errs->push_back(NotSupported(p.Child("pathType"), Q(type), {"Exact", "ImplementationSpecific", "Prefix"}));
  }
  ValidateIngressBackend(ObjOrEmpty(path, "backend"), p.Child("backend"), errs);
}

bool AllowInvalidWildcardHostRule(const Json* old) {
  if (!old) return false;
  for (const Json& rule : Items(ObjOrEmpty(*old, "spec"), "rules")) {
    if (Str(rule, "host").find('*') == std::string::npos) continue;
    Errs e;
    if (const Json* http = GetObj(rule, "http")) {
      if (Len(*http, "paths") == 0) return true;
      for (const Json& path : Items(*http, "paths")) ValidateIngressPath(path, Path(""), &e);
    }
    if (!e.empty()) return true;
  }
  return false;
}

void ValidateIngress(const Json& ing, const Json* old, Errs* errs) {
  const Json& spec = ObjOrEmpty(ing, "spec");
  Path sp("spec");
  const Json& rules = Items(spec, "rules");
  if (rules.empty() && !Has(spec, "defaultBackend"))
    errs->push_back(Invalid(sp, GoStrings(GetArr(spec, "rules"), "[]networking.IngressRule"), "either `defaultBackend` or `rules` must be specified"));
  if (const Json* db = GetObj(spec, "defaultBackend")) ValidateIngressBackend(*db, sp.Child("defaultBackend"), errs);
  bool allow_wildcard = AllowInvalidWildcardHostRule(old);
  for (size_t i = 0; i < rules.size(); i++) {
    const Json& r = rules[i];
    Path rp = sp.Child("rules").Index(i);
    std::string host = Str(r, "host");
    bool wildcard = false;
    if (!host.empty()) {
      if (IsValidIP(host)) errs->push_back(Invalid(rp.Child("host"), Q(host), "must be a DNS name, not an IP address"));
      if (host.find('*') != std::string::npos) {
        AddAll(errs, rp.Child("host"), host, IsWildcardDNS1123Subdomain(host));
        wildcard = true;
      } else {
        AddAll(errs, rp.Child("host"), host, IsDNS1123Subdomain(host));
      }
    }
    if (wildcard && allow_wildcard) continue;
    if (const Json* http = GetObj(r, "http")) {
      const Json& paths = Items(*http, "paths");
      if (paths.empty()) errs->push_back(Required(rp.Child("http").Child("paths")));
      for (size_t j = 0; j < paths.size(); j++) ValidateIngressPath(paths[j], rp.Child("http").Child("paths").Index(j), errs);
    }
  }
  const Json& tls = Items(spec, "tls");
  for (size_t i = 0; i < tls.size(); i++) {
    Path tp = sp.Child("tls").Index(i);
    const Json& hosts = Items(tls[i], "hosts");
    for (size_t j = 0; j < hosts.size(); j++) {
      std::string h = hosts[j].is_string() ? hosts[j].get<std::string>() : "";
      if (h.find('*') != std::string::npos) AddAll(errs, tp.Child("hosts").Index(j), h, IsWildcardDNS1123Subdomain(h));
      else AddAll(errs, tp.Child("hosts").Index(j), h, IsDNS1123Subdomain(h));
    }
    std::string secret = Str(tls[i], "secretName");
    bool allow_invalid_secret = false;
    if (old)
      for (const Json& ot : Items(ObjOrEmpty(*old, "spec"), "tls"))
        if (!Str(ot, "secretName").empty() && !IsDNS1123Subdomain(Str(ot, "secretName")).empty()) allow_invalid_secret = true;
    if (!secret.empty() && !allow_invalid_secret) AddAll(errs, tp.Child("secretName"), secret, IsDNS1123Subdomain(secret));
  }
  if (Has(spec, "ingressClassName"))
    AddAll(errs, sp.Child("ingressClassName"), Str(spec, "ingressClassName"), IsDNS1123Subdomain(Str(spec, "ingressClassName")));
  if (!old) {
    const Json& ann = ObjOrEmpty(ObjOrEmpty(ing, "metadata"), "annotations");
    const char* kClass = "kubernetes.io/ingress.class";
    if (Has(ann, kClass) && Has(spec, "ingressClassName") && Str(ann, kClass) != Str(spec, "ingressClassName"))
      errs->push_back(Invalid(Path("annotations").Child(kClass), Q(Str(ann, kClass)), "must match `ingressClassName` when both are specified"));
  }
}

void ValidateIngressClass(const Json& ic, const Json* old, Errs* errs) {
  const Json& spec = ObjOrEmpty(ic, "spec");
  Path sp("spec");
  if (old) {
    std::string nc = Str(spec, "controller");
    if (nc != Str(ObjOrEmpty(*old, "spec"), "controller")) errs->push_back(Invalid(sp.Child("controller"), Q(nc), kImmutable));
  }
  std::string controller = Str(spec, "controller");
  Path cp = sp.Child("controller");
  if (controller.empty()) {
    errs->push_back(Required(cp));
  } else {
    if (controller.size() > 250) errs->push_back(TooLong(cp, 250));
    size_t slash = controller.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == controller.size()) {
      errs->push_back(Invalid(cp, Q(controller), "must be a domain-prefixed path (such as \"acme.io/foo\")"));
    } else {
      AddAll(errs, cp, controller.substr(0, slash), IsDNS1123Subdomain(controller.substr(0, slash)));
      std::string path = controller.substr(slash + 1);
      bool ok = true;
      for (char c : path) ok = ok && (isalnum(static_cast<unsigned char>(c)) || std::string_view("/-._~%!$&'()*+,;=:").find(c) != std::string_view::npos);
      if (!ok) errs->push_back(Invalid(cp, Q(path), "Invalid path (regex used for validation is '[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')"));
    }
  }
  const Json* params = GetObj(spec, "parameters");
  if (!params) return;
  Path pp = sp.Child("parameters");
  if (Has(*params, "apiGroup")) AddAll(errs, pp.Child("apiGroup"), Str(*params, "apiGroup"), IsDNS1123Subdomain(Str(*params, "apiGroup")));
  for (const char* f : {"kind", "name"}) {
    std::string v = Str(*params, f);
    if (v.empty()) errs->push_back(Required(pp.Child(f)));
    else AddAll(errs, pp.Child(f), v, IsValidPathSegmentName(v));
  }
  if (!Has(*params, "scope")) return errs->push_back(Required(pp.Child("scope")));
  std::string scope = Str(*params, "scope");
  if (scope != "Cluster" && scope != "Namespace") return errs->push_back(NotSupported(pp.Child("scope"), Q(scope), {"Cluster", "Namespace"}));
  if (scope == "Namespace") {
    if (!Has(*params, "namespace")) errs->push_back(Required(pp.Child("namespace"), "`parameters.scope` is set to 'Namespace'"));
    else AddAll(errs, pp.Child("namespace"), Str(*params, "namespace"), IsDNS1123Label(Str(*params, "namespace")));
  }
  if (scope == "Cluster" && Has(*params, "namespace"))
    errs->push_back(Forbidden(pp.Child("namespace"), "`parameters.scope` is set to 'Cluster'"));
}

// ---- NetworkPolicy -----------------------------------------------------------

bool CidrContains(const std::string& outer, const std::string& inner, bool* strict) {
  auto parse = [](const std::string& c, std::vector<uint8_t>* ip, int* bits) {
    size_t slash = c.find('/');
    std::string addr = c.substr(0, slash);
    *bits = std::stoi(c.substr(slash + 1));
    ip->clear();
    if (IsIPv6(addr)) {
      unsigned char buf[16];
      if (inet_pton(AF_INET6, addr.c_str(), buf) != 1) return false;
      ip->assign(buf, buf + 16);
    } else {
      unsigned a, b, cc, d;
      if (sscanf(addr.c_str(), "%u.%u.%u.%u", &a, &b, &cc, &d) != 4) return false;
      *ip = {uint8_t(a), uint8_t(b), uint8_t(cc), uint8_t(d)};
    }
    return true;
  };
  std::vector<uint8_t> o, i;
  int ob = 0, ib = 0;
  if (!parse(outer, &o, &ob) || !parse(inner, &i, &ib) || o.size() != i.size()) return false;
  for (int bit = 0; bit < ob; bit++) {
    int byte = bit / 8, shift = 7 - bit % 8;
    if (((o[byte] >> shift) & 1) != ((i[byte] >> shift) & 1)) return false;
  }
  *strict = ob < ib;
  return true;
}

void ValidateNetworkPolicyPeer(const Json& peer, const Path& p, Errs* errs) {
  int n = 0;
  for (const char* sel : {"podSelector", "namespaceSelector"})
    if (const Json* s = GetObj(peer, sel)) {
      n++;
      ValidateLabelSelector(s, p.Child(sel), errs);
    }
  const Json* ipb = GetObj(peer, "ipBlock");
  if (ipb) {
    n++;
    Path bp = p.Child("ipBlock");
    std::string cidr = Str(*ipb, "cidr");
    if (cidr.empty()) {
      errs->push_back(Required(bp.Child("cidr")));
    } else if (!IsValidCIDR(cidr)) {
      errs->push_back(Invalid(bp.Child("cidr"), Q(cidr), kCIDRError));
    } else {
      const Json& except = Items(*ipb, "except");
      for (size_t i = 0; i < except.size(); i++) {
        std::string e = except[i].is_string() ? except[i].get<std::string>() : "";
        Path ep = bp.Child("except").Index(i);
        if (!IsValidCIDR(e)) {
          errs->push_back(Invalid(ep, Q(e), kCIDRError));
          continue;
        }
        bool strict = false;
        if (!CidrContains(cidr, e, &strict) || !strict) errs->push_back(Invalid(ep, Q(e), "must be a strict subset of `cidr`"));
      }
    }
  }
  if (n == 0) errs->push_back(Required(p, "must specify a peer"));
  else if (n > 1 && ipb) errs->push_back(Forbidden(p, "may not specify both ipBlock and another peer"));
}

void ValidateNetworkPolicyPort(const Json& port, const Path& p, Errs* errs) {
  if (Has(port, "protocol")) {
    std::string proto = Str(port, "protocol");
    if (proto != "TCP" && proto != "UDP" && proto != "SCTP") errs->push_back(NotSupported(p.Child("protocol"), Q(proto), {"TCP", "UDP", "SCTP"}));
  }
  auto end = Int(port, "endPort");
  if (const Json* pv = Get(port, "port")) {
    if (pv->is_number_integer()) {
      int64_t n = pv->get<int64_t>();
      for (const auto& m : IsValidPortNum(n)) errs->push_back(Invalid(p.Child("port"), GoInt(n), m));
      if (end) {
        if (*end < n) errs->push_back(Invalid(p.Child("endPort"), GoInt(*end), "must be greater than or equal to `port`"));
        for (const auto& m : IsValidPortNum(*end)) errs->push_back(Invalid(p.Child("endPort"), GoInt(*end), m));
      }
    } else {
      if (end) errs->push_back(Invalid(p.Child("endPort"), GoInt(*end), "may not be specified when `port` is non-numeric"));
      std::string s = pv->is_string() ? pv->get<std::string>() : "";
      AddAll(errs, p.Child("port"), s, IsValidPortName(s));
    }
  } else if (end) {
    errs->push_back(Invalid(p.Child("endPort"), GoInt(*end), "may not be specified when `port` is not specified"));
  }
}

void ValidateNetworkPolicy(const Json& np, Errs* errs) {
  const Json& spec = ObjOrEmpty(np, "spec");
  Path sp("spec");
  ValidateLabelSelector(GetObj(spec, "podSelector"), sp.Child("podSelector"), errs);
  for (const char* dir : {"ingress", "egress"}) {
    const Json& rules = Items(spec, dir);
    const char* peers = std::string(dir) == "ingress" ? "from" : "to";
    for (size_t i = 0; i < rules.size(); i++) {
      Path rp = sp.Child(dir).Index(i);
      const Json& ports = Items(rules[i], "ports");
      for (size_t j = 0; j < ports.size(); j++) ValidateNetworkPolicyPort(ports[j], rp.Child("ports").Index(j), errs);
      const Json& list = Items(rules[i], peers);
      for (size_t j = 0; j < list.size(); j++) ValidateNetworkPolicyPeer(list[j], rp.Child(peers).Index(j), errs);
    }
  }
  const Json& types = Items(spec, "policyTypes");
  if (types.size() > 2)
    return errs->push_back(Invalid(sp.Child("policyTypes"), GoStrings(&types, "[]networking.PolicyType"), "may not specify more than two policyTypes"));
  for (size_t i = 0; i < types.size(); i++) {
    std::string t = types[i].is_string() ? types[i].get<std::string>() : "";
    if (t != "Ingress" && t != "Egress") errs->push_back(NotSupported(sp.Child("policyTypes").Index(i), Q(t), {"Ingress", "Egress"}));
  }
}

// ---- EndpointSlice ------------------------------------------------------------

void ValidateEndpointSlice(const Json& es, const Json* old, Errs* errs) {
  std::string type = Str(es, "addressType");
  if (old && type != Str(*old, "addressType")) errs->push_back(Invalid(Path("addressType"), Q(type), kImmutable));
  if (type.empty()) errs->push_back(Required(Path("addressType")));
  else if (type != "IPv4" && type != "IPv6" && type != "FQDN")
    errs->push_back(NotSupported(Path("addressType"), Q(type), {"FQDN", "IPv4", "IPv6"}));
  const Json& eps = Items(es, "endpoints");
  if (eps.size() > 1000) errs->push_back(TooMany(Path("endpoints"), int(eps.size()), 1000));
  for (size_t i = 0; i < eps.size(); i++) {
    Path ep = Path("endpoints").Index(i);
    const Json& addrs = Items(eps[i], "addresses");
    if (addrs.empty()) errs->push_back(Required(ep.Child("addresses"), "must contain at least 1 address"));
    else if (addrs.size() > 100) errs->push_back(TooMany(ep.Child("addresses"), int(addrs.size()), 100));
    for (size_t j = 0; j < addrs.size(); j++) {
      std::string a = addrs[j].is_string() ? addrs[j].get<std::string>() : "";
      Path ap = ep.Child("addresses").Index(j);
      if (type == "IPv4") {
        if (!IsValidIP(a) || IsIPv6(a)) errs->push_back(Invalid(ap, Q(a), "must be a valid IPv4 address"));
      } else if (type == "IPv6") {
        if (!IsIPv6(a)) errs->push_back(Invalid(ap, Q(a), "must be a valid IPv6 address"));
      } else if (type == "FQDN") {
        std::string name = !a.empty() && a.back() == '.' ? a.substr(0, a.size() - 1) : a;
        auto msgs = IsDNS1123Subdomain(name);
        if (a.empty()) errs->push_back(Required(ap));
        else if (!msgs.empty()) {
          std::string joined;
          for (size_t k = 0; k < msgs.size(); k++) joined += (k ? "," : "") + msgs[k];
          errs->push_back(Invalid(ap, Q(name), joined));
        } else if (name.find('.') == std::string::npos) {
          errs->push_back(Invalid(ap, Q(name), "should be a domain with at least two segments separated by dots"));
        }
      }
    }
    if (Has(eps[i], "nodeName")) AddAll(errs, ep.Child("nodeName"), Str(eps[i], "nodeName"), IsDNS1123Subdomain(Str(eps[i], "nodeName")));
    if (Has(eps[i], "hostname")) AddAll(errs, ep.Child("hostname"), Str(eps[i], "hostname"), IsDNS1123Label(Str(eps[i], "hostname")));
  }
  const Json& ports = Items(es, "ports");
  if (ports.size() > 20000) errs->push_back(TooMany(Path("ports"), int(ports.size()), 20000));
  std::set<std::string> names;
  for (size_t i = 0; i < ports.size(); i++) {
    Path pp = Path("ports").Index(i);
    std::string name = Str(ports[i], "name");
    if (!name.empty()) AddAll(errs, pp.Child("name"), name, IsDNS1123Label(name));
    if (!names.insert(name).second) errs->push_back(Duplicate(pp.Child("name"), Q(name)));
    std::string proto = Str(ports[i], "protocol");
    if (!Has(ports[i], "protocol")) errs->push_back(Required(pp.Child("protocol")));
    else if (proto != "SCTP" && proto != "TCP" && proto != "UDP")
      errs->push_back(NotSupported(pp.Child("protocol"), Q(proto), {"SCTP", "TCP", "UDP"}));
    if (Has(ports[i], "appProtocol"))
      AddAll(errs, pp.Child("appProtocol"), Str(ports[i], "appProtocol"), IsQualifiedName(Str(ports[i], "appProtocol")));
  }
}

}  // namespace

bool ValidateNetworkingKind(const ResourceType& t, const Json& obj, const Json* old, Errs* errs) {
  if (t.group == "networking.k8s.io") {
    if (t.kind == "Ingress") ValidateIngress(obj, old, errs);
    else if (t.kind == "IngressClass") ValidateIngressClass(obj, old, errs);
    else if (t.kind == "NetworkPolicy") ValidateNetworkPolicy(obj, errs);
    else return false;
    return true;
  }
  if (t.group == "discovery.k8s.io" && t.kind == "EndpointSlice") {
    ValidateEndpointSlice(obj, old, errs);
    return true;
  }
  return false;
}

}  // namespace kubit::api::validation
