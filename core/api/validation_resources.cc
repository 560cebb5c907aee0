// Resource requirements and resource names: container requests and
// limits, quantities per resource (integer resources, non-negative
// values), standard and extended resource names.
#include <set>

#include "core/api/validation_internal.h"

namespace kubit::api::validation {
namespace {

// ---- resources ----------------------------------------------------------

bool IsHugePages(const std::string& n) { return n.rfind("hugepages-", 0) == 0; }
bool IsNative(const std::string& n) {
  return n.find('/') == std::string::npos || n.find("kubernetes.io/") != std::string::npos;
}
bool IsExtended(const std::string& n) {
  if (IsNative(n) || n.rfind("requests.", 0) == 0) return false;
  return IsQualifiedName("requests." + n).empty();
}
bool IsOvercommitAllowed(const std::string& n) { return IsNative(n) && !IsHugePages(n); }
bool IsIntegerResource(const std::string& n) {
  static const std::set<std::string> kInts = {"pods", "services", "replicationcontrollers", "resourcequotas",
                                              "secrets", "configmaps", "persistentvolumeclaims",
                                              "services.nodeports", "services.loadbalancers"};
  return kInts.count(n) > 0 || IsExtended(n);
}
bool IsStandardResource(const std::string& n) {
  static const std::set<std::string> kStd = {
      "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage",
      "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods", "resourcequotas", "services",
      "replicationcontrollers", "secrets", "persistentvolumeclaims", "configmaps", "services.nodeports",
      "services.loadbalancers", "requests.storage", "storage"};
  return kStd.count(n) > 0 || IsHugePages(n) || n.rfind("requests.hugepages-", 0) == 0;
}

void ValidateContainerResourceName(const std::string& name, const Path& p, Errs* errs) {
  ValidateResourceName(name, p, errs);
  if (name.find('/') == std::string::npos) {
    if (name != "cpu" && name != "memory" && name != "ephemeral-storage" && !IsHugePages(name))
      errs->push_back(Invalid(p, Q(name), "must be a standard resource for containers"));
  } else if (!IsNative(name) && !IsExtended(name)) {
    errs->push_back(Invalid(p, Q(name), "doesn't follow extended resource name standard"));
  }
}

}  // namespace

void ValidateResources(const Json* res, const std::set<std::string>& claims, const Path& p, Errs* errs) {
  if (!res || !res->is_object()) return;
  Path lim_path = p.Child("limits"), req_path = p.Child("requests");
  const Json* limits = GetObj(*res, "limits");
  const Json* requests = GetObj(*res, "requests");
  bool lim_cpu_mem = false, req_cpu_mem = false, huge = false;
  if (limits)
    for (auto it = limits->begin(); it != limits->end(); ++it) {
      Path fp = lim_path.Key(it.key());
      ValidateContainerResourceName(it.key(), fp, errs);
      ValidateResourceQuantityValue(it.key(), it.value(), fp, errs);
      huge |= IsHugePages(it.key());
      lim_cpu_mem |= it.key() == "cpu" || it.key() == "memory";
    }
  if (requests)
    for (auto it = requests->begin(); it != requests->end(); ++it) {
      Path fp = req_path.Key(it.key());
      ValidateContainerResourceName(it.key(), fp, errs);
      ValidateResourceQuantityValue(it.key(), it.value(), fp, errs);
      auto q = Qty(it.value());
      const Json* lim = limits ? Get(*limits, it.key()) : nullptr;
      if (lim) {
        auto lq = Qty(*lim);
        if (q && lq) {
          int c = CompareQuantity(*q, *lq);
          if (c != 0 && !IsOvercommitAllowed(it.key()))
            errs->push_back(Invalid(req_path, Q(q->String()),
                                    "must be equal to " + it.key() + " limit of " + lq->String()));
          else if (c > 0)
            errs->push_back(Invalid(req_path, Q(q->String()),
                                    "must be less than or equal to " + it.key() + " limit of " + lq->String()));
        }
      } else if (!IsOvercommitAllowed(it.key())) {
        errs->push_back(Required(lim_path, "Limit must be set for non overcommitable resources"));
      }
      huge |= IsHugePages(it.key());
      req_cpu_mem |= it.key() == "cpu" || it.key() == "memory";
    }
  if (!lim_cpu_mem && !req_cpu_mem && huge) errs->push_back(Forbidden(p, "HugePages require cpu or memory"));
  const Json& cl = Items(*res, "claims");
  std::set<std::string> seen;
  for (size_t i = 0; i < cl.size(); i++) {
    std::string name = Str(cl[i], "name");
    Path ip = p.Child("claims").Index(i);
    if (name.empty()) {
      errs->push_back(Required(ip));
      continue;
    }
    if (!seen.insert(name).second) errs->push_back(Duplicate(ip, Q(name)));
    if (!claims.count(name)) {
      FieldError e = NotFound(ip, Q(name));
      e.detail = "must be one of the names in pod.spec.resourceClaims";
      if (claims.empty()) {
        e.detail += " which is empty";
      } else {
        e.detail += ": ";
        bool first = true;
        for (const auto& c : claims) e.detail += (first ? "" : ", ") + c, first = false;
      }
      errs->push_back(e);
    }
  }
}

void ValidateResourceName(const std::string& name, const Path& p, Errs* errs) {
  auto msgs = IsQualifiedName(name);
  AddAll(errs, p, name, msgs);
  if (!msgs.empty()) return;
  if (name.find('/') == std::string::npos && !IsStandardResource(name))
    errs->push_back(Invalid(p, Q(name), "must be a standard resource type or fully qualified"));
}

bool IsStandardQuotaResourceName(const std::string& n) {
  static const std::set<std::string> kQuota = {
      "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.storage",
      "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods",
      "resourcequotas", "services", "replicationcontrollers", "secrets", "persistentvolumeclaims", "configmaps",
      "services.nodeports", "services.loadbalancers"};
  return kQuota.count(n) > 0 || IsHugePages(n) || n.rfind("requests.hugepages-", 0) == 0;
}

void ValidateResourceQuantityValue(const std::string& name, const Json& v, const Path& p, Errs* errs) {
  auto q = Qty(v);
  if (!q) return;
  if (q->Sign() < 0) errs->push_back(Invalid(p, Q(q->String()), kNegative));
  if (IsIntegerResource(name) && !q->IsInteger()) errs->push_back(Invalid(p, q->GoSyntax(), "must be an integer"));
}


}  // namespace kubit::api::validation
