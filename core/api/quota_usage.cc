#include "core/api/quota_usage.h"

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

namespace kubit::api {

using Json = nlohmann::json;

namespace {

// ---- exact decimal arithmetic on quantities ---------------------------------

// -1, 0, 1 for digit strings without leading zeros.
int CmpMagnitude(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

std::string AddMagnitudes(const std::string& a, const std::string& b) {
  std::string out;
  int carry = 0;
  for (size_t i = 0; i < std::max(a.size(), b.size()) || carry; i++) {
    int d = carry;
    if (i < a.size()) d += a[a.size() - 1 - i] - '0';
    if (i < b.size()) d += b[b.size() - 1 - i] - '0';
    out.push_back(char('0' + d % 10));
    carry = d / 10;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

// a - b for a >= b.
std::string SubMagnitudes(const std::string& a, const std::string& b) {
  std::string out;
  int borrow = 0;
  for (size_t i = 0; i < a.size(); i++) {
    int d = (a[a.size() - 1 - i] - '0') - borrow - (i < b.size() ? b[b.size() - 1 - i] - '0' : 0);
    borrow = d < 0;
    out.push_back(char('0' + (d + 10) % 10));
  }
  while (out.size() > 1 && out.back() == '0') out.pop_back();
  std::reverse(out.begin(), out.end());
  return out;
}

// Back to the Quantity invariants: no leading or trailing zeros.
void Tidy(Quantity* q) {
  size_t first = q->digits.find_first_not_of('0');
  q->digits = first == std::string::npos ? "0" : q->digits.substr(first);
  if (q->digits == "0") {
    q->exp = 0;
    q->negative = false;
    return;
  }
  while (q->digits.size() > 1 && q->digits.back() == '0') {
    q->digits.pop_back();
    q->exp++;
  }
}

Quantity Negated(Quantity q) {
  if (!q.IsZero()) q.negative = !q.negative;
  return q;
}

const Json& Field(const Json& o, const char* key) {
  static const Json kNull;
  if (!o.is_object()) return kNull;
  auto it = o.find(key);
  return it == o.end() ? kNull : *it;
}

std::string StrField(const Json& o, const char* key) {
  const Json& v = Field(o, key);
  return v.is_string() ? v.get<std::string>() : "";
}

Quantity One() {
  Quantity q;
  q.digits = "1";
  return q;
}

// A count (n >= 0) as a DecimalSI quantity.
Quantity Count(int64_t n) {
  Quantity q;
  q.digits = std::to_string(n);
  Tidy(&q);
  return q;
}

// Per name, the larger quantity.
void MaxInto(ResourceList* into, const ResourceList& other) {
  for (const auto& [name, q] : other) {
    auto it = into->find(name);
    if (it == into->end() || CompareQuantity(q, it->second) > 0) (*into)[name] = q;
  }
}

// ---- pods ----------------------------------------------------------------------

bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

bool IsHugePages(const std::string& name) { return StartsWith(name, "hugepages-"); }

// An extended resource (example.com/gpu): a domain outside kubernetes.io.
bool IsExtendedResource(const std::string& name) {
  size_t slash = name.find('/');
  if (slash == std::string::npos) return false;
  std::string domain = name.substr(0, slash);
  return domain != "kubernetes.io" && !(domain.size() > 14 && domain.compare(domain.size() - 14, 14, ".kubernetes.io") == 0) &&
         !StartsWith(name, "requests.");
}

ResourceList ContainerList(const Json& container, const char* which) {
  return ResourceListFromJson(Field(Field(container, "resources"), which));
}

// PodRequests and PodLimits share the walk over containers.
ResourceList PodResources(const Json& pod, const char* which) {
  const Json& spec = Field(pod, "spec");
  ResourceList total;
  const Json& containers = Field(spec, "containers");
  if (containers.is_array())
    for (const auto& c : containers) total = AddResources(total, ContainerList(c, which));
  ResourceList sidecars, init_max;
  const Json& inits = Field(spec, "initContainers");
  if (inits.is_array())
    for (const auto& c : inits) {
      ResourceList own = ContainerList(c, which);
      if (StrField(c, "restartPolicy") == "Always") {
        total = AddResources(total, own);
        sidecars = AddResources(sidecars, own);
        own = sidecars;
      } else {
        own = AddResources(own, sidecars);
      }
      MaxInto(&init_max, own);
    }
  MaxInto(&total, init_max);
  ResourceList overhead = ResourceListFromJson(Field(spec, "overhead"));
  if (std::string(which) == "requests") return AddResources(total, overhead);
  for (auto& [name, q] : total)
    if (overhead.count(name)) q = AddQuantity(q, overhead[name]);
  return total;
}

// podComputeUsageHelper: the quota names a pod's requests and limits fill.
ResourceList PodComputeUsage(const ResourceList& requests, const ResourceList& limits) {
  ResourceList r;
  r["pods"] = One();
  for (const char* name : {"cpu", "memory", "ephemeral-storage"}) {
    auto req = requests.find(name);
    if (req != requests.end()) {
      r[name] = req->second;
      r[std::string("requests.") + name] = req->second;
    }
    auto lim = limits.find(name);
    if (lim != limits.end()) r[std::string("limits.") + name] = lim->second;
  }
  for (const auto& [name, q] : requests) {
    if (IsHugePages(name)) {
      r[name] = q;
      r["requests." + name] = q;
    }
    if (IsExtendedResource(name)) r["requests." + name] = q;
  }
  return r;
}

int64_t ParseUnixTime(const std::string& s) {
  struct tm tm = {};
  if (!strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return 0;
  return timegm(&tm);
}

// QuotaV1Pod: finished pods, and pods past their deletion grace period,
// no longer use compute resources.
bool PodCountsCompute(const Json& pod, int64_t now) {
  std::string phase = StrField(Field(pod, "status"), "phase");
  if (phase == "Succeeded" || phase == "Failed") return false;
  const Json& meta = Field(pod, "metadata");
  std::string deletion = StrField(meta, "deletionTimestamp");
  const Json& grace = Field(meta, "deletionGracePeriodSeconds");
  if (!deletion.empty() && grace.is_number_integer()) {
    int64_t at = ParseUnixTime(deletion);
    if (at > 0 && now > at + grace.get<int64_t>()) return false;
  }
  return true;
}

ResourceList PodUsage(const Json& pod, int64_t now) {
  ResourceList r;
  r["count/pods"] = One();  // object count quotas track every stored pod
  if (!PodCountsCompute(pod, now)) return r;
  return AddResources(r, PodComputeUsage(PodRequests(pod), PodLimits(pod)));
}

bool PodQuantityNonZero(const Json& list, const char* name) {
  const Json& v = Field(list, name);
  if (v.is_null()) return false;
  auto q = QuantityFromJson(v);
  return q && q->Sign() > 0;
}

// qos.GetPodQOS == BestEffort: no cpu or memory request or limit anywhere.
bool PodIsBestEffort(const Json& pod) {
  const Json& spec = Field(pod, "spec");
  for (const char* list : {"initContainers", "containers"}) {
    const Json& cs = Field(spec, list);
    if (!cs.is_array()) continue;
    for (const auto& c : cs) {
      const Json& res = Field(c, "resources");
      for (const char* which : {"requests", "limits"})
        for (const char* name : {"cpu", "memory"})
          if (PodQuantityNonZero(Field(res, which), name)) return false;
    }
  }
  return true;
}

bool PodIsTerminating(const Json& pod) {
  const Json& ads = Field(Field(pod, "spec"), "activeDeadlineSeconds");
  return ads.is_number_integer() && ads.get<int64_t>() >= 0;
}

bool UsesCrossNamespaceAffinity(const Json& pod) {
  const Json& affinity = Field(Field(pod, "spec"), "affinity");
  for (const char* kind : {"podAffinity", "podAntiAffinity"}) {
    const Json& a = Field(affinity, kind);
    for (const char* when : {"requiredDuringSchedulingIgnoredDuringExecution",
                             "preferredDuringSchedulingIgnoredDuringExecution"}) {
      const Json& terms = Field(a, when);
      if (!terms.is_array()) continue;
      for (const auto& t : terms) {
        const Json& term = Field(t, "podAffinityTerm").is_object() ? Field(t, "podAffinityTerm") : t;
        const Json& nss = Field(term, "namespaces");
        if ((nss.is_array() && !nss.empty()) || Field(term, "namespaceSelector").is_object()) return true;
      }
    }
  }
  return false;
}

// One scope selector term of a quota against a pod (PodMatchesScopeFunc).
bool PodMatchesScope(const Json& term, const Json& pod) {
  std::string scope = StrField(term, "scopeName");
  if (scope == "Terminating") return PodIsTerminating(pod);
  if (scope == "NotTerminating") return !PodIsTerminating(pod);
  if (scope == "BestEffort") return PodIsBestEffort(pod);
  if (scope == "NotBestEffort") return !PodIsBestEffort(pod);
  if (scope == "CrossNamespacePodAffinity") return UsesCrossNamespaceAffinity(pod);
  if (scope == "PriorityClass") {
    std::string pc = StrField(Field(pod, "spec"), "priorityClassName");
    std::string op = StrField(term, "operator");
    if (op == "Exists") return !pc.empty();
    // Upstream matches a label set that always holds the key, so
    // DoesNotExist never matches.
    if (op == "DoesNotExist") return false;
    bool listed = false;
    const Json& values = Field(term, "values");
    if (values.is_array())
      for (const auto& v : values) listed = listed || (v.is_string() && v.get<std::string>() == pc);
    return op == "In" ? listed : op == "NotIn" ? !listed : false;
  }
  return false;
}

// The quota's scopes as selector terms (getScopeSelectorsFromQuota).
std::vector<Json> ScopeTerms(const Json& quota) {
  std::vector<Json> terms;
  const Json& spec = Field(quota, "spec");
  const Json& scopes = Field(spec, "scopes");
  if (scopes.is_array())
    for (const auto& s : scopes)
      if (s.is_string()) terms.push_back({{"scopeName", s}, {"operator", "Exists"}});
  const Json& exprs = Field(Field(spec, "scopeSelector"), "matchExpressions");
  if (exprs.is_array())
    for (const auto& e : exprs) terms.push_back(e);
  return terms;
}

// ---- services and claims --------------------------------------------------

ResourceList ServiceUsage(const Json& svc) {
  ResourceList r;
  r["count/services"] = One();
  r["services"] = One();
  r["services.loadbalancers"] = Quantity();
  r["services.nodeports"] = Quantity();
  const Json& spec = Field(svc, "spec");
  const Json& ports = Field(spec, "ports");
  int64_t n = ports.is_array() ? int64_t(ports.size()) : 0;
  std::string type = StrField(spec, "type");
  if (type == "NodePort") r["services.nodeports"] = Count(n);
  if (type == "LoadBalancer") {
    const Json& alloc = Field(spec, "allocateLoadBalancerNodePorts");
    if (alloc.is_boolean() && !alloc.get<bool>()) {
      // Without allocation only the ports that name a nodePort use one.
      int64_t named = 0;
      if (ports.is_array())
        for (const auto& p : ports)
          if (Field(p, "nodePort").is_number_integer() && Field(p, "nodePort").get<int64_t>() != 0) named++;
      r["services.nodeports"] = Count(named);
    } else {
      r["services.nodeports"] = Count(n);
    }
    r["services.loadbalancers"] = One();
  }
  return r;
}

const char kStorageClassSuffix[] = ".storageclass.storage.k8s.io/";

std::string ClaimClass(const Json& pvc) {
  std::string beta = StrField(Field(Field(pvc, "metadata"), "annotations"), "volume.beta.kubernetes.io/storage-class");
  if (!beta.empty()) return beta;
  return StrField(Field(pvc, "spec"), "storageClassName");
}

ResourceList ClaimUsage(const Json& pvc) {
  ResourceList r;
  r["persistentvolumeclaims"] = One();
  r["count/persistentvolumeclaims"] = One();
  std::string cls = ClaimClass(pvc);
  if (!cls.empty()) r[cls + kStorageClassSuffix + "persistentvolumeclaims"] = One();
  // Whole bytes, the larger of the request and what was allocated.
  ResourceList req = ResourceListFromJson(Field(Field(Field(pvc, "spec"), "resources"), "requests"));
  auto it = req.find("storage");
  if (it == req.end()) return r;
  Quantity storage = it->second;
  ResourceList alloc = ResourceListFromJson(Field(Field(pvc, "status"), "allocatedResources"));
  auto a = alloc.find("storage");
  if (a != alloc.end() && CompareQuantity(a->second, storage) > 0) storage = a->second;
  storage.RoundUp(0);
  r["requests.storage"] = storage;
  if (!cls.empty()) r[cls + kStorageClassSuffix + "requests.storage"] = storage;
  return r;
}

// ---- object counts ----------------------------------------------------------------

std::string CountName(const GroupResource& gr) {
  return "count/" + gr.resource + (gr.group.empty() ? "" : "." + gr.group);
}

// The legacy names core resources were counted by before count/.
std::string LegacyCountName(const GroupResource& gr) {
  if (!gr.group.empty()) return "";
  for (const char* r : {"configmaps", "secrets", "replicationcontrollers", "resourcequotas"})
    if (gr.resource == r) return r;
  return "";
}

bool IsPods(const GroupResource& gr) { return gr.group.empty() && gr.resource == "pods"; }
bool IsServices(const GroupResource& gr) { return gr.group.empty() && gr.resource == "services"; }
bool IsClaims(const GroupResource& gr) { return gr.group.empty() && gr.resource == "persistentvolumeclaims"; }

bool IsPodResource(const std::string& n) {
  static const std::set<std::string> kPod = {
      "count/pods", "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory",
      "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods"};
  if (kPod.count(n)) return true;
  if (IsHugePages(n) || StartsWith(n, "requests.hugepages-")) return true;
  return StartsWith(n, "requests.") && IsExtendedResource(n.substr(9));
}

bool IsClaimResource(const std::string& n) {
  if (n == "count/persistentvolumeclaims" || n == "persistentvolumeclaims" || n == "requests.storage") return true;
  size_t at = n.find(kStorageClassSuffix);
  if (at == std::string::npos || at == 0) return false;
  std::string rest = n.substr(at + sizeof(kStorageClassSuffix) - 1);
  return rest == "persistentvolumeclaims" || rest == "requests.storage";
}

}  // namespace

ResourceList ResourceListFromJson(const Json& list) {
  ResourceList out;
  if (!list.is_object()) return out;
  for (auto it = list.begin(); it != list.end(); ++it)
    if (auto q = QuantityFromJson(it.value())) out[it.key()] = *q;
  return out;
}

Json ResourceListToJson(const ResourceList& list) {
  Json out = Json::object();
  for (const auto& [name, q] : list) out[name] = q.String();
  return out;
}

Quantity AddQuantity(const Quantity& a, const Quantity& b) {
  if (b.IsZero()) return a;
  if (a.IsZero()) return b;
  int32_t e = std::min(a.exp, b.exp);
  std::string da = a.digits + std::string(size_t(a.exp - e), '0');
  std::string db = b.digits + std::string(size_t(b.exp - e), '0');
  Quantity r;
  r.format = a.format;
  r.exp = e;
  if (a.negative == b.negative) {
    r.digits = AddMagnitudes(da, db);
    r.negative = a.negative;
  } else if (CmpMagnitude(da, db) >= 0) {
    r.digits = SubMagnitudes(da, db);
    r.negative = a.negative;
  } else {
    r.digits = SubMagnitudes(db, da);
    r.negative = b.negative;
  }
  Tidy(&r);
  return r;
}

ResourceList AddResources(const ResourceList& a, const ResourceList& b) {
  ResourceList r = a;
  for (const auto& [name, q] : b) {
    auto it = r.find(name);
    if (it == r.end()) r[name] = q;
    else it->second = AddQuantity(it->second, q);
  }
  return r;
}

ResourceList SubtractNonNegative(const ResourceList& a, const ResourceList& b) {
  ResourceList r;
  for (const auto& [name, q] : a) {
    auto it = b.find(name);
    Quantity d = it == b.end() ? q : AddQuantity(q, Negated(it->second));
    if (d.Sign() < 0) {
      Quantity zero;
      zero.format = q.format;
      d = zero;
    }
    r[name] = d;
  }
  return r;
}

ResourceList MaskResources(const ResourceList& list, const std::set<std::string>& names) {
  ResourceList r;
  for (const auto& [name, q] : list)
    if (names.count(name)) r[name] = q;
  return r;
}

std::set<std::string> ResourceNames(const ResourceList& list) {
  std::set<std::string> r;
  for (const auto& [name, q] : list) r.insert(name);
  return r;
}

std::vector<std::string> ExceededResources(const ResourceList& used, const ResourceList& hard) {
  std::vector<std::string> r;
  for (const auto& [name, q] : used) {
    auto h = hard.find(name);
    if (h != hard.end() && CompareQuantity(q, h->second) > 0) r.push_back(name);
  }
  return r;
}

std::string PrettyPrintResources(const ResourceList& list) {
  std::string out;
  for (const auto& [name, q] : list) out += (out.empty() ? "" : ",") + name + "=" + q.String();
  return out;
}

ResourceList PodRequests(const Json& pod) { return PodResources(pod, "requests"); }
ResourceList PodLimits(const Json& pod) { return PodResources(pod, "limits"); }

std::set<std::string> QuotaMatchingResources(const GroupResource& gr, const std::set<std::string>& names) {
  std::set<std::string> r;
  for (const auto& n : names) {
    bool match = IsPods(gr)       ? IsPodResource(n)
                 : IsServices(gr) ? (n == "count/services" || n == "services" ||
                                     n == "services.loadbalancers" || n == "services.nodeports")
                 : IsClaims(gr)   ? IsClaimResource(n)
                                  : (n == CountName(gr) || (!LegacyCountName(gr).empty() && n == LegacyCountName(gr)));
    if (match) r.insert(n);
  }
  return r;
}

ResourceList QuotaUsage(const GroupResource& gr, const Json& obj, int64_t now) {
  if (IsPods(gr)) return PodUsage(obj, now);
  if (IsServices(gr)) return ServiceUsage(obj);
  if (IsClaims(gr)) return ClaimUsage(obj);
  ResourceList r;
  r[CountName(gr)] = One();
  std::string legacy = LegacyCountName(gr);
  if (!legacy.empty()) r[legacy] = One();
  return r;
}

bool QuotaScopesSelect(const GroupResource& gr, const Json& quota, const Json& obj) {
  for (const Json& term : ScopeTerms(quota))
    if (!IsPods(gr) || !PodMatchesScope(term, obj)) return false;
  return true;
}

bool QuotaMatches(const GroupResource& gr, const Json& quota, const Json& obj) {
  ResourceList hard = ResourceListFromJson(Field(Field(quota, "status"), "hard"));
  return !QuotaMatchingResources(gr, ResourceNames(hard)).empty() && QuotaScopesSelect(gr, quota, obj);
}

std::string QuotaConstraints(const GroupResource& gr, const std::set<std::string>& required, const Json& obj) {
  if (!IsPods(gr)) return "";
  // Quotas of cpu and memory have always made each container state them.
  static const std::set<std::string> kValidated = {"cpu", "memory", "requests.cpu", "requests.memory",
                                                   "limits.cpu", "limits.memory"};
  std::map<std::string, std::set<std::string>> missing;  // resource -> containers
  const Json& spec = Field(obj, "spec");
  for (const char* list : {"containers", "initContainers"}) {
    const Json& cs = Field(spec, list);
    if (!cs.is_array()) continue;
    for (const auto& c : cs) {
      ResourceList usage = PodComputeUsage(ContainerList(c, "requests"), ContainerList(c, "limits"));
      for (const auto& n : required)
        if (kValidated.count(n) && !usage.count(n)) missing[n].insert(StrField(c, "name"));
    }
  }
  if (missing.empty()) return "";
  std::string out = "must specify ";
  bool first = true;
  for (const auto& [resource, containers] : missing) {
    std::string names;
    for (const auto& n : containers) names += (names.empty() ? "" : ",") + n;
    out += (first ? "" : "; ") + resource + " for: " + names;
    first = false;
  }
  return out;
}

bool QuotaChargesUpdates(const GroupResource& gr) { return IsServices(gr) || IsClaims(gr); }

std::vector<GroupResource> QuotaTrackedResources(const std::set<std::string>& hard) {
  std::set<GroupResource> out;
  for (const auto& n : hard) {
    if (IsPodResource(n)) out.insert({"", "pods"});
    else if (n == "services" || StartsWith(n, "services.")) out.insert({"", "services"});
    else if (IsClaimResource(n)) out.insert({"", "persistentvolumeclaims"});
    else if (!LegacyCountName({"", n}).empty()) out.insert({"", n});
    else if (StartsWith(n, "count/")) {
      std::string rest = n.substr(6);
      size_t dot = rest.find('.');
      out.insert(dot == std::string::npos ? GroupResource{"", rest}
                                          : GroupResource{rest.substr(dot + 1), rest.substr(0, dot)});
    }
  }
  return {out.begin(), out.end()};
}

bool CalculateQuotaUsage(const Json& quota, const ListObjects& list, int64_t now, ResourceList* used,
                         std::string* error) {
  std::set<std::string> hard = ResourceNames(ResourceListFromJson(Field(Field(quota, "spec"), "hard")));
  ResourceList total;
  for (const GroupResource& gr : QuotaTrackedResources(hard)) {
    std::set<std::string> names = QuotaMatchingResources(gr, hard);
    if (names.empty()) continue;
    ResourceList sum;
    for (const auto& n : names) sum[n] = Quantity();
    std::vector<Json> objects;
    if (!list(gr, &objects, error)) return false;
    for (const Json& o : objects)
      if (QuotaScopesSelect(gr, quota, o)) sum = AddResources(sum, MaskResources(QuotaUsage(gr, o, now), names));
    total = AddResources(total, sum);
  }
  *used = MaskResources(total, hard);
  return true;
}

}  // namespace kubit::api
