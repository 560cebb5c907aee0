// Validation of apps/v1: Deployment, ReplicaSet, StatefulSet, DaemonSet and
// ControllerRevision, with the selector immutability their strategies add
// on update.
#include <cstdlib>

#include "core/api/validation_internal.h"

namespace kubit::api::validation {
namespace {

const Json* TemplateLabels(const Json& tmpl) {
  const Json* meta = GetObj(tmpl, "metadata");
  return meta ? GetObj(*meta, "labels") : nullptr;
}

// intstr helpers of apps validation.
std::optional<int64_t> PercentValue(const Json& v) {
  if (!v.is_string() || !IsValidPercent(v.get<std::string>()).empty()) return std::nullopt;
  std::string s = v.get<std::string>();
  return std::atoll(s.substr(0, s.size() - 1).c_str());
}

int64_t IntOrPercentValue(const Json& v) {
  if (auto p = PercentValue(v)) return *p;
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    char* end = nullptr;
    long long n = std::strtoll(s.c_str(), &end, 10);
    return end && *end == 0 && !s.empty() ? n : 0;
  }
  return 0;
}

}  // namespace

// Shared with policy/v1 (PodDisruptionBudget).
void ValidatePositiveIntOrPercent(const Json& v, const Path& p, Errs* errs) {
  if (v.is_string()) {
    for (const auto& m : IsValidPercent(v.get<std::string>())) errs->push_back(Invalid(p, GoIntOrString(v), m));
  } else if (v.is_number_integer()) {
    ValidateNonnegativeValue(v.get<int64_t>(), p, errs);
  } else {
    errs->push_back(Invalid(p, GoIntOrString(v), "must be an integer or percentage (e.g '5%%')"));
  }
}

void IsNotMoreThan100Percent(const Json& v, const Path& p, Errs* errs) {
  if (auto pct = PercentValue(v); pct && *pct > 100) errs->push_back(Invalid(p, GoIntOrString(v), "must not be greater than 100%"));
}

namespace {

// The template of a ReplicaSet or Deployment against its selector.
void ValidateTemplateForReplicaSet(const Json& tmpl, const Selector& sel, const Path& p, const char* kind, Errs* errs) {
  if (!sel.empty && !sel.Matches(TemplateLabels(tmpl)))
    errs->push_back(Invalid(p.Child("metadata").Child("labels"), GoMap(TemplateLabels(tmpl)),
                            "`selector` does not match template `labels`"));
  ValidatePodTemplateSpec(tmpl, p, errs);
  const Json& spec = ObjOrEmpty(tmpl, "spec");
  std::string rp = Str(spec, "restartPolicy");
  if (rp != "Always") errs->push_back(NotSupported(p.Child("spec").Child("restartPolicy"), Q(rp), {"Always"}));
  if (Has(spec, "activeDeadlineSeconds"))
    errs->push_back(Forbidden(p.Child("spec").Child("activeDeadlineSeconds"),
                              std::string("activeDeadlineSeconds in ") + kind + " is not Supported"));
}

// Selector required, valid and not empty; the template checked against it.
void ValidateSelectorAndTemplate(const Json& spec, const Path& sp, const char* empty_kind, const char* kind, Errs* errs) {
  const Json* sel = GetObj(spec, "selector");
  if (!sel) {
    errs->push_back(Required(sp.Child("selector")));
  } else {
    ValidateLabelSelector(sel, sp.Child("selector"), errs);
    if (Len(*sel, "matchLabels") + Len(*sel, "matchExpressions") == 0)
      errs->push_back(Invalid(sp.Child("selector"), GoSelector(sel), std::string("empty selector is invalid for ") + empty_kind));
  }
  Selector s = AsSelector(sel);
  if (!s.valid) errs->push_back(Invalid(sp.Child("selector"), GoSelector(sel), "invalid label selector"));
  else ValidateTemplateForReplicaSet(ObjOrEmpty(spec, "template"), s, sp.Child("template"), kind, errs);
}

void ValidateSelectorImmutable(const Json& obj, const Json* old, Errs* errs) {
  if (!old) return;
  const Json* ns = GetObj(ObjOrEmpty(obj, "spec"), "selector");
  const Json* os = GetObj(ObjOrEmpty(*old, "spec"), "selector");
  ValidateImmutable(ns, os, Path("spec").Child("selector"), GoSelector(ns), errs);
}

void ValidateDeployment(const Json& d, const Json* old, Errs* errs) {
  const Json& spec = ObjOrEmpty(d, "spec");
  Path sp("spec");
  ValidateNonnegative(spec, "replicas", sp.Child("replicas"), errs);
  ValidateSelectorAndTemplate(spec, sp, "deployment", "ReplicaSet", errs);
  const Json& strategy = ObjOrEmpty(spec, "strategy");
  Path stp = sp.Child("strategy");
  std::string type = Str(strategy, "type");
  const Json* ru = GetObj(strategy, "rollingUpdate");
  if (type == "Recreate") {
    if (ru) errs->push_back(Forbidden(stp.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"));
  } else if (type == "RollingUpdate") {
    if (!ru) {
      errs->push_back(Required(stp.Child("rollingUpdate"), "this should be defaulted and never be nil"));
    } else {
      Path rp = stp.Child("rollingUpdate");
      Json mu = Get(*ru, "maxUnavailable") ? *Get(*ru, "maxUnavailable") : Json(0);
      Json ms = Get(*ru, "maxSurge") ? *Get(*ru, "maxSurge") : Json(0);
      ValidatePositiveIntOrPercent(mu, rp.Child("maxUnavailable"), errs);
      ValidatePositiveIntOrPercent(ms, rp.Child("maxSurge"), errs);
      if (IntOrPercentValue(mu) == 0 && IntOrPercentValue(ms) == 0)
        errs->push_back(Invalid(rp.Child("maxUnavailable"), GoIntOrString(mu), "may not be 0 when `maxSurge` is 0"));
      IsNotMoreThan100Percent(mu, rp.Child("maxUnavailable"), errs);
    }
  } else {
    errs->push_back(NotSupported(stp,
                                 "apps.DeploymentStrategy{Type:" + Q(type) + ", RollingUpdate:(*apps.RollingUpdateDeployment)(" +
                                     (ru ? "0xc000000000" : "nil") + ")}",
                                 {"Recreate", "RollingUpdate"}));
  }
  ValidateNonnegative(spec, "minReadySeconds", sp.Child("minReadySeconds"), errs);
  ValidateNonnegative(spec, "revisionHistoryLimit", sp.Child("revisionHistoryLimit"), errs);
  if (auto pds = Int(spec, "progressDeadlineSeconds")) {
    ValidateNonnegativeValue(*pds, sp.Child("progressDeadlineSeconds"), errs);
    if (*pds <= Int(spec, "minReadySeconds").value_or(0))
      errs->push_back(Invalid(sp.Child("progressDeadlineSeconds"), GoInt(*pds), "must be greater than minReadySeconds"));
  }
  ValidateSelectorImmutable(d, old, errs);
}

void ValidateReplicaSet(const Json& rs, const Json* old, Errs* errs) {
  const Json& spec = ObjOrEmpty(rs, "spec");
  Path sp("spec");
  ValidateNonnegative(spec, "replicas", sp.Child("replicas"), errs);
  ValidateNonnegative(spec, "minReadySeconds", sp.Child("minReadySeconds"), errs);
  ValidateSelectorAndTemplate(spec, sp, "deployment", "ReplicaSet", errs);
  ValidateSelectorImmutable(rs, old, errs);
}

void ValidateDaemonSet(const Json& ds, const Json* old, Errs* errs) {
  const Json& spec = ObjOrEmpty(ds, "spec");
  Path sp("spec");
  const Json* sel = GetObj(spec, "selector");
  ValidateLabelSelector(sel, sp.Child("selector"), errs);
  const Json& tmpl = ObjOrEmpty(spec, "template");
  Selector s = AsSelector(sel);
  if (s.valid && !s.empty && !s.Matches(TemplateLabels(tmpl)))
    errs->push_back(Invalid(sp.Child("template").Child("metadata").Child("labels"), GoMap(TemplateLabels(tmpl)),
                            "`selector` does not match template `labels`"));
  if (sel && Len(*sel, "matchLabels") + Len(*sel, "matchExpressions") == 0)
    errs->push_back(Invalid(sp.Child("selector"), GoSelector(sel), "empty selector is invalid for daemonset"));
  ValidatePodTemplateSpec(tmpl, sp.Child("template"), errs);
  const Json& pod = ObjOrEmpty(tmpl, "spec");
  std::string rp = Str(pod, "restartPolicy");
  if (rp != "Always") errs->push_back(NotSupported(sp.Child("template").Child("spec").Child("restartPolicy"), Q(rp), {"Always"}));
  if (Has(pod, "activeDeadlineSeconds"))
    errs->push_back(Forbidden(sp.Child("template").Child("spec").Child("activeDeadlineSeconds"),
                              "activeDeadlineSeconds in DaemonSet is not Supported"));
  ValidateNonnegative(spec, "minReadySeconds", sp.Child("minReadySeconds"), errs);
  ValidateNonnegative(spec, "templateGeneration", sp.Child("templateGeneration"), errs);
  const Json& strategy = ObjOrEmpty(spec, "updateStrategy");
  Path stp = sp.Child("updateStrategy");
  std::string type = Str(strategy, "type");
  if (type == "RollingUpdate") {
    const Json* ru = GetObj(strategy, "rollingUpdate");
    if (!ru) {
      errs->push_back(Required(stp.Child("rollingUpdate")));
    } else {
      Path rp2 = stp.Child("rollingUpdate");
      Json mu = Get(*ru, "maxUnavailable") ? *Get(*ru, "maxUnavailable") : Json(0);
      Json ms = Get(*ru, "maxSurge") ? *Get(*ru, "maxSurge") : Json(0);
      ValidatePositiveIntOrPercent(mu, rp2.Child("maxUnavailable"), errs);
      ValidatePositiveIntOrPercent(ms, rp2.Child("maxSurge"), errs);
      IsNotMoreThan100Percent(mu, rp2.Child("maxUnavailable"), errs);
      IsNotMoreThan100Percent(ms, rp2.Child("maxSurge"), errs);
      bool has_unavailable = IntOrPercentValue(mu) != 0, has_surge = IntOrPercentValue(ms) != 0;
      if (has_unavailable && has_surge)
        errs->push_back(Invalid(rp2.Child("maxSurge"), GoIntOrString(ms), "may not be set when maxUnavailable is non-zero"));
      else if (!has_unavailable && !has_surge)
        errs->push_back(Required(rp2.Child("maxUnavailable"), "cannot be 0 when maxSurge is 0"));
    }
  } else if (type != "OnDelete") {
    errs->push_back(NotSupported(stp,
                                 "apps.DaemonSetUpdateStrategy{Type:" + Q(type) + ", RollingUpdate:(*apps.RollingUpdateDaemonSet)(" +
                                     (Has(strategy, "rollingUpdate") ? "0xc000000000" : "nil") + ")}",
                                 {"RollingUpdate", "OnDelete"}));
  }
  ValidateNonnegative(spec, "revisionHistoryLimit", sp.Child("revisionHistoryLimit"), errs);
  ValidateSelectorImmutable(ds, old, errs);
}

void ValidateStatefulSet(const Json& sts, const Json* old, Errs* errs) {
  const Json& spec = ObjOrEmpty(sts, "spec");
  Path sp("spec");
  std::string pmp = Str(spec, "podManagementPolicy");
  if (pmp.empty()) errs->push_back(Required(sp.Child("podManagementPolicy")));
  else if (pmp != "OrderedReady" && pmp != "Parallel")
    errs->push_back(Invalid(sp.Child("podManagementPolicy"), Q(pmp), "must be 'OrderedReady' or 'Parallel'"));
  const Json& strategy = ObjOrEmpty(spec, "updateStrategy");
  Path stp = sp.Child("updateStrategy");
  std::string type = Str(strategy, "type");
  const Json* ru = GetObj(strategy, "rollingUpdate");
  if (type.empty()) {
    errs->push_back(Required(stp));
  } else if (type == "OnDelete") {
    if (ru)
      errs->push_back(Invalid(stp.Child("rollingUpdate"), "apps.RollingUpdateStatefulSetStrategy{...}",
                              "only allowed for updateStrategy 'RollingUpdate'"));
  } else if (type == "RollingUpdate") {
    if (ru) {
      Path rp = stp.Child("rollingUpdate");
      ValidateNonnegative(*ru, "partition", rp.Child("partition"), errs);
      if (const Json* mu = Get(*ru, "maxUnavailable")) {
        ValidatePositiveIntOrPercent(*mu, rp.Child("maxUnavailable"), errs);
        if (IntOrPercentValue(*mu) == 0) errs->push_back(Invalid(rp.Child("maxUnavailable"), GoIntOrString(*mu), "cannot be 0"));
        IsNotMoreThan100Percent(*mu, rp.Child("maxUnavailable"), errs);
      }
    }
  } else {
    errs->push_back(Invalid(stp, "apps.StatefulSetUpdateStrategy{Type:" + Q(type) + ", RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(" +
                                     (ru ? "0xc000000000" : "nil") + ")}",
                            "must be 'RollingUpdate' or 'OnDelete'"));
  }
  if (const Json* pol = GetObj(spec, "persistentVolumeClaimRetentionPolicy"))
    for (const char* f : {"whenDeleted", "whenScaled"}) {
      std::string v = Str(*pol, f);
      if (v != "Retain" && v != "Delete")
        errs->push_back(NotSupported(sp.Child("persistentVolumeClaimRetentionPolicy").Child(f), Q(v), {"Retain", "Delete"}));
    }
  ValidateNonnegative(spec, "replicas", sp.Child("replicas"), errs);
  ValidateNonnegative(spec, "minReadySeconds", sp.Child("minReadySeconds"), errs);
  if (const Json* ord = GetObj(spec, "ordinals")) ValidateNonnegative(*ord, "start", sp.Child("ordinals.start"), errs);
  const Json* sel = GetObj(spec, "selector");
  if (!sel) {
    errs->push_back(Required(sp.Child("selector")));
  } else {
    ValidateLabelSelector(sel, sp.Child("selector"), errs);
    if (Len(*sel, "matchLabels") + Len(*sel, "matchExpressions") == 0)
      errs->push_back(Invalid(sp.Child("selector"), GoSelector(sel), "empty selector is invalid for statefulset"));
  }
  const Json& tmpl = ObjOrEmpty(spec, "template");
  Path tp = sp.Child("template");
  Selector s = AsSelector(sel);
  if (!s.valid) {
    errs->push_back(Invalid(sp.Child("selector"), GoSelector(sel), ""));
  } else {
    // Only the template's metadata: the pod spec is not validated here.
    if (!s.empty && !s.Matches(TemplateLabels(tmpl)))
      errs->push_back(Invalid(tp.Child("metadata").Child("labels"), GoMap(TemplateLabels(tmpl)), "`selector` does not match template `labels`"));
    const Json* meta = GetObj(tmpl, "metadata");
    ValidateLabels(meta ? GetObj(*meta, "labels") : nullptr, tp.Child("labels"), errs);
    const Json* ann = meta ? GetObj(*meta, "annotations") : nullptr;
    ValidateAnnotations(ann, tp.Child("annotations"), errs);
    ValidatePodSpecificAnnotations(ann, ObjOrEmpty(tmpl, "spec"), tp.Child("annotations"), errs);
  }
  const Json& pod = ObjOrEmpty(tmpl, "spec");
  std::string rp = Str(pod, "restartPolicy");
  if (rp != "Always") errs->push_back(NotSupported(tp.Child("spec").Child("restartPolicy"), Q(rp), {"Always"}));
  if (Has(pod, "activeDeadlineSeconds"))
    errs->push_back(Forbidden(tp.Child("spec").Child("activeDeadlineSeconds"), "activeDeadlineSeconds in StatefulSet is not Supported"));
  if (!old) return;
  Json ns = spec, os = ObjOrEmpty(*old, "spec");
  for (const char* f : {"replicas", "template", "updateStrategy", "minReadySeconds", "ordinals",
                        "persistentVolumeClaimRetentionPolicy"}) {
    ns.erase(f);
    os.erase(f);
  }
  if (!SameValue(&ns, &os))
    errs->push_back(Forbidden(sp, "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
                                  "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
}

void ValidateControllerRevision(const Json& cr, const Json* old, Errs* errs) {
  if (!Has(cr, "data")) errs->push_back(Required(Path("data"), "data is mandatory"));
  ValidateNonnegative(cr, "revision", Path("revision"), errs);
  if (old && !SameValue(Get(cr, "data"), Get(*old, "data")))
    errs->push_back(Invalid(Path("data"), "runtime.RawExtension{...}", kImmutable));
}

}  // namespace

bool ValidateAppsKind(const ResourceType& t, const Json& obj, const Json* old, Errs* errs) {
  if (t.group != "apps") return false;
  const std::string& k = t.kind;
  if (k == "Deployment") ValidateDeployment(obj, old, errs);
  else if (k == "ReplicaSet") ValidateReplicaSet(obj, old, errs);
  else if (k == "DaemonSet") ValidateDaemonSet(obj, old, errs);
  else if (k == "StatefulSet") ValidateStatefulSet(obj, old, errs);
  else if (k == "ControllerRevision") ValidateControllerRevision(obj, old, errs);
  else return false;
  return true;
}

}  // namespace kubit::api::validation
