#include "core/controllers/job_controller.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/api/meta.h"
#include "core/controllers/controller_ref.h"
#include "core/controllers/pod_state.h"

namespace kubit::controllers {

using client::ObjectPtr;
using client::Status;

namespace {

const client::Resource kJobs{"batch", "v1", "jobs"};
const client::Resource kPods{"", "v1", "pods"};
const char* kJobIndex = "job";  // pods by their controlling Job's key

// "ns/name" of the Job controlling `pod`, or "".
std::string OwnerJobKey(const Json& pod) { return ControllerKeyOf(pod, "Job"); }

int64_t IntOr(const Json& obj, const char* field, int64_t dflt) {
  auto it = obj.find(field);
  return it != obj.end() && it->is_number_integer() ? it->get<int64_t>() : dflt;
}

std::set<std::string> UidSet(const Json& uncounted, const char* field) {
  std::set<std::string> out;
  for (const Json& u : uncounted.value(field, Json::array()))
    if (u.is_string()) out.insert(u.get<std::string>());
  return out;
}

// Restarts of the containers of running and pending pods: with
// restartPolicy OnFailure failures are restarts, not failed pods.
bool PastBackoffLimitOnFailure(const Json& job, const std::vector<ObjectPtr>& pods, int64_t limit) {
  if (job["spec"]["template"]["spec"].value("restartPolicy", "") != "OnFailure") return false;
  int64_t restarts = 0;
  for (const ObjectPtr& p : pods) {
    if (PodPhase(*p) != "Running" && PodPhase(*p) != "Pending") continue;
    const Json& st = p->value("status", Json::object());
    for (const char* list : {"initContainerStatuses", "containerStatuses"})
      for (const Json& cs : st.value(list, Json::array())) restarts += IntOr(cs, "restartCount", 0);
  }
  return limit == 0 ? restarts > 0 : restarts >= limit;
}

// Which active pods go first when there are too many, as upstream's
// ActivePods ranking: unscheduled, then pending, then not ready, then the
// newest.
void RankForDeletion(std::vector<ObjectPtr>* pods) {
  auto rank = [](const Json& p) {
    int r = 0;
    if (p["spec"].value("nodeName", "").empty()) return 0;
    r = PodPhase(p) == "Pending" ? 1 : PodPhase(p) == "Running" ? 3 : 2;
    if (r == 3 && !IsPodReady(p)) r = 2;
    return r;
  };
  std::stable_sort(pods->begin(), pods->end(), [&](const ObjectPtr& a, const ObjectPtr& b) {
    int ra = rank(*a), rb = rank(*b);
    if (ra != rb) return ra < rb;
    return a->at("metadata").value("creationTimestamp", "") > b->at("metadata").value("creationTimestamp", "");
  });
}

// The pod a Job makes from its template for `index` (-1: NonIndexed).
Json NewPod(const Json& job, int index) {
  const Json& meta = job["metadata"];
  const Json& tmpl = job["spec"]["template"];
  const std::string name = meta.value("name", "");
  Json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", Json::object()}, {"spec", tmpl["spec"]}};
  Json& pm = pod["metadata"];
  const Json tmeta = tmpl.value("metadata", Json::object());
  pm["labels"] = tmeta.value("labels", Json::object());
  pm["annotations"] = tmeta.value("annotations", Json::object());
  pm["finalizers"] = Json::array({kJobTrackingFinalizer});
  pm["ownerReferences"] = Json::array(
      {ControllerRefFor({{"apiVersion", "batch/v1"}, {"kind", "Job"}, {"metadata", meta}})});
  if (index < 0) {
    pm["generateName"] = name + "-";
    return pod;
  }
  // Upstream keeps the index whole and shortens the Job's name instead, so
  // the generated name still fits.
  const std::string idx = std::to_string(index), append = "-" + idx + "-";
  const size_t kMaxGenerated = 58;
  std::string prefix = name + append;
  if (prefix.size() > kMaxGenerated) prefix = name.substr(0, kMaxGenerated - append.size()) + append;
  pm["generateName"] = prefix;
  pm["annotations"][kJobCompletionIndex] = idx;
  pm["labels"][kJobCompletionIndex] = idx;
  Json& spec = pod["spec"];
  if (spec.value("hostname", "").empty()) spec["hostname"] = name + "-" + idx;
  // The index reaches the containers through the downward API, as upstream.
  Json env = {{"name", "JOB_COMPLETION_INDEX"},
              {"valueFrom",
               {{"fieldRef",
                 {{"apiVersion", "v1"},
                  {"fieldPath", std::string("metadata.annotations['") + kJobCompletionIndex + "']"}}}}}};
  for (const char* list : {"initContainers", "containers"}) {
    if (!spec.contains(list) || !spec[list].is_array()) continue;
    for (Json& c : spec[list]) {
      bool has = false;
      for (const Json& e : c.value("env", Json::array())) has = has || e.value("name", "") == "JOB_COMPLETION_INDEX";
      if (!has) c["env"].push_back(env);
    }
  }
  return pod;
}

}  // namespace

// Everything one sync learns from the Job's pods and status.
struct JobController::PodCensus {
  std::vector<ObjectPtr> active, terminating;
  int64_t ready = 0;
  int64_t succeeded = 0, failed = 0;                   // status counters
  std::set<std::string> uncounted_succeeded, uncounted_failed;  // status.uncountedTerminatedPods
  std::set<int> completed;                             // Indexed: status.completedIndexes
  std::vector<ObjectPtr> unfinalize;  // finished pods whose end is (about to be) recorded
  bool recorded_new = false;          // uncounted or completed changed
  int new_failures = 0;
  bool new_success = false;
  std::string fail_job_message;  // a FailJob rule of podFailurePolicy matched
  int64_t removed = 0;           // active pods this sync deleted
};

JobController::JobController(client::Client* client, client::SharedInformerFactory* informers, Logger log,
                             JobControllerOptions options)
    : client_(client),
      jobs_(informers->For(kJobs)),
      pods_(informers->For(kPods)),
      log_(log),
      opts_(options),
      recorder_(client, "job-controller"),
      loop_("job-controller", [this](const std::string& key) { return Sync(key); }, log) {
  pods_->AddIndex(kJobIndex, [](const Json& pod) {
    std::string key = OwnerJobKey(pod);
    return key.empty() ? std::vector<std::string>{} : std::vector<std::string>{key};
  });
  client::EventHandlers job_events;
  job_events.on_add = [this](const ObjectPtr& o) { loop_.queue().Add(client::ObjectKey(*o)); };
  job_events.on_update = [this](const ObjectPtr&, const ObjectPtr& o) { loop_.queue().Add(client::ObjectKey(*o)); };
  job_events.on_delete = [this](const ObjectPtr& o, bool) { loop_.queue().Add(client::ObjectKey(*o)); };
  jobs_->AddHandler(job_events);
  client::EventHandlers pod_events;
  pod_events.on_add = [this](const ObjectPtr& p) {
    std::string key = OwnerJobKey(*p);
    if (key.empty()) return;
    expectations_.CreationObserved(key);
    loop_.queue().Add(key);
  };
  pod_events.on_update = [this](const ObjectPtr& old_pod, const ObjectPtr& p) {
    std::string key = OwnerJobKey(*p), old_key = OwnerJobKey(*old_pod);
    if (!old_key.empty() && old_key != key) loop_.queue().Add(old_key);
    if (key.empty()) return;
    if (BeingDeleted(*p)) expectations_.DeletionObserved(key, client::ObjectKey(*p));
    OnPodEvent(p, false);
  };
  pod_events.on_delete = [this](const ObjectPtr& p, bool) {
    std::string key = OwnerJobKey(*p);
    if (key.empty()) return;
    expectations_.DeletionObserved(key, client::ObjectKey(*p));
    OnPodEvent(p, true);
  };
  pods_->AddHandler(pod_events);
}

void JobController::OnPodEvent(const ObjectPtr& pod, bool deleted) {
  std::string key = OwnerJobKey(*pod);
  if (deleted || !HasFinalizer(*pod, kJobTrackingFinalizer)) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = finalizer_removals_.find(key);
    if (it != finalizer_removals_.end()) it->second.erase(pod->at("metadata").value("uid", ""));
  }
  loop_.queue().Add(key);
}

void JobController::Start(int workers) { loop_.Start(workers); }

void JobController::Stop() { loop_.Stop(); }

void JobController::Log(LogLevel level, const std::string& m) const {
  if (log_) log_(level, "job-controller: " + m);
}

bool JobController::FinalizerRemovalPending(const std::string& key, const std::string& uid) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = finalizer_removals_.find(key);
  return it != finalizer_removals_.end() && it->second.count(uid);
}

Status JobController::RemoveFinalizer(const std::string& key, const Json& pod) {
  const Json& meta = pod["metadata"];
  // Upstream's patch: it removes this one finalizer whatever else changed.
  Json patch = {{"metadata", {{"$deleteFromPrimitiveList/finalizers", {kJobTrackingFinalizer}}}}};
  Status s = client_->Patch(kPods, meta.value("namespace", ""), meta.value("name", ""),
                            client::PatchType::kStrategicMerge, patch.dump());
  if (s.IsNotFound()) return Status();
  if (s.ok() && !key.empty()) {
    std::lock_guard<std::mutex> l(mu_);
    finalizer_removals_[key].insert(meta.value("uid", ""));
  }
  return s;
}

std::chrono::milliseconds JobController::ReplacementDelay(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = backoff_.find(key);
  if (it == backoff_.end() || it->second.failures == 0) return std::chrono::milliseconds(0);
  auto delay = opts_.pod_failure_backoff;
  for (int i = 1; i < it->second.failures && delay < opts_.max_pod_failure_backoff; i++) delay *= 2;
  delay = std::min(delay, opts_.max_pod_failure_backoff);
  auto ready_at = it->second.last_failure + delay;
  auto now = std::chrono::steady_clock::now();
  if (ready_at <= now) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(ready_at - now) + std::chrono::milliseconds(1);
}

void JobController::Census(const Json& job, const std::vector<ObjectPtr>& pods, PodCensus* c) {
  const Json& spec = job["spec"];
  const Json status = job.value("status", Json::object());
  const std::string key = client::ObjectKey(job);
  const bool indexed = spec.value("completionMode", "") == "Indexed";
  const int completions = static_cast<int>(IntOr(spec, "completions", -1));
  const bool only_failed = spec.value("podReplacementPolicy", "") == "Failed";
  const Json policy = spec.value("podFailurePolicy", Json());
  c->succeeded = IntOr(status, "succeeded", 0);
  c->failed = IntOr(status, "failed", 0);
  const Json uncounted = status.value("uncountedTerminatedPods", Json::object());
  c->uncounted_succeeded = UidSet(uncounted, "succeeded");
  c->uncounted_failed = UidSet(uncounted, "failed");
  if (indexed) c->completed = ParseIndexes(status.value("completedIndexes", ""), completions);

  for (const ObjectPtr& p : pods) {
    const std::string& phase = PodPhase(*p);
    const std::string uid = p->at("metadata").value("uid", "");
    const bool deleting = BeingDeleted(*p);
    const bool succeeded = phase == "Succeeded";
    // Upstream's isPodFailed: a pod being deleted counts as failed unless
    // only Failed pods are replaced (then it must reach the phase first).
    const bool failed = phase == "Failed" || (!only_failed && deleting && !succeeded);
    if (deleting && !succeeded && phase != "Failed") c->terminating.push_back(p);
    if (!succeeded && !failed) {
      if (!deleting) {
        c->active.push_back(p);
        if (IsPodReady(*p)) c->ready++;
      }
      continue;
    }
    if (!HasFinalizer(*p, kJobTrackingFinalizer) || FinalizerRemovalPending(key, uid)) continue;  // counted
    if (c->uncounted_succeeded.count(uid) || c->uncounted_failed.count(uid)) {
      c->unfinalize.push_back(p);
      continue;
    }
    if (succeeded) {
      c->new_success = true;
      if (indexed) {
        // The index itself guards against counting twice.
        int idx = CompletionIndex(*p, completions);
        if (idx >= 0 && c->completed.insert(idx).second) c->recorded_new = true;
      } else {
        c->uncounted_succeeded.insert(uid);
        c->recorded_new = true;
      }
    } else {
      FailureAction action = FailureAction::kNoMatch;
      std::string message;
      if (policy.is_object() && phase == "Failed") action = MatchPodFailurePolicy(policy, *p, &message);
      if (action != FailureAction::kIgnore) {
        if (action == FailureAction::kFailJob && c->fail_job_message.empty()) c->fail_job_message = message;
        c->uncounted_failed.insert(uid);
        c->recorded_new = true;
        c->new_failures++;
      }
    }
    c->unfinalize.push_back(p);
  }
}

Status JobController::Sync(const std::string& key) {
  ObjectPtr job_ptr = jobs_->Get(key);
  const std::string job_uid = job_ptr ? job_ptr->at("metadata").value("uid", "") : "";
  std::vector<ObjectPtr> pods;
  Status result;
  for (const ObjectPtr& p : pods_->ByIndex(kJobIndex, key)) {
    if (ControllerRefOf(*p).value("uid", "") == job_uid && !job_uid.empty()) {
      pods.push_back(p);
    } else if (HasFinalizer(*p, kJobTrackingFinalizer)) {
      // An earlier Job of this name is gone: nothing will count its pods.
      Status s = RemoveFinalizer("", *p);
      if (!s.ok()) result = s;
    }
  }
  if (!job_ptr) {
    expectations_.DeleteExpectations(key);
    std::lock_guard<std::mutex> l(mu_);
    backoff_.erase(key);
    finalizer_removals_.erase(key);
    return result;
  }
  const Json& job = *job_ptr;
  Json status = job.value("status", Json::object());
  const bool finished = ConditionTrue(status, "Complete") || ConditionTrue(status, "Failed");
  if (finished || BeingDeleted(job)) {
    // A finished Job counts nothing more; its pods may go.
    for (const ObjectPtr& p : pods) {
      if (!HasFinalizer(*p, kJobTrackingFinalizer) ||
          FinalizerRemovalPending(key, p->at("metadata").value("uid", "")))
        continue;
      Status s = RemoveFinalizer(key, *p);
      if (!s.ok()) result = s;
    }
    if (finished && result.ok()) return DeleteAfterTTL(key, job);
    return result;
  }

  const Json& spec = job["spec"];
  const std::string now = api::Now();
  PodCensus c;
  Census(job, pods, &c);
  Status s;
  if (c.recorded_new) {
    std::lock_guard<std::mutex> l(mu_);
    Backoff& b = backoff_[key];
    if (c.new_success) b.failures = 0;
    if (c.new_failures > 0) {
      b.failures += c.new_failures;
      b.last_failure = std::chrono::steady_clock::now();
    }
  }

  const bool indexed = spec.value("completionMode", "") == "Indexed";
  const int64_t completions = IntOr(spec, "completions", -1);
  const int64_t backoff_limit = IntOr(spec, "backoffLimit", 6);
  const bool suspended = spec.value("suspend", false);
  auto succeeded_total = [&] {
    return indexed ? int64_t(c.completed.size()) : c.succeeded + int64_t(c.uncounted_succeeded.size());
  };
  const int64_t failed_total = c.failed + int64_t(c.uncounted_failed.size());

  // Has the Job failed or met its success criteria? A condition written
  // earlier stands; the terminal one follows once no pod is left running.
  std::string fail_reason, fail_message;
  if (const Json* ft = FindCondition(status, "FailureTarget"); ft && ft->value("status", "") == "True") {
    fail_reason = ft->value("reason", "");
    fail_message = ft->value("message", "");
  } else if (!c.fail_job_message.empty()) {
    fail_reason = "PodFailurePolicy";
    fail_message = c.fail_job_message;
  } else if (failed_total > backoff_limit || PastBackoffLimitOnFailure(job, c.active, backoff_limit)) {
    fail_reason = "BackoffLimitExceeded";
    fail_message = "Job has reached the specified backoff limit";
  } else if (int64_t deadline = IntOr(spec, "activeDeadlineSeconds", -1); deadline >= 0 && !suspended) {
    if (int64_t start = ParseTime(status.value("startTime", "")); start > 0) {
      const int64_t end = start + deadline;
      if (NowUnix() >= end) {
        fail_reason = "DeadlineExceeded";
        fail_message = "Job was active longer than specified deadline";
      } else {
        loop_.queue().AddAfter(key, std::chrono::seconds(end - NowUnix()));
      }
    }
  }
  bool success = ConditionTrue(status, "SuccessCriteriaMet");
  if (!success && fail_reason.empty()) {
    success = completions < 0 ? succeeded_total() > 0 && c.active.empty() : succeeded_total() >= completions;
  }

  std::vector<ObjectPtr> to_delete;
  if (!fail_reason.empty()) {
    if (SetCondition(&status, "FailureTarget", "True", fail_reason, fail_message, now))
      recorder_.Event(job, client::kEventTypeWarning, fail_reason, fail_message);
    to_delete = c.active;
  } else if (success) {
    SetCondition(&status, "SuccessCriteriaMet", "True", "CompletionsReached",
                 "Reached expected number of succeeded pods", now);
    to_delete = c.active;
  } else if (suspended) {
    if (SetCondition(&status, "Suspended", "True", "JobSuspended", "Job suspended", now))
      recorder_.Event(job, client::kEventTypeNormal, "Suspended", "Job suspended");
    // The deadline's clock starts again on resume.
    status.erase("startTime");
    to_delete = c.active;
  } else {
    if (FindCondition(status, "Suspended") &&
        SetCondition(&status, "Suspended", "False", "JobResumed", "Job resumed", now)) {
      status["startTime"] = now;
      recorder_.Event(job, client::kEventTypeNormal, "Resumed", "Job resumed");
    }
    if (!status.contains("startTime")) status["startTime"] = now;
  }

  // The status as this sync sees it; the ends seen are written down
  // before any finalizer comes off.
  auto put_counts = [&] {
    status["succeeded"] = indexed ? succeeded_total() : c.succeeded;
    status["failed"] = c.failed;
    if (indexed) {
      std::string done = FormatIndexes(c.completed);
      if (done.empty()) status.erase("completedIndexes");
      else status["completedIndexes"] = done;
    }
    Json uncounted = Json::object();
    if (!c.uncounted_succeeded.empty()) uncounted["succeeded"] = c.uncounted_succeeded;
    if (!c.uncounted_failed.empty()) uncounted["failed"] = c.uncounted_failed;
    status["uncountedTerminatedPods"] = uncounted;
  };
  const std::string ns = job["metadata"].value("namespace", "");

  // Judging by a cache that lags what this controller just did would
  // create or delete the same pods twice.
  if (expectations_.SatisfiedExpectations(key)) {
    if (!to_delete.empty()) s = DeletePods(key, job, to_delete, &c);
    else if (fail_reason.empty() && !success && !suspended) s = ManagePods(key, job, &c);
  }
  // Deleted pods are terminating until they are gone.
  const int64_t active = int64_t(c.active.size()) - c.removed;
  const int64_t terminating = int64_t(c.terminating.size()) + c.removed;
  status["active"] = active;
  status["ready"] = c.ready;
  status["terminating"] = terminating;
  if (!s.ok()) result = s;

  put_counts();
  Json written = job;  // the Job as last written, for the next write's resourceVersion
  if (status != job.value("status", Json::object())) {
    written["status"] = status;
    Status ws = client_->UpdateStatus(kJobs, ns, written, &written);
    if (ws.IsConflict()) return result;  // the cache lags; the newer Job's event is queued
    if (!ws.ok()) return ws;
  }
  // Finalizers off; the pods whose finalizer is gone move into the counters.
  bool moved = false;
  for (const ObjectPtr& p : c.unfinalize) {
    Status fs = RemoveFinalizer(key, *p);
    if (!fs.ok()) {
      result = fs;
      continue;
    }
    const std::string uid = p->at("metadata").value("uid", "");
    if (c.uncounted_succeeded.erase(uid)) c.succeeded++, moved = true;
    if (c.uncounted_failed.erase(uid)) c.failed++, moved = true;
  }
  // Uncounted pods that are gone took their finalizer with them.
  std::set<std::string> present;
  for (const ObjectPtr& p : pods) present.insert(p->at("metadata").value("uid", ""));
  for (auto* set : {&c.uncounted_succeeded, &c.uncounted_failed}) {
    for (auto it = set->begin(); it != set->end();) {
      if (present.count(*it)) {
        ++it;
        continue;
      }
      (set == &c.uncounted_succeeded ? c.succeeded : c.failed)++;
      it = set->erase(it);
      moved = true;
    }
  }
  const bool settled = c.uncounted_succeeded.empty() && c.uncounted_failed.empty() && active == 0 &&
                       terminating == 0 && result.ok();
  bool terminal = false;
  if (settled && !fail_reason.empty()) {
    SetCondition(&status, "Failed", "True", fail_reason, fail_message, now);
    terminal = true;
  } else if (settled && success) {
    SetCondition(&status, "Complete", "True", "CompletionsReached", "Reached expected number of succeeded pods", now);
    status["completionTime"] = now;
    terminal = true;
  }
  if (moved || terminal) {
    put_counts();
    written["status"] = status;
    Status us = client_->UpdateStatus(kJobs, ns, written);
    if (us.IsConflict()) return result;  // changed meanwhile: its event is queued
    if (!us.ok()) return us;
    if (terminal && success) recorder_.Event(job, client::kEventTypeNormal, "Completed", "Job completed");
    if (terminal && !success) Log(LogLevel::kInfo, key + " failed: " + fail_reason);
  }
  return result;
}

Status JobController::ManagePods(const std::string& key, const Json& job, PodCensus* c) {
  const Json& spec = job["spec"];
  const bool indexed = spec.value("completionMode", "") == "Indexed";
  const int64_t completions = IntOr(spec, "completions", -1);
  const int64_t parallelism = IntOr(spec, "parallelism", 1);
  const bool only_failed = spec.value("podReplacementPolicy", "") == "Failed";
  const int64_t succeeded = indexed ? int64_t(c->completed.size())
                                    : c->succeeded + int64_t(c->uncounted_succeeded.size());
  int64_t want = parallelism;
  if (completions >= 0) want = std::min(parallelism, std::max<int64_t>(completions - succeeded, 0));
  else if (succeeded > 0) want = int64_t(c->active.size());  // no new pods once one succeeded

  // Indexed: a second pod of an index, or one of an index already done, goes.
  std::vector<ObjectPtr> extra, keep;
  std::set<int> held;
  if (indexed) {
    for (const ObjectPtr& p : c->active) {
      int idx = CompletionIndex(*p, int(completions));
      if (idx < 0 || c->completed.count(idx) || !held.insert(idx).second) extra.push_back(p);
      else keep.push_back(p);
    }
  } else {
    keep = c->active;
  }
  if (int64_t(keep.size()) > want) {
    RankForDeletion(&keep);
    extra.insert(extra.end(), keep.begin(), keep.begin() + (int64_t(keep.size()) - want));
    keep.erase(keep.begin(), keep.begin() + (int64_t(keep.size()) - want));
  }
  if (!extra.empty()) return DeletePods(key, job, extra, c);

  int64_t missing = want - int64_t(c->active.size()) - (only_failed ? int64_t(c->terminating.size()) : 0);
  if (missing <= 0) return Status();
  auto delay = ReplacementDelay(key);
  if (delay.count() > 0) {
    loop_.queue().AddAfter(key, delay);
    return Status();
  }
  std::vector<int> indexes;
  if (indexed) {
    if (only_failed)
      for (const ObjectPtr& p : c->terminating) held.insert(CompletionIndex(*p, int(completions)));
    for (int i = 0; i < completions && int64_t(indexes.size()) < missing; i++)
      if (!c->completed.count(i) && !held.count(i)) indexes.push_back(i);
    missing = int64_t(indexes.size());
  }
  return CreatePods(key, job, indexes, int(missing));
}

Status JobController::CreatePods(const std::string& key, const Json& job, const std::vector<int>& indexes,
                                 int count) {
  if (count <= 0) return Status();
  const std::string ns = job["metadata"].value("namespace", "");
  expectations_.ExpectCreations(key, count);
  for (int i = 0; i < count; i++) {
    Json created;
    Status s = client_->Create(kPods, ns, NewPod(job, indexes.empty() ? -1 : indexes[i]), &created);
    if (!s.ok()) {
      // The rest will never show up in the informer.
      expectations_.LowerCreations(key, count - i);
      if (s.IsForbidden() && s.message().find("being terminated") != std::string::npos) return Status();
      recorder_.Event(job, client::kEventTypeWarning, "FailedCreate", "Error creating: " + s.message());
      return s;
    }
    recorder_.Event(job, client::kEventTypeNormal, "SuccessfulCreate",
                    "Created pod: " + created["metadata"].value("name", ""));
  }
  return Status();
}

Status JobController::DeletePods(const std::string& key, const Json& job, const std::vector<ObjectPtr>& pods,
                                 PodCensus* c) {
  Status result;
  std::vector<std::string> keys;
  for (const ObjectPtr& p : pods) keys.push_back(client::ObjectKey(*p));
  expectations_.ExpectDeletions(key, keys);
  for (const ObjectPtr& p : pods) {
    const Json& meta = p->at("metadata");
    client::DeleteOptions opts;
    opts.precondition_uid = meta.value("uid", "");
    Status s = client_->Delete(kPods, meta.value("namespace", ""), meta.value("name", ""), opts);
    if (!s.ok()) {
      expectations_.DeletionObserved(key, client::ObjectKey(*p));
      if (s.IsNotFound() || s.IsConflict()) continue;
      recorder_.Event(job, client::kEventTypeWarning, "FailedDelete", "Error deleting: " + s.message());
      result = s;
      continue;
    }
    c->removed++;
    recorder_.Event(job, client::kEventTypeNormal, "SuccessfulDelete", "Deleted pod: " + meta.value("name", ""));
  }
  return result;
}

Status JobController::DeleteAfterTTL(const std::string& key, const Json& job) {
  const int64_t ttl = IntOr(job["spec"], "ttlSecondsAfterFinished", -1);
  if (ttl < 0 || BeingDeleted(job)) return Status();
  const Json status = job.value("status", Json::object());
  std::string finished_at = status.value("completionTime", "");
  if (finished_at.empty())
    if (const Json* f = FindCondition(status, "Failed")) finished_at = f->value("lastTransitionTime", "");
  const int64_t at = ParseTime(finished_at);
  if (at == 0) return Status();
  const int64_t expires = at + ttl;
  if (NowUnix() < expires) {
    loop_.queue().AddAfter(key, std::chrono::seconds(expires - NowUnix()));
    return Status();
  }
  client::DeleteOptions opts;
  opts.propagation_policy = "Background";
  opts.precondition_uid = job["metadata"].value("uid", "");
  Status s = client_->Delete(kJobs, job["metadata"].value("namespace", ""), job["metadata"].value("name", ""), opts);
  if (s.IsNotFound() || s.IsConflict()) return Status();
  if (s.ok()) Log(LogLevel::kInfo, "deleted " + key + " " + std::to_string(ttl) + " s after it finished");
  return s;
}

}  // namespace kubit::controllers
