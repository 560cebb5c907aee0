// PodSpec validation as core/validation's ValidatePodSpec does it, for Pods
// and for every pod template: the spec-level fields (restart and DNS
// policies, security context, scheduling: affinity, tolerations, topology
// spread, node selection), the pod annotations with rules, and templates.
// Containers are in validation_containers.cc, volumes in
// validation_volumes.cc.
#include <algorithm>
#include <set>

#include "core/api/validation_internal.h"

namespace kubit::api::validation {
namespace {

std::string SysctlNamespace(const std::string& name) {
  std::string n = name;
  std::replace(n.begin(), n.end(), '/', '.');
  if (n.rfind("net.", 0) == 0) return "net";
  if (n == "kernel.sem" || n.rfind("kernel.shm", 0) == 0 || n.rfind("kernel.msg", 0) == 0 ||
      n.rfind("fs.mqueue.", 0) == 0)
    return "ipc";
  return "";
}

bool IsValidSysctlName(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  // ([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?
  size_t start = 0;
  for (size_t i = 0; i <= name.size(); i++) {
    if (i == name.size() || name[i] == '.' || name[i] == '/') {
      std::string seg = name.substr(start, i - start);
      if (seg.empty()) return false;
      auto ok_end = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
      if (!ok_end(seg.front()) || !ok_end(seg.back())) return false;
      for (char c : seg)
        if (!ok_end(c) && c != '-' && c != '_') return false;
      start = i + 1;
    }
  }
  return true;
}

void ValidatePodSecurityContext(const Json& spec, const Path& p, Errs* errs) {
  const Json* sc = GetObj(spec, "securityContext");
  if (!sc) return;
  ValidateIDs(*sc, p, errs, true);
  const Json& groups = Items(*sc, "supplementalGroups");
  for (size_t i = 0; i < groups.size(); i++) {
    int64_t g = groups[i].is_number_integer() ? groups[i].get<int64_t>() : 0;
    for (const auto& m : IsValidUserOrGroupID(g)) errs->push_back(Invalid(p.Child("supplementalGroups").Index(i), GoInt(g), m));
  }
  if (Bool(spec, "hostPID") && Bool(*sc, "shareProcessNamespace"))
    errs->push_back(Invalid(p.Child("shareProcessNamespace"), "true", "ShareProcessNamespace and HostPID cannot both be enabled"));
  const Json& sysctls = Items(*sc, "sysctls");
  std::set<std::string> names;
  for (size_t i = 0; i < sysctls.size(); i++) {
    std::string name = Str(sysctls[i], "name");
    Path np = p.Child("sysctls").Index(i).Child("name");
    if (name.empty()) errs->push_back(Required(np));
    else if (!IsValidSysctlName(name))
      errs->push_back(Invalid(np, Q(name),
                              "must have at most 253 characters and match regex "
                              "^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$"));
    else if (names.count(name)) errs->push_back(Duplicate(np, Q(name)));
    std::string ns = SysctlNamespace(name);
    if (Bool(spec, "hostNetwork") && ns == "net")
      errs->push_back(Invalid(np, Q(name), "may not be specified when 'hostNetwork' is true"));
    else if (Bool(spec, "hostIPC") && ns == "ipc")
      errs->push_back(Invalid(np, Q(name), "may not be specified when 'hostIPC' is true"));
    names.insert(name);
  }
  if (Has(*sc, "fsGroupChangePolicy")) {
    std::string v = Str(*sc, "fsGroupChangePolicy");
    if (v != "Always" && v != "OnRootMismatch")
      errs->push_back(NotSupported(p.Child("fsGroupChangePolicy"), Q(v), {"Always", "OnRootMismatch"}));
  }
  ValidateSeccompProfile(GetObj(*sc, "seccompProfile"), p.Child("seccompProfile"), errs);
  ValidateAppArmorProfile(GetObj(*sc, "appArmorProfile"), p.Child("appArmorProfile"), errs);
  if (Has(*sc, "supplementalGroupsPolicy")) {
    std::string v = Str(*sc, "supplementalGroupsPolicy");
    if (v != "Merge" && v != "Strict")
      errs->push_back(NotSupported(p.Child("supplementalGroupsPolicy"), Q(v), {"Merge", "Strict"}));
  }
  if (Has(*sc, "seLinuxChangePolicy")) {
    std::string v = Str(*sc, "seLinuxChangePolicy");
    if (v != "MountOption" && v != "Recursive")
      errs->push_back(NotSupported(p.Child("seLinuxChangePolicy"), Q(v), {"MountOption", "Recursive"}));
  }
}


// ---- scheduling ------------------------------------------------------------

void ValidateNodeSelectorRequirement(const Json& rq, bool allow_invalid_values, const Path& p, Errs* errs) {
  std::string op = Str(rq, "operator");
  size_t n = Len(rq, "values");
  if (op == "In" || op == "NotIn") {
    if (n == 0) errs->push_back(Required(p.Child("values"), "must be specified when `operator` is 'In' or 'NotIn'"));
  } else if (op == "Exists" || op == "DoesNotExist") {
    if (n > 0) errs->push_back(Forbidden(p.Child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
  } else if (op == "Gt" || op == "Lt") {
    if (n != 1) errs->push_back(Required(p.Child("values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"));
  } else {
    errs->push_back(Invalid(p.Child("operator"), Q(op), "not a valid selector operator"));
  }
  ValidateLabelName(Str(rq, "key"), p.Child("key"), errs);
  if (!allow_invalid_values) {
    const Json& values = Items(rq, "values");
    for (size_t i = 0; i < values.size(); i++)
      if (values[i].is_string())
        AddAll(errs, p.Child("values").Index(i), values[i].get<std::string>(), IsValidLabelValue(values[i].get<std::string>()));
  }
}

void ValidateNodeSelectorTerm(const Json& term, bool allow_invalid_values, const Path& p, Errs* errs) {
  const Json& exprs = Items(term, "matchExpressions");
  for (size_t j = 0; j < exprs.size(); j++)
    ValidateNodeSelectorRequirement(exprs[j], allow_invalid_values, p.Child("matchExpressions").Index(j), errs);
  const Json& fields = Items(term, "matchFields");
  for (size_t j = 0; j < fields.size(); j++) {
    const Json& req = fields[j];
    Path fp = p.Child("matchFields").Index(j);
    std::string op = Str(req, "operator");
    if (op == "In" || op == "NotIn") {
      if (Len(req, "values") != 1)
        errs->push_back(Required(fp.Child("values"), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
    } else {
      errs->push_back(Invalid(fp.Child("operator"), Q(op), "not a valid selector operator"));
    }
    std::string key = Str(req, "key");
    if (key != "metadata.name") {
      errs->push_back(Invalid(fp.Child("key"), Q(key), "not a valid field selector key"));
    } else {
      const Json& values = Items(req, "values");
      for (size_t i = 0; i < values.size(); i++)
        if (values[i].is_string())
          AddAll(errs, fp.Child("values").Index(i), values[i].get<std::string>(), IsDNS1123Subdomain(values[i].get<std::string>()));
    }
  }
}

void ValidatePodAffinityTerm(const Json& term, const Path& p, Errs* errs) {
  ValidateLabelSelector(GetObj(term, "labelSelector"), p.Child("labelSelector"), errs);
  ValidateLabelSelector(GetObj(term, "namespaceSelector"), p.Child("namespaceSelector"), errs);
  for (const Json& ns : Items(term, "namespaces"))
    if (ns.is_string()) AddAll(errs, p.Child("namespace"), ns.get<std::string>(), IsDNS1123Label(ns.get<std::string>()));
  const Json* sel = GetObj(term, "labelSelector");
  for (const char* list : {"matchLabelKeys", "mismatchLabelKeys"}) {
    const Json& keys = Items(term, list);
    if (keys.empty()) continue;
    if (!sel) {
      errs->push_back(Forbidden(p.Child(list), "must not be specified when labelSelector is not set"));
      continue;
    }
    for (size_t i = 0; i < keys.size(); i++)
      if (keys[i].is_string()) ValidateLabelName(keys[i].get<std::string>(), p.Child(list).Index(i), errs);
  }
  std::set<std::string> mismatch;
  for (const Json& k : Items(term, "mismatchLabelKeys"))
    if (k.is_string()) mismatch.insert(k.get<std::string>());
  const Json& match = Items(term, "matchLabelKeys");
  for (size_t i = 0; i < match.size(); i++)
    if (match[i].is_string() && mismatch.count(match[i].get<std::string>()))
      errs->push_back(Invalid(p.Child("matchLabelKeys").Index(i), Q(match[i].get<std::string>()),
                              "exists in both matchLabelKeys and mismatchLabelKeys"));
  std::string tk = Str(term, "topologyKey");
  if (tk.empty()) errs->push_back(Required(p.Child("topologyKey"), "can not be empty"));
  ValidateLabelName(tk, p.Child("topologyKey"), errs);
}

void ValidatePodAffinityTerms(const Json& term_owner, const Path& p, Errs* errs) {
  const Json& req = Items(term_owner, "requiredDuringSchedulingIgnoredDuringExecution");
  for (size_t i = 0; i < req.size(); i++)
    ValidatePodAffinityTerm(req[i], p.Child("requiredDuringSchedulingIgnoredDuringExecution").Index(i), errs);
  const Json& pref = Items(term_owner, "preferredDuringSchedulingIgnoredDuringExecution");
  for (size_t i = 0; i < pref.size(); i++) {
    Path ip = p.Child("preferredDuringSchedulingIgnoredDuringExecution").Index(i);
    int64_t w = Int(pref[i], "weight").value_or(0);
    if (w <= 0 || w > 100) errs->push_back(Invalid(ip.Child("weight"), GoInt(w), "must be in the range 1-100"));
    ValidatePodAffinityTerm(GetObj(pref[i], "podAffinityTerm") ? *GetObj(pref[i], "podAffinityTerm") : Json::object(),
                            ip.Child("podAffinityTerm"), errs);
  }
}

void ValidateAffinity(const Json& spec, const Path& p, Errs* errs) {
  const Json* a = GetObj(spec, "affinity");
  if (!a) return;
  if (const Json* na = GetObj(*a, "nodeAffinity")) {
    Path np = p.Child("nodeAffinity");
    if (const Json* req = GetObj(*na, "requiredDuringSchedulingIgnoredDuringExecution"))
      ValidateNodeSelector(*req, np.Child("requiredDuringSchedulingIgnoredDuringExecution"), errs);
    const Json& pref = Items(*na, "preferredDuringSchedulingIgnoredDuringExecution");
    for (size_t i = 0; i < pref.size(); i++) {
      Path ip = np.Child("preferredDuringSchedulingIgnoredDuringExecution").Index(i);
      int64_t w = Int(pref[i], "weight").value_or(0);
      if (w <= 0 || w > 100) errs->push_back(Invalid(ip.Child("weight"), GoInt(w), "must be in the range 1-100"));
      ValidateNodeSelectorTerm(GetObj(pref[i], "preference") ? *GetObj(pref[i], "preference") : Json::object(), true,
                               ip.Child("preference"), errs);
    }
  }
  if (const Json* pa = GetObj(*a, "podAffinity")) ValidatePodAffinityTerms(*pa, p.Child("podAffinity"), errs);
  if (const Json* pa = GetObj(*a, "podAntiAffinity")) ValidatePodAffinityTerms(*pa, p.Child("podAntiAffinity"), errs);
}

void ValidateDNSConfig(const Json& spec, const Path& p, Errs* errs) {
  const Json* cfg = GetObj(spec, "dnsConfig");
  if (Str(spec, "dnsPolicy") == "None") {
    if (!cfg) return errs->push_back(Required(p, "must provide `dnsConfig` when `dnsPolicy` is None"));
    if (Len(*cfg, "nameservers") == 0)
      return errs->push_back(Required(p.Child("nameservers"), "must provide at least one DNS nameserver when `dnsPolicy` is None"));
  }
  if (!cfg) return;
  const Json& ns = Items(*cfg, "nameservers");
  if (ns.size() > 3) errs->push_back(Invalid(p.Child("nameservers"), GoStrings(&ns), "must not have more than 3 nameservers"));
  for (size_t i = 0; i < ns.size(); i++)
    if (!ns[i].is_string() || !IsValidIP(ns[i].get<std::string>()))
      errs->push_back(Invalid(p.Child("nameservers").Index(i), GoValue(ns[i]), kIPError));
  const Json& searches = Items(*cfg, "searches");
  if (searches.size() > 32) errs->push_back(Invalid(p.Child("searches"), GoStrings(&searches), "must not have more than 32 search paths"));
  size_t chars = 0;
  for (size_t i = 0; i < searches.size(); i++) chars += (i ? 1 : 0) + (searches[i].is_string() ? searches[i].get_ref<const std::string&>().size() : 0);
  if (chars > 2048)
    errs->push_back(Invalid(p.Child("searches"), GoStrings(&searches),
                            "must not have more than 2048 characters (including spaces) in the search list"));
  for (size_t i = 0; i < searches.size(); i++) {
    std::string s = searches[i].is_string() ? searches[i].get<std::string>() : "";
    if (!s.empty() && s.back() == '.') s.pop_back();
    AddAll(errs, p.Child("searches").Index(i), s, IsDNS1123Subdomain(s));
  }
  const Json& opts = Items(*cfg, "options");
  for (size_t i = 0; i < opts.size(); i++)
    if (Str(opts[i], "name").empty()) errs->push_back(Required(p.Child("options").Index(i), "must not be empty"));
}

void ValidateTopologySpread(const Json& spec, const Path& p, Errs* errs) {
  const Json& list = Items(spec, "topologySpreadConstraints");
  for (size_t i = 0; i < list.size(); i++) {
    const Json& c = list[i];
    Path ip = p.Index(i);
    int64_t skew = Int(c, "maxSkew").value_or(0);
    if (skew <= 0) errs->push_back(Invalid(ip.Child("maxSkew"), GoInt(skew), "must be greater than zero"));
    std::string key = Str(c, "topologyKey"), action = Str(c, "whenUnsatisfiable");
    if (key.empty()) errs->push_back(Required(ip.Child("topologyKey"), "can not be empty"));
    if (action != "DoNotSchedule" && action != "ScheduleAnyway")
      errs->push_back(NotSupported(ip.Child("whenUnsatisfiable"), Q(action), {"DoNotSchedule", "ScheduleAnyway"}));
    for (size_t j = i + 1; j < list.size(); j++)
      if (Str(list[j], "topologyKey") == key && Str(list[j], "whenUnsatisfiable") == action) {
        errs->push_back(Duplicate(ip.Child("{topologyKey, whenUnsatisfiable}"), Q("{" + key + ", " + action + "}")));
        break;
      }
    if (auto md = Int(c, "minDomains")) {
      if (*md <= 0) errs->push_back(Invalid(ip.Child("minDomains"), GoInt(*md), "must be greater than zero"));
      if (action != "DoNotSchedule")
        errs->push_back(Invalid(ip.Child("minDomains"), GoInt(*md),
                                "can only use minDomains if whenUnsatisfiable=DoNotSchedule, not " + action));
    }
    for (const char* pol : {"nodeAffinityPolicy", "nodeTaintsPolicy"})
      if (Has(c, pol) && Str(c, pol) != "Honor" && Str(c, pol) != "Ignore")
        errs->push_back(NotSupported(ip.Child(pol), Q(Str(c, pol)), {"Honor", "Ignore"}));
    const Json& keys = Items(c, "matchLabelKeys");
    const Json* sel = GetObj(c, "labelSelector");
    if (!keys.empty() && !sel)
      errs->push_back(Forbidden(ip.Child("matchLabelKeys"), "must not be specified when labelSelector is not set"));
    std::set<std::string> sel_keys;
    if (sel) {
      if (const Json* ml = GetObj(*sel, "matchLabels"))
        for (auto it = ml->begin(); it != ml->end(); ++it) sel_keys.insert(it.key());
      for (const Json& e : Items(*sel, "matchExpressions")) sel_keys.insert(Str(e, "key"));
    }
    for (size_t k = 0; k < keys.size(); k++) {
      if (!keys[k].is_string()) continue;
      std::string mk = keys[k].get<std::string>();
      ValidateLabelName(mk, ip.Child("matchLabelKeys").Index(k), errs);
      if (sel_keys.count(mk))
        errs->push_back(Invalid(ip.Child("matchLabelKeys").Index(k), Q(mk), "exists in both matchLabelKeys and labelSelector"));
    }
    ValidateLabelSelector(sel, ip.Child("labelSelector"), errs);
  }
}

}  // namespace

void ValidateNodeSelector(const Json& ns, const Path& p, Errs* errs) {
  const Json& terms = Items(ns, "nodeSelectorTerms");
  if (terms.empty()) return errs->push_back(Required(p.Child("nodeSelectorTerms"), "must have at least one node selector term"));
  for (size_t i = 0; i < terms.size(); i++) ValidateNodeSelectorTerm(terms[i], false, p.Child("nodeSelectorTerms").Index(i), errs);
}

void ValidateTolerations(const Json& list, const Path& p, Errs* errs) {
  for (size_t i = 0; i < list.size(); i++) {
    const Json& t = list[i];
    Path ip = p.Index(i);
    std::string key = Str(t, "key"), op = Str(t, "operator"), value = Str(t, "value"), effect = Str(t, "effect");
    if (!key.empty()) ValidateLabelName(key, ip.Child("key"), errs);
    if (key.empty() && op != "Exists")
      errs->push_back(Invalid(ip.Child("operator"), Q(op),
                              "operator must be Exists when `key` is empty, which means \"match all values and all keys\""));
    if (Has(t, "tolerationSeconds") && effect != "NoExecute")
      errs->push_back(Invalid(ip.Child("effect"), Q(effect), "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    if (op == "Equal" || op.empty()) {
      auto msgs = IsValidLabelValue(value);
      if (!msgs.empty()) {
        std::string joined;
        for (size_t k = 0; k < msgs.size(); k++) joined += (k ? ";" : "") + msgs[k];
        errs->push_back(Invalid(ip.Child("operator"), Q(value), joined));
      }
    } else if (op == "Exists") {
      if (!value.empty()) errs->push_back(Invalid(ip.Child("operator"), Q(value), "value must be empty when `operator` is 'Exists'"));
    } else {
      errs->push_back(NotSupported(ip.Child("operator"), Q(op), {"Equal", "Exists"}));
    }
    if (!effect.empty() && effect != "NoSchedule" && effect != "PreferNoSchedule" && effect != "NoExecute")
      errs->push_back(NotSupported(ip.Child("effect"), Q(effect), {"NoSchedule", "PreferNoSchedule", "NoExecute"}));
  }
}

void ValidatePreemptionPolicy(const Json& v, const Path& p, Errs* errs) {
  std::string s = v.is_string() ? v.get<std::string>() : "";
  if (s == "PreemptLowerPriority" || s == "Never") return;
  if (s.empty()) errs->push_back(Required(p));
  else errs->push_back(NotSupported(p, Q(s), {"PreemptLowerPriority", "Never"}));
}

void ValidatePodSpec(const Json& spec, const Json* pod_meta, const Path& p, const PodOptions& o, Errs* errs) {
  PodContext ctx;
  ctx.grace = Int(spec, "terminationGracePeriodSeconds");
  if (!ctx.grace) errs->push_back(Required(p.Child("terminationGracePeriodSeconds")));
  ctx.restart_policy = Str(spec, "restartPolicy");
  if (const Json* sc = GetObj(spec, "securityContext"))
    if (const Json* hu = Get(*sc, "hostUsers"); hu && hu->is_boolean()) ctx.host_users = hu->get<bool>();
  ctx.vols = ValidateVolumes(spec, pod_meta, p.Child("volumes"), errs);
  // Pod resource claims.
  const Json& claims = Items(spec, "resourceClaims");
  for (size_t i = 0; i < claims.size(); i++) {
    const Json& c = claims[i];
    Path ip = p.Child("resourceClaims").Index(i);
    std::string name = Str(c, "name");
    if (name.empty()) errs->push_back(Required(ip.Child("name")));
    else if (ctx.claims.count(name)) errs->push_back(Duplicate(ip.Child("name"), Q(name)));
    else AddAll(errs, ip.Child("name"), name, IsDNS1123Label(name)), ctx.claims.insert(name);
  }
  ValidateContainers(spec, ctx, p.Child("containers"), errs);
  ValidateInitContainers(spec, ctx, p.Child("initContainers"), errs);
  ValidateEphemeralContainers(spec, ctx, p.Child("ephemeralContainers"), errs);
  // Host networking: host ports equal container ports.
  if (Bool(spec, "hostNetwork")) {
    const Json& cs = Items(spec, "containers");
    for (size_t i = 0; i < cs.size(); i++) {
      const Json& ports = Items(cs[i], "ports");
      for (size_t j = 0; j < ports.size(); j++) {
        int64_t hp = Int(ports[j], "hostPort").value_or(0), cp = Int(ports[j], "containerPort").value_or(0);
        if ((o.resource_is_pod || hp != 0) && hp != cp)
          errs->push_back(Invalid(p.Child("containers").Index(i).Child("ports").Index(j).Child("hostPort"), GoInt(hp),
                                  "must match `containerPort` when `hostNetwork` is true"));
      }
    }
  }
  std::string rp = Str(spec, "restartPolicy");
  if (rp.empty()) errs->push_back(Required(p.Child("restartPolicy")));
  else if (rp != "Always" && rp != "OnFailure" && rp != "Never")
    errs->push_back(NotSupported(p.Child("restartPolicy"), Q(rp), {"Always", "OnFailure", "Never"}));
  std::string dns = Str(spec, "dnsPolicy");
  if (dns.empty()) errs->push_back(Required(p.Child("dnsPolicy")));
  else if (dns != "ClusterFirstWithHostNet" && dns != "ClusterFirst" && dns != "Default" && dns != "None")
    errs->push_back(NotSupported(p.Child("dnsPolicy"), Q(dns), {"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"}));
  ValidateLabels(GetObj(spec, "nodeSelector"), p.Child("nodeSelector"), errs);
  ValidatePodSecurityContext(spec, p.Child("securityContext"), errs);
  const Json& pull = Items(spec, "imagePullSecrets");
  for (size_t i = 0; i < pull.size(); i++)
    if (pull[i].is_object() && (pull[i].size() > 1 || (pull[i].size() == 1 && !pull[i].contains("name"))))
      errs->push_back(Invalid(p.Child("imagePullSecrets").Index(i),
                              "core.LocalObjectReference{Name:" + Q(Str(pull[i], "name")) + "}", "only name may be set"));
  ValidateAffinity(spec, p.Child("affinity"), errs);
  ValidateDNSConfig(spec, p.Child("dnsConfig"), errs);
  const Json& gates = Items(spec, "readinessGates");
  for (size_t i = 0; i < gates.size(); i++) {
    std::string ct = Str(gates[i], "conditionType");
    AddAll(errs, p.Child("readinessGates").Index(i).Child("conditionType"), ct, IsQualifiedName(ct));
  }
  const Json& sg = Items(spec, "schedulingGates");
  std::set<std::string> seen_gates;
  for (size_t i = 0; i < sg.size(); i++) {
    std::string name = Str(sg[i], "name");
    AddAll(errs, p.Child("schedulingGates").Index(i), name, IsQualifiedName(name));
    if (!seen_gates.insert(name).second) errs->push_back(Duplicate(p.Child("schedulingGates").Index(i), Q(name)));
  }
  ValidateTopologySpread(spec, p.Child("topologySpreadConstraints"), errs);
  if (const Json* sc = GetObj(spec, "securityContext"); sc && Has(*sc, "hostUsers") && !Bool(*sc, "hostUsers")) {
    if (Bool(spec, "hostNetwork")) errs->push_back(Forbidden(p.Child("hostNetwork"), "when `pod.Spec.HostUsers` is false"));
    if (Bool(spec, "hostPID")) errs->push_back(Forbidden(p.Child("HostPID"), "when `pod.Spec.HostUsers` is false"));
    if (Bool(spec, "hostIPC")) errs->push_back(Forbidden(p.Child("HostIPC"), "when `pod.Spec.HostUsers` is false"));
  }
  if (std::string sa = Str(spec, "serviceAccountName"); !sa.empty())
    AddAll(errs, p.Child("serviceAccountName"), sa, IsDNS1123Subdomain(sa));
  if (std::string nn = Str(spec, "nodeName"); !nn.empty()) AddAll(errs, p.Child("nodeName"), nn, IsDNS1123Subdomain(nn));
  if (auto ads = Int(spec, "activeDeadlineSeconds"); ads && (*ads < 1 || *ads > 2147483647))
    errs->push_back(Invalid(p.Child("activeDeadlineSeconds"), GoInt(*ads), InclusiveRangeError(1, 2147483647)));
  if (std::string h = Str(spec, "hostname"); !h.empty()) AddAll(errs, p.Child("hostname"), h, IsDNS1123Label(h));
  if (std::string s = Str(spec, "subdomain"); !s.empty()) AddAll(errs, p.Child("subdomain"), s, IsDNS1123Label(s));
  ValidateTolerations(Items(spec, "tolerations"), p.Child("tolerations"), errs);
  const Json& aliases = Items(spec, "hostAliases");
  for (size_t i = 0; i < aliases.size(); i++) {
    std::string ip = Str(aliases[i], "ip");
    if (!IsValidIP(ip)) errs->push_back(Invalid(p.Child("hostAliases").Index(i).Child("ip"), Q(ip), kIPError));
    const Json& hosts = Items(aliases[i], "hostnames");
    for (size_t j = 0; j < hosts.size(); j++) {
      std::string h = hosts[j].is_string() ? hosts[j].get<std::string>() : "";
      AddAll(errs, p.Child("hostAliases").Index(i).Child("hostnames").Index(j), h, IsDNS1123Subdomain(h));
    }
  }
  if (std::string pc = Str(spec, "priorityClassName"); !pc.empty())
    AddAll(errs, p.Child("priorityClassName"), pc, IsDNS1123Subdomain(pc));
  if (const Json* rc = Get(spec, "runtimeClassName"); rc && rc->is_string())
    AddAll(errs, p.Child("runtimeClassName"), rc->get<std::string>(), IsDNS1123Subdomain(rc->get<std::string>()));
  if (const Json* pp = Get(spec, "preemptionPolicy")) ValidatePreemptionPolicy(*pp, p.Child("preemptionPolicy"), errs);
  if (const Json* os = GetObj(spec, "os")) {
    std::string name = Str(*os, "name");
    if (name.empty()) {
      errs->push_back(Required(p.Child("os").Child("name"), "cannot be empty"));
    } else if (name != "linux" && name != "windows") {
      errs->push_back(NotSupported(p.Child("os"), Q(name), {"linux", "windows"}));
    } else if (name == "linux") {
      if (const Json* sc = GetObj(spec, "securityContext"); sc && Has(*sc, "windowsOptions"))
        errs->push_back(Forbidden(p.Child("securityContext").Child("windowsOptions"), "windows options cannot be set for a linux pod"));
      for (const char* list : {"initContainers", "containers", "ephemeralContainers"}) {
        const Json& cs = Items(spec, list);
        for (size_t i = 0; i < cs.size(); i++)
          if (const Json* sc = GetObj(cs[i], "securityContext"); sc && Has(*sc, "windowsOptions"))
            errs->push_back(Forbidden(p.Child(list).Index(i).Child("securityContext").Child("windowsOptions"),
                                      "windows options cannot be set for a linux pod"));
      }
    }
  }
}

void ValidatePodSpecificAnnotations(const Json* annotations, const Json& spec, const Path& p, Errs* errs) {
  if (!annotations || !annotations->is_object()) return;
  if (const Json* mirror = Get(*annotations, "kubernetes.io/config.mirror"))
    if (Str(spec, "nodeName").empty())
      errs->push_back(Invalid(p.Key("kubernetes.io/config.mirror"), GoValue(*mirror),
                              "must set spec.nodeName if mirror pod annotation is set"));
  if (const Json* cost = Get(*annotations, "controller.kubernetes.io/pod-deletion-cost")) {
    std::string s = cost->is_string() ? cost->get<std::string>() : "";
    bool ok = !s.empty();
    size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    ok = ok && i < s.size();
    for (size_t j = i; ok && j < s.size(); j++) ok = isdigit(static_cast<unsigned char>(s[j])) != 0;
    if (ok) {
      long long v = s.size() > 12 ? (1LL << 40) : std::stoll(s);
      ok = v >= -2147483648LL && v <= 2147483647LL;
    }
    if (!ok)
      errs->push_back(Invalid(p.Key("controller.kubernetes.io/pod-deletion-cost"), Q(s), "must be a 32bit integer"));
  }
  auto seccomp = [&](const std::string& key, const std::string& v) {
    if (v == "runtime/default" || v == "docker/default" || v == "unconfined") return;
    if (v.rfind("localhost/", 0) == 0) return ValidateLocalDescendingPath(v.substr(10), p.Child(key), errs);
    errs->push_back(Invalid(p.Child(key), Q(v), "must be a valid seccomp profile"));
  };
  for (auto it = annotations->begin(); it != annotations->end(); ++it) {
    const std::string& k = it.key();
    std::string v = it.value().is_string() ? it.value().get<std::string>() : "";
    if (k == "seccomp.security.alpha.kubernetes.io/pod" || k.rfind("container.seccomp.security.alpha.kubernetes.io/", 0) == 0)
      seccomp(k, v);
    const std::string aa = "container.apparmor.security.beta.kubernetes.io/";
    if (k.rfind(aa, 0) == 0) {
      std::string container = k.substr(aa.size());
      bool found = false;
      for (const char* list : {"initContainers", "containers", "ephemeralContainers"})
        for (const Json& c : Items(spec, list)) found = found || Str(c, "name") == container;
      if (!found) errs->push_back(Invalid(p.Key(k), Q(container), "container not found"));
      if (!v.empty() && v != "runtime/default" && v != "unconfined" && v.rfind("localhost/", 0) != 0)
        errs->push_back(Invalid(p.Key(k), Q(v), "invalid AppArmor profile name: " + Q(v)));
    }
  }
}

void ValidatePodTemplateSpec(const Json& tmpl, const Path& p, Errs* errs) {
  const Json* meta = GetObj(tmpl, "metadata");
  const Json* labels = meta ? GetObj(*meta, "labels") : nullptr;
  const Json* annotations = meta ? GetObj(*meta, "annotations") : nullptr;
  static const Json kEmpty = Json::object();
  const Json* spec = GetObj(tmpl, "spec");
  if (!spec) spec = &kEmpty;
  ValidateLabels(labels, p.Child("labels"), errs);
  ValidateAnnotations(annotations, p.Child("annotations"), errs);
  ValidatePodSpecificAnnotations(annotations, *spec, p.Child("annotations"), errs);
  ValidatePodSpec(*spec, nullptr, p.Child("spec"), PodOptions{}, errs);
  if (Len(*spec, "ephemeralContainers") > 0)
    errs->push_back(Forbidden(p.Child("spec").Child("ephemeralContainers"), "ephemeral containers not allowed in pod template"));
}

}  // namespace kubit::api::validation
