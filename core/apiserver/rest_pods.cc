// Pods' own verbs, as upstream's pod registry: graceful deletion, binding
// to a node (the scheduler's write) and eviction under disruption budgets.
#include <nlohmann/json.hpp>

#include "core/api/defaults_quantity.h"
#include "core/api/meta.h"
#include "core/api/selectors.h"
#include "core/apiserver/responses.h"
#include "core/apiserver/rest_internal.h"

namespace kubit::apiserver::rest_internal {
namespace {

const Json kSuccess201 = {{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", Json::object()},
                          {"status", "Success"}, {"code", 201}};

// The subresource body must name the pod of the URL.
bool CheckBodyName(Call& c, const Json& body, const char* what, ApiError* err) {
  std::string name = body.contains("metadata") && body["metadata"].is_object()
                         ? body["metadata"].value("name", "") : "";
  if (name != c.info.name) {
    *err = ApiError::BadRequest(std::string("name in URL does not match name in ") + what + " object");
    return false;
  }
  return true;
}

// Sets (or replaces) a pod condition, as podutil.UpdatePodCondition.
void SetCondition(Json* pod, const std::string& type, const std::string& status) {
  Json& conds = (*pod)["status"]["conditions"];
  if (!conds.is_array()) conds = Json::array();
  for (auto& c : conds)
    if (c.value("type", "") == type) {
      if (c.value("status", "") != status) c["lastTransitionTime"] = api::Now();
      c["status"] = status;
      c["lastProbeTime"] = nullptr;
      return;
    }
  conds.push_back({{"type", type}, {"status", status}, {"lastProbeTime", nullptr},
                   {"lastTransitionTime", api::Now()}});
}

// POST pods/<name>/binding: the scheduler assigns the pod to a node.
void Bind(Call& c) {
  Json b;
  ApiError err;
  if (!ParseBody(c.req, &b, &err) || !CheckBodyName(c, b, "Binding", &err)) return SendError(c.resp, err);
  const Json target = b.value("target", Json::object());
  std::string node = target.is_object() ? target.value("name", "") : "";
  std::string kind = target.is_object() ? target.value("kind", "") : "";
  if (!kind.empty() && kind != "Node")
    return SendError(c.resp, ApiError::Internal("must be Node, got " + kind));
  if (node.empty())
    return SendError(c.resp, ApiError::Invalid(c.type, c.info.name,
                                               {{"Required value", "target.name", "", ""}}));
  for (int attempt = 0;; attempt++) {
    store::KeyValue cur;
    store::Status s = c.state->Get(c.key(c.info.name), &cur);
    if (!s.ok()) return SendError(c.resp, ApiError::FromStore(s, c.type, c.info.name));
    Json pod = Decode(cur);
    Json& meta = pod["metadata"];
    if (meta.contains("deletionTimestamp"))
      return SendError(c.resp, ApiError::Conflict(c.type, c.info.name,
                                                  "pod " + c.info.name + " is being deleted, cannot be assigned to a host"));
    std::string bound = pod.contains("spec") ? pod["spec"].value("nodeName", "") : "";
    if (!bound.empty())
      return SendError(c.resp, ApiError::Conflict(c.type, c.info.name,
                                                  "pod " + c.info.name + " is already assigned to node \"" + bound + "\""));
    if (b.contains("metadata") && b["metadata"].contains("annotations") &&
        b["metadata"]["annotations"].is_object())
      for (const auto& [k, v] : b["metadata"]["annotations"].items()) meta["annotations"][k] = v;
    pod["spec"]["nodeName"] = node;
    SetCondition(&pod, "PodScheduled", "True");
    if (c.dry_run()) return SendJson(c.resp, 201, kSuccess201);
    s = c.state->Update(c.key(c.info.name), Encode(pod), cur.mod_revision);
    if (s.IsConflict() && attempt < 8) continue;
    if (!s.ok()) return SendError(c.resp, ApiError::FromStore(s, c.type, c.info.name));
    return SendJson(c.resp, 201, kSuccess201);
  }
}

bool PodReady(const Json& pod) {
  if (!pod.contains("status") || !pod["status"].contains("conditions")) return false;
  for (const auto& cond : pod["status"]["conditions"])
    if (cond.value("type", "") == "Ready") return cond.value("status", "") == "True";
  return false;
}

// Pods that no budget protects: finished, never started, or already going.
bool CanIgnoreBudget(const Json& pod) {
  std::string phase = pod.contains("status") ? pod["status"].value("phase", "") : "";
  return phase == "Succeeded" || phase == "Failed" || phase == "Pending" ||
         pod["metadata"].contains("deletionTimestamp");
}

ApiError TooManyRequests(const std::string& cause) {
  ApiError e{429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget."};
  e.other_causes.push_back({"DisruptionBudget", cause});
  return e;
}

// The budgets of the pod's namespace whose selector matches the pod.
bool MatchingBudgets(Call& c, const Json& pod, std::vector<store::KeyValue>* out, ApiError* err) {
  const ResourceType& pdb = *api::FindType("policy", "v1", "poddisruptionbudgets");
  store::ListResult r;
  store::Status s = c.state->List(pdb.storage_prefix() + c.info.ns + "/", {}, &r);
  if (!s.ok()) {
    *err = ApiError::FromStore(s, pdb, "");
    return false;
  }
  const Json labels = pod["metadata"].value("labels", Json::object());
  for (const auto& kv : r.items) {
    Json b = Json::parse(kv->value);
    if (!b.contains("spec") || !b["spec"].contains("selector") || b["spec"]["selector"].is_null())
      continue;  // a nil selector matches nothing
    api::LabelSelector sel;
    std::string error;
    if (!api::LabelSelector::FromJson(b["spec"]["selector"], &sel, &error)) continue;
    if (sel.Matches(labels)) out->push_back(*kv);
  }
  return true;
}

// Takes one disruption from the budget, or says why not.
bool TakeDisruption(Call& c, const Json& pod, ApiError* err) {
  const ResourceType& pdb_type = *api::FindType("policy", "v1", "poddisruptionbudgets");
  for (int attempt = 0;; attempt++) {
    std::vector<store::KeyValue> budgets;
    if (!MatchingBudgets(c, pod, &budgets, err)) return false;
    if (budgets.empty()) return true;
    if (budgets.size() > 1) {
      *err = ApiError::Internal("This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
      return false;
    }
    Json b = Decode(budgets[0]);
    std::string name = b["metadata"].value("name", "");
    const Json st = b.value("status", Json::object());
    int64_t observed = st.value("observedGeneration", int64_t{0});
    int64_t generation = b["metadata"].value("generation", int64_t{0});
    int64_t allowed = st.value("disruptionsAllowed", int64_t{0});
    int64_t desired = st.value("desiredHealthy", int64_t{0}), healthy = st.value("currentHealthy", int64_t{0});
    // An unready pod does not count against a healthy budget.
    if (!PodReady(pod)) {
      std::string policy = b["spec"].value("unhealthyPodEvictionPolicy", "IfHealthyBudget");
      if (policy == "AlwaysAllow" || (observed >= generation && healthy >= desired && desired > 0))
        return true;
    }
    if (observed < generation) {
      *err = TooManyRequests("The disruption budget " + name + " is still being processed by the server.");
      return false;
    }
    if (allowed < 0) {
      *err = ApiError::Forbidden("pdb disruptions allowed is negative");
      return false;
    }
    if (st.contains("disruptedPods") && st["disruptedPods"].size() > 2000) {
      *err = ApiError::Forbidden("DisruptedPods map too big - too many evictions not confirmed by PDB controller");
      return false;
    }
    if (allowed == 0) {
      *err = TooManyRequests("The disruption budget " + name + " needs " + std::to_string(desired) +
                             " healthy pods and has " + std::to_string(healthy) + " currently");
      return false;
    }
    if (c.dry_run()) return true;
    b["status"]["disruptionsAllowed"] = allowed - 1;
    b["status"]["disruptedPods"][c.info.name] = api::Now();
    store::Status s = c.state->Update(budgets[0].key, Encode(b), budgets[0].mod_revision);
    if (s.IsConflict() && attempt < 8) continue;
    if (!s.ok()) {
      *err = ApiError::FromStore(s, pdb_type, name);
      return false;
    }
    return true;
  }
}

// POST pods/<name>/eviction: a delete that respects PodDisruptionBudgets.
void Evict(Call& c) {
  Json ev;
  ApiError err;
  if (!ParseBody(c.req, &ev, &err) || !CheckBodyName(c, ev, "Eviction", &err)) return SendError(c.resp, err);
  store::KeyValue cur;
  store::Status s = c.state->Get(c.key(c.info.name), &cur);
  if (!s.ok()) return SendError(c.resp, ApiError::FromStore(s, c.type, c.info.name));
  Json pod = Decode(cur);
  if (!CanIgnoreBudget(pod) && !TakeDisruption(c, pod, &err)) return SendError(c.resp, err);
  Json opts = ev.value("deleteOptions", Json::object()), result;
  if (!opts.is_object()) opts = Json::object();
  if (!DeleteObject(c, &opts, &result, &err)) return SendError(c.resp, err);
  SendJson(c.resp, 201, kSuccess201);
}

bool SameQuantity(const Json& a, const Json& b) {
  auto qa = api::QuantityFromJson(a), qb = api::QuantityFromJson(b);
  return qa && qb && api::CompareQuantity(*qa, *qb) == 0;
}

bool NonZero(const Json& v) {
  auto q = api::QuantityFromJson(v);
  return q && q->Sign() > 0;
}

// Upstream's GetPodQOS: BestEffort without any cpu/memory request or limit;
// Guaranteed when every container limits both and requests what it limits
// (defaulting has copied limits to missing requests); else Burstable.
std::string QosClass(const Json& pod) {
  bool any = false, guaranteed = true;
  const Json spec = pod.value("spec", Json::object());
  for (const char* list : {"initContainers", "containers"}) {
    for (const auto& c : spec.value(list, Json::array())) {
      const Json res = c.is_object() ? c.value("resources", Json::object()) : Json::object();
      const Json req = res.value("requests", Json::object()), lim = res.value("limits", Json::object());
      for (const char* r : {"cpu", "memory"}) {
        bool has_req = req.contains(r) && NonZero(req[r]), has_lim = lim.contains(r) && NonZero(lim[r]);
        any = any || has_req || has_lim;
        if (!has_lim || (req.contains(r) && !SameQuantity(req[r], lim[r]))) guaranteed = false;
      }
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

}  // namespace

void PreparePodCreate(Json* pod) {
  (*pod)["status"] = {{"phase", "Pending"}, {"qosClass", QosClass(*pod)}};
}

int64_t PodGracePeriod(const Json& pod, const Json& opts) {
  int64_t grace = 30;
  if (pod.contains("spec") && pod["spec"].contains("terminationGracePeriodSeconds") &&
      pod["spec"]["terminationGracePeriodSeconds"].is_number_integer())
    grace = pod["spec"]["terminationGracePeriodSeconds"].get<int64_t>();
  if (opts.contains("gracePeriodSeconds") && opts["gracePeriodSeconds"].is_number_integer())
    grace = opts["gracePeriodSeconds"].get<int64_t>();
  // Nothing runs a pod that no node has, or one that has finished.
  std::string node = pod.contains("spec") ? pod["spec"].value("nodeName", "") : "";
  std::string phase = pod.contains("status") ? pod["status"].value("phase", "") : "";
  if (node.empty() || phase == "Succeeded" || phase == "Failed") return 0;
  return grace < 0 ? 0 : grace;
}

bool ServePod(Call& c) {
  if (c.info.subresource == "binding" && c.info.verb == "create") return Bind(c), true;
  if (c.info.subresource == "eviction" && c.info.verb == "create") return Evict(c), true;
  return false;
}

}  // namespace kubit::apiserver::rest_internal
