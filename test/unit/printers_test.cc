// Unit tests of kubit::api::ToTable: for each built-in kind, the columns
// and cells upstream's v1.32 printers give `kubectl get`, objects in
// several states, and the JSON types of the cells.
#include "core/api/printers.h"

#include <doctest/doctest.h>
#include <time.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/api/resources.h"

namespace {

using Json = nlohmann::json;
using Strings = std::vector<std::string>;
using kubit::api::BuiltinTypes;
using kubit::api::FindType;
using kubit::api::HumanDuration;
using kubit::api::ResourceType;
using kubit::api::ToTable;

// An RFC 3339 timestamp `seconds` ago. Tests use ages whose printed form
// does not change within a second or two.
std::string Ago(int64_t seconds) {
  time_t t = time(nullptr) - seconds;
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

const int64_t kMin = 60, kHour = 3600, kDay = 86400;

const ResourceType& Type(const char* group, const char* version, const char* plural) {
  const ResourceType* t = FindType(group, version, plural);
  REQUIRE(t != nullptr);
  return *t;
}

Json Table(const ResourceType& t, const Json& obj) { return ToTable(t, {obj}, "None"); }

// The columns as "Name:type", with ":wide" for -o wide ones.
Strings Header(const Json& table) {
  Strings out;
  for (const Json& c : table["columnDefinitions"]) {
    std::string s = c["name"].get<std::string>() + ":" + c["type"].get<std::string>();
    if (c["priority"].get<int>() == 1) s += ":wide";
    out.push_back(s);
  }
  return out;
}

// The first row's cells, as JSON text so that 3, 3.0 and "3" differ.
std::string Cells(const Json& table) {
  REQUIRE(table["rows"].size() >= 1);
  const Json& cells = table["rows"][0]["cells"];
  CHECK(cells.size() == table["columnDefinitions"].size());
  return cells.dump();
}

std::string Row(const ResourceType& t, const Json& obj) { return Cells(Table(t, obj)); }

Json Meta(const std::string& name, int64_t age) {
  return {{"name", name}, {"namespace", "default"}, {"creationTimestamp", Ago(age)}};
}

const ResourceType& Pods() { return Type("", "v1", "pods"); }

const Strings kPodHeader = {"Name:string",       "Ready:string",          "Status:string",
                            "Restarts:string",   "Age:string",            "IP:string:wide",
                            "Node:string:wide",  "Nominated Node:string:wide",
                            "Readiness Gates:string:wide"};

Json Pod(const std::string& name) {
  return {{"metadata", Meta(name, 15 * kMin)},
          {"spec", {{"nodeName", "node1"}, {"containers", {{{"name", "app"}, {"image", "nginx"}}}}}}};
}

Json Running(bool ready = true) {
  return {{"name", "app"},
          {"ready", ready},
          {"restartCount", 0},
          {"state", {{"running", {{"startedAt", Ago(14 * kMin)}}}}}};
}

}  // namespace

TEST_CASE("printers: human durations as upstream's duration.HumanDuration") {
  CHECK(HumanDuration(-5) == "<invalid>");
  CHECK(HumanDuration(-1) == "0s");
  CHECK(HumanDuration(45) == "45s");
  CHECK(HumanDuration(119) == "119s");
  CHECK(HumanDuration(200) == "3m20s");
  CHECK(HumanDuration(600) == "10m");
  CHECK(HumanDuration(3 * 3600 + 5 * 60) == "3h5m");
  CHECK(HumanDuration(30 * 3600) == "30h");
  CHECK(HumanDuration(3 * 86400 + 4 * 3600) == "3d4h");
  CHECK(HumanDuration(100 * 86400) == "100d");
  CHECK(HumanDuration(3 * 365 * 86400 + 10 * 86400) == "3y10d");
  CHECK(HumanDuration(9 * 365 * 86400) == "9y");
}

TEST_CASE("printers: pod columns and a running pod") {
  Json pod = Pod("web");
  pod["status"] = {{"phase", "Running"},
                   {"podIP", "10.42.0.7"},
                   {"podIPs", {{{"ip", "10.42.0.7"}}, {{"ip", "fd00::7"}}}},
                   {"conditions", {{{"type", "Ready"}, {"status", "True"}}}},
                   {"containerStatuses", {Running()}}};
  Json t = Table(Pods(), pod);
  CHECK(Header(t) == kPodHeader);
  CHECK(t["columnDefinitions"][0]["format"] == "name");
  CHECK(Cells(t) == Json({"web", "1/1", "Running", "0", "15m", "10.42.0.7", "node1", "<none>",
                          "<none>"})
                        .dump());
  CHECK_FALSE(t["rows"][0].contains("conditions"));
}

TEST_CASE("printers: pod states") {
  SUBCASE("Pending, containers being created") {
    Json pod = Pod("p");
    pod["spec"].erase("nodeName");
    pod["status"] = {{"phase", "Pending"},
                     {"containerStatuses",
                      {{{"name", "app"},
                        {"ready", false},
                        {"restartCount", 0},
                        {"state", {{"waiting", {{"reason", "ContainerCreating"}}}}}}}}};
    CHECK(Row(Pods(), pod) ==
          Json({"p", "0/1", "ContainerCreating", "0", "15m", "<none>", "<none>", "<none>",
                "<none>"})
              .dump());
  }
  SUBCASE("no status yet: Pending") {
    CHECK(Row(Pods(), Pod("new")) ==
          Json({"new", "0/1", "Pending", "0", "15m", "<none>", "node1", "<none>", "<none>"})
              .dump());
  }
  SUBCASE("CrashLoopBackOff, restarts and when the last one ended") {
    Json pod = Pod("crash");
    pod["status"] = {{"phase", "Running"},
                     {"containerStatuses",
                      {{{"name", "app"},
                        {"ready", false},
                        {"restartCount", 4},
                        {"state", {{"waiting", {{"reason", "CrashLoopBackOff"}}}}},
                        {"lastState",
                         {{"terminated",
                           {{"exitCode", 1}, {"reason", "Error"}, {"finishedAt", Ago(20 * kMin)}}}}}}}}};
    CHECK(Row(Pods(), pod) == Json({"crash", "0/1", "CrashLoopBackOff", "4 (20m ago)", "15m",
                                    "<none>", "node1", "<none>", "<none>"})
                                  .dump());
  }
  SUBCASE("Completed, with the row's Completed condition") {
    Json pod = Pod("done");
    pod["status"] = {
        {"phase", "Succeeded"},
        {"containerStatuses",
         {{{"name", "app"},
           {"ready", false},
           {"restartCount", 0},
           {"state", {{"terminated", {{"exitCode", 0}, {"reason", "Completed"}}}}}}}}};
    Json t = Table(Pods(), pod);
    CHECK(Cells(t) ==
          Json({"done", "0/1", "Completed", "0", "15m", "<none>", "node1", "<none>", "<none>"})
              .dump());
    REQUIRE(t["rows"][0].contains("conditions"));
    CHECK(t["rows"][0]["conditions"] ==
          Json::parse(R"([{"type":"Completed","status":"True","reason":"Succeeded",
                           "message":"The pod has completed successfully."}])"));
  }
  SUBCASE("Error and exit codes without a reason") {
    Json pod = Pod("failed");
    pod["status"] = {{"phase", "Failed"},
                     {"containerStatuses",
                      {{{"name", "app"},
                        {"restartCount", 0},
                        {"state", {{"terminated", {{"exitCode", 137}, {"signal", 9}}}}}}}}};
    Json t = Table(Pods(), pod);
    CHECK(t["rows"][0]["cells"][2] == "Signal:9");
    CHECK(t["rows"][0]["conditions"][0]["reason"] == "Failed");
    pod["status"]["containerStatuses"][0]["state"]["terminated"] = {{"exitCode", 2}};
    CHECK(Table(Pods(), pod)["rows"][0]["cells"][2] == "ExitCode:2");
  }
  SUBCASE("Init:0/1 while the init container runs") {
    Json pod = Pod("init");
    pod["spec"]["initContainers"] = {{{"name", "setup"}, {"image", "busybox"}}};
    pod["status"] = {
        {"phase", "Pending"},
        {"conditions", {{{"type", "Initialized"}, {"status", "False"}}}},
        {"initContainerStatuses",
         {{{"name", "setup"}, {"restartCount", 0}, {"state", {{"running", Json::object()}}}}}},
        {"containerStatuses",
         {{{"name", "app"},
           {"restartCount", 0},
           {"state", {{"waiting", {{"reason", "PodInitializing"}}}}}}}}};
    CHECK(Row(Pods(), pod) ==
          Json({"init", "0/1", "Init:0/1", "0", "15m", "<none>", "node1", "<none>", "<none>"})
              .dump());
  }
  SUBCASE("Init:CrashLoopBackOff and init restarts") {
    Json pod = Pod("init");
    pod["spec"]["initContainers"] = {{{"name", "a"}}, {{"name", "b"}}};
    pod["status"] = {
        {"phase", "Pending"},
        {"initContainerStatuses",
         {{{"name", "a"}, {"restartCount", 0}, {"state", {{"terminated", {{"exitCode", 0}}}}}},
          {{"name", "b"},
           {"restartCount", 3},
           {"state", {{"waiting", {{"reason", "CrashLoopBackOff"}}}}},
           {"lastState", {{"terminated", {{"exitCode", 1}, {"finishedAt", Ago(3 * kHour)}}}}}}}}};
    Json cells = Table(Pods(), pod)["rows"][0]["cells"];
    CHECK(cells[2] == "Init:CrashLoopBackOff");
    CHECK(cells[3] == "3 (3h ago)");
    pod["status"]["initContainerStatuses"][1]["state"] = {
        {"terminated", {{"exitCode", 1}, {"reason", "Error"}}}};
    CHECK(Table(Pods(), pod)["rows"][0]["cells"][2] == "Init:Error");
    pod["status"]["initContainerStatuses"][1]["state"] = {{"terminated", {{"exitCode", 3}}}};
    CHECK(Table(Pods(), pod)["rows"][0]["cells"][2] == "Init:ExitCode:3");
    pod["status"]["initContainerStatuses"][1]["state"] = {{"waiting", Json::object()}};
    CHECK(Table(Pods(), pod)["rows"][0]["cells"][2] == "Init:1/2");
  }
  SUBCASE("sidecars count among the containers") {
    Json pod = Pod("side");
    pod["spec"]["initContainers"] = {{{"name", "proxy"}, {"restartPolicy", "Always"}}};
    pod["status"] = {
        {"phase", "Running"},
        {"conditions",
         {{{"type", "Initialized"}, {"status", "True"}}, {{"type", "Ready"}, {"status", "True"}}}},
        {"initContainerStatuses",
         {{{"name", "proxy"},
           {"ready", true},
           {"started", true},
           {"restartCount", 2},
           {"state", {{"running", Json::object()}}},
           {"lastState", {{"terminated", {{"exitCode", 1}, {"finishedAt", Ago(2 * kDay)}}}}}}}},
        {"containerStatuses", {Running()}}};
    Json cells = Table(Pods(), pod)["rows"][0]["cells"];
    CHECK(cells[1] == "2/2");
    CHECK(cells[2] == "Running");
    CHECK(cells[3] == "2 (2d ago)");
  }
  SUBCASE("a container still running after another completed") {
    Json pod = Pod("mixed");
    pod["spec"]["containers"].push_back({{"name", "job"}});
    pod["status"] = {
        {"phase", "Running"},
        {"conditions", {{{"type", "Ready"}, {"status", "False"}}}},
        {"containerStatuses",
         {Running(),
          {{"name", "job"}, {"state", {{"terminated", {{"exitCode", 0}, {"reason", "Completed"}}}}}}}}};
    Json cells = Table(Pods(), pod)["rows"][0]["cells"];
    CHECK(cells[1] == "1/2");
    CHECK(cells[2] == "NotReady");
  }
  SUBCASE("Terminating, Unknown for a lost node, SchedulingGated") {
    Json pod = Pod("bye");
    pod["metadata"]["deletionTimestamp"] = Ago(10);
    pod["status"] = {{"phase", "Running"}, {"containerStatuses", {Running()}}};
    CHECK(Row(Pods(), pod) ==
          Json({"bye", "1/1", "Terminating", "0", "15m", "<none>", "node1", "<none>", "<none>"})
              .dump());
    pod["status"]["reason"] = "NodeLost";
    CHECK(Table(Pods(), pod)["rows"][0]["cells"][2] == "Unknown");
    // A finished pod being deleted keeps its final status.
    Json done = Pod("done");
    done["metadata"]["deletionTimestamp"] = Ago(10);
    done["status"] = {{"phase", "Succeeded"}};
    CHECK(Table(Pods(), done)["rows"][0]["cells"][2] == "Succeeded");
    Json gated = Pod("gated");
    gated["status"] = {{"phase", "Pending"},
                       {"conditions",
                        {{{"type", "PodScheduled"},
                          {"status", "False"},
                          {"reason", "SchedulingGated"}}}}};
    CHECK(Table(Pods(), gated)["rows"][0]["cells"][2] == "SchedulingGated");
  }
  SUBCASE("nominated node and readiness gates") {
    Json pod = Pod("gates");
    pod["spec"]["readinessGates"] = {{{"conditionType", "example.com/lb"}},
                                     {{"conditionType", "example.com/dns"}}};
    pod["status"] = {{"phase", "Running"},
                     {"nominatedNodeName", "node2"},
                     {"conditions", {{{"type", "example.com/lb"}, {"status", "True"}}}}};
    Json cells = Table(Pods(), pod)["rows"][0]["cells"];
    CHECK(cells[7] == "node2");
    CHECK(cells[8] == "1/2");
  }
}

TEST_CASE("printers: node Ready,SchedulingDisabled with roles") {
  Json node = {
      {"metadata",
       {{"name", "node1"},
        {"creationTimestamp", Ago(3 * kDay)},
        {"labels",
         {{"node-role.kubernetes.io/control-plane", ""},
          {"node-role.kubernetes.io/master", ""},
          {"kubernetes.io/role", "edge"},
          {"node-role.kubernetes.io/", ""},
          {"kubernetes.io/hostname", "node1"}}}}},
      {"spec", {{"unschedulable", true}}},
      {"status",
       {{"conditions",
         {{{"type", "MemoryPressure"}, {"status", "False"}}, {{"type", "Ready"}, {"status", "True"}}}},
        {"addresses",
         {{{"type", "Hostname"}, {"address", "node1"}},
          {{"type", "InternalIP"}, {"address", "192.168.1.10"}}}},
        {"nodeInfo",
         {{"kubeletVersion", "v1.32.0"},
          {"osImage", "Debian GNU/Linux 12 (bookworm)"},
          {"kernelVersion", "6.1.0-18-amd64"},
          {"containerRuntimeVersion", "containerd://1.7.13"}}}}}};
  const ResourceType& t = Type("", "v1", "nodes");
  Json table = Table(t, node);
  CHECK(Header(table) == Strings{"Name:string", "Status:string", "Roles:string", "Age:string",
                                 "Version:string", "Internal-IP:string:wide",
                                 "External-IP:string:wide", "OS-Image:string:wide",
                                 "Kernel-Version:string:wide", "Container-Runtime:string:wide"});
  CHECK(Cells(table) == Json({"node1", "Ready,SchedulingDisabled", "control-plane,edge,master",
                              "3d", "v1.32.0", "192.168.1.10", "<none>",
                              "Debian GNU/Linux 12 (bookworm)", "6.1.0-18-amd64",
                              "containerd://1.7.13"})
                            .dump());
  SUBCASE("not ready, no roles, no information") {
    Json bare = {{"metadata", {{"name", "n2"}, {"creationTimestamp", Ago(3 * kDay)}}},
                 {"status", {{"conditions", {{{"type", "Ready"}, {"status", "Unknown"}}}}}}};
    CHECK(Row(t, bare) == Json({"n2", "NotReady", "<none>", "3d", "", "<none>", "<none>",
                                "<unknown>", "<unknown>", "<unknown>"})
                              .dump());
    bare["status"].erase("conditions");
    CHECK(Table(t, bare)["rows"][0]["cells"][1] == "Unknown");
  }
}

TEST_CASE("printers: deployment, replica set, stateful set, daemon set") {
  Json tmpl = {{"spec",
                {{"containers",
                  {{{"name", "web"}, {"image", "nginx:1.27"}},
                   {{"name", "log"}, {"image", "busybox"}}}}}}};
  Json selector = {{"matchLabels", {{"app", "web"}, {"tier", "front"}}},
                   {"matchExpressions",
                    {{{"key", "env"}, {"operator", "In"}, {"values", {"prod", "dev"}}},
                     {{"key", "canary"}, {"operator", "DoesNotExist"}}}}};
  SUBCASE("deployment 2/3") {
    Json d = {{"metadata", Meta("web", 15 * kMin)},
              {"spec", {{"replicas", 3}, {"selector", selector}, {"template", tmpl}}},
              {"status", {{"replicas", 3}, {"readyReplicas", 2}, {"updatedReplicas", 3},
                          {"availableReplicas", 2}}}};
    const ResourceType& t = Type("apps", "v1", "deployments");
    Json table = Table(t, d);
    CHECK(Header(table) == Strings{"Name:string", "Ready:string", "Up-to-date:string",
                                   "Available:string", "Age:string", "Containers:string:wide",
                                   "Images:string:wide", "Selector:string:wide"});
    CHECK(Cells(table) ==
          Json({"web", "2/3", 3, 2, "15m", "web,log", "nginx:1.27,busybox",
                "app=web,!canary,env in (dev,prod),tier=front"})
              .dump());
    // Replicas default to 1; a missing status counts nothing ready.
    Json fresh = {{"metadata", Meta("fresh", 15 * kMin)}, {"spec", {{"template", tmpl}}}};
    CHECK(Row(t, fresh) == Json({"fresh", "0/1", 0, 0, "15m", "web,log", "nginx:1.27,busybox", ""})
                               .dump());
  }
  SUBCASE("replica set") {
    Json rs = {{"metadata", Meta("web-5d8f", 15 * kMin)},
               {"spec", {{"replicas", 3}, {"selector", {{"matchLabels", {{"app", "web"}}}}},
                         {"template", tmpl}}},
               {"status", {{"replicas", 3}, {"readyReplicas", 1}}}};
    const ResourceType& t = Type("apps", "v1", "replicasets");
    Json table = Table(t, rs);
    CHECK(Header(table) == Strings{"Name:string", "Desired:integer", "Current:integer",
                                   "Ready:integer", "Age:string", "Containers:string:wide",
                                   "Images:string:wide", "Selector:string:wide"});
    CHECK(Cells(table) ==
          Json({"web-5d8f", 3, 3, 1, "15m", "web,log", "nginx:1.27,busybox", "app=web"}).dump());
  }
  SUBCASE("stateful set") {
    Json ss = {{"metadata", Meta("db", 15 * kMin)},
               {"spec", {{"replicas", 3}, {"template", tmpl}}},
               {"status", {{"readyReplicas", 3}}}};
    const ResourceType& t = Type("apps", "v1", "statefulsets");
    Json table = Table(t, ss);
    CHECK(Header(table) == Strings{"Name:string", "Ready:string", "Age:string",
                                   "Containers:string:wide", "Images:string:wide"});
    CHECK(Cells(table) == Json({"db", "3/3", "15m", "web,log", "nginx:1.27,busybox"}).dump());
  }
  SUBCASE("daemon set") {
    Json ds = {{"metadata", Meta("agent", 15 * kMin)},
               {"spec",
                {{"selector", {{"matchLabels", {{"app", "agent"}}}}},
                 {"template",
                  {{"spec",
                    {{"nodeSelector", {{"kubernetes.io/os", "linux"}}},
                     {"containers", {{{"name", "agent"}, {"image", "agent:1"}}}}}}}}}},
               {"status", {{"desiredNumberScheduled", 2}, {"currentNumberScheduled", 2},
                           {"numberReady", 1}, {"updatedNumberScheduled", 2},
                           {"numberAvailable", 1}}}};
    const ResourceType& t = Type("apps", "v1", "daemonsets");
    Json table = Table(t, ds);
    CHECK(Header(table) ==
          Strings{"Name:string", "Desired:integer", "Current:integer", "Ready:integer",
                  "Up-to-date:integer", "Available:integer", "Node Selector:string",
                  "Age:string", "Containers:string:wide", "Images:string:wide",
                  "Selector:string:wide"});
    CHECK(Cells(table) == Json({"agent", 2, 2, 1, 2, 1, "kubernetes.io/os=linux", "15m", "agent",
                                "agent:1", "app=agent"})
                              .dump());
  }
  SUBCASE("controller revision") {
    Json cr = {{"metadata",
                {{"name", "db-7c9f"},
                 {"creationTimestamp", Ago(15 * kMin)},
                 {"ownerReferences",
                  {{{"apiVersion", "apps/v1"},
                    {"kind", "StatefulSet"},
                    {"name", "db"},
                    {"controller", true}}}}}},
               {"revision", 2}};
    const ResourceType& t = Type("apps", "v1", "controllerrevisions");
    Json table = Table(t, cr);
    CHECK(Header(table) ==
          Strings{"Name:string", "Controller:string", "Revision:string", "Age:string"});
    CHECK(Cells(table) == Json({"db-7c9f", "statefulset.apps/db", 2, "15m"}).dump());
    cr["metadata"].erase("ownerReferences");
    CHECK(Table(t, cr)["rows"][0]["cells"][1] == "<none>");
  }
}

TEST_CASE("printers: jobs and cron jobs") {
  const ResourceType& jobs = Type("batch", "v1", "jobs");
  Json job = {
      {"metadata", Meta("pi", 3 * kHour)},
      {"spec",
       {{"completions", 1},
        {"parallelism", 1},
        {"selector", {{"matchLabels", {{"batch.kubernetes.io/controller-uid", "abc"}}}}},
        {"template", {{"spec", {{"containers", {{{"name", "pi"}, {"image", "perl:5.34"}}}}}}}}}},
      {"status",
       {{"succeeded", 1},
        {"startTime", "2024-05-01T10:00:00Z"},
        {"completionTime", "2024-05-01T10:00:42Z"},
        {"conditions", {{{"type", "Complete"}, {"status", "True"}}}}}}};
  SUBCASE("complete") {
    Json table = Table(jobs, job);
    CHECK(Header(table) == Strings{"Name:string", "Status:string", "Completions:string",
                                   "Duration:string", "Age:string", "Containers:string:wide",
                                   "Images:string:wide", "Selector:string:wide"});
    CHECK(Cells(table) == Json({"pi", "Complete", "1/1", "42s", "3h", "pi", "perl:5.34",
                                "batch.kubernetes.io/controller-uid=abc"})
                              .dump());
  }
  SUBCASE("running, failed, suspended, terminating") {
    job["spec"].erase("completions");
    job["spec"]["parallelism"] = 4;
    job["status"] = {{"succeeded", 2}, {"startTime", Ago(15 * kMin)}};
    Json cells = Table(jobs, job)["rows"][0]["cells"];
    CHECK(cells[1] == "Running");
    CHECK(cells[2] == "2/1 of 4");
    CHECK(cells[3] == "15m");
    job["status"]["conditions"] = {{{"type", "Suspended"}, {"status", "True"}}};
    CHECK(Table(jobs, job)["rows"][0]["cells"][1] == "Suspended");
    job["metadata"]["deletionTimestamp"] = Ago(1);
    CHECK(Table(jobs, job)["rows"][0]["cells"][1] == "Terminating");
    job["status"]["conditions"] = {{{"type", "Failed"}, {"status", "True"}}};
    CHECK(Table(jobs, job)["rows"][0]["cells"][1] == "Failed");
    Json fresh = {{"metadata", Meta("new", 15 * kMin)}};
    CHECK(Row(jobs, fresh) == Json({"new", "Running", "0/1", "", "15m", "", "", "<none>"}).dump());
  }
  SUBCASE("cron job") {
    Json cj = {{"metadata", Meta("nightly", 3 * kDay)},
               {"spec",
                {{"schedule", "0 3 * * *"},
                 {"timeZone", "Europe/Paris"},
                 {"jobTemplate",
                  {{"spec",
                    {{"template",
                      {{"spec", {{"containers", {{{"name", "backup"}, {"image", "backup:2"}}}}}}}}}}}}}},
               {"status", {{"active", {{{"name", "nightly-1"}}}}, {"lastScheduleTime", Ago(3 * kHour)}}}};
    const ResourceType& t = Type("batch", "v1", "cronjobs");
    Json table = Table(t, cj);
    CHECK(Header(table) == Strings{"Name:string", "Schedule:string", "Timezone:string",
                                   "Suspend:boolean", "Active:integer", "Last Schedule:string",
                                   "Age:string", "Containers:string:wide", "Images:string:wide",
                                   "Selector:string:wide"});
    CHECK(Cells(table) == Json({"nightly", "0 3 * * *", "Europe/Paris", "False", 1, "3h", "3d",
                                "backup", "backup:2", "<none>"})
                              .dump());
    cj["spec"]["suspend"] = true;
    cj["spec"].erase("timeZone");
    cj.erase("status");
    Json cells = Table(t, cj)["rows"][0]["cells"];
    CHECK(cells[2] == "<none>");
    CHECK(cells[3] == "True");
    CHECK(cells[4] == 0);
    CHECK(cells[5] == "<none>");
  }
}

TEST_CASE("printers: services") {
  const ResourceType& t = Type("", "v1", "services");
  Json svc = {{"metadata", Meta("web", 15 * kMin)},
              {"spec",
               {{"type", "NodePort"},
                {"clusterIP", "10.43.12.7"},
                {"clusterIPs", {"10.43.12.7"}},
                {"selector", {{"app", "web"}, {"tier", "front"}}},
                {"ports",
                 {{{"name", "http"}, {"port", 80}, {"nodePort", 30080}, {"protocol", "TCP"}},
                  {{"name", "dns"}, {"port", 53}, {"protocol", "UDP"}}}}}}};
  Json table = Table(t, svc);
  CHECK(Header(table) == Strings{"Name:string", "Type:string", "Cluster-IP:string",
                                 "External-IP:string", "Port(s):string", "Age:string",
                                 "Selector:string:wide"});
  CHECK(Cells(table) == Json({"web", "NodePort", "10.43.12.7", "<none>", "80:30080/TCP,53/UDP",
                              "15m", "app=web,tier=front"})
                            .dump());
  SUBCASE("defaults: ClusterIP, TCP") {
    Json plain = {{"metadata", Meta("plain", 15 * kMin)},
                  {"spec", {{"clusterIP", "10.43.0.9"}, {"ports", {{{"port", 8080}}}}}}};
    CHECK(Row(t, plain) ==
          Json({"plain", "ClusterIP", "10.43.0.9", "<none>", "8080/TCP", "15m", "<none>"}).dump());
  }
  SUBCASE("headless, external IPs, load balancers, external names") {
    Json s = {{"metadata", Meta("s", 15 * kMin)},
              {"spec", {{"type", "ClusterIP"}, {"clusterIP", "None"}, {"externalIPs", {"1.2.3.4", "5.6.7.8"}}}}};
    Json cells = Table(t, s)["rows"][0]["cells"];
    CHECK(cells[2] == "None");
    CHECK(cells[3] == "1.2.3.4,5.6.7.8");
    CHECK(cells[4] == "<none>");
    s["spec"] = {{"type", "LoadBalancer"}, {"clusterIP", "10.43.0.1"}};
    CHECK(Table(t, s)["rows"][0]["cells"][3] == "<pending>");
    s["status"] = {{"loadBalancer",
                    {{"ingress",
                      {{{"ip", "203.0.113.9"}}, {{"hostname", "lb.example.com"}}, {{"ip", "203.0.113.2"}}}}}}};
    CHECK(Table(t, s)["rows"][0]["cells"][3] == "203.0.113.2,203.0.113.9,lb.example.com");
    s["spec"]["externalIPs"] = {"1.2.3.4"};
    CHECK(Table(t, s)["rows"][0]["cells"][3] ==
          "203.0.113.2,203.0.113.9,lb.example.com,1.2.3.4");
    Json ext = {{"metadata", Meta("ext", 15 * kMin)},
                {"spec", {{"type", "ExternalName"}, {"externalName", "db.example.com"}}}};
    CHECK(Row(t, ext) ==
          Json({"ext", "ExternalName", "<none>", "db.example.com", "<none>", "15m", "<none>"}).dump());
  }
}

TEST_CASE("printers: endpoints and endpoint slices") {
  const ResourceType& ep = Type("", "v1", "endpoints");
  Json e = {{"metadata", Meta("web", 15 * kMin)},
            {"subsets",
             {{{"addresses", {{{"ip", "10.42.0.5"}}, {{"ip", "10.42.0.6"}}}},
               {"ports", {{{"name", "http"}, {"port", 80}}, {{"name", "https"}, {"port", 443}}}}}}}};
  Json table = Table(ep, e);
  CHECK(Header(table) == Strings{"Name:string", "Endpoints:string", "Age:string"});
  CHECK(Cells(table) ==
        Json({"web", "10.42.0.5:80,10.42.0.6:80,10.42.0.5:443 + 1 more...", "15m"}).dump());
  e["subsets"] = {{{"addresses", {{{"ip", "fd00::1"}}}}, {"ports", {{{"port", 53}}}}},
                  {{"addresses", {{{"ip", "10.0.0.1"}}}}}};
  CHECK(Table(ep, e)["rows"][0]["cells"][1] == "[fd00::1]:53,10.0.0.1");
  e.erase("subsets");
  CHECK(Table(ep, e)["rows"][0]["cells"][1] == "<none>");

  const ResourceType& slices = Type("discovery.k8s.io", "v1", "endpointslices");
  Json s = {{"metadata", Meta("web-abc12", 15 * kMin)},
            {"addressType", "IPv4"},
            {"ports", {{{"name", "http"}, {"port", 80}}, {{"name", "named"}}, Json::object()}},
            {"endpoints",
             {{{"addresses", {"10.42.0.5"}}},
              {{"addresses", {"10.42.0.6", "10.42.0.7"}}},
              {{"addresses", {"10.42.0.8"}}}}}};
  table = Table(slices, s);
  CHECK(Header(table) == Strings{"Name:string", "AddressType:string", "Ports:string",
                                 "Endpoints:string", "Age:string"});
  CHECK(Cells(table) ==
        Json({"web-abc12", "IPv4", "80,named,*", "10.42.0.5,10.42.0.6,10.42.0.7 + 1 more...", "15m"})
            .dump());
  s.erase("ports");
  s.erase("endpoints");
  Json cells = Table(slices, s)["rows"][0]["cells"];
  CHECK(cells[2] == "<unset>");
  CHECK(cells[3] == "<unset>");
}

TEST_CASE("printers: events in both API shapes") {
  const Strings header = {"Last Seen:string", "Type:string",        "Reason:string",
                          "Object:string",    "Subobject:string:wide", "Source:string:wide",
                          "Message:string",   "First Seen:string:wide", "Count:string:wide",
                          "Name:string:wide"};
  SUBCASE("core/v1") {
    Json ev = {{"metadata", Meta("web.17c1a2b3", 3 * kHour)},
               {"involvedObject",
                {{"kind", "Pod"}, {"name", "web"}, {"fieldPath", "spec.containers{app}"}}},
               {"reason", "BackOff"},
               {"message", "Back-off restarting failed container\n"},
               {"source", {{"component", "kubelet"}, {"host", "node1"}}},
               {"firstTimestamp", Ago(3 * kHour)},
               {"lastTimestamp", Ago(15 * kMin)},
               {"count", 12},
               {"type", "Warning"}};
    Json table = Table(Type("", "v1", "events"), ev);
    CHECK(Header(table) == header);
    CHECK(Cells(table) == Json({"15m", "Warning", "BackOff", "pod/web", "spec.containers{app}",
                                "kubelet, node1", "Back-off restarting failed container", "3h",
                                12, "web.17c1a2b3"})
                              .dump());
  }
  SUBCASE("core/v1, written by a new-style client") {
    Json ev = {{"metadata", Meta("n.1", 3 * kHour)},
               {"involvedObject", {{"kind", "Node"}, {"name", "node1"}}},
               {"reason", "Starting"},
               {"message", "Starting kubelet."},
               {"eventTime", "2020-01-01T00:00:00.000000Z"},
               {"firstTimestamp", nullptr},
               {"lastTimestamp", nullptr},
               {"reportingComponent", "kubelet"},
               {"reportingInstance", "node1"},
               {"type", "Normal"}};
    ev["eventTime"] = Ago(3 * kDay);
    CHECK(Row(Type("", "v1", "events"), ev) ==
          Json({"3d", "Normal", "Starting", "node/node1", "", "kubelet, node1",
                "Starting kubelet.", "3d", 1, "n.1"})
              .dump());
  }
  SUBCASE("events.k8s.io/v1") {
    Json ev = {{"metadata", Meta("web.17c1a2b4", 3 * kHour)},
               {"eventTime", Ago(3 * kHour)},
               {"series", {{"count", 5}, {"lastObservedTime", Ago(15 * kMin)}}},
               {"reportingController", "example.com/controller"},
               {"reportingInstance", ""},
               {"action", "Scale"},
               {"reason", "Scaled"},
               {"regarding", {{"kind", "Deployment"}, {"name", "web"}, {"namespace", "default"}}},
               {"note", "  scaled to 3  "},
               {"type", "Normal"}};
    Json table = Table(Type("events.k8s.io", "v1", "events"), ev);
    CHECK(Header(table) == header);
    CHECK(Cells(table) == Json({"15m", "Normal", "Scaled", "deployment/web", "",
                                "example.com/controller", "scaled to 3", "3h", 5, "web.17c1a2b4"})
                              .dump());
  }
}

TEST_CASE("printers: namespaces, config maps, secrets, service accounts, leases") {
  Json ns = {{"metadata", {{"name", "team-a"}, {"creationTimestamp", Ago(3 * kDay)}}},
             {"status", {{"phase", "Terminating"}}}};
  Json table = Table(Type("", "v1", "namespaces"), ns);
  CHECK(Header(table) == Strings{"Name:string", "Status:string", "Age:string"});
  CHECK(Cells(table) == Json({"team-a", "Terminating", "3d"}).dump());
  ns.erase("status");
  CHECK(Table(Type("", "v1", "namespaces"), ns)["rows"][0]["cells"][1] == "Active");

  Json cm = {{"metadata", Meta("cfg", 15 * kMin)},
             {"data", {{"a", "1"}, {"b", "2"}}},
             {"binaryData", {{"c", "AA=="}}}};
  table = Table(Type("", "v1", "configmaps"), cm);
  CHECK(Header(table) == Strings{"Name:string", "Data:string", "Age:string"});
  CHECK(Cells(table) == Json({"cfg", 3, "15m"}).dump());

  Json secret = {{"metadata", Meta("tls", 15 * kMin)},
                 {"type", "kubernetes.io/tls"},
                 {"data", {{"tls.crt", "eA=="}, {"tls.key", "eA=="}}}};
  table = Table(Type("", "v1", "secrets"), secret);
  CHECK(Header(table) == Strings{"Name:string", "Type:string", "Data:string", "Age:string"});
  CHECK(Cells(table) == Json({"tls", "kubernetes.io/tls", 2, "15m"}).dump());
  Json plain = {{"metadata", Meta("p", 15 * kMin)},
                {"data", {{"a", "eA=="}}},
                {"stringData", {{"a", "x"}, {"b", "y"}}}};
  CHECK(Row(Type("", "v1", "secrets"), plain) == Json({"p", "Opaque", 2, "15m"}).dump());

  Json sa = {{"metadata", Meta("default", 15 * kMin)}, {"secrets", {{{"name", "default-token"}}}}};
  table = Table(Type("", "v1", "serviceaccounts"), sa);
  CHECK(Header(table) == Strings{"Name:string", "Secrets:string", "Age:string"});
  CHECK(Cells(table) == Json({"default", 1, "15m"}).dump());

  Json lease = {{"metadata", Meta("kube-scheduler", 15 * kMin)},
                {"spec", {{"holderIdentity", "node1_1234"}}}};
  table = Table(Type("coordination.k8s.io", "v1", "leases"), lease);
  CHECK(Header(table) == Strings{"Name:string", "Holder:string", "Age:string"});
  CHECK(Cells(table) == Json({"kube-scheduler", "node1_1234", "15m"}).dump());
}

TEST_CASE("printers: persistent volumes and claims") {
  const ResourceType& pvs = Type("", "v1", "persistentvolumes");
  Json pv = {{"metadata",
              {{"name", "pv-1"},
               {"creationTimestamp", Ago(3 * kDay)},
               {"annotations", {{"volume.beta.kubernetes.io/storage-class", "slow"}}}}},
             {"spec",
              {{"capacity", {{"storage", "1024Mi"}}},
               {"accessModes", {"ReadWriteMany", "ReadWriteOnce", "ReadWriteOnce"}},
               {"persistentVolumeReclaimPolicy", "Delete"},
               {"storageClassName", "fast"},
               {"claimRef", {{"namespace", "default"}, {"name", "data"}}},
               {"volumeMode", "Block"}}},
             {"status", {{"phase", "Bound"}}}};
  Json table = Table(pvs, pv);
  CHECK(Header(table) == Strings{"Name:string", "Capacity:string", "Access Modes:string",
                                 "Reclaim Policy:string", "Status:string", "Claim:string",
                                 "StorageClass:string", "VolumeAttributesClass:string",
                                 "Reason:string", "Age:string", "VolumeMode:string:wide"});
  CHECK(Cells(table) == Json({"pv-1", "1Gi", "RWO,RWX", "Delete", "Bound", "default/data", "slow",
                              "<unset>", "", "3d", "Block"})
                            .dump());
  Json bare = {{"metadata", {{"name", "pv-2"}, {"creationTimestamp", Ago(3 * kDay)}}},
               {"spec", {{"capacity", {{"storage", "1.5Gi"}}}}}};
  CHECK(Row(pvs, bare) == Json({"pv-2", "1536Mi", "", "Retain", "Pending", "", "", "<unset>", "",
                                "3d", "Filesystem"})
                              .dump());

  const ResourceType& pvcs = Type("", "v1", "persistentvolumeclaims");
  Json pvc = {{"metadata", Meta("data", 3 * kDay)},
              {"spec",
               {{"accessModes", {"ReadWriteOnce"}},
                {"resources", {{"requests", {{"storage", "5Gi"}}}}},
                {"storageClassName", "local-path"},
                {"volumeName", "pv-1"}}},
              {"status",
               {{"phase", "Bound"},
                {"accessModes", {"ReadWriteOncePod", "ReadWriteOnce"}},
                {"capacity", {{"storage", "5Gi"}}}}}};
  table = Table(pvcs, pvc);
  CHECK(Header(table) == Strings{"Name:string", "Status:string", "Volume:string",
                                 "Capacity:string", "Access Modes:string", "StorageClass:string",
                                 "VolumeAttributesClass:string", "Age:string",
                                 "VolumeMode:string:wide"});
  CHECK(Cells(table) == Json({"data", "Bound", "pv-1", "5Gi", "RWO,RWOP", "local-path", "<unset>",
                              "3d", "Filesystem"})
                            .dump());
  pvc["spec"].erase("volumeName");
  pvc["metadata"]["deletionTimestamp"] = Ago(1);
  CHECK(Row(pvcs, pvc) == Json({"data", "Terminating", "", "", "", "local-path", "<unset>", "3d",
                                "Filesystem"})
                              .dump());
}

TEST_CASE("printers: resource quantities print in canonical form") {
  const ResourceType& pvs = Type("", "v1", "persistentvolumes");
  auto capacity = [&](Json q) {
    Json pv = {{"metadata", {{"name", "pv"}}}, {"spec", {{"capacity", {{"storage", q}}}}}};
    return Table(pvs, pv)["rows"][0]["cells"][1].get<std::string>();
  };
  CHECK(capacity("10Gi") == "10Gi");
  CHECK(capacity("2048Ki") == "2Mi");
  CHECK(capacity("1536Mi") == "1536Mi");
  CHECK(capacity("0.5Gi") == "512Mi");
  CHECK(capacity("0.5Ki") == "512");
  CHECK(capacity("1000") == "1k");
  CHECK(capacity("1500") == "1500");
  CHECK(capacity("1.5") == "1500m");
  CHECK(capacity("0.1") == "100m");
  CHECK(capacity("100m") == "100m");
  CHECK(capacity("1000M") == "1G");
  CHECK(capacity("12e6") == "12e6");
  CHECK(capacity("0") == "0");
  CHECK(capacity("0Gi") == "0");
  CHECK(capacity(5) == "5");
  CHECK(capacity("bogus") == "bogus");
  Json none = {{"metadata", {{"name", "pv"}}}};
  CHECK(Table(pvs, none)["rows"][0]["cells"][1] == "0");
}

TEST_CASE("printers: resource quotas, limit ranges, roles (generic table)") {
  Json quota = {{"metadata", Meta("compute", 3 * kDay)},
                {"status",
                 {{"hard",
                   {{"requests.cpu", "4"}, {"pods", "10"}, {"limits.memory", "8Gi"},
                    {"limits.cpu", "8000m"}, {"requests.memory", "4096Mi"}}},
                  {"used", {{"requests.cpu", "500m"}, {"pods", "3"}, {"limits.cpu", "1"}}}}}};
  Json table = Table(Type("", "v1", "resourcequotas"), quota);
  CHECK(Header(table) == Strings{"Name:string", "Age:string", "Request:string", "Limit:string"});
  CHECK(Cells(table) == Json({"compute", "3d", "pods: 3/10, requests.cpu: 500m/4, requests.memory: 0/4Gi",
                              "limits.cpu: 1/8, limits.memory: 0/8Gi"})
                            .dump());

  const Strings generic = {"Name:string", "Created At:date"};
  Json lr = {{"metadata",
              {{"name", "limits"},
               {"namespace", "default"},
               {"creationTimestamp", "2024-05-01T10:00:00+02:00"}}},
             {"spec", {{"limits", {{{"type", "Container"}}}}}}};
  table = Table(Type("", "v1", "limitranges"), lr);
  CHECK(Header(table) == generic);
  CHECK(Cells(table) == Json({"limits", "2024-05-01T08:00:00Z"}).dump());
  const char* rbac = "rbac.authorization.k8s.io";
  Json role = {{"metadata", {{"name", "reader"}, {"creationTimestamp", "2024-02-29T23:59:59Z"}}}};
  for (const char* plural : {"roles", "clusterroles"}) {
    table = Table(Type(rbac, "v1", plural), role);
    CHECK(Header(table) == generic);
    CHECK(Cells(table) == Json({"reader", "2024-02-29T23:59:59Z"}).dump());
  }
  Json crd = {{"metadata", {{"name", "widgets.example.com"}, {"creationTimestamp", "2023-12-31T23:00:00.5Z"}}}};
  table = Table(Type("apiextensions.k8s.io", "v1", "customresourcedefinitions"), crd);
  CHECK(Header(table) == generic);
  CHECK(Cells(table) == Json({"widgets.example.com", "2023-12-31T23:00:00Z"}).dump());
  CHECK(table["columnDefinitions"][0]["format"] == "name");
}

TEST_CASE("printers: role bindings and cluster role bindings") {
  Json rb = {{"metadata", Meta("read-pods", 15 * kMin)},
             {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "reader"}}},
             {"subjects",
              {{{"kind", "User"}, {"name", "jane"}},
               {{"kind", "User"}, {"name", "joe"}},
               {{"kind", "Group"}, {"name", "devs"}},
               {{"kind", "ServiceAccount"}, {"name", "ci"}, {"namespace", "build"}}}}};
  const Strings header = {"Name:string",        "Role:string",         "Age:string",
                          "Users:string:wide", "Groups:string:wide", "ServiceAccounts:string:wide"};
  for (const char* plural : {"rolebindings", "clusterrolebindings"}) {
    Json table = Table(Type("rbac.authorization.k8s.io", "v1", plural), rb);
    CHECK(Header(table) == header);
    CHECK(Cells(table) ==
          Json({"read-pods", "Role/reader", "15m", "jane, joe", "devs", "build/ci"}).dump());
  }
}

TEST_CASE("printers: horizontal pod autoscalers, v2 and v1") {
  const Strings header = {"Name:string",    "Reference:string", "Targets:string", "MinPods:string",
                          "MaxPods:string", "Replicas:string",  "Age:string"};
  Json v2 = {{"metadata", Meta("web", 15 * kMin)},
             {"spec",
              {{"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "web"}}},
               {"minReplicas", 2},
               {"maxReplicas", 10},
               {"metrics",
                {{{"type", "Resource"},
                  {"resource", {{"name", "cpu"}, {"target", {{"type", "Utilization"}, {"averageUtilization", 50}}}}}},
                 {{"type", "Resource"},
                  {"resource", {{"name", "memory"}, {"target", {{"type", "AverageValue"}, {"averageValue", "1024Mi"}}}}}},
                 {{"type", "Pods"},
                  {"pods", {{"metric", {{"name", "qps"}}}, {"target", {{"type", "AverageValue"}, {"averageValue", "1k"}}}}}}}}}},
             {"status",
              {{"currentReplicas", 3},
               {"currentMetrics",
                {{{"type", "Resource"},
                  {"resource", {{"name", "cpu"}, {"current", {{"averageUtilization", 23}, {"averageValue", "115m"}}}}}},
                 {{"type", "Resource"},
                  {"resource", {{"name", "memory"}, {"current", {{"averageValue", "512Mi"}}}}}}}}}}};
  const ResourceType& t2 = Type("autoscaling", "v2", "horizontalpodautoscalers");
  Json table = Table(t2, v2);
  CHECK(Header(table) == header);
  CHECK(Cells(table) == Json({"web", "Deployment/web",
                              "cpu: 23%/50%, memory: 512Mi/1Gi + 1 more...", "2", 10, 3, "15m"})
                            .dump());
  v2["spec"].erase("metrics");
  v2["spec"].erase("minReplicas");
  v2.erase("status");
  CHECK(Row(t2, v2) ==
        Json({"web", "Deployment/web", "cpu: <unknown>/80%", "1", 10, 0, "15m"}).dump());

  Json v1 = {{"metadata", Meta("api", 15 * kMin)},
             {"spec",
              {{"scaleTargetRef", {{"kind", "Deployment"}, {"name", "api"}}},
               {"minReplicas", 1},
               {"maxReplicas", 5},
               {"targetCPUUtilizationPercentage", 70}}},
             {"status", {{"currentReplicas", 2}, {"currentCPUUtilizationPercentage", 35}}}};
  const ResourceType& t1 = Type("autoscaling", "v1", "horizontalpodautoscalers");
  table = Table(t1, v1);
  CHECK(Header(table) == header);
  CHECK(Cells(table) == Json({"api", "Deployment/api", "cpu: 35%/70%", "1", 5, 2, "15m"}).dump());
}

TEST_CASE("printers: ingresses, ingress classes, network policies") {
  Json ing = {{"metadata", Meta("web", 15 * kMin)},
              {"spec",
               {{"ingressClassName", "traefik"},
                {"tls", {{{"hosts", {"a.example.com"}}}}},
                {"rules",
                 {{{"host", "a.example.com"}},
                  {{"host", "b.example.com"}},
                  Json::object(),
                  {{"host", "c.example.com"}},
                  {{"host", "d.example.com"}}}}}},
              {"status", {{"loadBalancer", {{"ingress", {{{"ip", "192.168.1.10"}}}}}}}}};
  const ResourceType& t = Type("networking.k8s.io", "v1", "ingresses");
  Json table = Table(t, ing);
  CHECK(Header(table) == Strings{"Name:string", "Class:string", "Hosts:string", "Address:string",
                                 "Ports:string", "Age:string"});
  CHECK(Cells(table) == Json({"web", "traefik", "a.example.com,b.example.com,c.example.com + 2 more...",
                              "192.168.1.10", "80, 443", "15m"})
                            .dump());
  Json bare = {{"metadata", Meta("any", 15 * kMin)}, {"spec", {{"rules", {Json::object()}}}}};
  CHECK(Row(t, bare) == Json({"any", "<none>", "*", "", "80", "15m"}).dump());

  Json ic = {{"metadata", {{"name", "traefik"}, {"creationTimestamp", Ago(3 * kDay)}}},
             {"spec",
              {{"controller", "traefik.io/ingress-controller"},
               {"parameters", {{"apiGroup", "k8s.example.com"}, {"kind", "IngressParameters"}, {"name", "ext"}}}}}};
  const ResourceType& ict = Type("networking.k8s.io", "v1", "ingressclasses");
  table = Table(ict, ic);
  CHECK(Header(table) ==
        Strings{"Name:string", "Controller:string", "Parameters:string", "Age:string"});
  CHECK(Cells(table) == Json({"traefik", "traefik.io/ingress-controller",
                              "IngressParameters.k8s.example.com/ext", "3d"})
                            .dump());
  ic["spec"].erase("parameters");
  CHECK(Table(ict, ic)["rows"][0]["cells"][2] == "<none>");

  Json np = {{"metadata", Meta("deny", 15 * kMin)},
             {"spec", {{"podSelector", {{"matchExpressions", {{{"key", "role"}, {"operator", "NotIn"}, {"values", {"db"}}}}}}}}}};
  const ResourceType& npt = Type("networking.k8s.io", "v1", "networkpolicies");
  table = Table(npt, np);
  CHECK(Header(table) == Strings{"Name:string", "Pod-Selector:string", "Age:string"});
  CHECK(Cells(table) == Json({"deny", "role notin (db)", "15m"}).dump());
  np["spec"]["podSelector"] = Json::object();
  CHECK(Table(npt, np)["rows"][0]["cells"][1] == "<none>");
  np["spec"]["podSelector"] = {{"matchExpressions", {{{"key", "x"}, {"operator", "Bogus"}}}}};
  CHECK(Table(npt, np)["rows"][0]["cells"][1] == "<error>");
}

TEST_CASE("printers: storage classes, priority classes, disruption budgets") {
  Json sc = {{"metadata",
              {{"name", "local-path"},
               {"creationTimestamp", Ago(3 * kDay)},
               {"annotations", {{"storageclass.kubernetes.io/is-default-class", "true"}}}}},
             {"provisioner", "rancher.io/local-path"},
             {"volumeBindingMode", "WaitForFirstConsumer"}};
  const ResourceType& sct = Type("storage.k8s.io", "v1", "storageclasses");
  Json table = Table(sct, sc);
  CHECK(Header(table) == Strings{"Name:string", "Provisioner:string", "ReclaimPolicy:string",
                                 "VolumeBindingMode:string", "AllowVolumeExpansion:string",
                                 "Age:string"});
  CHECK(Cells(table) == Json({"local-path (default)", "rancher.io/local-path", "Delete",
                              "WaitForFirstConsumer", false, "3d"})
                            .dump());

  Json pc = {{"metadata", {{"name", "high"}, {"creationTimestamp", Ago(3 * kDay)}}},
             {"value", 1000000},
             {"globalDefault", true}};
  table = Table(Type("scheduling.k8s.io", "v1", "priorityclasses"), pc);
  CHECK(Header(table) == Strings{"Name:string", "Value:integer", "Global-Default:boolean",
                                 "Age:string", "PreemptionPolicy:string"});
  CHECK(Cells(table) == Json({"high", 1000000, true, "3d", "PreemptLowerPriority"}).dump());

  Json pdb = {{"metadata", Meta("web", 15 * kMin)},
              {"spec", {{"minAvailable", "50%"}}},
              {"status", {{"disruptionsAllowed", 1}}}};
  const ResourceType& pdbt = Type("policy", "v1", "poddisruptionbudgets");
  table = Table(pdbt, pdb);
  CHECK(Header(table) == Strings{"Name:string", "Min Available:string", "Max Unavailable:string",
                                 "Allowed Disruptions:integer", "Age:string"});
  CHECK(Cells(table) == Json({"web", "50%", "N/A", 1, "15m"}).dump());
  pdb["spec"] = {{"maxUnavailable", 1}};
  CHECK(Row(pdbt, pdb) == Json({"web", "N/A", "1", 1, "15m"}).dump());
}

TEST_CASE("printers: every built-in kind prints a full row for any object") {
  Json full = {{"metadata", Meta("x", 15 * kMin)}};
  for (const ResourceType& t : BuiltinTypes()) {
    CAPTURE(t.kind);
    CAPTURE(t.api_version());
    for (const Json& obj : {Json::object(), full}) {
      Json table = ToTable(t, {obj, obj}, "");
      REQUIRE(table["rows"].size() == 2);
      size_t columns = table["columnDefinitions"].size();
      CHECK(columns >= 2);
      CHECK(table["rows"][0]["cells"].size() == columns);
      CHECK(table["columnDefinitions"][0]["name"] == (t.kind == "Event" ? "Last Seen" : "Name"));
    }
  }
}

TEST_CASE("printers: the table carries metadata or the object as asked") {
  const ResourceType& cms = Type("", "v1", "configmaps");
  Json cm = {{"metadata", Meta("cfg", 15 * kMin)}, {"data", {{"a", "1"}}}};
  Json table = ToTable(cms, {cm}, "");
  CHECK(table["kind"] == "Table");
  CHECK(table["apiVersion"] == "meta.k8s.io/v1");
  CHECK(table["rows"][0]["object"]["kind"] == "PartialObjectMetadata");
  CHECK(table["rows"][0]["object"]["metadata"]["name"] == "cfg");
  CHECK(ToTable(cms, {cm}, "Object")["rows"][0]["object"] == cm);
  CHECK_FALSE(ToTable(cms, {cm}, "None")["rows"][0].contains("object"));
  CHECK(ToTable(cms, {}, "")["rows"].empty());
}
