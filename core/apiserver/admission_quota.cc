// ResourceQuota admission (upstream's resourcequota plugin): a write that
// uses quota is checked against every quota of the namespace that limits
// what it uses, and each such quota's status.used is raised by it before
// the object is written. The raise is a compare-and-swap on the quota's
// revision under a lock per namespace, so two writers never both take the
// last slot; the resource quota controller gives back what an object that
// was never written (or was deleted since) had taken.
#include <ctime>
#include <functional>
#include <mutex>
#include <set>

#include "core/api/quota_usage.h"
#include "core/apiserver/admission.h"

namespace kubit::apiserver::rest_internal {
namespace {

const api::ResourceType& QuotaType() { return *api::FindType("", "v1", "resourcequotas"); }

std::string JoinNames(const std::set<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

api::ResourceList Status(const Json& quota, const char* which) {
  if (!quota.contains("status") || !quota["status"].is_object()) return {};
  return api::ResourceListFromJson(quota["status"].value(which, Json::object()));
}

// Charges in one namespace are serialized; namespaces share a few locks.
std::mutex& ChargeMutex(const std::string& ns) {
  static std::mutex stripes[16];
  return stripes[std::hash<std::string>{}(ns) % 16];
}

}  // namespace

bool ChargeQuotas(Call& c, const Json& o, const Json* old, ApiError* err) {
  api::GroupResource gr{c.type.group, c.type.plural};
  if (old && !api::QuotaChargesUpdates(gr)) return true;
  // Writes that no quota limits (most) never take the lock.
  std::unique_lock<std::mutex> lock(ChargeMutex(c.info.ns), std::defer_lock);
  std::set<std::string> charged;  // quotas written by an earlier attempt
  for (int attempt = 0;; attempt++) {
    store::ListResult r;
    store::Status s = c.state->List(QuotaType().storage_prefix() + c.info.ns + "/", {}, &r);
    if (!s.ok()) {
      *err = ApiError::FromStore(s, QuotaType(), "");
      return false;
    }
    struct Charge {
      store::KeyValuePtr kv;
      Json quota;
    };
    std::vector<Charge> matching;
    for (const auto& kv : r.items) {
      Json q = Decode(*kv);
      if (!api::QuotaMatches(gr, q, o)) continue;
      std::string name = q["metadata"].value("name", "");
      api::ResourceList hard = Status(q, "hard"), used = Status(q, "used");
      std::set<std::string> restricted = api::QuotaMatchingResources(gr, api::ResourceNames(hard));
      std::string why = api::QuotaConstraints(gr, restricted, o);
      if (!why.empty()) {
        *err = AdmissionForbidden(c, o, "failed quota: " + name + ": " + why);
        return false;
      }
      for (const auto& n : restricted)
        if (!used.count(n)) {
          *err = AdmissionForbidden(c, o, "status unknown for quota: " + name + ", resources: " + JoinNames(restricted));
          return false;
        }
      matching.push_back({kv, std::move(q)});
    }
    if (matching.empty()) return true;
    if (!lock.owns_lock()) {
      lock.lock();
      continue;  // judge again under the lock
    }
    int64_t now = time(nullptr);
    api::ResourceList delta = api::QuotaUsage(gr, o, now);
    std::set<std::string> negative;
    for (const auto& [n, q] : delta)
      if (q.Sign() < 0) negative.insert(n);
    if (!negative.empty()) {
      *err = AdmissionForbidden(c, o, "quota usage is negative for resource(s): " + JoinNames(negative));
      return false;
    }
    if (old) delta = api::SubtractNonNegative(delta, api::QuotaUsage(gr, *old, now));
    for (auto it = delta.begin(); it != delta.end();) it = it->second.IsZero() ? delta.erase(it) : std::next(it);
    if (delta.empty()) return true;

    std::vector<Charge> writes;
    for (Charge& ch : matching) {
      std::string name = ch.quota["metadata"].value("name", "");
      if (charged.count(name)) continue;
      api::ResourceList hard = Status(ch.quota, "hard"), used = Status(ch.quota, "used");
      api::ResourceList requested = api::MaskResources(delta, api::ResourceNames(hard));
      if (requested.empty()) continue;
      api::ResourceList next = api::AddResources(used, requested);
      std::vector<std::string> exceeded =
          api::ExceededResources(api::MaskResources(next, api::ResourceNames(requested)), hard);
      if (!exceeded.empty()) {
        std::set<std::string> ex(exceeded.begin(), exceeded.end());
        *err = AdmissionForbidden(c, o, "exceeded quota: " + name + ", requested: " +
                                            api::PrettyPrintResources(api::MaskResources(requested, ex)) +
                                            ", used: " + api::PrettyPrintResources(api::MaskResources(used, ex)) +
                                            ", limited: " + api::PrettyPrintResources(api::MaskResources(hard, ex)));
        return false;
      }
      ch.quota["status"]["used"] = api::ResourceListToJson(next);
      writes.push_back(ch);
    }
    if (c.dry_run()) return true;
    bool conflict = false;
    for (const Charge& ch : writes) {
      s = c.state->Update(ch.kv->key, Encode(ch.quota), ch.kv->mod_revision);
      if (s.IsConflict() && attempt < 8) {
        conflict = true;  // the controller wrote it meanwhile: judge again
        continue;
      }
      if (!s.ok()) {
        *err = ApiError::FromStore(s, QuotaType(), ch.quota["metadata"].value("name", ""));
        return false;
      }
      charged.insert(ch.quota["metadata"].value("name", ""));
    }
    if (!conflict) return true;
  }
}

}  // namespace kubit::apiserver::rest_internal
