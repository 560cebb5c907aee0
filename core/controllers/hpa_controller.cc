#include "core/controllers/hpa_controller.h"

#include <nlohmann/json.hpp>

#include "core/api/defaults_quantity.h"
#include "core/api/meta.h"
#include "core/api/selectors.h"
#include "core/controllers/controller_ref.h"
#include "core/controllers/pod_state.h"

namespace kubit::controllers {

using client::Json;
using client::ObjectPtr;
using client::Status;

namespace {

const client::Resource kHpas{"autoscaling", "v2", "horizontalpodautoscalers"};
const client::Resource kPods{"", "v1", "pods"};

bool TargetResource(const Json& ref, client::Resource* out) {
  const std::string kind = ref.value("kind", ""), api_version = ref.value("apiVersion", "");
  if (api_version != "apps/v1") return false;
  if (kind == "Deployment") *out = {"apps", "v1", "deployments"};
  else if (kind == "ReplicaSet") *out = {"apps", "v1", "replicasets"};
  else if (kind == "StatefulSet") *out = {"apps", "v1", "statefulsets"};
  else return false;
  return true;
}

// A quantity in thousandths (cpu "250m" -> 250); -1 if absent or bad.
int64_t Milli(const Json& v) {
  auto q = api::QuantityFromJson(v);
  if (!q) return -1;
  q->exp += 3;
  q->RoundUp(0);
  int64_t out = -1;
  return q->ToInt64(&out) ? out : -1;
}

void SetCondition(Json* conds, const std::string& type, const std::string& status, const std::string& reason,
                  const std::string& message, const std::string& now) {
  for (Json& c : *conds)
    if (c.value("type", "") == type) {
      if (c.value("status", "") != status) c["lastTransitionTime"] = now;
      c["status"] = status, c["reason"] = reason, c["message"] = message;
      return;
    }
  conds->push_back({{"type", type}, {"status", status}, {"reason", reason}, {"message", message}, {"lastTransitionTime", now}});
}

}  // namespace

HorizontalPodAutoscalerController::HorizontalPodAutoscalerController(client::Client* client,
                                                                     client::SharedInformerFactory* informers,
                                                                     Logger log, PodMetricsSource* metrics,
                                                                     std::chrono::milliseconds sync_period)
    : client_(client),
      hpas_(informers->For(kHpas)),
      pods_(informers->For(kPods)),
      metrics_(metrics),
      period_(sync_period),
      recorder_(client, "horizontal-pod-autoscaler"),
      loop_("horizontal-pod-autoscaler", [this](const std::string& key) { return Sync(key); }, log) {
  client::EventHandlers events;
  events.on_add = [this](const ObjectPtr& o) { loop_.queue().Add(client::ObjectKey(*o)); };
  events.on_update = [this](const ObjectPtr& old_obj, const ObjectPtr& o) {
    // Its own status writes need no new pass; spec changes do.
    if (old_obj->value("spec", Json()) != o->value("spec", Json())) loop_.queue().Add(client::ObjectKey(*o));
  };
  events.on_delete = [this](const ObjectPtr& o, bool) {
    std::lock_guard<std::mutex> l(mu_);
    history_.erase(client::ObjectKey(*o));
  };
  hpas_->AddHandler(events);
}

void HorizontalPodAutoscalerController::Start(int workers) { loop_.Start(workers); }

void HorizontalPodAutoscalerController::Stop() { loop_.Stop(); }

Status HorizontalPodAutoscalerController::MetricReplicas(const Json& metric, const std::string& ns,
                                                         const std::string& selector, int64_t current,
                                                         int64_t* replicas, Json* status, std::string* reason) {
  if (metric.value("type", "") != "Resource") {
    *reason = "FailedGetResourceMetric";
    return Status::Api(0, "", "metric type " + metric.value("type", "") + " is not supported yet");
  }
  const Json res = metric.value("resource", Json::object());
  const std::string name = res.value("name", "");
  const Json target = res.value("target", Json::object());
  std::map<std::string, int64_t> usage;
  Status s = metrics_ ? metrics_->ResourceUsage(ns, selector, name, &usage)
                      : Status::Api(0, "", "no metrics returned from resource metrics API");
  if (s.ok() && usage.empty()) s = Status::Api(0, "", "no metrics returned from resource metrics API");
  if (!s.ok()) {
    *reason = "FailedGetResourceMetric";
    return Status::Api(0, "", "unable to get metrics for resource " + name + ": " + s.message());
  }
  api::LabelSelector sel;
  std::string error;
  api::LabelSelector::Parse(selector, &sel, &error);
  int64_t used = 0, requested = 0, pods = 0;
  for (const ObjectPtr& p : pods_->ByIndex(client::kNamespaceIndex, ns)) {
    if (!sel.Matches(p->at("metadata").value("labels", Json::object())) || BeingDeleted(*p)) continue;
    auto it = usage.find(p->at("metadata").value("name", ""));
    if (it == usage.end()) continue;
    pods++;
    used += it->second;
    for (const Json& c : p->value("spec", Json::object()).value("containers", Json::array())) {
      int64_t r = Milli(c.value("resources", Json::object()).value("requests", Json::object()).value(name, Json()));
      if (r < 0) requested = -1;
      if (requested >= 0) requested += r;
    }
  }
  if (pods == 0) {
    *reason = "FailedGetResourceMetric";
    return Status::Api(0, "", "unable to get metrics for resource " + name + ": no metrics returned from resource metrics API");
  }
  Json current_metric = {{"type", "Resource"}, {"resource", {{"name", name}, {"current", Json::object()}}}};
  Json& cur = current_metric["resource"]["current"];
  if (target.value("type", "") == "Utilization") {
    if (requested <= 0) {
      *reason = "FailedGetResourceMetric";
      return Status::Api(0, "", "failed to get " + name + " utilization: missing request for " + name);
    }
    const int64_t utilization = used * 100 / requested;
    *replicas = ReplicasForMetric(current, pods, double(used) * 100.0 / double(requested),
                                  double(target.value("averageUtilization", 0)));
    cur["averageUtilization"] = utilization;
    cur["averageValue"] = std::to_string(used / pods) + "m";
  } else {
    const int64_t want = Milli(target.value("averageValue", Json()));
    if (want <= 0) {
      *reason = "FailedGetResourceMetric";
      return Status::Api(0, "", "invalid averageValue target for " + name);
    }
    *replicas = ReplicasForMetric(current, pods, double(used) / double(pods), double(want));
    cur["averageValue"] = std::to_string(used / pods) + "m";
  }
  *status = current_metric;
  return Status();
}

Status HorizontalPodAutoscalerController::Sync(const std::string& key) {
  ObjectPtr hpa_ptr = hpas_->Get(key);
  if (!hpa_ptr) return Status();
  loop_.queue().AddAfter(key, period_);
  const Json& hpa = *hpa_ptr;
  const std::string ns = hpa["metadata"].value("namespace", "");
  const Json spec = hpa.value("spec", Json::object());
  const std::string now = api::Now();
  const int64_t now_unix = NowUnix();
  Json status = hpa.value("status", Json::object());
  Json conds = status.value("conditions", Json::array());
  const int64_t min_replicas = spec.value("minReplicas", 1), max_replicas = spec.value("maxReplicas", 1);

  auto write = [&]() -> Status {
    status["conditions"] = conds;
    if (status == hpa.value("status", Json::object())) return Status();
    Json updated = hpa;
    updated["status"] = status;
    Status s = client_->UpdateStatus(kHpas, ns, updated);
    return s.IsConflict() || s.IsNotFound() ? Status() : s;
  };

  const Json ref = spec.value("scaleTargetRef", Json::object());
  const std::string ref_text = ref.value("kind", "") + "/" + ref.value("name", "");
  client::Resource target;
  Json scale;
  Status s = TargetResource(ref, &target) ? client_->GetSubresource(target, ns, ref.value("name", ""), "scale", &scale)
                                          : Status::Api(0, "", "unsupported scale target " + ref.value("apiVersion", "") + " " + ref_text);
  if (!s.ok()) {
    SetCondition(&conds, "AbleToScale", "False", "FailedGetScale",
                 "the HPA controller was unable to get the target's current scale: " + s.message(), now);
    recorder_.Event(hpa, client::kEventTypeWarning, "FailedGetScale", s.message());
    return write();
  }
  const int64_t current = scale.value("spec", Json::object()).value("replicas", 0);
  const std::string selector = scale.value("status", Json::object()).value("selector", "");
  status["currentReplicas"] = current;

  int64_t desired = current;
  std::string reason_text;
  if (current == 0 && min_replicas != 0) {
    SetCondition(&conds, "ScalingActive", "False", "ScalingDisabled",
                 "scaling is disabled since the replica count of the target is zero", now);
    status["desiredReplicas"] = 0;
    return write();
  }
  int64_t proposal = 0;
  std::string metric_name;
  Json current_metrics = Json::array();
  Status failed;
  std::string failed_reason;
  for (const Json& m : spec.value("metrics", Json::array())) {
    int64_t r = 0;
    Json cm;
    std::string why;
    Status ms = MetricReplicas(m, ns, selector, current, &r, &cm, &why);
    if (!ms.ok()) {
      failed = ms, failed_reason = why;
      continue;
    }
    current_metrics.push_back(cm);
    if (r > proposal) proposal = r, metric_name = m["resource"].value("name", "");
  }
  status["currentMetrics"] = current_metrics;
  if (current_metrics.empty()) {
    SetCondition(&conds, "AbleToScale", "True", "SucceededGetScale", "the HPA controller was able to get the target's current scale", now);
    SetCondition(&conds, "ScalingActive", "False", failed_reason.empty() ? "FailedGetResourceMetric" : failed_reason,
                 "the HPA was unable to compute the replica count: " + failed.message(), now);
    recorder_.Event(hpa, client::kEventTypeWarning, failed_reason.empty() ? "FailedGetResourceMetric" : failed_reason,
                    failed.message());
    status["desiredReplicas"] = current;
    return write();
  }
  SetCondition(&conds, "ScalingActive", "True", "ValidMetricFound",
               "the HPA was able to successfully calculate a replica count from " + metric_name + " resource utilization (percentage of request)", now);
  {
    std::lock_guard<std::mutex> l(mu_);
    History& h = history_[key];
    desired = NormalizeReplicas(spec.value("behavior", Json()), current, proposal, min_replicas, max_replicas, now_unix,
                                &h.recommendations, h.up, h.down);
  }
  if (proposal > max_replicas && desired == max_replicas)
    SetCondition(&conds, "ScalingLimited", "True", "TooManyReplicas", "the desired replica count is more than the maximum replica count", now);
  else if (proposal < min_replicas && desired == min_replicas)
    SetCondition(&conds, "ScalingLimited", "True", "TooFewReplicas", "the desired replica count is less than the minimum replica count", now);
  else
    SetCondition(&conds, "ScalingLimited", "False", "DesiredWithinRange", "the desired count is within the acceptable range", now);

  status["desiredReplicas"] = desired;
  if (desired != current) {
    Json new_scale = scale;
    new_scale["spec"]["replicas"] = desired;
    s = client_->UpdateSubresource(target, ns, ref.value("name", ""), "scale", new_scale);
    if (!s.ok()) {
      SetCondition(&conds, "AbleToScale", "False", "FailedUpdateScale", "the HPA controller was unable to update the target scale: " + s.message(), now);
      recorder_.Event(hpa, client::kEventTypeWarning, "FailedRescale", "New size: " + std::to_string(desired) + "; error: " + s.message());
      return write();
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      History& h = history_[key];
      (desired > current ? h.up : h.down).push_back({std::abs(desired - current), now_unix});
      for (auto* events : {&h.up, &h.down})
        while (!events->empty() && events->front().at < now_unix - 1800) events->pop_front();
    }
    SetCondition(&conds, "AbleToScale", "True", "SucceededRescale", "the HPA controller was able to update the target scale to " + std::to_string(desired), now);
    recorder_.Event(hpa, client::kEventTypeNormal, "SuccessfulRescale",
                    "New size: " + std::to_string(desired) + "; reason: " + metric_name + " resource utilization (percentage of request) " +
                        (desired > current ? "above" : "below") + " target");
    status["lastScaleTime"] = now;
  } else {
    SetCondition(&conds, "AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size", now);
  }
  return write();
}

}  // namespace kubit::controllers
