// The CronJob controller against a real API server, its clock set by the
// test and its syncs called directly (once the informers show the last
// writes): which Job starts for missed times, concurrencyPolicy, history
// limits, suspend, startingDeadlineSeconds.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/client/informer.h"
#include "core/controllers/cronjob_controller.h"
#include "core/controllers/pod_state.h"
#include "test/unit/client_test_cluster.h"

namespace kubit::controllers {
namespace {

using client::Json;
using client::Resource;
using client::Status;

const Resource kCronJobs{"batch", "v1", "cronjobs"};
const Resource kJobs{"batch", "v1", "jobs"};
const Resource kEvents{"", "v1", "events"};

bool Eventually(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

Json CronJob(const std::string& name, const std::string& schedule, const Json& spec_extra = Json::object()) {
  Json cj = {{"apiVersion", "batch/v1"}, {"kind", "CronJob"}, {"metadata", {{"name", name}}}};
  cj["spec"] = spec_extra;
  cj["spec"]["schedule"] = schedule;
  cj["spec"]["timeZone"] = "Etc/UTC";
  Json& tmpl = cj["spec"]["jobTemplate"];
  tmpl["metadata"]["labels"]["app"] = name;
  tmpl["spec"]["template"]["spec"] = {{"restartPolicy", "Never"},
                                      {"containers", {{{"name", "main"}, {"image", "busybox"}}}}};
  return cj;
}

struct Fixture {
  Fixture() {
    c = cluster.InProcess("system:kube-controller-manager", {"system:masters"});
    informers = std::make_unique<client::SharedInformerFactory>(c.get());
    CronJobControllerOptions o;
    o.now = [this] { return now.load(); };
    controller = std::make_unique<CronJobController>(c.get(), informers.get(), nullptr, o);
    informers->Start();
    REQUIRE(informers->WaitForSync(std::chrono::seconds(10)));
  }
  ~Fixture() { informers->Stop(); }

  // Creates the CronJob and waits for the informer to show it.
  Json Create(const Json& cj) {
    Json out;
    Status s = c->Create(kCronJobs, "default", cj, &out);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    const std::string key = "default/" + out["metadata"]["name"].get<std::string>();
    REQUIRE(Eventually([&] { return informers->For(kCronJobs)->Get(key) != nullptr; }));
    return out;
  }
  // One sync once the caches hold what the API server holds.
  void Sync(const std::string& name) {
    REQUIRE(Eventually([&] { return Cached(kCronJobs, name) && CachedJobsCurrent(); }));
    Status s = controller->Sync("default/" + name);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
  bool Cached(const Resource& r, const std::string& name) {
    Json live;
    if (!c->Get(r, "default", name, &live).ok()) return false;
    auto cached = informers->For(r)->Get("default", name);
    return cached && cached->at("metadata")["resourceVersion"] == live["metadata"]["resourceVersion"];
  }
  bool CachedJobsCurrent() {
    Json list;
    c->List(kJobs, "default", {}, &list);
    if (informers->For(kJobs)->List().size() != list["items"].size()) return false;
    for (const Json& j : list["items"])
      if (!Cached(kJobs, j["metadata"]["name"])) return false;
    return true;
  }
  std::vector<std::string> JobNames() {
    Json list;
    c->List(kJobs, "default", {}, &list);
    std::vector<std::string> names;
    for (const Json& j : list["items"])
      if (!j["metadata"].contains("deletionTimestamp")) names.push_back(j["metadata"]["name"]);
    std::sort(names.begin(), names.end());
    return names;
  }
  Json Get(const std::string& name) {
    Json cj;
    c->Get(kCronJobs, "default", name, &cj);
    return cj;
  }
  void Finish(const std::string& job, const std::string& type) {
    Json j;
    REQUIRE(c->Get(kJobs, "default", job, &j).ok());
    std::string t = FormatAt(now);
    j["status"]["startTime"] = t;
    if (type == "Complete") {
      j["status"]["completionTime"] = t;
      j["status"]["succeeded"] = 1;
      j["status"]["conditions"] = {{{"type", "SuccessCriteriaMet"}, {"status", "True"}}, {{"type", "Complete"}, {"status", "True"}}};
    } else {
      j["status"]["failed"] = 1;
      j["status"]["conditions"] = {{{"type", "FailureTarget"}, {"status", "True"}}, {{"type", "Failed"}, {"status", "True"}}};
    }
    Status s = c->UpdateStatus(kJobs, "default", j);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
  bool HasEvent(const std::string& reason) {
    Json list;
    c->List(kEvents, "default", {}, &list);
    for (const Json& e : list["items"])
      if (e.value("reason", "") == reason) return true;
    return false;
  }
  static std::string FormatAt(int64_t t) {
    time_t tt = t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    char buf[32];
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
  }

  test::TestCluster cluster;
  std::unique_ptr<client::Client> c;
  std::unique_ptr<client::SharedInformerFactory> informers;
  std::atomic<int64_t> now{NowUnix()};
  std::unique_ptr<CronJobController> controller;
};

// The schedule "*/5 * * * *" fires at these; the first one after `t`.
int64_t NextFive(int64_t t) { return (t / 300 + 1) * 300; }

}  // namespace

TEST_CASE("controllers cronjob: the most recent missed time starts one Job") {
  Fixture f;
  Json cj = f.Create(CronJob("tick", "*/5 * * * *"));
  const int64_t created = ParseTime(cj["metadata"]["creationTimestamp"]);
  f.now = created + 60;
  if (NextFive(created) <= f.now) f.now = created;  // created just before a firing: none due yet
  f.Sync("tick");
  CHECK(f.JobNames().empty());

  // Three firings missed: only the last runs.
  const int64_t third = NextFive(created) + 600;
  f.now = third + 30;
  f.Sync("tick");
  const std::string name = "tick-" + std::to_string(third / 60);
  REQUIRE(f.JobNames() == std::vector<std::string>{name});
  Json job;
  REQUIRE(f.c->Get(kJobs, "default", name, &job).ok());
  CHECK(job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == Fixture::FormatAt(third));
  CHECK(job["metadata"]["labels"]["app"] == "tick");
  CHECK(job["metadata"]["ownerReferences"][0]["kind"] == "CronJob");
  CHECK(job["metadata"]["ownerReferences"][0]["controller"] == true);
  Json status = f.Get("tick")["status"];
  CHECK(status["lastScheduleTime"] == Fixture::FormatAt(third));
  REQUIRE(status["active"].size() == 1);
  CHECK(status["active"][0]["name"] == name);
  CHECK(f.HasEvent("SuccessfulCreate"));

  // Again at the same time: nothing new.
  f.Sync("tick");
  CHECK(f.JobNames().size() == 1);

  // It completes: out of active, lastSuccessfulTime set.
  f.Finish(name, "Complete");
  f.Sync("tick");
  status = f.Get("tick")["status"];
  CHECK_FALSE(status.contains("active"));
  CHECK(status["lastSuccessfulTime"] == Fixture::FormatAt(f.now));
  CHECK(f.HasEvent("SawCompletedJob"));
}

TEST_CASE("controllers cronjob: concurrencyPolicy") {
  Fixture f;
  for (const char* policy : {"Allow", "Forbid", "Replace"}) {
    CAPTURE(policy);
    std::string name = std::string("c-") + char(tolower(policy[0]));
    Json cj = f.Create(CronJob(name, "*/5 * * * *", {{"concurrencyPolicy", policy}}));
    const int64_t first = NextFive(ParseTime(cj["metadata"]["creationTimestamp"]));
    f.now = first + 1;
    f.Sync(name);
    f.now = first + 301;
    f.Sync(name);
    std::vector<std::string> mine;
    for (const std::string& j : f.JobNames())
      if (j.rfind(name + "-", 0) == 0) mine.push_back(j);
    const std::string a = name + "-" + std::to_string(first / 60), b = name + "-" + std::to_string((first + 300) / 60);
    if (std::string(policy) == "Allow") CHECK(mine == std::vector<std::string>{a, b});
    if (std::string(policy) == "Forbid") CHECK(mine == std::vector<std::string>{a});
    if (std::string(policy) == "Replace") CHECK(mine == std::vector<std::string>{b});
    CHECK(f.Get(name)["status"]["active"].size() == (std::string(policy) == "Allow" ? 2 : 1));
  }
  CHECK(f.HasEvent("JobAlreadyActive"));
}

TEST_CASE("controllers cronjob: history limits, suspend, startingDeadlineSeconds") {
  Fixture f;
  Json cj = f.Create(CronJob("hist", "*/5 * * * *", {{"successfulJobsHistoryLimit", 1}, {"failedJobsHistoryLimit", 0}}));
  int64_t t = NextFive(ParseTime(cj["metadata"]["creationTimestamp"]));
  std::vector<std::string> made;
  for (int i = 0; i < 3; i++, t += 300) {
    f.now = t + 1;
    f.Sync("hist");
    made.push_back("hist-" + std::to_string(t / 60));
    f.Finish(made.back(), i == 1 ? "Failed" : "Complete");
  }
  f.Sync("hist");
  // The newest success stays; the older success and the failure go.
  CHECK(f.JobNames() == std::vector<std::string>{made[2]});

  Json suspended = f.Create(CronJob("paused", "*/5 * * * *", {{"suspend", true}}));
  f.now = NextFive(ParseTime(suspended["metadata"]["creationTimestamp"])) + 1;
  f.Sync("paused");
  for (const std::string& j : f.JobNames()) CHECK(j.rfind("paused-", 0) != 0);

  Json late = f.Create(CronJob("late", "*/5 * * * *", {{"startingDeadlineSeconds", 10}}));
  f.now = NextFive(ParseTime(late["metadata"]["creationTimestamp"])) + 60;
  f.Sync("late");
  for (const std::string& j : f.JobNames()) CHECK(j.rfind("late-", 0) != 0);

}

}  // namespace kubit::controllers
