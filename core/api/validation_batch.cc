// Validation of batch/v1: Job (spec, pod failure and success policies,
// update rules) and CronJob (schedule, time zone, job template).
#include <set>
#include <sys/stat.h>

#include "core/api/validation_internal.h"

namespace kubit::api::validation {
namespace {

void ValidatePodFailurePolicy(const Json& spec, const Json& pfp, const Path& p, Errs* errs) {
  const Json& rules = Items(pfp, "rules");
  Path rp = p.Child("rules");
  if (rules.size() > 20) errs->push_back(TooMany(rp, int(rules.size()), 20));
  std::set<std::string> containers;
  const Json& pod = ObjOrEmpty(ObjOrEmpty(spec, "template"), "spec");
  for (const char* list : {"containers", "initContainers"})
    for (const Json& c : Items(pod, list)) containers.insert(Str(c, "name"));
  for (size_t i = 0; i < rules.size(); i++) {
    const Json& rule = rules[i];
    Path ip = rp.Index(i);
    std::string action = Str(rule, "action");
    const std::vector<std::string> kActions = {"Count", "FailIndex", "FailJob", "Ignore"};
    if (action.empty()) {
      errs->push_back(Required(ip.Child("action"), "valid values: [\"Count\" \"FailIndex\" \"FailJob\" \"Ignore\"]"));
    } else if (action == "FailIndex") {
      if (!Has(spec, "backoffLimitPerIndex"))
        errs->push_back(Invalid(ip.Child("action"), Q(action), "requires the backoffLimitPerIndex to be set"));
    } else if (action != "Count" && action != "FailJob" && action != "Ignore") {
      errs->push_back(NotSupported(ip.Child("action"), Q(action), kActions));
    }
    const Json* codes = GetObj(rule, "onExitCodes");
    const Json& conds = Items(rule, "onPodConditions");
    if (codes) {
      Path cp = ip.Child("onExitCodes");
      std::string op = Str(*codes, "operator");
      if (op.empty()) errs->push_back(Required(cp.Child("operator"), "valid values: [\"In\" \"NotIn\"]"));
      else if (op != "In" && op != "NotIn") errs->push_back(NotSupported(cp.Child("operator"), Q(op), {"In", "NotIn"}));
      if (Has(*codes, "containerName") && !containers.count(Str(*codes, "containerName")))
        errs->push_back(Invalid(cp.Child("containerName"), Q(Str(*codes, "containerName")),
                                "must be one of the container or initContainer names in the pod template"));
      const Json& values = Items(*codes, "values");
      std::string values_v = "[]int32{";
      for (size_t j = 0; j < values.size(); j++) values_v += (j ? ", " : "") + values[j].dump();
      values_v = values.empty() ? "[]int32(nil)" : values_v + "}";
      if (values.empty()) errs->push_back(Invalid(cp.Child("values"), values_v, "at least one value is required"));
      else if (values.size() > 255) errs->push_back(TooMany(cp.Child("values"), int(values.size()), 255));
      bool ordered = true;
      std::set<int64_t> seen;
      for (size_t j = 0; j < values.size(); j++) {
        int64_t v = values[j].is_number_integer() ? values[j].get<int64_t>() : 0;
        if (op == "In" && v == 0) errs->push_back(Invalid(cp.Child("values").Index(j), GoInt(v), "must not be 0 for the In operator"));
        if (!seen.insert(v).second) errs->push_back(Duplicate(cp.Child("values").Index(j), GoInt(v)));
        if (j > 0 && values[j - 1].is_number_integer() && values[j - 1].get<int64_t>() > v) ordered = false;
      }
      if (!ordered) errs->push_back(Invalid(cp.Child("values"), values_v, "must be ordered"));
    }
    if (!conds.empty()) {
      Path cp = ip.Child("onPodConditions");
      if (conds.size() > 20) errs->push_back(TooMany(cp, int(conds.size()), 20));
      for (size_t j = 0; j < conds.size(); j++) {
        std::string type = Str(conds[j], "type"), status = Str(conds[j], "status");
        AddAll(errs, cp.Index(j).Child("type"), type, IsQualifiedName(type));
        if (status.empty()) errs->push_back(Required(cp.Index(j).Child("status"), "valid values: [\"False\" \"True\" \"Unknown\"]"));
        else if (status != "False" && status != "True" && status != "Unknown")
          errs->push_back(NotSupported(cp.Index(j).Child("status"), Q(status), {"False", "True", "Unknown"}));
      }
    }
    if (codes && !conds.empty()) errs->push_back({"Invalid value", ip.str(), "specifying both OnExitCodes and OnPodConditions is not supported", ""});
    if (!codes && conds.empty()) errs->push_back({"Invalid value", ip.str(), "specifying one of OnExitCodes and OnPodConditions is required", ""});
  }
}

// The Job spec checks shared by Jobs and CronJob job templates.
void ValidateJobSpecCommon(const Json& spec, const Path& p, Errs* errs) {
  for (const char* f : {"parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished",
                        "backoffLimitPerIndex"})
    ValidateNonnegative(spec, f, p.Child(f), errs);
  auto completions = Int(spec, "completions");
  auto parallelism = Int(spec, "parallelism");
  auto max_failed = Int(spec, "maxFailedIndexes");
  if (max_failed) {
    ValidateNonnegativeValue(*max_failed, p.Child("maxFailedIndexes"), errs);
    if (!Has(spec, "backoffLimitPerIndex")) errs->push_back(Required(p.Child("backoffLimitPerIndex"), "when maxFailedIndexes is specified"));
  }
  if (Has(spec, "managedBy")) {
    std::string mb = Str(spec, "managedBy");
    size_t slash = mb.find('/');
    Path mp = p.Child("managedBy");
    if (mb.empty()) errs->push_back(Required(mp));
    else if (slash == std::string::npos || slash == 0 || slash + 1 == mb.size())
      errs->push_back(Invalid(mp, Q(mb), "must be a domain-prefixed path (such as \"acme.io/foo\")"));
    else AddAll(errs, mp, mb.substr(0, slash), IsDNS1123Subdomain(mb.substr(0, slash)));
    if (mb.size() > 63) errs->push_back(TooLong(mp, 63));
  }
  std::string mode = Str(spec, "completionMode");
  if (Has(spec, "completionMode")) {
    if (mode != "NonIndexed" && mode != "Indexed")
      errs->push_back(NotSupported(p.Child("completionMode"), Q(mode), {"NonIndexed", "Indexed"}));
    if (mode == "Indexed") {
      if (!completions) errs->push_back(Required(p.Child("completions"), "when completion mode is Indexed"));
      if (parallelism && *parallelism > 100000)
        errs->push_back(Invalid(p.Child("parallelism"), GoInt(*parallelism),
                                "must be less than or equal to 100000 when completion mode is Indexed"));
      if (completions && max_failed && *max_failed > *completions)
        errs->push_back(Invalid(p.Child("maxFailedIndexes"), GoInt(*max_failed), "must be less than or equal to completions"));
      if (max_failed && *max_failed > 100000)
        errs->push_back(Invalid(p.Child("maxFailedIndexes"), GoInt(*max_failed), "must be less than or equal to 100000"));
    }
  }
  if (!Has(spec, "completionMode") || mode == "NonIndexed") {
    if (auto b = Int(spec, "backoffLimitPerIndex"))
      errs->push_back(Invalid(p.Child("backoffLimitPerIndex"), GoInt(*b), "requires indexed completion mode"));
    if (max_failed) errs->push_back(Invalid(p.Child("maxFailedIndexes"), GoInt(*max_failed), "requires indexed completion mode"));
  }
  const Json* pfp = GetObj(spec, "podFailurePolicy");
  if (pfp) ValidatePodFailurePolicy(spec, *pfp, p.Child("podFailurePolicy"), errs);
  if (const Json* sp = GetObj(spec, "successPolicy")) {
    if (mode != "Indexed") {
      errs->push_back(Invalid(p.Child("successPolicy"), "batch.SuccessPolicy{...}", "requires indexed completion mode"));
    } else {
      const Json& rules = Items(*sp, "rules");
      Path rp = p.Child("successPolicy").Child("rules");
      if (rules.empty()) errs->push_back(Required(rp, "at least one rules must be specified when the successPolicy is specified"));
      if (rules.size() > 20) errs->push_back(TooMany(rp, int(rules.size()), 20));
      for (size_t i = 0; i < rules.size(); i++) {
        if (!Has(rules[i], "succeededCount") && !Has(rules[i], "succeededIndexes"))
          errs->push_back(Required(rp.Index(i), "at least one of succeededCount or succeededIndexes must be specified"));
        if (auto sc = Int(rules[i], "succeededCount")) {
          ValidateNonnegativeValue(*sc, rp.Index(i).Child("succeededCount"), errs);
          if (completions && *sc > *completions)
            errs->push_back(Invalid(rp.Index(i).Child("succeededCount"), GoInt(*sc),
                                    "must be less than or equal to " + std::to_string(*completions) +
                                        " (the number of specified completions)"));
        }
      }
    }
  }
  if (Has(spec, "podReplacementPolicy")) {
    std::string prp = Str(spec, "podReplacementPolicy");
    if (pfp) {
      if (prp != "Failed") errs->push_back(NotSupported(p.Child("podReplacementPolicy"), Q(prp), {"Failed"}));
    } else if (prp != "Failed" && prp != "TerminatingOrFailed") {
      errs->push_back(NotSupported(p.Child("podReplacementPolicy"), Q(prp), {"Failed", "TerminatingOrFailed"}));
    }
  }
  const Json& tmpl = ObjOrEmpty(spec, "template");
  ValidatePodTemplateSpec(tmpl, p.Child("template"), errs);
  std::string rp = Str(ObjOrEmpty(tmpl, "spec"), "restartPolicy");
  Path rpp = p.Child("template").Child("spec").Child("restartPolicy");
  if (rp == "Always" || rp.empty())
    errs->push_back(Required(rpp, "valid values: \"OnFailure\", \"Never\""));
  else if (rp != "OnFailure" && rp != "Never")
    errs->push_back(NotSupported(rpp, Q(rp), {"OnFailure", "Never"}));
  else if (pfp && rp != "Never")
    errs->push_back(Invalid(rpp, Q(rp), "only \"Never\" is supported when podFailurePolicy is specified"));
}

const Json* TemplateLabels(const Json& spec) {
  const Json* meta = GetObj(ObjOrEmpty(spec, "template"), "metadata");
  return meta ? GetObj(*meta, "labels") : nullptr;
}

void ValidateJob(const Json& job, const Json* old, Errs* errs) {
  const Json& spec = ObjOrEmpty(job, "spec");
  Path sp("spec");
  ValidateJobSpecCommon(spec, sp, errs);
  // The selector is generated on create unless manualSelector is set.
  const Json* sel = GetObj(spec, "selector");
  if (!sel) {
    if (Bool(spec, "manualSelector")) errs->push_back(Required(sp.Child("selector")));
  } else {
    ValidateLabelSelector(sel, sp.Child("selector"), errs);
    Selector s = AsSelector(sel);
    if (s.valid && !s.Matches(TemplateLabels(spec)))
      errs->push_back(Invalid(sp.Child("template").Child("metadata").Child("labels"), GoMap(TemplateLabels(spec)),
                              "`selector` does not match template `labels`"));
  }
  if (!old) {
    auto completions = Int(spec, "completions");
    if (Str(spec, "completionMode") == "Indexed" && completions && *completions > 0) {
      const Json* meta = GetObj(job, "metadata");
      std::string name = meta ? Str(*meta, "name") : "";
      std::string host = name + "-" + std::to_string(*completions - 1);
      if (!IsDNS1123Label(host).empty())
        errs->push_back(Invalid(Path("metadata").Child("name"), Q(name),
                                "will not able to create pod with invalid DNS label: " + host));
    }
    return;
  }
  const Json& os = ObjOrEmpty(*old, "spec");
  // completions: changeable for Indexed Jobs, together with parallelism.
  if (!SameValue(Get(spec, "completions"), Get(os, "completions"))) {
    auto c = Int(spec, "completions");
    if (Str(spec, "completionMode") != "Indexed")
      errs->push_back(Invalid(sp.Child("completions"), c ? GoInt(*c) : "null", kImmutable));
    else if (c && *c != Int(spec, "parallelism").value_or(0))
      errs->push_back(Invalid(sp.Child("completions"), GoInt(*c), "can only be modified in tandem with spec.parallelism"));
  }
  ValidateImmutable(sel, GetObj(os, "selector"), sp.Child("selector"), GoSelector(sel), errs);
  // The template may only change its scheduling directives while the Job is
  // suspended and has not started.
  Json nt = ObjOrEmpty(spec, "template"), ot = ObjOrEmpty(os, "template");
  bool mutable_scheduling = Bool(spec, "suspend") && !Has(ObjOrEmpty(*old, "status"), "startTime");
  if (mutable_scheduling) {
    for (Json* t : {&nt, &ot}) {
      if (t->contains("metadata") && (*t)["metadata"].is_object()) {
        (*t)["metadata"].erase("labels");
        (*t)["metadata"].erase("annotations");
      }
      if (t->contains("spec") && (*t)["spec"].is_object()) {
        Json& ps = (*t)["spec"];
        for (const char* f : {"nodeSelector", "tolerations", "schedulingGates"}) ps.erase(f);
        if (ps.contains("affinity") && ps["affinity"].is_object()) {
          ps["affinity"].erase("nodeAffinity");
          if (ps["affinity"].empty()) ps.erase("affinity");
        }
      }
    }
  }
  if (!SameValue(&nt, &ot)) errs->push_back(Invalid(sp.Child("template"), "core.PodTemplateSpec{...}", kImmutable));
  for (const char* f : {"completionMode", "podFailurePolicy", "backoffLimitPerIndex", "managedBy", "successPolicy"}) {
    const Json* nv = Get(spec, f);
    std::string shown = !nv ? "null" : nv->is_string() ? Q(nv->get<std::string>()) : nv->is_number() ? nv->dump() : "{...}";
    ValidateImmutable(nv, Get(os, f), sp.Child(f), shown, errs);
  }
}

void ValidateTimeZone(const Json* tz, const Path& p, Errs* errs) {
  if (!tz) return;
  std::string v = tz->is_string() ? tz->get<std::string>() : "";
  if (v.empty()) return errs->push_back(Invalid(p, Q(v), "timeZone must be nil or non-empty string"));
  size_t start = 0;
  while (true) {
    size_t slash = v.find('/', start);
    std::string part = v.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    bool ok = !part.empty() && part.size() <= 14 && part != "." && part != ".." && part[0] != '-';
    for (char c : part) ok = ok && (isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == '+');
    if (!ok) return errs->push_back(Invalid(p, Q(v), "unknown time zone " + v));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  std::string lower = v;
  for (char& c : lower) c = char(tolower(static_cast<unsigned char>(c)));
  if (lower == "local")
    errs->push_back(Invalid(p, Q(v), "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"));
  // The API server embeds the IANA database; without one here every
  // well-formed name is accepted.
  struct stat st;
  if (v != "UTC" && stat("/usr/share/zoneinfo", &st) == 0 && stat(("/usr/share/zoneinfo/" + v).c_str(), &st) != 0)
    errs->push_back(Invalid(p, Q(v), "unknown time zone " + v));
}

void ValidateCronJob(const Json& cj, const Json* old, Errs* errs) {
  const Json& spec = ObjOrEmpty(cj, "spec");
  Path sp("spec");
  std::string schedule = Str(spec, "schedule");
  if (schedule.empty()) {
    errs->push_back(Required(sp.Child("schedule")));
  } else {
    bool allow_tz = old && Str(ObjOrEmpty(*old, "spec"), "schedule").find("TZ") != std::string::npos;
    std::string err = CronParseError(schedule);
    if (!err.empty()) errs->push_back(Invalid(sp.Child("schedule"), Q(schedule), err));
    bool tz = schedule.find("TZ") != std::string::npos;
    if (allow_tz && tz && Has(spec, "timeZone"))
      errs->push_back(Invalid(sp.Child("schedule"), Q(schedule), "cannot use both timeZone field and TZ or CRON_TZ in schedule"));
    else if (!allow_tz && tz)
      errs->push_back(Invalid(sp.Child("schedule"), Q(schedule), "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"));
  }
  ValidateNonnegative(spec, "startingDeadlineSeconds", sp.Child("startingDeadlineSeconds"), errs);
  if (!old || !SameValue(Get(spec, "timeZone"), Get(ObjOrEmpty(*old, "spec"), "timeZone")))
    ValidateTimeZone(Get(spec, "timeZone"), sp.Child("timeZone"), errs);
  std::string cp = Str(spec, "concurrencyPolicy");
  if (cp.empty()) errs->push_back(Required(sp.Child("concurrencyPolicy")));
  else if (cp != "Allow" && cp != "Forbid" && cp != "Replace")
    errs->push_back(NotSupported(sp.Child("concurrencyPolicy"), Q(cp), {"Allow", "Forbid", "Replace"}));
  const Json& jt = ObjOrEmpty(spec, "jobTemplate");
  Path jp = sp.Child("jobTemplate").Child("spec");
  const Json& js = ObjOrEmpty(jt, "spec");
  ValidateJobSpecCommon(js, jp, errs);
  if (const Json* sel = GetObj(js, "selector"))
    errs->push_back(Invalid(jp.Child("selector"), GoSelector(sel), "`selector` will be auto-generated"));
  if (Bool(js, "manualSelector")) errs->push_back(NotSupported(jp.Child("manualSelector"), "true", {"nil", "false"}));
  ValidateNonnegative(spec, "successfulJobsHistoryLimit", sp.Child("successfulJobsHistoryLimit"), errs);
  ValidateNonnegative(spec, "failedJobsHistoryLimit", sp.Child("failedJobsHistoryLimit"), errs);
  if (!old) {
    const Json* meta = GetObj(cj, "metadata");
    std::string name = meta ? Str(*meta, "name") : "";
    if (name.size() > 52) errs->push_back(Invalid(Path("metadata").Child("name"), Q(name), "must be no more than 52 characters"));
  }
}

}  // namespace

bool ValidateBatchKind(const ResourceType& t, const Json& obj, const Json* old, Errs* errs) {
  if (t.group != "batch") return false;
  if (t.kind == "Job") ValidateJob(obj, old, errs);
  else if (t.kind == "CronJob") ValidateCronJob(obj, old, errs);
  else return false;
  return true;
}

}  // namespace kubit::api::validation
