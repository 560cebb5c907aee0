// Validation of ResourceQuotas (resource names, scopes, scope selectors)
// and LimitRanges (types, resource names, min/max/default consistency).
#include <map>
#include <set>

#include "core/api/validation_internal.h"

namespace kubit::api::validation {
namespace {

// ---- ResourceQuota, LimitRange -------------------------------------------------

void ValidateQuotaList(const Json& list, const Path& p, Errs* errs) {
  for (auto it = list.begin(); it != list.end(); ++it) {
    Path rp = p.Key(it.key());
    ValidateResourceName(it.key(), rp, errs);
    if (it.key().find('/') == std::string::npos && !IsStandardQuotaResourceName(it.key()))
      errs->push_back(Invalid(rp, Q(it.key()), "must be a standard resource for quota"));
    ValidateResourceQuantityValue(it.key(), it.value(), rp, errs);
  }
}

void ValidateResourceQuota(const Json& rq, const Json* old, Errs* errs) {
  const Json& spec = ObjOrEmpty(rq, "spec");
  Path sp("spec");
  ValidateQuotaList(ObjOrEmpty(spec, "hard"), sp.Child("hard"), errs);
  static const std::set<std::string> kScopes = {"Terminating", "NotTerminating", "BestEffort", "NotBestEffort",
                                                "PriorityClass", "CrossNamespacePodAffinity"};
  const Json& scopes = Items(spec, "scopes");
  std::set<std::string> seen;
  std::string scopes_v = GoStrings(GetArr(spec, "scopes"), "[]core.ResourceQuotaScope");
  for (const Json& s : scopes) {
    std::string scope = s.is_string() ? s.get<std::string>() : "";
    if (!kScopes.count(scope)) errs->push_back(Invalid(sp.Child("scopes"), scopes_v, "unsupported scope"));
    seen.insert(scope);
  }
  if ((seen.count("BestEffort") && seen.count("NotBestEffort")) || (seen.count("Terminating") && seen.count("NotTerminating")))
    errs->push_back(Invalid(sp.Child("scopes"), scopes_v, "conflicting scopes"));
  if (const Json* ss = GetObj(spec, "scopeSelector")) {
    const Json& exprs = Items(*ss, "matchExpressions");
    Path ep = sp.Child("scopeSelector").Child("matchExpressions");
    for (const Json& e : exprs) {
      std::string scope = Str(e, "scopeName"), op = Str(e, "operator");
      if (!kScopes.count(scope)) errs->push_back(Invalid(ep.Child("scopeName"), Q(scope), "unsupported scope"));
      if (scope != "PriorityClass" && kScopes.count(scope) && op != "Exists")
        errs->push_back(Invalid(ep.Child("operator"), Q(op),
                                "must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, "
                                "ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or "
                                "ResourceQuotaScopeCrossNamespacePodAffinity"));
      size_t nv = Len(e, "values");
      if (op == "In" || op == "NotIn") {
        if (nv == 0) errs->push_back(Required(ep.Child("values"), "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"));
      } else if (op == "Exists" || op == "DoesNotExist") {
        if (nv != 0)
          errs->push_back(Invalid(ep.Child("values"), GoStrings(GetArr(e, "values")),
                                  "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"));
      } else {
        errs->push_back(Invalid(ep.Child("operator"), Q(op), "not a valid selector operator"));
      }
    }
  }
  if (old) {
    std::set<std::string> os, ns;
    for (const Json& s : Items(ObjOrEmpty(*old, "spec"), "scopes")) os.insert(s.dump());
    for (const Json& s : scopes) ns.insert(s.dump());
    if (os != ns) errs->push_back(Invalid(sp.Child("scopes"), scopes_v, kImmutable));
    return;
  }
  const Json& status = ObjOrEmpty(rq, "status");
  ValidateQuotaList(ObjOrEmpty(status, "hard"), Path("status").Child("hard"), errs);
  ValidateQuotaList(ObjOrEmpty(status, "used"), Path("status").Child("used"), errs);
}

void ValidateLimitRange(const Json& lr, Errs* errs) {
  const Json& limits = Items(ObjOrEmpty(lr, "spec"), "limits");
  Path lp = Path("spec").Child("limits");
  std::set<std::string> types;
  for (size_t i = 0; i < limits.size(); i++) {
    const Json& l = limits[i];
    Path ip = lp.Index(i);
    std::string type = Str(l, "type");
    auto msgs = IsQualifiedName(type);
    AddAll(errs, ip.Child("type"), type, msgs);
    if (msgs.empty() && type.find('/') == std::string::npos && type != "Pod" && type != "Container" &&
        type != "PersistentVolumeClaim")
      errs->push_back(Invalid(ip.Child("type"), Q(type), "must be a standard limit type or fully qualified"));
    if (!types.insert(type).second) errs->push_back(Duplicate(ip.Child("type"), Q(type)));
    std::set<std::string> keys;
    std::map<std::string, std::map<std::string, Quantity>> by;  // field -> resource -> value
    auto collect = [&](const char* field) {
      const Json& m = ObjOrEmpty(l, field);
      for (auto it = m.begin(); it != m.end(); ++it) {
        Path rp = ip.Child(field).Key(it.key());
        if (type == "Pod" || type == "Container") {
          ValidateResourceName(it.key(), rp, errs);
          if (it.key().find('/') == std::string::npos && it.key() != "cpu" && it.key() != "memory" &&
              it.key() != "ephemeral-storage" && it.key().rfind("hugepages-", 0) != 0)
            errs->push_back(Invalid(rp, Q(it.key()), "must be a standard resource for containers"));
        } else {
          ValidateResourceName(it.key(), rp, errs);
        }
        keys.insert(it.key());
        if (auto q = Qty(it.value())) by[field][it.key()] = *q;
      }
    };
    collect("max");
    collect("min");
    if (type == "Pod") {
      if (Len(l, "default") > 0) errs->push_back(Forbidden(ip.Child("default"), "may not be specified when `type` is 'Pod'"));
      if (Len(l, "defaultRequest") > 0) errs->push_back(Forbidden(ip.Child("defaultRequest"), "may not be specified when `type` is 'Pod'"));
    } else {
      collect("default");
      collect("defaultRequest");
    }
    if (type == "PersistentVolumeClaim" && !Has(ObjOrEmpty(l, "min"), "storage") && !Has(ObjOrEmpty(l, "max"), "storage"))
      errs->push_back(Required(ip.Child("limits"), "either minimum or maximum storage value is required, but neither was provided"));
    collect("maxLimitRequestRatio");
    for (const auto& k : keys) {
      auto get = [&](const char* f) -> const Quantity* {
        auto it = by[f].find(k);
        return it == by[f].end() ? nullptr : &it->second;
      };
      const Quantity *mn = get("min"), *mx = get("max"), *def = get("default"), *dr = get("defaultRequest"),
                     *ratio = get("maxLimitRequestRatio");
      if (mn && mx && CompareQuantity(*mn, *mx) > 0)
        errs->push_back(Invalid(ip.Child("min").Key(k), mn->GoSyntax(),
                                "min value " + mn->String() + " is greater than max value " + mx->String()));
      if (dr && mn && CompareQuantity(*mn, *dr) > 0)
        errs->push_back(Invalid(ip.Child("defaultRequest").Key(k), dr->GoSyntax(),
                                "min value " + mn->String() + " is greater than default request value " + dr->String()));
      if (dr && mx && CompareQuantity(*dr, *mx) > 0)
        errs->push_back(Invalid(ip.Child("defaultRequest").Key(k), dr->GoSyntax(),
                                "default request value " + dr->String() + " is greater than max value " + mx->String()));
      if (dr && def && CompareQuantity(*dr, *def) > 0)
        errs->push_back(Invalid(ip.Child("defaultRequest").Key(k), dr->GoSyntax(),
                                "default request value " + dr->String() + " is greater than default limit value " + def->String()));
      if (def && mn && CompareQuantity(*mn, *def) > 0)
        errs->push_back(Invalid(ip.Child("default").Key(k), mn->GoSyntax(),
                                "min value " + mn->String() + " is greater than default value " + def->String()));
      if (def && mx && CompareQuantity(*def, *mx) > 0)
        errs->push_back(Invalid(ip.Child("default").Key(k), mx->GoSyntax(),
                                "default value " + def->String() + " is greater than max value " + mx->String()));
      Quantity one;
      one.digits = "1";
      if (ratio && CompareQuantity(*ratio, one) < 0)
        errs->push_back(Invalid(ip.Child("maxLimitRequestRatio").Key(k), ratio->GoSyntax(), "ratio " + ratio->String() + " is less than 1"));
    }
  }
}

}  // namespace

void ValidateQuotaKind(const ResourceType& t, const Json& obj, const Json* old, Errs* errs) {
  if (t.kind == "ResourceQuota") ValidateResourceQuota(obj, old, errs);
  else ValidateLimitRange(obj, errs);
}

}  // namespace kubit::api::validation
