// The Job controller against a real API server through the in-process
// client: pods made and counted (finalizer first, then the counters),
// completion, backoffLimit, activeDeadlineSeconds, Indexed Jobs, the pod
// failure policy, suspend and ttlSecondsAfterFinished; and the pure pieces
// (index notation, failure-policy matching) on their own.
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/client/informer.h"
#include "core/controllers/job_controller.h"
#include "test/unit/client_test_cluster.h"

namespace kubit::controllers {
namespace {

using client::Resource;
using client::Status;

const Resource kJobs{"batch", "v1", "jobs"};
const Resource kPods{"", "v1", "pods"};
const Resource kEvents{"", "v1", "events"};

// Polls until `done` holds (a deadline for a hung test, not a timing check).
bool Eventually(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

Logger TestLog() {
  return [](LogLevel level, const std::string& m) {
    if (level >= LogLevel::kWarn) MESSAGE(m);
  };
}

Json Job(const std::string& name, const Json& spec_extra) {
  // Pods stay unscheduled ("none" schedules nothing): the test plays the
  // kubelet through the status subresource.
  Json pod_spec = {{"restartPolicy", "Never"},
                   {"schedulerName", "none"},
                   {"containers", {{{"name", "main"}, {"image", "busybox"}}}}};
  Json job = {{"apiVersion", "batch/v1"}, {"kind", "Job"}, {"metadata", {{"name", name}}}};
  job["spec"] = spec_extra;
  job["spec"]["template"]["spec"] = pod_spec;
  return job;
}

// A running Job controller over its own informers.
struct Fixture {
  explicit Fixture(JobControllerOptions o = {}) {
    c = cluster.InProcess("system:kube-controller-manager", {"system:masters"});
    informers = std::make_unique<client::SharedInformerFactory>(c.get());
    o.pod_failure_backoff = std::chrono::milliseconds(0);
    controller = std::make_unique<JobController>(c.get(), informers.get(), TestLog(), o);
    informers->Start();
    REQUIRE(informers->WaitForSync(std::chrono::seconds(10)));
    controller->Start();
  }
  ~Fixture() {
    controller->Stop();
    informers->Stop();
  }

  std::vector<Json> Pods(const std::string& job, bool with_terminal = true) {
    Json list;
    client::ListOptions o;
    o.label_selector = "batch.kubernetes.io/job-name=" + job;
    REQUIRE(c->List(kPods, "default", o, &list).ok());
    std::vector<Json> out;
    for (const Json& p : list["items"]) {
      std::string phase = p["status"].value("phase", "");
      if (with_terminal || (phase != "Succeeded" && phase != "Failed")) out.push_back(p);
    }
    return out;
  }
  std::vector<Json> ActivePods(const std::string& job) {
    std::vector<Json> out;
    for (Json& p : Pods(job, false))
      if (!p["metadata"].contains("deletionTimestamp")) out.push_back(p);
    return out;
  }
  void SetPhase(const Json& pod, const std::string& phase, const Json& extra_status = Json::object()) {
    Json p = pod;
    p["status"]["phase"] = phase;
    p["status"].update(extra_status);
    Status s = c->UpdateStatus(kPods, "default", p);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
  Json GetJob(const std::string& name) {
    Json j;
    c->Get(kJobs, "default", name, &j);
    return j;
  }
  std::string Condition(const std::string& job, const std::string& type) {
    Json j = GetJob(job);
    for (const Json& cond : j["status"].value("conditions", Json::array()))
      if (cond.value("type", "") == type) return cond.value("status", "") + " " + cond.value("reason", "");
    return "";
  }
  bool HasEvent(const std::string& reason, const std::string& message) {
    Json list;
    c->List(kEvents, "default", {}, &list);
    for (const Json& e : list["items"])
      if (e.value("reason", "") == reason && e.value("message", "") == message) return true;
    return false;
  }

  test::TestCluster cluster;
  std::unique_ptr<client::Client> c;
  std::unique_ptr<client::SharedInformerFactory> informers;
  std::unique_ptr<JobController> controller;
};

}  // namespace

TEST_CASE("controllers job: completions with parallelism run to Complete") {
  Fixture f;
  REQUIRE(f.c->Create(kJobs, "default", Job("pi", {{"completions", 3}, {"parallelism", 2}})).ok());
  REQUIRE(Eventually([&] { return f.ActivePods("pi").size() == 2; }));
  Json pod = f.ActivePods("pi")[0];
  const Json& ref = pod["metadata"]["ownerReferences"][0];
  CHECK(ref["kind"] == "Job");
  CHECK(ref["controller"] == true);
  CHECK(ref["blockOwnerDeletion"] == true);
  CHECK(pod["metadata"]["finalizers"] == Json({"batch.kubernetes.io/job-tracking"}));
  CHECK(pod["metadata"]["generateName"] == "pi-");
  REQUIRE(Eventually([&] { return f.GetJob("pi")["status"].value("active", 0) == 2; }));
  CHECK(f.GetJob("pi")["status"].contains("startTime"));
  CHECK(f.HasEvent("SuccessfulCreate", "Created pod: " + pod["metadata"]["name"].get<std::string>()));

  // Never more than parallelism at once, and never more than completions.
  for (int done = 0; done < 3; done++) {
    REQUIRE(Eventually([&] { return !f.ActivePods("pi").empty(); }));
    f.SetPhase(f.ActivePods("pi")[0], "Succeeded");
    REQUIRE(Eventually([&] { return f.GetJob("pi")["status"].value("succeeded", 0) == done + 1; }));
    CHECK(f.Pods("pi").size() <= 3);
    CHECK(f.ActivePods("pi").size() <= 2);
  }
  REQUIRE(Eventually([&] { return f.Condition("pi", "Complete") == "True CompletionsReached"; }));
  CHECK(f.Condition("pi", "SuccessCriteriaMet") == "True CompletionsReached");
  Json job = f.GetJob("pi");
  CHECK(job["status"].contains("completionTime"));
  CHECK(job["status"]["active"] == 0);
  CHECK(job["status"]["failed"] == 0);
  CHECK(job["status"]["uncountedTerminatedPods"] == Json::object());
  CHECK(f.Pods("pi").size() == 3);
  for (const Json& p : f.Pods("pi")) CHECK_FALSE(p["metadata"].contains("finalizers"));
  CHECK(Eventually([&] { return f.HasEvent("Completed", "Job completed"); }));
}

TEST_CASE("controllers job: failures past backoffLimit fail the Job") {
  Fixture f;
  REQUIRE(f.c->Create(kJobs, "default", Job("flaky", {{"backoffLimit", 1}})).ok());
  for (int i = 1; i <= 2; i++) {
    REQUIRE(Eventually([&] { return f.ActivePods("flaky").size() == 1; }));
    f.SetPhase(f.ActivePods("flaky")[0], "Failed");
    REQUIRE(Eventually([&] { return f.GetJob("flaky")["status"].value("failed", 0) == i; }));
  }
  REQUIRE(Eventually([&] { return f.Condition("flaky", "Failed") == "True BackoffLimitExceeded"; }));
  CHECK(f.Condition("flaky", "FailureTarget") == "True BackoffLimitExceeded");
  CHECK(f.Pods("flaky").size() == 2);  // no third try
  CHECK_FALSE(f.GetJob("flaky")["status"].contains("completionTime"));
  CHECK(f.HasEvent("BackoffLimitExceeded", "Job has reached the specified backoff limit"));
}

TEST_CASE("controllers job: activeDeadlineSeconds stops the pods and fails the Job") {
  Fixture f;
  REQUIRE(f.c->Create(kJobs, "default", Job("slow", {{"activeDeadlineSeconds", 1}, {"parallelism", 2}})).ok());
  REQUIRE(Eventually([&] { return f.Condition("slow", "Failed") == "True DeadlineExceeded"; }));
  CHECK(f.ActivePods("slow").empty());
  CHECK(f.GetJob("slow")["status"]["active"] == 0);
}

TEST_CASE("controllers job: Indexed completion mode") {
  Fixture f;
  REQUIRE(f.c->Create(kJobs, "default",
                      Job("idx", {{"completions", 3}, {"parallelism", 3}, {"completionMode", "Indexed"}}))
              .ok());
  REQUIRE(Eventually([&] { return f.ActivePods("idx").size() == 3; }));
  std::map<std::string, Json> by_index;
  for (const Json& p : f.ActivePods("idx"))
    by_index[p["metadata"]["annotations"].value("batch.kubernetes.io/job-completion-index", "")] = p;
  REQUIRE(by_index.size() == 3);
  for (const char* i : {"0", "1", "2"}) {
    CAPTURE(i);
    REQUIRE(by_index.count(i));
    const Json& p = by_index[i];
    CHECK(p["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"] == i);
    CHECK(p["metadata"]["generateName"] == std::string("idx-") + i + "-");
    CHECK(p["spec"]["hostname"] == std::string("idx-") + i);
    CHECK(p["spec"]["containers"][0]["env"][0]["name"] == "JOB_COMPLETION_INDEX");
  }
  f.SetPhase(by_index["1"], "Succeeded");
  REQUIRE(Eventually([&] { return f.GetJob("idx")["status"].value("completedIndexes", "") == "1"; }));
  // A failed index is made again under the same index.
  f.SetPhase(by_index["2"], "Failed");
  REQUIRE(Eventually([&] {
    for (const Json& p : f.ActivePods("idx"))
      if (p["metadata"]["annotations"].value("batch.kubernetes.io/job-completion-index", "") == "2" &&
          p["metadata"]["uid"] != by_index["2"]["metadata"]["uid"])
        return true;
    return false;
  }));
  for (const Json& p : f.ActivePods("idx")) f.SetPhase(p, "Succeeded");
  REQUIRE(Eventually([&] { return f.Condition("idx", "Complete") == "True CompletionsReached"; }));
  Json job = f.GetJob("idx");
  CHECK(job["status"]["completedIndexes"] == "0-2");
  CHECK(job["status"]["succeeded"] == 3);
  CHECK(job["status"]["failed"] == 1);
}

TEST_CASE("controllers job: podFailurePolicy") {
  Fixture f;
  Json policy = {{"rules",
                  {{{"action", "Ignore"}, {"onPodConditions", {{{"type", "DisruptionTarget"}}}}},
                   {{"action", "FailJob"},
                    {"onExitCodes", {{"containerName", "main"}, {"operator", "In"}, {"values", {42}}}}}}}};
  REQUIRE(f.c->Create(kJobs, "default", Job("pfp", {{"podFailurePolicy", policy}, {"backoffLimit", 6}})).ok());
  REQUIRE(Eventually([&] { return f.ActivePods("pfp").size() == 1; }));
  // A disruption is ignored: not counted, and the pod is replaced.
  Json first = f.ActivePods("pfp")[0];
  f.SetPhase(first, "Failed",
             {{"conditions", {{{"type", "DisruptionTarget"}, {"status", "True"}, {"reason", "PreemptionByScheduler"}}}}});
  REQUIRE(Eventually([&] {
    auto active = f.ActivePods("pfp");
    return active.size() == 1 && active[0]["metadata"]["uid"] != first["metadata"]["uid"];
  }));
  CHECK(f.GetJob("pfp")["status"].value("failed", 0) == 0);
  // Exit code 42 of the main container fails the Job at once.
  Json second = f.ActivePods("pfp")[0];
  f.SetPhase(second, "Failed",
             {{"containerStatuses",
               {{{"name", "main"},
                 {"ready", false},
                 {"restartCount", 0},
                 {"image", "busybox"},
                 {"imageID", ""},
                 {"state", {{"terminated", {{"exitCode", 42}, {"reason", "Error"}}}}}}}}});
  REQUIRE(Eventually([&] { return f.Condition("pfp", "Failed") == "True PodFailurePolicy"; }));
  Json job = f.GetJob("pfp");
  CHECK(job["status"]["failed"] == 1);
  bool message_found = false;
  for (const Json& cond : job["status"]["conditions"])
    if (cond["type"] == "Failed")
      message_found = cond["message"] == "Container main for pod default/" + second["metadata"]["name"].get<std::string>() +
                                             " failed with exit code 42 matching FailJob rule at index 1";
  CHECK(message_found);
}

TEST_CASE("controllers job: suspend and resume") {
  Fixture f;
  REQUIRE(f.c->Create(kJobs, "default", Job("later", {{"suspend", true}, {"parallelism", 2}})).ok());
  REQUIRE(Eventually([&] { return f.Condition("later", "Suspended") == "True JobSuspended"; }));
  CHECK(f.Pods("later").empty());
  CHECK_FALSE(f.GetJob("later")["status"].contains("startTime"));
  REQUIRE(f.c->Patch(kJobs, "default", "later", client::PatchType::kMerge, R"({"spec":{"suspend":false}})").ok());
  REQUIRE(Eventually([&] { return f.ActivePods("later").size() == 2; }));
  REQUIRE(Eventually([&] { return f.Condition("later", "Suspended") == "False JobResumed"; }));
  CHECK(f.GetJob("later")["status"].contains("startTime"));
  // Suspended again: the running pods go.
  REQUIRE(f.c->Patch(kJobs, "default", "later", client::PatchType::kMerge, R"({"spec":{"suspend":true}})").ok());
  REQUIRE(Eventually([&] { return f.ActivePods("later").empty(); }));
  REQUIRE(Eventually([&] { return f.Condition("later", "Suspended") == "True JobSuspended"; }));
  CHECK(f.HasEvent("Resumed", "Job resumed"));
}

TEST_CASE("controllers job: ttlSecondsAfterFinished deletes the finished Job") {
  Fixture f;
  REQUIRE(f.c->Create(kJobs, "default", Job("brief", {{"ttlSecondsAfterFinished", 0}})).ok());
  REQUIRE(Eventually([&] { return f.ActivePods("brief").size() == 1; }));
  f.SetPhase(f.ActivePods("brief")[0], "Succeeded");
  Json job;
  REQUIRE(Eventually([&] { return f.c->Get(kJobs, "default", "brief", &job).IsNotFound(); }));
}

TEST_CASE("controllers job: completed-index notation") {
  CHECK(FormatIndexes({}) == "");
  CHECK(FormatIndexes({0, 1, 2, 4, 6, 7}) == "0-2,4,6-7");
  CHECK(ParseIndexes("0-2,4,6-7", 10) == std::set<int>{0, 1, 2, 4, 6, 7});
  CHECK(ParseIndexes("1,3-9", 5) == std::set<int>{1, 3, 4});  // only below completions
  CHECK(ParseIndexes("x,2", 5) == std::set<int>{2});
}

TEST_CASE("controllers job: pod failure policy matching") {
  Json pod = {{"metadata", {{"namespace", "ns"}, {"name", "p"}}},
              {"status",
               {{"phase", "Failed"},
                {"initContainerStatuses", {{{"name", "init"}, {"state", {{"terminated", {{"exitCode", 0}}}}}}}},
                {"containerStatuses",
                 {{{"name", "side"}, {"state", {{"terminated", {{"exitCode", 0}}}}}},
                  {{"name", "main"}, {"state", {{"terminated", {{"exitCode", 3}}}}}}}}}}};
  std::string msg;
  Json not_in = {{"rules", {{{"action", "Count"}, {"onExitCodes", {{"operator", "NotIn"}, {"values", {3}}}}},
                            {{"action", "FailJob"}, {"onExitCodes", {{"operator", "NotIn"}, {"values", {1, 2}}}}}}}};
  // Exit code 0 never matches, even NotIn: "side" is skipped.
  CHECK(MatchPodFailurePolicy(not_in, pod, &msg) == FailureAction::kFailJob);
  CHECK(msg == "Container main for pod ns/p failed with exit code 3 matching FailJob rule at index 1");
  Json other_container = {{"rules", {{{"action", "Ignore"}, {"onExitCodes", {{"containerName", "side"}, {"operator", "In"}, {"values", {3}}}}}}}};
  CHECK(MatchPodFailurePolicy(other_container, pod, &msg) == FailureAction::kNoMatch);
  pod["status"]["conditions"] = {{{"type", "DisruptionTarget"}, {"status", "True"}}};
  Json by_condition = {{"rules", {{{"action", "Ignore"}, {"onPodConditions", {{{"type", "DisruptionTarget"}, {"status", "True"}}}}}}}};
  CHECK(MatchPodFailurePolicy(by_condition, pod, &msg) == FailureAction::kIgnore);
  CHECK(msg == "Pod ns/p has condition DisruptionTarget matching Ignore rule at index 0");
}

}  // namespace kubit::controllers
