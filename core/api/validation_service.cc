// Validation of Services (ports, types, cluster IPs and IP families,
// traffic policies, the node port range, update rules) and Endpoints.
#include <set>

#include "core/api/validation_internal.h"

namespace kubit::api::validation {
namespace {

// ---- Service -------------------------------------------------------------

bool IsHeadless(const Json& spec) {
  const Json& ips = Items(spec, "clusterIPs");
  return ips.size() == 1 && ips[0] == "None";
}

void ValidateNonSpecialIP(const std::string& ip, const Path& p, Errs* errs) {
  if (!IsValidIP(ip)) return errs->push_back(Invalid(p, Q(ip), "must be a valid IP address"));
  if (!IsIPv6(ip)) {
    unsigned a = 0, b = 0, c = 0, d = 0;
    sscanf(ip.c_str(), "%u.%u.%u.%u", &a, &b, &c, &d);
    if (a == 0 && b == 0 && c == 0 && d == 0) errs->push_back(Invalid(p, Q(ip), "may not be unspecified (" + ip + ")"));
    if (a == 127) errs->push_back(Invalid(p, Q(ip), "may not be in the loopback range (127.0.0.0/8, ::1/128)"));
    if (a == 169 && b == 254) errs->push_back(Invalid(p, Q(ip), "may not be in the link-local range (169.254.0.0/16, fe80::/10)"));
    if (a == 224 && b == 0 && c == 0)
      errs->push_back(Invalid(p, Q(ip), "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"));
    return;
  }
  std::string l = ip;
  for (char& ch : l) ch = char(tolower(static_cast<unsigned char>(ch)));
  if (l == "::") errs->push_back(Invalid(p, Q(ip), "may not be unspecified (" + ip + ")"));
  if (l == "::1") errs->push_back(Invalid(p, Q(ip), "may not be in the loopback range (127.0.0.0/8, ::1/128)"));
  if (l.rfind("fe8", 0) == 0 || l.rfind("fe9", 0) == 0 || l.rfind("fea", 0) == 0 || l.rfind("feb", 0) == 0)
    errs->push_back(Invalid(p, Q(ip), "may not be in the link-local range (169.254.0.0/16, fe80::/10)"));
  if (l.rfind("ff02:", 0) == 0)
    errs->push_back(Invalid(p, Q(ip), "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"));
}

std::string GoServicePortKey(const std::string& protocol, int64_t port) {
  return "core.ServicePort{Name:\"\", Protocol:" + Q(protocol) + ", AppProtocol:(*string)(nil), Port:" +
         std::to_string(port) + ", TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}";
}

void ValidateClusterIPFields(const Json& spec, Errs* errs) {
  Path sp("spec");
  Path ips_path = sp.Child("clusterIPs");
  const Json* ips = GetArr(spec, "clusterIPs");
  std::string cip = Str(spec, "clusterIP");
  if (!cip.empty()) {
    if (!ips || ips->empty()) errs->push_back(Required(ips_path));
    else if ((*ips)[0] != cip) errs->push_back(Invalid(ips_path, GoStrings(ips), "first value must match `clusterIP`"));
  } else if (ips && !ips->empty()) {
    errs->push_back(Invalid(ips_path, GoStrings(ips), "must be empty when `clusterIP` is not specified"));
  }
  const Json& fams = Items(spec, "ipFamilies");
  std::set<std::string> seen;
  for (size_t i = 0; i < fams.size(); i++) {
    std::string f = fams[i].is_string() ? fams[i].get<std::string>() : "";
    if (f != "IPv4" && f != "IPv6") errs->push_back(NotSupported(sp.Child("ipFamilies").Index(i), Q(f), {"IPv4", "IPv6"}));
    if (!seen.insert(f).second) errs->push_back(Duplicate(sp.Child("ipFamilies").Index(i), Q(f)));
  }
  if (Has(spec, "ipFamilyPolicy")) {
    std::string pol = Str(spec, "ipFamilyPolicy");
    if (pol != "SingleStack" && pol != "PreferDualStack" && pol != "RequireDualStack")
      errs->push_back(NotSupported(sp.Child("ipFamilyPolicy"), Q(pol), {"PreferDualStack", "RequireDualStack", "SingleStack"}));
  }
  bool invalid = false;
  const Json& list = Items(spec, "clusterIPs");
  for (size_t i = 0; i < list.size(); i++) {
    std::string ip = list[i].is_string() ? list[i].get<std::string>() : "";
    if (i == 0 && ip == "None") {
      if (list.size() > 1) {
        invalid = true;
        errs->push_back(Invalid(ips_path, GoStrings(&list), "'None' must be the first and only value"));
      }
      continue;
    }
    if (!IsValidIP(ip)) {
      invalid = true;
      errs->push_back(Invalid(ips_path.Index(i), Q(ip), kIPError));
    }
  }
  if (list.size() > 2) errs->push_back(Invalid(ips_path, GoStrings(&list), "may only hold up to 2 values"));
  if (invalid) return;
  if (list.size() > 1 && IsIPv6(list[0].get<std::string>()) == IsIPv6(list[1].get<std::string>()))
    errs->push_back(Invalid(ips_path, GoStrings(&list), "may specify no more than one IP for each IP family"));
  if (!IsHeadless(spec))
    for (size_t i = 0; i < list.size() && i < fams.size(); i++) {
      std::string ip = list[i].get<std::string>();
      if (fams[i] == "IPv4" && IsIPv6(ip))
        errs->push_back(Invalid(ips_path.Index(i), Q(ip), "expected an IPv4 value as indicated by `ipFamilies[" + std::to_string(i) + "]`"));
      if (fams[i] == "IPv6" && !IsIPv6(ip))
        errs->push_back(Invalid(ips_path.Index(i), Q(ip), "expected an IPv6 value as indicated by `ipFamilies[" + std::to_string(i) + "]`"));
    }
}

void ValidateService(const Json& svc, const Json* old, Errs* errs) {
  const Json& spec = ObjOrEmpty(svc, "spec");
  Path sp("spec");
  std::string type = Str(spec, "type");
  bool headless = IsHeadless(spec);
  if (old) {
    // clusterIPs and ipFamilies may be upgraded or downgraded, not changed.
    const Json& os = ObjOrEmpty(*old, "spec");
    bool ext = type == "ExternalName" || Str(os, "type") == "ExternalName";
    bool old_headless = IsHeadless(os);
    const Json& ni = Items(spec, "clusterIPs");
    const Json& oi = Items(os, "clusterIPs");
    if (!ext && !(old_headless && headless)) {
      std::string now = GoStrings(GetArr(spec, "clusterIPs"));
      if (ni.size() == oi.size()) {
        for (size_t i = 0; i < oi.size(); i++)
          if (oi[i] != ni[i]) errs->push_back(Invalid(sp.Child("clusterIPs").Index(i), now, "may not change once set"));
      } else if (oi.size() > ni.size()) {
        if (ni.empty()) errs->push_back(Invalid(sp.Child("clusterIPs").Index(0), now, "primary clusterIP can not be unset"));
        if (!ni.empty() && ni[0] != oi[0]) errs->push_back(Invalid(sp.Child("clusterIPs").Index(0), now, "may not change once set"));
        if (ni.size() == 1 && Str(spec, "ipFamilyPolicy") != "SingleStack")
          errs->push_back(Invalid(sp.Child("ipFamilyPolicy"), Has(spec, "ipFamilyPolicy") ? Q(Str(spec, "ipFamilyPolicy")) : "null",
                                  "must be set to 'SingleStack' when releasing the secondary clusterIP"));
      } else if (!oi.empty() && ni[0] != oi[0]) {
        errs->push_back(Invalid(sp.Child("clusterIPs").Index(0), now, "may not change once set"));
      }
    }
    if (!ext && old_headless == headless && !headless) {
      const Json& nf = Items(spec, "ipFamilies");
      const Json& of = Items(os, "ipFamilies");
      std::string fams = GoStrings(GetArr(spec, "ipFamilies"), "[]core.IPFamily");
      if (nf.size() == of.size()) {
        for (size_t i = 0; i < of.size(); i++)
          if (of[i] != nf[i]) errs->push_back(Invalid(sp.Child("ipFamilies").Index(0), fams, "may not change once set"));
      } else if (of.size() > nf.size()) {
        if (ni.empty()) errs->push_back(Invalid(sp.Child("ipFamilies").Index(0), fams, "primary ipFamily can not be unset"));
        if (!nf.empty() && nf[0] != of[0])
          errs->push_back(Invalid(sp.Child("ipFamilies").Index(0), GoStrings(GetArr(spec, "clusterIPs")), "may not change once set"));
        if (nf.size() == 1 && Str(spec, "ipFamilyPolicy") != "SingleStack")
          errs->push_back(Invalid(sp.Child("ipFamilyPolicy"), Has(spec, "ipFamilyPolicy") ? Q(Str(spec, "ipFamilyPolicy")) : "null",
                                  "must be set to 'SingleStack' when releasing the secondary ipFamily"));
      } else if (!of.empty() && !nf.empty() && nf[0] != of[0]) {
        errs->push_back(Invalid(sp.Child("ipFamilies").Index(0), GoStrings(GetArr(spec, "clusterIPs")), "may not change once set"));
      }
    }
    if (type == "LoadBalancer" && Str(os, "type") == "LoadBalancer" &&
        !SameValue(Get(spec, "loadBalancerClass"), Get(os, "loadBalancerClass")))
      errs->push_back(Invalid(sp.Child("loadBalancerClass"), Has(spec, "loadBalancerClass") ? Q(Str(spec, "loadBalancerClass")) : "null",
                              "may not change once set"));
    auto needs_hc = [](const Json& s) { return Str(s, "type") == "LoadBalancer" && Str(s, "externalTrafficPolicy") == "Local"; };
    if (needs_hc(os) && needs_hc(spec) && Int(spec, "healthCheckNodePort") != Int(os, "healthCheckNodePort"))
      errs->push_back(Forbidden(sp.Child("healthCheckNodePort"), kImmutable));
  }
  const Json& ann = ObjOrEmpty(ObjOrEmpty(svc, "metadata"), "annotations");
  const char* kHints = "service.kubernetes.io/topology-aware-hints";
  const char* kMode = "service.kubernetes.io/topology-mode";
  if (Has(ann, kHints) && Has(ann, kMode) && ann[kHints] != ann[kMode])
    errs->push_back(Invalid(Path("metadata").Child("annotations").Key(kMode), GoValue(ann[kMode]),
                            std::string("must match annotations[") + kHints + "] when both are specified"));
  const Json& ports = Items(spec, "ports");
  if (ports.empty() && !headless && type != "ExternalName") errs->push_back(Required(sp.Child("ports")));
  if (type == "LoadBalancer" && headless)
    errs->push_back(Invalid(sp.Child("clusterIPs").Index(0), Q("None"), "may not be set to 'None' for LoadBalancer services"));
  if (type == "NodePort" && headless)
    errs->push_back(Invalid(sp.Child("clusterIPs").Index(0), Q("None"), "may not be set to 'None' for NodePort services"));
  if (type == "ExternalName") {
    if (Len(spec, "clusterIPs") > 0) errs->push_back(Forbidden(sp.Child("clusterIPs"), "may not be set for ExternalName services"));
    if (Len(spec, "ipFamilies") > 0) errs->push_back(Forbidden(sp.Child("ipFamilies"), "may not be set for ExternalName services"));
    if (Has(spec, "ipFamilyPolicy")) errs->push_back(Forbidden(sp.Child("ipFamilyPolicy"), "may not be set for ExternalName services"));
    std::string cname = Str(spec, "externalName");
    if (!cname.empty() && cname.back() == '.') cname.pop_back();
    if (!cname.empty()) AddAll(errs, sp.Child("externalName"), cname, IsDNS1123Subdomain(cname));
    else errs->push_back(Required(sp.Child("externalName")));
  }
  std::set<std::string> names;
  for (size_t i = 0; i < ports.size(); i++) {
    const Json& port = ports[i];
    Path pp = sp.Child("ports").Index(i);
    std::string name = Str(port, "name");
    if (ports.size() > 1 && name.empty()) {
      errs->push_back(Required(pp.Child("name")));
    } else if (!name.empty()) {
      AddAll(errs, pp.Child("name"), name, IsDNS1123Label(name));
      if (!names.insert(name).second) errs->push_back(Duplicate(pp.Child("name"), Q(name)));
    }
    int64_t num = Int(port, "port").value_or(0);
    for (const auto& m : IsValidPortNum(num)) errs->push_back(Invalid(pp.Child("port"), GoInt(num), m));
    std::string proto = Str(port, "protocol");
    if (proto.empty()) errs->push_back(Required(pp.Child("protocol")));
    else if (proto != "SCTP" && proto != "TCP" && proto != "UDP")
      errs->push_back(NotSupported(pp.Child("protocol"), Q(proto), {"SCTP", "TCP", "UDP"}));
    ValidatePortNumOrName(Get(port, "targetPort") ? *Get(port, "targetPort") : Json(0), pp.Child("targetPort"), errs);
    if (Has(port, "appProtocol"))
      AddAll(errs, pp.Child("appProtocol"), Str(port, "appProtocol"), IsQualifiedName(Str(port, "appProtocol")));
  }
  ValidateLabels(GetObj(spec, "selector"), sp.Child("selector"), errs);
  std::string affinity = Str(spec, "sessionAffinity");
  if (affinity.empty()) errs->push_back(Required(sp.Child("sessionAffinity")));
  else if (affinity != "ClientIP" && affinity != "None")
    errs->push_back(NotSupported(sp.Child("sessionAffinity"), Q(affinity), {"ClientIP", "None"}));
  Path cp = sp.Child("sessionAffinityConfig");
  if (affinity == "ClientIP") {
    const Json* cfg = GetObj(spec, "sessionAffinityConfig");
    const Json* cip = cfg ? GetObj(*cfg, "clientIP") : nullptr;
    if (!cfg) errs->push_back(Required(cp, "when session affinity type is ClientIP"));
    else if (!cip) errs->push_back(Required(cp.Child("clientIP"), "when session affinity type is ClientIP"));
    else if (!Has(*cip, "timeoutSeconds"))
      errs->push_back(Required(cp.Child("clientIP").Child("timeoutSeconds"), "when session affinity type is ClientIP"));
    else if (int64_t t = Int(*cip, "timeoutSeconds").value_or(0); t <= 0 || t > 86400)
      errs->push_back(Invalid(cp.Child("clientIP").Child("timeoutSeconds"), GoInt(t), "must be greater than 0 and less than 86400"));
  } else if (affinity == "None" && Has(spec, "sessionAffinityConfig")) {
    errs->push_back(Forbidden(cp, "must not be set when session affinity is None"));
  }
  if (type != "ExternalName") ValidateClusterIPFields(spec, errs);
  const Json& ext = Items(spec, "externalIPs");
  for (size_t i = 0; i < ext.size(); i++) {
    std::string ip = ext[i].is_string() ? ext[i].get<std::string>() : "";
    if (!IsValidIP(ip)) errs->push_back(Invalid(sp.Child("externalIPs").Index(i), Q(ip), kIPError));
    else ValidateNonSpecialIP(ip, sp.Child("externalIPs").Index(i), errs);
  }
  if (type.empty()) errs->push_back(Required(sp.Child("type")));
  else if (type != "ClusterIP" && type != "NodePort" && type != "LoadBalancer" && type != "ExternalName")
    errs->push_back(NotSupported(sp.Child("type"), Q(type), {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"}));
  std::set<std::string> node_ports, port_keys;
  for (size_t i = 0; i < ports.size(); i++) {
    const Json& port = ports[i];
    Path pp = sp.Child("ports").Index(i);
    int64_t np = Int(port, "nodePort").value_or(0);
    std::string proto = Str(port, "protocol");
    if (type == "ClusterIP" && np != 0) errs->push_back(Forbidden(pp.Child("nodePort"), "may not be used when `type` is 'ClusterIP'"));
    if (np != 0 && !node_ports.insert(proto + "/" + std::to_string(np)).second)
      errs->push_back(Duplicate(pp.Child("nodePort"), GoInt(np)));
    int64_t num = Int(port, "port").value_or(0);
    if (!port_keys.insert(proto + "/" + std::to_string(num)).second) errs->push_back(Duplicate(pp, GoServicePortKey(proto, num)));
  }
  // The node port allocator's range (the default --service-node-port-range).
  if (type == "NodePort" || type == "LoadBalancer") {
    const Json& old_ports = old ? Items(ObjOrEmpty(*old, "spec"), "ports") : Json::array();
    for (size_t i = 0; i < ports.size(); i++) {
      int64_t np = Int(ports[i], "nodePort").value_or(0);
      bool kept = false;
      for (const Json& op : old_ports) kept = kept || Int(op, "nodePort").value_or(0) == np;
      if (np != 0 && !kept && (np < 30000 || np > 32767))
        errs->push_back(Invalid(sp.Child("ports").Index(i).Child("nodePort"), GoInt(np),
                                "provided port is not in the valid range. The range of valid ports is 30000-32767"));
    }
  }
  const Json& ranges = Items(spec, "loadBalancerSourceRanges");
  if (!ranges.empty()) {
    Path rp = sp.Child("LoadBalancerSourceRanges");
    if (type != "LoadBalancer") errs->push_back(Forbidden(rp, "may only be used when `type` is 'LoadBalancer'"));
    for (size_t i = 0; i < ranges.size(); i++) {
      std::string v = ranges[i].is_string() ? ranges[i].get<std::string>() : "";
      size_t b = v.find_first_not_of(' '), e = v.find_last_not_of(' ');
      v = b == std::string::npos ? "" : v.substr(b, e - b + 1);
      if (!IsValidCIDR(v)) errs->push_back(Invalid(rp.Index(i), Q(v), kCIDRError));
    }
  }
  if (Has(spec, "allocateLoadBalancerNodePorts") && type != "LoadBalancer")
    errs->push_back(Forbidden(sp.Child("allocateLoadBalancerNodePorts"), "may only be used when `type` is 'LoadBalancer'"));
  if (type == "LoadBalancer" && !Has(spec, "allocateLoadBalancerNodePorts"))
    errs->push_back(Required(Path("allocateLoadBalancerNodePorts")));
  if (Has(spec, "loadBalancerClass")) {
    if (type == "LoadBalancer")
      AddAll(errs, sp.Child("loadBalancerClass"), Str(spec, "loadBalancerClass"), IsQualifiedName(Str(spec, "loadBalancerClass")));
    else
      errs->push_back(Forbidden(sp.Child("loadBalancerClass"), "may only be used when `type` is 'LoadBalancer'"));
  }
  bool accessible = type == "LoadBalancer" || type == "NodePort" || (type == "ClusterIP" && !ext.empty());
  std::string etp = Str(spec, "externalTrafficPolicy");
  if (!accessible) {
    if (!etp.empty())
      errs->push_back(Invalid(sp.Child("externalTrafficPolicy"), Q(etp), "may only be set for externally-accessible services"));
  } else if (etp.empty()) {
    errs->push_back(Required(sp.Child("externalTrafficPolicy")));
  } else if (etp != "Cluster" && etp != "Local") {
    errs->push_back(NotSupported(sp.Child("externalTrafficPolicy"), Q(etp), {"Cluster", "Local"}));
  }
  int64_t hc = Int(spec, "healthCheckNodePort").value_or(0);
  bool needs_hc = type == "LoadBalancer" && etp == "Local";
  if (!needs_hc && hc != 0)
    errs->push_back(Invalid(sp.Child("healthCheckNodePort"), GoInt(hc),
                            "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
  if (needs_hc && hc != 0)
    for (const auto& m : IsValidPortNum(hc)) errs->push_back(Invalid(sp.Child("healthCheckNodePort"), GoInt(hc), m));
  if (!Has(spec, "internalTrafficPolicy")) {
    if (type == "NodePort" || type == "LoadBalancer" || type == "ClusterIP")
      errs->push_back(Required(sp.Child("internalTrafficPolicy")));
  } else if (std::string itp = Str(spec, "internalTrafficPolicy"); itp != "Cluster" && itp != "Local") {
    errs->push_back(NotSupported(sp.Child("internalTrafficPolicy"), Q(itp), {"Cluster", "Local"}));
  }
  if (Has(spec, "trafficDistribution") && Str(spec, "trafficDistribution") != "PreferClose")
    errs->push_back(NotSupported(sp.Child("trafficDistribution"), Q(Str(spec, "trafficDistribution")), {"PreferClose"}));
}


void ValidateEndpoints(const Json& ep, Errs* errs) {
  const Json& subsets = Items(ep, "subsets");
  for (size_t i = 0; i < subsets.size(); i++) {
    const Json& ss = subsets[i];
    Path ip = Path("subsets").Index(i);
    if (Len(ss, "addresses") == 0 && Len(ss, "notReadyAddresses") == 0)
      errs->push_back(Required(ip, "must specify `addresses` or `notReadyAddresses`"));
    for (const char* list : {"addresses", "notReadyAddresses"}) {
      const Json& addrs = Items(ss, list);
      for (size_t j = 0; j < addrs.size(); j++) {
        Path ap = ip.Child(list).Index(j);
        std::string addr = Str(addrs[j], "ip");
        if (!IsValidIP(addr)) errs->push_back(Invalid(ap.Child("ip"), Q(addr), kIPError));
        if (std::string h = Str(addrs[j], "hostname"); !h.empty()) AddAll(errs, ap.Child("hostname"), h, IsDNS1123Label(h));
        if (Has(addrs[j], "nodeName")) AddAll(errs, ap.Child("nodeName"), Str(addrs[j], "nodeName"), IsDNS1123Subdomain(Str(addrs[j], "nodeName")));
        ValidateNonSpecialIP(addr, ap.Child("ip"), errs);
      }
    }
    const Json& ports = Items(ss, "ports");
    for (size_t j = 0; j < ports.size(); j++) {
      Path pp = ip.Child("ports").Index(j);
      std::string name = Str(ports[j], "name"), proto = Str(ports[j], "protocol");
      if (ports.size() > 1 && name.empty()) errs->push_back(Required(pp.Child("name")));
      else if (!name.empty()) AddAll(errs, pp.Child("name"), name, IsDNS1123Label(name));
      int64_t num = Int(ports[j], "port").value_or(0);
      for (const auto& m : IsValidPortNum(num)) errs->push_back(Invalid(pp.Child("port"), GoInt(num), m));
      if (proto.empty()) errs->push_back(Required(pp.Child("protocol")));
      else if (proto != "SCTP" && proto != "TCP" && proto != "UDP")
        errs->push_back(NotSupported(pp.Child("protocol"), Q(proto), {"SCTP", "TCP", "UDP"}));
      if (Has(ports[j], "appProtocol"))
        AddAll(errs, pp.Child("appProtocol"), Str(ports[j], "appProtocol"), IsQualifiedName(Str(ports[j], "appProtocol")));
    }
  }
}

}  // namespace

void ValidateServiceKind(const ResourceType& t, const Json& obj, const Json* old, Errs* errs) {
  if (t.kind == "Service") ValidateService(obj, old, errs);
  else ValidateEndpoints(obj, errs);
}

}  // namespace kubit::api::validation
