// Defaults of the workload kinds: apps/v1 (Deployment, ReplicaSet,
// StatefulSet, DaemonSet) and batch/v1 (Job, CronJob), each with the pod
// defaults on its template.
#include "core/api/defaults_internal.h"

namespace kubit::api::defaults {
namespace {

void DefaultDeployment(Json* d) {
  Json* spec = Child(d, "spec");
  if (!spec) return;
  SetIfMissing(spec, "replicas", 1);
  if (Json* strategy = Child(spec, "strategy")) {
    SetIfMissing(strategy, "type", "RollingUpdate");
    if (Str(*strategy, "type") == "RollingUpdate") {
      if (Json* ru = Child(strategy, "rollingUpdate")) {
        SetIfMissing(ru, "maxUnavailable", "25%");
        SetIfMissing(ru, "maxSurge", "25%");
      }
    }
  }
  SetIfMissing(spec, "revisionHistoryLimit", 10);
  SetIfMissing(spec, "progressDeadlineSeconds", 600);
  DefaultPodTemplate(Child(spec, "template"));
}

void DefaultDaemonSet(Json* ds) {
  Json* spec = Child(ds, "spec");
  if (!spec) return;
  if (Json* strategy = Child(spec, "updateStrategy")) {
    SetIfMissing(strategy, "type", "RollingUpdate");
    if (Str(*strategy, "type") == "RollingUpdate") {
      if (Json* ru = Child(strategy, "rollingUpdate")) {
        SetIfMissing(ru, "maxUnavailable", 1);
        SetIfMissing(ru, "maxSurge", 0);
      }
    }
  }
  SetIfMissing(spec, "revisionHistoryLimit", 10);
  DefaultPodTemplate(Child(spec, "template"));
}

void DefaultStatefulSet(Json* sts) {
  Json* spec = Child(sts, "spec");
  if (!spec) return;
  SetIfMissing(spec, "podManagementPolicy", "OrderedReady");
  if (Json* strategy = Child(spec, "updateStrategy")) {
    if (!Has(*strategy, "type")) {
      (*strategy)["type"] = "RollingUpdate";
      SetIfMissing(strategy, "rollingUpdate", Json::object());
    }
    if (Str(*strategy, "type") == "RollingUpdate")
      if (Json* ru = ObjAt(strategy, "rollingUpdate")) SetIfMissing(ru, "partition", 0);
  }
  if (Json* retention = Child(spec, "persistentVolumeClaimRetentionPolicy")) {
    SetIfMissing(retention, "whenDeleted", "Retain");
    SetIfMissing(retention, "whenScaled", "Retain");
  }
  SetIfMissing(spec, "replicas", 1);
  SetIfMissing(spec, "revisionHistoryLimit", 10);
  DefaultPodTemplate(Child(spec, "template"));
  // Claim templates are whole PVCs; apps/v1 writes their apiVersion and kind.
  EachObj(spec, "volumeClaimTemplates", [](Json* pvc) {
    (*pvc)["apiVersion"] = "v1";
    (*pvc)["kind"] = "PersistentVolumeClaim";
    DefaultPVCSpec(Child(pvc, "spec"));
    if (Json* st = Child(pvc, "status")) SetIfMissing(st, "phase", "Pending");
  });
}

void DefaultJob(Json* job) {
  Json* spec = Child(job, "spec");
  if (!spec) return;
  if (!Has(*spec, "completions") && !Has(*spec, "parallelism")) {
    (*spec)["completions"] = 1;
    (*spec)["parallelism"] = 1;
  }
  SetIfMissing(spec, "parallelism", 1);
  SetIfMissing(spec, "backoffLimit", Has(*spec, "backoffLimitPerIndex") ? 2147483647 : 6);
  // The Job's labels default to its template's.
  Json* tmpl = Child(spec, "template");
  if (tmpl && IsObj(*tmpl, "metadata") && IsObj((*tmpl)["metadata"], "labels") &&
      !(*tmpl)["metadata"]["labels"].empty()) {
    Json* meta = Child(job, "metadata");
    if (meta && (!IsObj(*meta, "labels") || (*meta)["labels"].empty()))
      (*meta)["labels"] = (*tmpl)["metadata"]["labels"];
  }
  SetIfMissing(spec, "completionMode", "NonIndexed");
  SetIfMissing(spec, "suspend", false);
  bool failure_policy = IsObj(*spec, "podFailurePolicy");
  if (failure_policy) {
    EachObj(&(*spec)["podFailurePolicy"], "rules", [](Json* rule) {
      EachObj(rule, "onPodConditions", [](Json* p) { SetIfMissing(p, "status", "True"); });
    });
  }
  SetIfMissing(spec, "podReplacementPolicy", failure_policy ? "Failed" : "TerminatingOrFailed");
  // restartPolicy has no default in a Job template: it must be given.
  DefaultPodTemplate(tmpl, false);
}

void DefaultCronJob(Json* cj) {
  Json* spec = Child(cj, "spec");
  if (!spec) return;
  SetIfMissing(spec, "concurrencyPolicy", "Allow");
  SetIfMissing(spec, "suspend", false);
  SetIfMissing(spec, "successfulJobsHistoryLimit", 3);
  SetIfMissing(spec, "failedJobsHistoryLimit", 1);
  if (Json* jt = Child(spec, "jobTemplate"))
    if (Json* js = Child(jt, "spec")) DefaultPodTemplate(Child(js, "template"), false);
}

}  // namespace

bool DefaultWorkloadKind(const ResourceType& t, Json* obj) {
  const std::string& k = t.kind;
  if (t.group == "apps") {
    if (k == "Deployment") DefaultDeployment(obj);
    else if (k == "DaemonSet") DefaultDaemonSet(obj);
    else if (k == "StatefulSet") DefaultStatefulSet(obj);
    else if (k == "ReplicaSet") {
      if (Json* spec = Child(obj, "spec")) {
        SetIfMissing(spec, "replicas", 1);
        DefaultPodTemplate(Child(spec, "template"));
      }
    } else {
      return false;
    }
    return true;
  }
  if (t.group == "batch") {
    if (k == "Job") DefaultJob(obj);
    else if (k == "CronJob") DefaultCronJob(obj);
    else return false;
    return true;
  }
  return false;
}

}  // namespace kubit::api::defaults
