// Services' server-set fields, as upstream's service registry: a ClusterIP
// from the service CIDR and NodePorts from the node-port range, unique
// across Services; kept through updates that leave them out. Also the
// `kubernetes` Service in default, which names this API server.
//
// Allocation scans the Services in the store under one lock held until the
// write: kubit has one API server per cluster, so nothing else allocates,
// and no separate allocation table can drift from the Services themselves.
#include <arpa/inet.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "core/api/meta.h"
#include "core/apiserver/rest_internal.h"

namespace kubit::apiserver::rest_internal {
namespace {

std::mutex alloc_mu;

struct Range {
  uint32_t base = 0, size = 0;  // host order; usable offsets 1 .. size-2
};

bool ParseCidr(const std::string& cidr, Range* r) {
  size_t slash = cidr.find('/');
  if (slash == std::string::npos) return false;
  in_addr a;
  if (inet_pton(AF_INET, cidr.substr(0, slash).c_str(), &a) != 1) return false;
  int bits = std::atoi(cidr.c_str() + slash + 1);
  if (bits < 8 || bits > 30) return false;
  r->size = 1u << (32 - bits);
  r->base = ntohl(a.s_addr) & ~(r->size - 1);
  return true;
}

std::string IpString(uint32_t host_order) {
  in_addr a;
  a.s_addr = htonl(host_order);
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, buf, sizeof(buf));
  return buf;
}

bool ParseIp(const std::string& s, uint32_t* out) {
  in_addr a;
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) return false;
  *out = ntohl(a.s_addr);
  return true;
}

// Upstream's split of a range: the lower band is kept for addresses that
// users ask for (10.43.0.10 for DNS), random picks go to the upper band
// first.
uint32_t StaticBand(uint32_t size) { return std::min<uint32_t>(std::max<uint32_t>(16, size / 16), 256); }

// A free value in [lo, hi], upper band first; false if the range is full.
bool PickFree(int64_t lo, int64_t hi, const std::set<int64_t>& used, int64_t* out) {
  int64_t n = hi - lo + 1;
  if (n <= 0) return false;
  int64_t band = StaticBand(static_cast<uint32_t>(n));
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  auto scan = [&](int64_t from, int64_t to) {
    if (to < from) return false;
    int64_t start = from + static_cast<int64_t>(rng() % static_cast<uint64_t>(to - from + 1));
    for (int64_t i = 0; i < to - from + 1; i++) {
      int64_t v = from + (start - from + i) % (to - from + 1);
      if (!used.count(v)) {
        *out = v;
        return true;
      }
    }
    return false;
  };
  return scan(lo + band, hi) || scan(lo, std::min(hi, lo + band - 1));
}

struct InUse {
  std::set<int64_t> ips;    // host-order addresses
  std::set<int64_t> ports;  // node ports (any protocol: one port, one allocation)
};

// What the Services other than `skip_ns/skip_name` hold.
bool Collect(Call& c, const std::string& skip_ns, const std::string& skip_name, InUse* in_use,
             ApiError* err) {
  store::ListResult r;
  store::Status s = c.state->List(c.type.storage_prefix(), {}, &r);
  if (!s.ok()) {
    *err = ApiError::FromStore(s, c.type, "");
    return false;
  }
  for (const auto& kv : r.items) {
    Json svc = Json::parse(kv->value);
    const Json& m = svc["metadata"];
    if (m.value("namespace", "") == skip_ns && m.value("name", "") == skip_name) continue;
    if (!svc.contains("spec") || !svc["spec"].is_object()) continue;
    const Json& spec = svc["spec"];
    uint32_t ip;
    if (spec.contains("clusterIP") && spec["clusterIP"].is_string() &&
        ParseIp(spec["clusterIP"].get<std::string>(), &ip))
      in_use->ips.insert(ip);
    for (const auto& p : spec.value("ports", Json::array()))
      if (p.is_object() && p.value("nodePort", int64_t{0}) > 0) in_use->ports.insert(p["nodePort"].get<int64_t>());
    if (spec.value("healthCheckNodePort", int64_t{0}) > 0) in_use->ports.insert(spec["healthCheckNodePort"].get<int64_t>());
  }
  return true;
}

std::string GoStringSlice(const std::vector<std::string>& v) {
  std::string s = "[]string{";
  for (size_t i = 0; i < v.size(); i++) s += (i ? ", " : "") + std::string("\"") + v[i] + "\"";
  return s + "}";
}

bool NeedsClusterIP(const Json& spec) { return spec.value("type", "ClusterIP") != "ExternalName"; }

bool NeedsNodePorts(const Json& spec) {
  std::string type = spec.value("type", "ClusterIP");
  if (type == "NodePort") return true;
  return type == "LoadBalancer" && spec.value("allocateLoadBalancerNodePorts", true);
}

// Gives the spec a ClusterIP (or checks the one asked for) and its families.
bool AllocateClusterIP(Call& c, const std::string& name, Json* spec, InUse* in_use, ApiError* err) {
  Range range;
  if (!ParseCidr(c.options->service_cidr, &range)) {
    *err = ApiError::Internal("the service CIDR " + c.options->service_cidr + " is not an IPv4 range");
    return false;
  }
  std::string want = spec->value("clusterIP", "");
  if (want.empty() && spec->contains("clusterIPs") && (*spec)["clusterIPs"].is_array() &&
      !(*spec)["clusterIPs"].empty() && (*spec)["clusterIPs"][0].is_string())
    want = (*spec)["clusterIPs"][0].get<std::string>();
  bool has_selector = spec->contains("selector") && (*spec)["selector"].is_object() &&
                      !(*spec)["selector"].empty();
  if (!spec->contains("ipFamilies") || !(*spec)["ipFamilies"].is_array() || (*spec)["ipFamilies"].empty())
    (*spec)["ipFamilies"] = {"IPv4"};
  for (size_t i = 0; i < (*spec)["ipFamilies"].size(); i++)
    if ((*spec)["ipFamilies"][i] != "IPv4") {
      *err = ApiError::Invalid(c.type, name,
                               {{"Invalid value", "spec.ipFamilies[" + std::to_string(i) + "]",
                                 "not configured on this cluster",
                                 "\"" + (*spec)["ipFamilies"][i].dump() + "\""}});
      return false;
    }
  if (want == "None") {
    (*spec)["clusterIP"] = "None";
    (*spec)["clusterIPs"] = {"None"};
    if (!spec->contains("ipFamilyPolicy"))
      (*spec)["ipFamilyPolicy"] = has_selector ? "SingleStack" : "RequireDualStack";
    return true;
  }
  if (!spec->contains("ipFamilyPolicy")) (*spec)["ipFamilyPolicy"] = "SingleStack";
  uint32_t ip = 0;
  if (!want.empty()) {
    std::string why;
    if (!ParseIp(want, &ip)) why = "provided IP (" + want + ") is not a valid IPv4 address";
    else if (ip <= range.base || ip >= range.base + range.size - 1)
      why = "provided IP (" + want + ") is not in the valid range. The range of valid IPs is " +
            c.options->service_cidr;
    else if (in_use->ips.count(ip)) why = "provided IP is already allocated";
    if (!why.empty()) {
      *err = ApiError::Invalid(c.type, name,
                               {{"Invalid value", "spec.clusterIPs", "failed to allocate IP " + want + ": " + why,
                                 GoStringSlice({want})}});
      return false;
    }
  } else {
    int64_t pick;
    if (!PickFree(range.base + 1, range.base + range.size - 2, in_use->ips, &pick)) {
      *err = ApiError::Internal("failed to allocate a serviceIP: range is full");
      return false;
    }
    ip = static_cast<uint32_t>(pick);
  }
  in_use->ips.insert(ip);
  (*spec)["clusterIP"] = IpString(ip);
  (*spec)["clusterIPs"] = {IpString(ip)};
  return true;
}

// One node port: the one asked for (checked) or a free one.
bool AllocatePort(Call& c, const std::string& name, const std::string& field, int64_t want,
                  InUse* in_use, int64_t* out, ApiError* err) {
  if (want > 0) {
    if (in_use->ports.count(want)) {
      *err = ApiError::Invalid(c.type, name, {{"Invalid value", field, "provided port is already allocated",
                                               std::to_string(want)}});
      return false;
    }
    *out = want;
  } else if (!PickFree(c.options->node_port_min, c.options->node_port_max, in_use->ports, out)) {
    *err = ApiError::Internal("failed to allocate a nodePort: range is full");
    return false;
  }
  in_use->ports.insert(*out);
  return true;
}

// NodePorts for every port that needs one; `old_spec` gives back the ports
// an update keeps (same port and protocol).
bool AllocateNodePorts(Call& c, const std::string& name, Json* spec, const Json* old_spec,
                       InUse* in_use, ApiError* err) {
  bool need = NeedsNodePorts(*spec);
  Json& ports = (*spec)["ports"];
  if (!ports.is_array()) return true;
  for (size_t i = 0; i < ports.size(); i++) {
    Json& p = ports[i];
    if (!p.is_object()) continue;
    int64_t want = p.value("nodePort", int64_t{0}), kept = 0;
    if (old_spec)
      for (const auto& op : old_spec->value("ports", Json::array()))
        if (op.is_object() && op.value("port", int64_t{0}) == p.value("port", int64_t{0}) &&
            op.value("protocol", "TCP") == p.value("protocol", "TCP"))
          kept = op.value("nodePort", int64_t{0});
    if (!need) {
      if (want == 0 && kept == 0) continue;
      if (spec->value("type", "ClusterIP") != "LoadBalancer") continue;  // validation speaks
    }
    if (want == 0 && kept > 0) want = kept;
    if (want > 0 && want == kept) {  // an update keeps what it had
      p["nodePort"] = want;
      in_use->ports.insert(want);
      continue;
    }
    if (!need && want == 0) continue;
    int64_t got;
    if (!AllocatePort(c, name, "spec.ports[" + std::to_string(i) + "].nodePort", want, in_use, &got, err))
      return false;
    p["nodePort"] = got;
  }
  // A LoadBalancer that keeps traffic local gets a health-check port.
  if (spec->value("type", "") == "LoadBalancer" && spec->value("externalTrafficPolicy", "") == "Local") {
    int64_t want = spec->value("healthCheckNodePort", int64_t{0});
    int64_t kept = old_spec ? old_spec->value("healthCheckNodePort", int64_t{0}) : 0;
    if (want == 0) want = kept;
    int64_t got = want;
    if (want == 0 || want != kept) {
      if (!AllocatePort(c, name, "spec.healthCheckNodePort", want, in_use, &got, err)) return false;
    }
    (*spec)["healthCheckNodePort"] = got;
  }
  return true;
}

}  // namespace

std::unique_lock<std::mutex> LockServiceAllocation() { return std::unique_lock<std::mutex>(alloc_mu); }

bool PrepareServiceCreate(Call& c, Json* o, ApiError* err) {
  std::string name = (*o)["metadata"].value("name", "");
  if (!o->contains("spec") || !(*o)["spec"].is_object()) (*o)["spec"] = Json::object();
  Json& spec = (*o)["spec"];
  InUse in_use;
  if (!Collect(c, "", "", &in_use, err)) return false;
  if (NeedsClusterIP(spec) && !AllocateClusterIP(c, name, &spec, &in_use, err)) return false;
  return AllocateNodePorts(c, name, &spec, nullptr, &in_use, err);
}

bool PrepareServiceUpdate(Call& c, const Json& old, Json* o, ApiError* err) {
  std::string name = c.info.name;
  if (!o->contains("spec") || !(*o)["spec"].is_object()) return true;  // validation speaks
  Json& spec = (*o)["spec"];
  const Json old_spec = old.value("spec", Json::object());
  if (NeedsClusterIP(spec) && NeedsClusterIP(old_spec)) {
    // What an update leaves out, it keeps (upstream's patchAllocatedValues).
    if (spec.value("clusterIP", "").empty() && old_spec.contains("clusterIP")) {
      spec["clusterIP"] = old_spec["clusterIP"];
      if (old_spec.contains("clusterIPs")) spec["clusterIPs"] = old_spec["clusterIPs"];
    }
    for (const char* f : {"ipFamilies", "ipFamilyPolicy"})
      if (!spec.contains(f) && old_spec.contains(f)) spec[f] = old_spec[f];
  }
  InUse in_use;
  if (!Collect(c, c.info.ns, name, &in_use, err)) return false;
  if (NeedsClusterIP(spec) && !NeedsClusterIP(old_spec) &&
      !AllocateClusterIP(c, name, &spec, &in_use, err))
    return false;
  return AllocateNodePorts(c, name, &spec, &old_spec, &in_use, err);
}

store::Status EnsureKubernetesService(store::Store* state, const RestOptions& options) {
  const ResourceType& svc_t = *api::FindType("", "v1", "services");
  const ResourceType& ep_t = *api::FindType("", "v1", "endpoints");
  const ResourceType& slice_t = *api::FindType("discovery.k8s.io", "v1", "endpointslices");
  Range range;
  if (!ParseCidr(options.service_cidr, &range))
    return store::Status::InvalidArgument("the service CIDR " + options.service_cidr + " is not an IPv4 range");
  std::string ip = IpString(range.base + 1);
  auto meta = [](const char* name, Json labels) {
    return Json{{"name", name}, {"namespace", "default"}, {"uid", api::NewUID()},
                {"creationTimestamp", api::Now()}, {"labels", std::move(labels)}};
  };
  Json svc = {{"apiVersion", "v1"}, {"kind", "Service"},
              {"metadata", meta("kubernetes", {{"component", "apiserver"}, {"provider", "kubernetes"}})},
              {"spec",
               {{"clusterIP", ip}, {"clusterIPs", {ip}}, {"type", "ClusterIP"},
                {"sessionAffinity", "None"}, {"ipFamilies", {"IPv4"}},
                {"ipFamilyPolicy", "SingleStack"}, {"internalTrafficPolicy", "Cluster"},
                {"ports", {{{"name", "https"}, {"port", 443}, {"protocol", "TCP"},
                            {"targetPort", options.advertise_port}}}}}},
              {"status", {{"loadBalancer", Json::object()}}}};
  store::Status s = state->Create(svc_t.storage_key("default", "kubernetes"), Encode(svc));
  if (!s.ok() && !s.IsAlreadyExists()) return s;
  // The endpoints follow this server's address, which may have changed.
  Json ep = {{"apiVersion", "v1"}, {"kind", "Endpoints"},
             {"metadata", meta("kubernetes", {{"endpointslice.kubernetes.io/skip-mirror", "true"}})},
             {"subsets", {{{"addresses", {{{"ip", options.advertise_address}}}},
                           {"ports", {{{"name", "https"}, {"port", options.advertise_port},
                                       {"protocol", "TCP"}}}}}}}};
  Json slice = {{"apiVersion", "discovery.k8s.io/v1"}, {"kind", "EndpointSlice"},
                {"metadata", meta("kubernetes", {{"kubernetes.io/service-name", "kubernetes"}})},
                {"addressType", "IPv4"},
                {"endpoints", {{{"addresses", {options.advertise_address}},
                                {"conditions", {{"ready", true}}}}}},
                {"ports", {{{"name", "https"}, {"port", options.advertise_port}, {"protocol", "TCP"}}}}};
  for (auto [type, obj, field] : {std::tuple{&ep_t, &ep, "subsets"}, std::tuple{&slice_t, &slice, "endpoints"}}) {
    std::string key = type->storage_key("default", "kubernetes");
    store::KeyValue cur;
    s = state->Get(key, &cur);
    if (s.IsNotFound()) {
      s = state->Create(key, Encode(*obj));
      if (!s.ok() && !s.IsAlreadyExists()) return s;
      continue;
    }
    if (!s.ok()) return s;
    Json live = Json::parse(cur.value);
    if (live.value(field, Json()) == (*obj)[field] &&
        (std::string(field) != "endpoints" || live.value("ports", Json()) == (*obj)["ports"]))
      continue;
    live[field] = (*obj)[field];
    if (std::string(field) == "endpoints") live["ports"] = (*obj)["ports"];
    s = state->Update(key, Encode(live), cur.mod_revision);
    if (!s.ok() && !s.IsConflict()) return s;
  }
  return store::Status::Ok();
}

}  // namespace kubit::apiserver::rest_internal
