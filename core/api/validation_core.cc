// Validation of the core/v1 kinds: Pod (create and update), ConfigMap,
// Secret, ServiceAccount, Namespace, Node and Event here; Service and
// Endpoints in validation_service.cc, claims and volumes in
// validation_claims.cc, quotas and limit ranges in validation_quota.cc.
#include <map>
#include <set>

#include "core/api/validation_internal.h"

namespace kubit::api::validation {
namespace {

std::string NamespaceOf(const Json& obj) {
  const Json* meta = GetObj(obj, "metadata");
  return meta ? Str(*meta, "namespace") : "";
}

// ---- Pod ---------------------------------------------------------------------

void ValidatePodCommon(const Json& pod, Errs* errs) {
  const Json& spec = ObjOrEmpty(pod, "spec");
  const Json* meta = GetObj(pod, "metadata");
  ValidatePodSpecificAnnotations(meta ? GetObj(*meta, "annotations") : nullptr, spec,
                                 Path("metadata").Child("annotations"), errs);
  ValidatePodSpec(spec, meta, Path("spec"), PodOptions{true}, errs);
  for (const char* list : {"containers", "initContainers"}) {
    const Json& cs = Items(spec, list);
    for (size_t i = 0; i < cs.size(); i++) {
      std::string image = Str(cs[i], "image");
      if (!image.empty() && (isspace(static_cast<unsigned char>(image.front())) || isspace(static_cast<unsigned char>(image.back()))))
        errs->push_back(Invalid(Path("spec").Child(list).Index(i).Child("image"), Q(image), "must not have leading or trailing whitespace"));
    }
  }
}

void ValidatePod(const Json& pod, const Json* old, Errs* errs) {
  ValidatePodCommon(pod, errs);
  const Json& spec = ObjOrEmpty(pod, "spec");
  Path sp("spec");
  if (!old) {
    if (Len(spec, "ephemeralContainers") > 0) errs->push_back(Forbidden(sp.Child("ephemeralContainers"), "cannot be set on create"));
    if (!Str(spec, "nodeName").empty() && Len(spec, "schedulingGates") != 0)
      errs->push_back(Forbidden(sp.Child("nodeName"), "cannot be set until all schedulingGates have been cleared"));
    return;
  }
  const Json& old_spec = ObjOrEmpty(*old, "spec");
  // Annotations that may not change.
  const Json& na = ObjOrEmpty(ObjOrEmpty(pod, "metadata"), "annotations");
  const Json& oa = ObjOrEmpty(ObjOrEmpty(*old, "metadata"), "annotations");
  Path ap = Path("metadata").Child("annotations");
  const std::string aa = "container.apparmor.security.beta.kubernetes.io/";
  for (auto it = oa.begin(); it != oa.end(); ++it) {
    if (na.contains(it.key()) && na[it.key()] == it.value()) continue;
    if (it.key().rfind(aa, 0) == 0) errs->push_back(Forbidden(ap.Key(it.key()), "may not remove or update AppArmor annotations"));
    if (it.key() == "kubernetes.io/config.mirror") errs->push_back(Forbidden(ap.Key(it.key()), "may not remove or update mirror pod annotation"));
  }
  for (auto it = na.begin(); it != na.end(); ++it) {
    if (oa.contains(it.key())) continue;
    if (it.key().rfind(aa, 0) == 0) errs->push_back(Forbidden(ap.Key(it.key()), "may not add AppArmor annotations"));
    if (it.key() == "kubernetes.io/config.mirror") errs->push_back(Forbidden(ap.Key(it.key()), "may not add mirror pod annotation"));
  }
  for (const char* list : {"containers", "initContainers"}) {
    const Json& nc = Items(spec, list);
    const Json& oc = Items(old_spec, list);
    if (nc.size() != oc.size()) {
      errs->push_back(Forbidden(sp.Child(list), "pod updates may not add or remove containers"));
      return;
    }
    for (size_t i = 0; i < nc.size(); i++) {
      std::string image = Str(nc[i], "image");
      if (image.empty()) errs->push_back(Required(sp.Child(list).Index(i).Child("image")));
      if (!image.empty() && (isspace(static_cast<unsigned char>(image.front())) || isspace(static_cast<unsigned char>(image.back()))))
        errs->push_back(Invalid(sp.Child(list).Index(i).Child("image"), Q(image), "must not have leading or trailing whitespace"));
    }
  }
  if (auto nads = Int(spec, "activeDeadlineSeconds")) {
    if (*nads < 0 || *nads > 2147483647) {
      errs->push_back(Invalid(sp.Child("activeDeadlineSeconds"), GoInt(*nads), InclusiveRangeError(0, 2147483647)));
      return;
    }
    if (auto oads = Int(old_spec, "activeDeadlineSeconds"); oads && *oads < *nads) {
      errs->push_back(Invalid(sp.Child("activeDeadlineSeconds"), GoInt(*nads), "must be less than or equal to previous value"));
      return;
    }
  } else if (Has(old_spec, "activeDeadlineSeconds")) {
    errs->push_back(Invalid(sp.Child("activeDeadlineSeconds"), "null", "must not update from a positive integer to nil value"));
  }
  // Tolerations: only additions (tolerationSeconds may change).
  const Json& nt = Items(spec, "tolerations");
  for (const Json& o : Items(old_spec, "tolerations")) {
    bool found = false;
    for (const Json& n : nt) {
      Json a = o, b = n;
      a.erase("tolerationSeconds");
      b.erase("tolerationSeconds");
      found = found || SameValue(&a, &b);
    }
    if (!found) {
      errs->push_back(Forbidden(sp.Child("tolerations"), "existing toleration can not be modified except its tolerationSeconds"));
      break;
    }
  }
  // Scheduling gates: only removals.
  std::set<std::string> old_gates;
  for (const Json& g : Items(old_spec, "schedulingGates")) old_gates.insert(Str(g, "name"));
  const Json& ng = Items(spec, "schedulingGates");
  for (size_t i = 0; i < ng.size(); i++)
    if (!old_gates.count(Str(ng[i], "name")))
      errs->push_back(Forbidden(sp.Child("schedulingGates").Index(i).Child("name"),
                                "only deletion is allowed, but found new scheduling gate '" + Str(ng[i], "name") + "'"));
  // Everything else is immutable.
  Json munged = spec;
  for (const char* list : {"containers", "initContainers"}) {
    if (!munged.contains(list) || !munged[list].is_array()) continue;
    const Json& oc = Items(old_spec, list);
    for (size_t i = 0; i < munged[list].size() && i < oc.size(); i++) {
      if (!munged[list][i].is_object()) continue;
      if (Has(oc[i], "image")) munged[list][i]["image"] = oc[i]["image"];
      else munged[list][i].erase("image");
    }
  }
  for (const char* f : {"activeDeadlineSeconds", "schedulingGates", "tolerations"}) {
    if (Has(old_spec, f)) munged[f] = old_spec[f];
    else munged.erase(f);
  }
  if (auto og = Int(old_spec, "terminationGracePeriodSeconds"); og && *og < 0 && Int(munged, "terminationGracePeriodSeconds") == 1)
    munged["terminationGracePeriodSeconds"] = *og;
  if (!SameValue(&munged, &old_spec))
    errs->push_back(Forbidden(
        sp, "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,"
            "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
            "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n" +
                SpecDiff(old_spec, munged, "core.PodSpec")));
}

// ---- ConfigMap, Secret -----------------------------------------------------

size_t Base64DecodedSize(const std::string& s) {
  size_t pad = 0;
  if (!s.empty() && s.back() == '=') pad++;
  if (s.size() > 1 && s[s.size() - 2] == '=') pad++;
  return s.size() / 4 * 3 - std::min(pad, s.size() / 4 * 3);
}

void ValidateImmutableData(const Json& obj, const Json& old, const std::vector<const char*>& fields, Errs* errs) {
  if (!Bool(old, "immutable")) return;
  if (!Bool(obj, "immutable")) errs->push_back(Forbidden(Path("immutable"), "field is immutable when `immutable` is set"));
  for (const char* f : fields)
    if (!SameValue(Get(obj, f), Get(old, f))) errs->push_back(Forbidden(Path(f), "field is immutable when `immutable` is set"));
}

void ValidateConfigMap(const Json& cm, const Json* old, Errs* errs) {
  if (old) ValidateImmutableData(cm, *old, {"data", "binaryData"}, errs);
  size_t total = 0;
  const Json& data = ObjOrEmpty(cm, "data");
  const Json& bin = ObjOrEmpty(cm, "binaryData");
  for (auto it = data.begin(); it != data.end(); ++it) {
    AddAll(errs, Path("data").Key(it.key()), it.key(), IsConfigMapKey(it.key()));
    if (bin.contains(it.key())) errs->push_back(Invalid(Path("data").Key(it.key()), Q(it.key()), "duplicate of key present in binaryData"));
    if (it.value().is_string()) total += it.value().get_ref<const std::string&>().size();
  }
  for (auto it = bin.begin(); it != bin.end(); ++it) {
    AddAll(errs, Path("binaryData").Key(it.key()), it.key(), IsConfigMapKey(it.key()));
    if (it.value().is_string()) total += Base64DecodedSize(it.value().get<std::string>());
  }
  if (total > 1024 * 1024) errs->push_back(TooLong(Path(""), 1024 * 1024));
}

void ValidateSecret(const Json& s, const Json* old, Errs* errs) {
  if (old) {
    std::string nt = Str(s, "type"), ot = Str(*old, "type");
    if (nt != ot) errs->push_back(Invalid(Path("type"), Q(nt), kImmutable));
    ValidateImmutableData(s, *old, {"data"}, errs);
  }
  Path dp("data");
  const Json& data = ObjOrEmpty(s, "data");
  size_t total = 0;
  for (auto it = data.begin(); it != data.end(); ++it) {
    AddAll(errs, dp.Key(it.key()), it.key(), IsConfigMapKey(it.key()));
    if (it.value().is_string()) total += Base64DecodedSize(it.value().get<std::string>());
  }
  if (total > 1024 * 1024) errs->push_back(TooLong(dp, 1024 * 1024));
  std::string type = Str(s, "type");
  auto need = [&](const char* key) {
    if (!data.contains(key)) errs->push_back(Required(dp.Key(key)));
  };
  if (type == "kubernetes.io/service-account-token") {
    const Json& ann = ObjOrEmpty(ObjOrEmpty(s, "metadata"), "annotations");
    if (Str(ann, "kubernetes.io/service-account.name").empty())
      errs->push_back(Required(Path("metadata").Child("annotations").Key("kubernetes.io/service-account.name")));
  } else if (type == "kubernetes.io/dockercfg" || type == "kubernetes.io/dockerconfigjson") {
    const char* key = type == "kubernetes.io/dockercfg" ? ".dockercfg" : ".dockerconfigjson";
    need(key);
  } else if (type == "kubernetes.io/basic-auth") {
    if (!data.contains("username") && !data.contains("password")) {
      errs->push_back(Required(dp.Key("username")));
      errs->push_back(Required(dp.Key("password")));
    }
  } else if (type == "kubernetes.io/ssh-auth") {
    if (Str(data, "ssh-privatekey").empty()) errs->push_back(Required(dp.Key("ssh-privatekey")));
  } else if (type == "kubernetes.io/tls") {
    need("tls.crt");
    need("tls.key");
  }
}

// ---- Namespace, Node, Endpoints ------------------------------------------------

void ValidateNamespace(const Json& ns, const Json* old, Errs* errs) {
  if (old) return;
  for (const Json& f : Items(ObjOrEmpty(ns, "spec"), "finalizers")) {
    std::string name = f.is_string() ? f.get<std::string>() : "";
    Path p = Path("spec").Child("finalizers");
    AddAll(errs, p, name, IsQualifiedName(name));
    if (name.find('/') == std::string::npos && name != "kubernetes")
      errs->push_back(Invalid(p, Q(name), "name is neither a standard finalizer name nor is it fully qualified"));
  }
}

void ValidateTaints(const Json& taints, const Path& p, Errs* errs) {
  std::map<std::string, std::set<std::string>> unique;
  for (size_t i = 0; i < taints.size(); i++) {
    const Json& t = taints[i];
    Path ip = p.Index(i);
    std::string key = Str(t, "key"), value = Str(t, "value"), effect = Str(t, "effect");
    ValidateLabelName(key, ip.Child("key"), errs);
    auto msgs = IsValidLabelValue(value);
    if (!msgs.empty()) {
      std::string joined;
      for (size_t k = 0; k < msgs.size(); k++) joined += (k ? ";" : "") + msgs[k];
      errs->push_back(Invalid(ip.Child("value"), Q(value), joined));
    }
    if (effect.empty()) errs->push_back(Required(ip.Child("effect")));
    else if (effect != "NoSchedule" && effect != "PreferNoSchedule" && effect != "NoExecute")
      errs->push_back(NotSupported(ip.Child("effect"), Q(effect), {"NoSchedule", "PreferNoSchedule", "NoExecute"}));
    if (unique[effect].count(key)) {
      FieldError e = Duplicate(ip, "core.Taint{Key:" + Q(key) + ", Value:" + Q(value) + ", Effect:" + Q(effect) +
                                       ", TimeAdded:(*v1.Time)(nil)}");
      e.detail = "taints must be unique by key and effect pair";
      errs->push_back(e);
      continue;
    }
    unique[effect].insert(key);
  }
}

void ValidateNode(const Json& node, const Json* old, Errs* errs) {
  const Json& spec = ObjOrEmpty(node, "spec");
  const Json& status = ObjOrEmpty(node, "status");
  ValidateTaints(Items(spec, "taints"), Path("metadata").Child("taints"), errs);
  for (const char* list : {"capacity", "allocatable"}) {
    const Json& res = ObjOrEmpty(status, list);
    for (auto it = res.begin(); it != res.end(); ++it)
      ValidateResourceQuantityValue(it.key(), it.value(), Path("status").Child(list).Child(it.key()), errs);
  }
  const Json& cidrs = Items(spec, "podCIDRs");
  if (!old && !cidrs.empty()) {
    for (size_t i = 0; i < cidrs.size(); i++) {
      std::string c = cidrs[i].is_string() ? cidrs[i].get<std::string>() : "";
      if (!IsValidCIDR(c)) errs->push_back(Invalid(Path("spec").Child("podCIDRs").Index(i), Q(c), kCIDRError));
    }
    std::set<std::string> seen;
    for (size_t i = 0; i < cidrs.size(); i++)
      if (!seen.insert(cidrs[i].dump()).second) errs->push_back(Duplicate(Path("spec").Child("podCIDRs").Index(i), GoValue(cidrs[i])));
  }
  if (!old) return;
  const Json& os = ObjOrEmpty(*old, "spec");
  const Json& oc = Items(os, "podCIDRs");
  if (!oc.empty() && !SameValue(&oc, &cidrs))
    errs->push_back(Forbidden(Path("spec").Child("podCIDRs"), "node updates may not change podCIDR except from \"\" to valid"));
  std::string op = Str(os, "providerID");
  if (!op.empty() && op != Str(spec, "providerID"))
    errs->push_back(Forbidden(Path("spec").Child("providerID"), "node updates may not change providerID except from \"\" to valid"));
  if (Str(os, "externalID") != Str(spec, "externalID"))
    errs->push_back(Forbidden(Path("spec").Child("externalID"), "may not be updated"));
}

// ---- Event -----------------------------------------------------------------------

void ValidateEvent(const ResourceType& t, const Json& ev, const Json* old, Errs* errs) {
  if (old) return;
  bool v1 = t.group.empty();
  std::string ns = NamespaceOf(ev);
  // events.k8s.io names the involved object "regarding" and the source "deprecatedSource".
  const Json& involved = ObjOrEmpty(ev, v1 ? "involvedObject" : "regarding");
  std::string ins = Str(involved, "namespace");
  std::string controller = Str(ev, v1 ? "reportingComponent" : "reportingController");
  std::string instance = Str(ev, "reportingInstance"), action = Str(ev, "action");
  if (!Has(ev, "eventTime")) {
    if (ins.empty()) {
      if (!ns.empty() && ns != "default") errs->push_back(Invalid(Path("involvedObject").Child("namespace"), Q(ins), "does not match event.namespace"));
    } else if (ns != ins) {
      errs->push_back(Invalid(Path("involvedObject").Child("namespace"), Q(ins), "does not match event.namespace"));
    }
  } else {
    const char* cf = v1 ? "source" : "reportingController";
    if (ins.empty() && ns != "default" && ns != "kube-system")
      errs->push_back(Invalid(Path("involvedObject").Child("namespace"), Q(ins), "does not match event.namespace"));
    if (controller.empty()) errs->push_back(Required(Path(cf)));
    AddAll(errs, Path(cf), controller, IsQualifiedName(controller));
    if (instance.empty()) errs->push_back(Required(Path("reportingInstance")));
    if (instance.size() > 128) errs->push_back(Invalid(Path("reportingInstance"), Q(""), "can have at most 128 characters"));
    if (action.empty()) errs->push_back(Required(Path("action")));
    if (action.size() > 128) errs->push_back(Invalid(Path("action"), Q(""), "can have at most 128 characters"));
  }
  AddAll(errs, Path("namespace"), ns, IsDNS1123Subdomain(ns));
  if (v1) return;
  // Strict rules of events.k8s.io/v1.
  if (!Has(ev, "eventTime")) errs->push_back(Required(Path("eventTime")));
  std::string type = Str(ev, "type");
  if (type != "Normal" && type != "Warning") errs->push_back(Invalid(Path("type"), Q(""), "has invalid value: " + type));
  for (const char* f : {"deprecatedFirstTimestamp", "deprecatedLastTimestamp", "deprecatedCount", "deprecatedSource"})
    if (const Json* v = Get(ev, f); v && !(v->is_object() && v->empty()) && !(v->is_number() && *v == 0))
      errs->push_back(Invalid(Path(f), Q(""), "needs to be unset"));
  if (Str(ev, "reason").empty()) errs->push_back(Required(Path("reason")));
  if (Str(ev, "reason").size() > 128) errs->push_back(Invalid(Path("reason"), Q(""), "can have at most 128 characters"));
  if (Str(ev, "note").size() > 1024) errs->push_back(Invalid(Path("note"), Q(""), "can have at most 1024 characters"));
}

}  // namespace

bool ValidateCoreKind(const ResourceType& t, const Json& obj, const Json* old, Errs* errs) {
  if (!t.group.empty() && !(t.group == "events.k8s.io" && t.kind == "Event")) return false;
  const std::string& k = t.kind;
  if (k == "Pod") ValidatePod(obj, old, errs);
  else if (k == "Service" || k == "Endpoints") ValidateServiceKind(t, obj, old, errs);
  else if (k == "ConfigMap") ValidateConfigMap(obj, old, errs);
  else if (k == "Secret") ValidateSecret(obj, old, errs);
  else if (k == "ServiceAccount") return true;
  else if (k == "PersistentVolumeClaim" || k == "PersistentVolume") ValidateClaimKind(t, obj, old, errs);
  else if (k == "Namespace") ValidateNamespace(obj, old, errs);
  else if (k == "Node") ValidateNode(obj, old, errs);
  else if (k == "ResourceQuota" || k == "LimitRange") ValidateQuotaKind(t, obj, old, errs);
  else if (k == "Event") ValidateEvent(t, obj, old, errs);
  else return false;
  return true;
}

}  // namespace kubit::api::validation
