#include "core/controllers/deployment_util.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/api/meta.h"
#include "core/controllers/pod_state.h"

namespace kubit::controllers {

using client::Json;

namespace {

// Annotations of the Deployment that never go onto its ReplicaSets.
bool SkipCopyAnnotation(const std::string& k) {
  return k == "kubectl.kubernetes.io/last-applied-configuration" || k == kRevisionAnnotation ||
         k == kRevisionHistoryAnnotation || k == kDesiredReplicasAnnotation || k == kMaxReplicasAnnotation ||
         k == "deprecated.deployment.rollback.to";
}

Json Annotations(const Json& obj) {
  Json a = obj["metadata"].value("annotations", Json::object());
  return a.is_object() ? a : Json::object();
}

bool ParseInt(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  try {
    size_t used = 0;
    *out = std::stoll(s, &used);
    return used == s.size();
  } catch (...) {
    return false;
  }
}

// Upstream's rollingUpdate fenceposts: surge rounds up, unavailable down;
// both zero would deadlock a rollout, so unavailable becomes 1.
void Fenceposts(const Json& d, int64_t* surge, int64_t* unavailable) {
  const Json ru = d["spec"].value("strategy", Json::object()).value("rollingUpdate", Json::object());
  const int64_t replicas = SpecReplicas(d);
  *surge = ScaledValue(ru.value("maxSurge", Json("25%")), replicas, true);
  *unavailable = ScaledValue(ru.value("maxUnavailable", Json("25%")), replicas, false);
  if (*surge == 0 && *unavailable == 0) *unavailable = 1;
}

}  // namespace

int64_t SpecReplicas(const Json& obj) {
  const Json spec = obj.value("spec", Json::object());
  return spec.contains("replicas") && spec["replicas"].is_number() ? spec["replicas"].get<int64_t>() : 1;
}

int64_t StatusInt(const Json& obj, const char* field) {
  const Json status = obj.value("status", Json::object());
  return status.is_object() ? status.value(field, int64_t{0}) : 0;
}

bool IsRollingUpdate(const Json& d) {
  return d["spec"].value("strategy", Json::object()).value("type", "RollingUpdate") == "RollingUpdate";
}

int64_t ScaledValue(const Json& v, int64_t total, bool round_up) {
  if (v.is_number()) return v.get<int64_t>();
  if (!v.is_string()) return 0;
  std::string s = v.get<std::string>();
  int64_t n = 0;
  if (s.empty() || s.back() != '%' || !ParseInt(s.substr(0, s.size() - 1), &n)) {
    ParseInt(s, &n);
    return n;
  }
  double scaled = static_cast<double>(n) * static_cast<double>(total) / 100.0;
  return static_cast<int64_t>(round_up ? std::ceil(scaled) : std::floor(scaled));
}

int64_t MaxSurge(const Json& d) {
  if (!IsRollingUpdate(d)) return 0;
  int64_t surge, unavailable;
  Fenceposts(d, &surge, &unavailable);
  return surge;
}

int64_t MaxUnavailable(const Json& d) {
  if (!IsRollingUpdate(d) || SpecReplicas(d) == 0) return 0;
  int64_t surge, unavailable;
  Fenceposts(d, &surge, &unavailable);
  return std::min(unavailable, SpecReplicas(d));
}

std::string ComputeHash(const Json& pod_template, int64_t collision_count) {
  // FNV-32a over the template's canonical JSON (keys sorted), then the
  // collision count's four bytes, as upstream adds them.
  uint32_t h = 2166136261u;
  auto add = [&h](unsigned char c) {
    h ^= c;
    h *= 16777619u;
  };
  for (unsigned char c : pod_template.dump()) add(c);
  if (collision_count > 0)
    for (int i = 0; i < 4; i++) add(static_cast<unsigned char>((collision_count >> (8 * i)) & 0xff));
  // Upstream's SafeEncodeString of the decimal sum: no vowels, no 0/1/3.
  static const char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string decimal = std::to_string(h), out;
  for (char c : decimal) out += kAlphabet[static_cast<unsigned char>(c) % (sizeof(kAlphabet) - 1)];
  return out;
}

bool EqualIgnoreHash(const Json& a, const Json& b) {
  auto strip = [](Json t) {
    if (t.contains("metadata") && t["metadata"].is_object() && t["metadata"].contains("labels") &&
        t["metadata"]["labels"].is_object())
      t["metadata"]["labels"].erase(kPodTemplateHashLabel);
    return t;
  };
  return strip(a) == strip(b);
}

int64_t Revision(const Json& obj) {
  int64_t r = 0;
  Json a = Annotations(obj);
  if (!a.contains(kRevisionAnnotation) || !a[kRevisionAnnotation].is_string() ||
      !ParseInt(a[kRevisionAnnotation].get<std::string>(), &r))
    return 0;
  return r;
}

int64_t MaxRevision(const std::vector<Json>& rss) {
  int64_t max = 0;
  for (const Json& rs : rss) max = std::max(max, Revision(rs));
  return max;
}

bool SetReplicasAnnotations(Json* rs, int64_t desired, int64_t max) {
  Json& a = (*rs)["metadata"]["annotations"];
  if (!a.is_object()) a = Json::object();
  bool changed = false;
  for (auto [k, v] : {std::pair<const char*, int64_t>{kDesiredReplicasAnnotation, desired}, {kMaxReplicasAnnotation, max}}) {
    std::string s = std::to_string(v);
    if (a.value(k, "") != s) {
      a[k] = s;
      changed = true;
    }
  }
  return changed;
}

bool ReplicasAnnotationsNeedUpdate(const Json& rs, int64_t desired, int64_t max) {
  Json a = Annotations(rs);
  return a.value(kDesiredReplicasAnnotation, "") != std::to_string(desired) ||
         a.value(kMaxReplicasAnnotation, "") != std::to_string(max);
}

bool DesiredReplicasAnnotation(const Json& rs, int64_t* out) {
  Json a = Annotations(rs);
  return a.contains(kDesiredReplicasAnnotation) && a[kDesiredReplicasAnnotation].is_string() &&
         ParseInt(a[kDesiredReplicasAnnotation].get<std::string>(), out);
}

bool SetNewReplicaSetAnnotations(const Json& d, Json* rs, int64_t new_revision, bool exists) {
  Json& a = (*rs)["metadata"]["annotations"];
  if (!a.is_object()) a = Json::object();
  bool changed = false;
  const Json from = Annotations(d);
  for (auto& [k, v] : from.items()) {
    if (SkipCopyAnnotation(k) || (a.contains(k) && a[k] == v)) continue;
    a[k] = v;
    changed = true;
  }
  const std::string old_revision = a.value(kRevisionAnnotation, "");
  int64_t old = 0;
  if (!old_revision.empty() && !ParseInt(old_revision, &old)) return changed;
  if (old < new_revision) {
    a[kRevisionAnnotation] = std::to_string(new_revision);
    changed = true;
    // Rolled back to: the revisions it had before are kept for history.
    if (!old_revision.empty()) {
      std::string history = a.value(kRevisionHistoryAnnotation, "");
      a[kRevisionHistoryAnnotation] = history.empty() ? old_revision : history + "," + old_revision;
    }
  }
  if (!exists && SetReplicasAnnotations(rs, SpecReplicas(d), SpecReplicas(d) + MaxSurge(d))) changed = true;
  return changed;
}

Json GetCondition(const Json& status, const std::string& type) {
  if (!status.is_object()) return nullptr;
  for (const Json& c : status.value("conditions", Json::array()))
    if (c.value("type", "") == type) return c;
  return nullptr;
}

Json NewCondition(const std::string& type, const std::string& status, const std::string& reason,
                  const std::string& message) {
  const std::string now = api::Now();
  return {{"type", type},
          {"status", status},
          {"lastUpdateTime", now},
          {"lastTransitionTime", now},
          {"reason", reason},
          {"message", message}};
}

void SetCondition(Json* status, Json cond) {
  Json cur = GetCondition(*status, cond["type"]);
  if (!cur.is_null() && cur.value("status", "") == cond.value("status", "") &&
      cur.value("reason", "") == cond.value("reason", ""))
    return;
  if (!cur.is_null() && cur.value("status", "") == cond.value("status", ""))
    cond["lastTransitionTime"] = cur.value("lastTransitionTime", cond.value("lastTransitionTime", ""));
  RemoveCondition(status, cond["type"]);
  (*status)["conditions"].push_back(cond);
}

void RemoveCondition(Json* status, const std::string& type) {
  Json kept = Json::array();
  for (const Json& c : status->value("conditions", Json::array()))
    if (c.value("type", "") != type) kept.push_back(c);
  (*status)["conditions"] = kept;
}

bool HasProgressDeadline(const Json& d) {
  const Json spec = d.value("spec", Json::object());
  return spec.contains("progressDeadlineSeconds") && spec["progressDeadlineSeconds"].is_number() &&
         spec["progressDeadlineSeconds"].get<int64_t>() != 2147483647;
}

Json CalculateStatus(const Json& d, const std::vector<Json>& all, const Json* new_rs) {
  int64_t replicas = 0, ready = 0, available = 0;
  for (const Json& rs : all) {
    replicas += StatusInt(rs, "replicas");
    ready += StatusInt(rs, "readyReplicas");
    available += StatusInt(rs, "availableReplicas");
  }
  Json old = d.value("status", Json::object());
  Json status = {{"observedGeneration", d["metadata"].value("generation", int64_t{0})},
                 {"replicas", replicas},
                 {"updatedReplicas", new_rs ? StatusInt(*new_rs, "replicas") : 0},
                 {"readyReplicas", ready},
                 {"availableReplicas", available},
                 {"unavailableReplicas", std::max<int64_t>(0, replicas - available)},
                 {"conditions", old.is_object() ? old.value("conditions", Json::array()) : Json::array()}};
  if (old.is_object() && old.contains("collisionCount")) status["collisionCount"] = old["collisionCount"];
  if (available >= SpecReplicas(d) - MaxUnavailable(d))
    SetCondition(&status, NewCondition("Available", "True", kMinimumReplicasAvailable, "Deployment has minimum availability."));
  else
    SetCondition(&status,
                 NewCondition("Available", "False", kMinimumReplicasUnavailable, "Deployment does not have minimum availability."));
  return status;
}

bool DeploymentComplete(const Json& d, const Json& s) {
  const int64_t want = SpecReplicas(d);
  return s.value("updatedReplicas", int64_t{0}) == want && s.value("replicas", int64_t{0}) == want &&
         s.value("availableReplicas", int64_t{0}) == want &&
         s.value("observedGeneration", int64_t{0}) >= d["metadata"].value("generation", int64_t{0});
}

bool DeploymentProgressing(const Json& d, const Json& s) {
  auto old = [&d](const char* f) { return StatusInt(d, f); };
  auto now = [&s](const char* f) { return s.value(f, int64_t{0}); };
  return now("updatedReplicas") > old("updatedReplicas") ||
         now("replicas") - now("updatedReplicas") < old("replicas") - old("updatedReplicas") ||
         now("readyReplicas") > old("readyReplicas") || now("availableReplicas") > old("availableReplicas");
}

bool DeploymentTimedOut(const Json& d, const Json& s, int64_t now_unix) {
  if (!HasProgressDeadline(d)) return false;
  Json cond = GetCondition(s, "Progressing");
  if (cond.is_null() || cond.value("reason", "") == kNewRSAvailableReason) return false;
  if (cond.value("reason", "") == kTimedOutReason) return true;
  int64_t from = ParseTime(cond.value("lastUpdateTime", ""));
  return from + d["spec"]["progressDeadlineSeconds"].get<int64_t>() < now_unix;
}

int64_t ReplicaSetProportion(const Json& rs, const Json& d, int64_t to_add, int64_t added) {
  const int64_t rs_replicas = SpecReplicas(rs);
  if (rs_replicas == 0 || to_add == 0 || to_add == added) return 0;
  int64_t fraction;
  if (SpecReplicas(d) == 0) {
    fraction = -rs_replicas;
  } else {
    const int64_t deployment_replicas = SpecReplicas(d) + MaxSurge(d);
    int64_t annotated = 0;
    Json a = Annotations(rs);
    if (!a.contains(kMaxReplicasAnnotation) || !a[kMaxReplicasAnnotation].is_string() ||
        !ParseInt(a[kMaxReplicasAnnotation].get<std::string>(), &annotated))
      annotated = StatusInt(d, "replicas");
    if (annotated <= 0) annotated = 1;
    double size = static_cast<double>(rs_replicas * deployment_replicas) / static_cast<double>(annotated);
    fraction = static_cast<int64_t>(std::llround(size)) - rs_replicas;
  }
  const int64_t allowed = to_add - added;
  return to_add > 0 ? std::min(fraction, allowed) : std::max(fraction, allowed);
}

int64_t NewRSNewReplicas(const Json& d, const std::vector<Json>& all, const Json& new_rs) {
  if (!IsRollingUpdate(d)) return SpecReplicas(d);
  int64_t current = 0;
  for (const Json& rs : all) current += SpecReplicas(rs);
  const int64_t max_total = SpecReplicas(d) + MaxSurge(d);
  if (current >= max_total) return SpecReplicas(new_rs);
  const int64_t up = std::min(max_total - current, SpecReplicas(d) - SpecReplicas(new_rs));
  return SpecReplicas(new_rs) + up;
}

}  // namespace kubit::controllers
