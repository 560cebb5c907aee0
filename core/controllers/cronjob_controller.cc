#include "core/controllers/cronjob_controller.h"

#include <algorithm>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/controllers/controller_ref.h"
#include "core/controllers/job_controller_status.h"
#include "core/controllers/pod_state.h"

namespace kubit::controllers {

using client::ObjectPtr;
using client::Status;

namespace {

const client::Resource kCronJobs{"batch", "v1", "cronjobs"};
const client::Resource kJobs{"batch", "v1", "jobs"};
const char* kCronJobIndex = "cronjob";  // Jobs by their controlling CronJob's key
const char* kScheduledTimestamp = "batch.kubernetes.io/cronjob-scheduled-timestamp";
constexpr int kMaxMissedReported = 100;

// RFC 3339 of `t` in `zone` ("2026-05-04T10:15:00+02:00"; "Z" for UTC), as
// Go's Format(time.RFC3339).
std::string FormatIn(int64_t t, const TimeZone& zone) {
  WallTime w = zone.ToWall(t);
  int off = zone.Offset(t);
  char buf[40];
  int n = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d", w.year, w.month, w.day, w.hour, w.minute,
                   w.second);
  if (off == 0) snprintf(buf + n, sizeof(buf) - n, "Z");
  else snprintf(buf + n, sizeof(buf) - n, "%c%02d:%02d", off < 0 ? '-' : '+', std::abs(off) / 3600, std::abs(off) % 3600 / 60);
  return buf;
}

// The form upstream's MissSchedule event prints (Go's RFC1123Z, in UTC).
std::string FormatRFC1123Z(int64_t t) {
  time_t tt = t;
  struct tm tm;
  gmtime_r(&tt, &tm);
  char buf[48];
  strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

bool JobFinished(const Json& job, std::string* condition) {
  const Json status = job.value("status", Json::object());
  for (const char* type : {"Complete", "Failed"})
    if (ConditionTrue(status, type)) return *condition = type, true;
  return false;
}

int64_t IntOr(const Json& obj, const char* field, int64_t dflt) {
  auto it = obj.find(field);
  return it != obj.end() && it->is_number_integer() ? it->get<int64_t>() : dflt;
}

// The most recent scheduled time in (earliest, now], 0 if none, and how
// many were missed. Schedules far behind are not walked minute by minute:
// the walk starts two periods before now (upstream estimates the same way).
int64_t MostRecentScheduleTime(const CronSchedule& s, const TimeZone& zone, int64_t earliest, int64_t now,
                               int64_t* missed) {
  *missed = 0;
  int64_t t1 = s.Next(earliest, zone);
  if (t1 == 0 || t1 > now) return 0;
  int64_t t2 = s.Next(t1, zone);
  if (t2 == 0 || t2 > now) return *missed = 1, t1;
  const int64_t period = t2 - t1;
  *missed = (now - t1) / period + 1;
  int64_t most_recent = t1;
  const int64_t from = now - 2 * period;
  for (int64_t t = from > t1 ? s.Next(from, zone) : t1; t != 0 && t <= now; t = s.Next(t, zone)) most_recent = t;
  return most_recent;
}

}  // namespace

CronJobController::CronJobController(client::Client* client, client::SharedInformerFactory* informers,
                                     Logger log, CronJobControllerOptions options)
    : client_(client),
      cronjobs_(informers->For(kCronJobs)),
      jobs_(informers->For(kJobs)),
      log_(log),
      opts_(std::move(options)),
      recorder_(client, "cronjob-controller"),
      loop_("cronjob-controller", [this](const std::string& key) { return Sync(key); }, log) {
  std::ifstream in(opts_.local_zone_file, std::ios::binary);
  std::stringstream data;
  std::string error;
  if (in && (data << in.rdbuf()) && !TimeZone::Parse(data.str(), &local_zone_, &error) && log_)
    log_(LogLevel::kWarn, "cronjob-controller: " + opts_.local_zone_file + ": " + error + "; using UTC");
  jobs_->AddIndex(kCronJobIndex, [](const Json& job) {
    std::string key = ControllerKeyOf(job, "CronJob");
    return key.empty() ? std::vector<std::string>{} : std::vector<std::string>{key};
  });
  client::EventHandlers cj_events;
  cj_events.on_add = [this](const ObjectPtr& o) { loop_.queue().Add(client::ObjectKey(*o)); };
  cj_events.on_update = [this](const ObjectPtr&, const ObjectPtr& o) { loop_.queue().Add(client::ObjectKey(*o)); };
  cronjobs_->AddHandler(cj_events);
  auto owner = [this](const ObjectPtr& job) {
    std::string key = ControllerKeyOf(*job, "CronJob");
    if (!key.empty()) loop_.queue().Add(key);
  };
  client::EventHandlers job_events;
  job_events.on_add = owner;
  job_events.on_update = [owner](const ObjectPtr&, const ObjectPtr& j) { owner(j); };
  job_events.on_delete = [owner](const ObjectPtr& j, bool) { owner(j); };
  jobs_->AddHandler(job_events);
}

void CronJobController::Start(int workers) { loop_.Start(workers); }

void CronJobController::Stop() { loop_.Stop(); }

int64_t CronJobController::Now() const { return opts_.now ? opts_.now() : NowUnix(); }

Status CronJobController::Sync(const std::string& key) {
  ObjectPtr cj_ptr = cronjobs_->Get(key);
  if (!cj_ptr) return Status();
  const Json& cj = *cj_ptr;
  const Json& meta = cj["metadata"];
  const Json& spec = cj["spec"];
  const std::string ns = meta.value("namespace", ""), uid = meta.value("uid", "");
  const int64_t now = Now();
  std::vector<ObjectPtr> jobs;
  for (const ObjectPtr& j : jobs_->ByIndex(kCronJobIndex, key))
    if (ControllerRefOf(*j).value("uid", "") == uid) jobs.push_back(j);

  // What became of the Jobs in status.active.
  Json status = cj.value("status", Json::object());
  Json active = Json::array();
  for (const Json& ref : status.value("active", Json::array())) {
    const std::string name = ref.value("name", "");
    auto it = std::find_if(jobs.begin(), jobs.end(), [&](const ObjectPtr& j) {
      return j->at("metadata").value("uid", "") == ref.value("uid", "");
    });
    if (it == jobs.end()) {
      // Not in the cache: perhaps not there yet, perhaps gone; ask.
      Json live;
      Status s = client_->Get(kJobs, ns, name, &live);
      if (s.IsNotFound() || (s.ok() && live["metadata"].value("uid", "") != ref.value("uid", ""))) {
        recorder_.Event(cj, client::kEventTypeNormal, "MissingJob", "Active job went missing: " + name);
        continue;
      }
      if (!s.ok()) return s;
      active.push_back(ref);
      continue;
    }
    std::string condition;
    if (JobFinished(**it, &condition)) {
      recorder_.Event(cj, client::kEventTypeNormal, "SawCompletedJob",
                      "Saw completed job: " + name + ", condition: " + condition);
      continue;
    }
    active.push_back(ref);
  }
  int64_t last_success = ParseTime(status.value("lastSuccessfulTime", ""));
  for (const ObjectPtr& j : jobs) {
    std::string condition;
    if (!JobFinished(*j, &condition) || condition != "Complete") continue;
    int64_t done = ParseTime(j->value("status", Json::object()).value("completionTime", ""));
    if (done > last_success) {
      last_success = done;
      status["lastSuccessfulTime"] = j->at("status").at("completionTime");
    }
  }
  status["active"] = active;

  auto write_status = [&]() -> Status {
    if (status["active"].empty()) status.erase("active");
    if (status == cj.value("status", Json::object())) return Status();
    Json updated = cj;
    updated["status"] = status;
    Status s = client_->UpdateStatus(kCronJobs, ns, updated);
    return s.IsConflict() ? Status() : s;  // the newer CronJob's event is queued
  };
  if (BeingDeleted(cj)) return write_status();

  TimeZone zone = local_zone_;
  std::string error;
  if (spec.contains("timeZone") && spec["timeZone"].is_string() &&
      !TimeZone::Load(spec["timeZone"].get<std::string>(), &zone, &error)) {
    recorder_.Event(cj, client::kEventTypeWarning, "UnknownTimeZone",
                    "invalid timeZone: \"" + spec["timeZone"].get<std::string>() + "\": " + error);
    return write_status();
  }
  CronSchedule schedule;
  const std::string schedule_text = spec.value("schedule", "");
  if (!CronSchedule::Parse(schedule_text, &schedule, &error)) {
    recorder_.Event(cj, client::kEventTypeWarning, "UnparseableSchedule",
                    "unparseable schedule: \"" + schedule_text + "\" : " + error);
    return write_status();
  }
  Status result = CleanupHistory(cj, jobs);
  if (spec.value("suspend", false)) {
    Status s = write_status();
    return s.ok() ? result : s;
  }
  auto requeue_for_next = [&] {
    int64_t next = schedule.Next(now, zone);
    if (next != 0) loop_.queue().AddAfter(key, std::chrono::seconds(next - now) + std::chrono::milliseconds(100));
  };

  int64_t earliest = ParseTime(status.value("lastScheduleTime", ""));
  if (earliest == 0) earliest = ParseTime(meta.value("creationTimestamp", ""));
  const int64_t deadline = IntOr(spec, "startingDeadlineSeconds", -1);
  if (deadline >= 0) earliest = std::max(earliest, now - deadline);
  int64_t missed = 0;
  const int64_t scheduled = MostRecentScheduleTime(schedule, zone, earliest, now, &missed);
  if (missed > kMaxMissedReported)
    recorder_.Event(cj, client::kEventTypeWarning, "TooManyMissedTimes",
                    "too many missed start times: " + std::to_string(missed) +
                        ". Set or decrease .spec.startingDeadlineSeconds or check clock skew");
  requeue_for_next();
  if (scheduled == 0) return write_status();
  if (deadline >= 0 && scheduled + deadline < now) {
    recorder_.Event(cj, client::kEventTypeWarning, "MissSchedule",
                    "Missed scheduled time to start a job: " + FormatRFC1123Z(scheduled));
    return write_status();
  }
  const std::string job_name = meta.value("name", "") + "-" + std::to_string(scheduled / 60);
  for (const ObjectPtr& j : jobs)
    if (j->at("metadata").value("name", "") == job_name) return write_status();  // started already

  const std::string policy = spec.value("concurrencyPolicy", "Allow");
  if (policy == "Forbid" && !status["active"].empty()) {
    recorder_.Event(cj, client::kEventTypeNormal, "JobAlreadyActive",
                    "Not starting job because prior execution is running and concurrency policy is Forbid");
    return write_status();
  }
  if (policy == "Replace") {
    for (const Json& ref : status["active"]) {
      Status s = DeleteJob(cj, ns, ref.value("name", ""));
      if (!s.ok()) return s;
    }
    status["active"] = Json::array();
  }

  const Json tmpl = spec.value("jobTemplate", Json::object());
  const Json tmeta = tmpl.value("metadata", Json::object());
  Json job = {{"apiVersion", "batch/v1"},
              {"kind", "Job"},
              {"metadata",
               {{"name", job_name},
                {"labels", tmeta.value("labels", Json::object())},
                {"annotations", tmeta.value("annotations", Json::object())},
                {"ownerReferences", {ControllerRefFor({{"apiVersion", "batch/v1"}, {"kind", "CronJob"}, {"metadata", meta}})}}}},
              {"spec", tmpl.value("spec", Json::object())}};
  job["metadata"]["annotations"][kScheduledTimestamp] = FormatIn(scheduled, zone);
  Json created;
  Status s = client_->Create(kJobs, ns, job, &created);
  if (s.IsAlreadyExists()) {
    // Made by an earlier sync whose status write was lost: ours if it says so.
    Status g = client_->Get(kJobs, ns, job_name, &created);
    if (!g.ok()) return g;
    if (ControllerRefOf(created).value("uid", "") != uid) {
      recorder_.Event(cj, client::kEventTypeWarning, "FailedCreate", "Error creating job: " + s.message());
      return write_status();
    }
  } else if (!s.ok()) {
    recorder_.Event(cj, client::kEventTypeWarning, "FailedCreate", "Error creating job: " + s.message());
    return s;
  } else {
    recorder_.Event(cj, client::kEventTypeNormal, "SuccessfulCreate", "Created job " + job_name);
  }
  const Json& cm = created["metadata"];
  status["active"].push_back({{"apiVersion", "batch/v1"},
                              {"kind", "Job"},
                              {"name", job_name},
                              {"namespace", ns},
                              {"uid", cm.value("uid", "")},
                              {"resourceVersion", cm.value("resourceVersion", "")}});
  status["lastScheduleTime"] = FormatIn(scheduled, TimeZone());
  s = write_status();
  return s.ok() ? result : s;
}

Status CronJobController::DeleteJob(const Json& cj, const std::string& ns, const std::string& name) {
  client::DeleteOptions opts;
  opts.propagation_policy = "Background";
  Status s = client_->Delete(kJobs, ns, name, opts);
  if (s.IsNotFound()) return Status();
  if (!s.ok()) {
    recorder_.Event(cj, client::kEventTypeWarning, "FailedDelete", "Deleted job: " + s.message());
    return s;
  }
  recorder_.Event(cj, client::kEventTypeNormal, "SuccessfulDelete", "Deleted job " + name);
  return Status();
}

Status CronJobController::CleanupHistory(const Json& cj, const std::vector<ObjectPtr>& jobs) {
  const Json& spec = cj["spec"];
  std::vector<ObjectPtr> succeeded, failed;
  for (const ObjectPtr& j : jobs) {
    std::string condition;
    if (BeingDeleted(*j) || !JobFinished(*j, &condition)) continue;
    (condition == "Complete" ? succeeded : failed).push_back(j);
  }
  // Oldest first, by start time (creation for Jobs that never started).
  auto started = [](const ObjectPtr& j) {
    int64_t t = ParseTime(j->value("status", Json::object()).value("startTime", ""));
    return t ? t : ParseTime(j->at("metadata").value("creationTimestamp", ""));
  };
  Status result;
  for (auto [list, limit] : {std::pair{&succeeded, IntOr(spec, "successfulJobsHistoryLimit", 3)},
                             std::pair{&failed, IntOr(spec, "failedJobsHistoryLimit", 1)}}) {
    if (int64_t(list->size()) <= limit) continue;
    std::stable_sort(list->begin(), list->end(),
                     [&](const ObjectPtr& a, const ObjectPtr& b) { return started(a) < started(b); });
    for (size_t i = 0; i < list->size() - size_t(std::max<int64_t>(limit, 0)); i++) {
      Status s = DeleteJob(cj, cj["metadata"].value("namespace", ""), (*list)[i]->at("metadata").value("name", ""));
      if (!s.ok()) result = s;
    }
  }
  return result;
}

}  // namespace kubit::controllers
