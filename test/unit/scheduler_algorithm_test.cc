// One scheduling decision end to end over a Snapshot (the exact FitError
// messages, node sampling, nominated pods), preemption's choice of node
// and victims, and the scheduling queue's order, backoff and retries.
#include <doctest/doctest.h>

#include "core/scheduler/cluster_cache.h"
#include "core/scheduler/preemption.h"
#include "core/scheduler/schedule_pod.h"
#include "core/scheduler/scheduling_queue.h"
#include "test/unit/scheduler_test_objects.h"

namespace kubit::scheduler {
namespace {

using namespace testing;

json Tainted(json node, const std::string& key, const std::string& effect = "NoSchedule") {
  node["spec"]["taints"] = {{{"key", key}, {"effect", effect}}};
  return node;
}

std::string Message(const PodInfo& pod, const Snapshot& snap, ScheduleResult* result = nullptr) {
  PodScheduler sched(1);
  CycleState state;
  Diagnosis d;
  ScheduleResult r = sched.Schedule(pod, snap, {}, &state, &d);
  if (result) *result = r;
  if (!r.node.empty()) return "";
  PreemptionResult p = Preempt(pod, snap, {}, state, d, {}, 1);
  if (p.node.empty()) d.post_filter_message = p.message;
  return FitErrorMessage(snap.nodes().size(), d);
}

TEST_CASE("scheduler FitError: upstream's message, reasons counted and sorted") {
  Snapshot snap = SnapshotOf({NodeWith(Node("w1", "1")),
                              NodeWith(Tainted(Node("cp1"), "node-role.kubernetes.io/control-plane")),
                              NodeWith(Tainted(Node("cp2"), "node-role.kubernetes.io/control-plane"))});
  auto big = Info(Pod("big", "2"));
  CHECK(Message(*big, snap) ==
        "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }. preemption: 0/3 nodes are available: "
        "1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.");
  // Preemption that cannot help on any node.
  json pod = Pod("p", "2");
  pod["spec"]["nodeSelector"] = {{"disk", "ssd"}};
  CHECK(Message(*Info(pod), snap) ==
        "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 node(s) had "
        "untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/3 nodes are available: "
        "3 Preemption is not helpful for scheduling.");
  CHECK(Message(*Info(Pod("p", "2"), 0, true), snap) ==
        "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }. preemption: not eligible due to preemptionPolicy=Never.");
  // Counts sort as strings, as upstream's sort.Strings does.
  Diagnosis d;
  for (int i = 0; i < 10; i++) d.node_status["n" + std::to_string(i)] = Status::Unschedulable("Insufficient memory");
  d.node_status["x"] = Status::Unresolvable("node(s) were unschedulable");
  d.node_status["y"] = Status::Unresolvable("node(s) were unschedulable");
  CHECK(FitErrorMessage(12, d) ==
        "0/12 nodes are available: 10 Insufficient memory, 2 node(s) were unschedulable.");
  CHECK(FitErrorMessage(0, {}) == "0/0 nodes are available:");
}

TEST_CASE("scheduler Schedule: the fitting node with the best score") {
  Snapshot snap = SnapshotOf({NodeWith(Node("busy", "4", "8Gi"), {OnNode(Pod("x", "3", "6Gi"), "busy")}),
                              NodeWith(Node("idle", "4", "8Gi")),
                              NodeWith(Node("small", "1", "8Gi"))});
  ScheduleResult r;
  CHECK(Message(*Info(Pod("p", "500m", "1Gi")), snap, &r).empty());
  CHECK(r.node == "idle");
  CHECK(r.feasible == 3);
  // Only one node fits: no scoring needed.
  CHECK(Message(*Info(Pod("p", "2")), snap, &r).empty());
  CHECK(r.node == "idle");
  // Equal nodes: every one gets picked over enough tries.
  Snapshot same = SnapshotOf({NodeWith(Node("a")), NodeWith(Node("b")), NodeWith(Node("c"))});
  PodScheduler sched(7);
  std::set<std::string> chosen;
  for (int i = 0; i < 60; i++) {
    CycleState state;
    Diagnosis d;
    chosen.insert(sched.Schedule(*Info(Pod("p", "1")), same, {}, &state, &d).node);
  }
  CHECK(chosen.size() == 3);
}

TEST_CASE("scheduler Schedule: room freed by preemption is kept for the nominated pod") {
  Snapshot snap = SnapshotOf({NodeWith(Node("a", "2")), NodeWith(Node("b", "2"), {OnNode(Pod("x", "1500m"), "b")})});
  NominatedPods nominated;
  nominated["a"].push_back(Info(Pod("vip", "1500m"), 100));
  PodScheduler sched(1);
  CycleState state;
  Diagnosis d;
  ScheduleResult r = sched.Schedule(*Info(Pod("low", "1"), 10), snap, nominated, &state, &d);
  CHECK(r.node.empty());
  CHECK(FitErrorMessage(2, d) == "0/2 nodes are available: 2 Insufficient cpu.");
  // A pod of higher priority than the nominated one does not wait for it.
  d = {};
  CHECK(sched.Schedule(*Info(Pod("high", "1"), 200), snap, nominated, &state, &d).node == "a");
  // The nominated pod itself goes to its node.
  json vip = Pod("vip", "1500m");
  vip["status"]["nominatedNodeName"] = "a";
  CHECK(sched.Schedule(*Info(vip, 100), snap, nominated, &state, &d).node == "a");
}

TEST_CASE("scheduler percentageOfNodesToScore: adaptive as upstream") {
  CHECK(NumFeasibleNodesToFind(3) == 3);
  CHECK(NumFeasibleNodesToFind(99) == 99);
  CHECK(NumFeasibleNodesToFind(100) == 100);
  CHECK(NumFeasibleNodesToFind(500) == 230);    // 46%
  CHECK(NumFeasibleNodesToFind(1000) == 420);   // 42%
  CHECK(NumFeasibleNodesToFind(5000) == 500);   // 10%
  CHECK(NumFeasibleNodesToFind(10000) == 500);  // at least 5%
  CHECK(NumFeasibleNodesToFind(150) == 100);    // at least 100

  // 200 equal nodes: 100 are evaluated per pod, from a rotating start.
  std::vector<std::shared_ptr<NodeInfo>> nodes;
  for (int i = 0; i < 200; i++) nodes.push_back(NodeWith(Node("n" + std::to_string(1000 + i))));
  Snapshot snap = SnapshotOf(nodes);
  PodScheduler sched(1);
  std::set<std::string> chosen;
  for (int i = 0; i < 2; i++) {
    CycleState state;
    Diagnosis d;
    ScheduleResult r = sched.Schedule(*Info(Pod("p")), snap, {}, &state, &d);
    CHECK(r.evaluated == 100);
    CHECK(r.feasible == 100);
    chosen.insert(r.node);
  }
  CHECK(chosen.size() == 2);  // the two halves cannot share a node
}

TEST_CASE("scheduler preemption: fewest and least important victims, budgets, policy Never") {
  auto low = [](const std::string& name, const std::string& cpu, int prio, const std::string& node,
                json labels = json::object()) {
    json p = Pod(name, cpu);
    p["metadata"]["labels"] = labels;
    return OnNode(p, node, prio);
  };
  // a: two pods of priority 1 (1 cpu each); b: one of priority 5 (2 cpu).
  Snapshot snap = SnapshotOf({NodeWith(Node("a", "2"), {low("a1", "1", 1, "a"), low("a2", "1", 1, "a")}),
                              NodeWith(Node("b", "2"), {low("b1", "2", 5, "b")})});
  auto vip = Info(Pod("vip", "1"), 100);
  PodScheduler sched(1);
  CycleState state;
  Diagnosis d;
  REQUIRE(sched.Schedule(*vip, snap, {}, &state, &d).node.empty());
  PreemptionResult r = Preempt(*vip, snap, {}, state, d, {}, 1);
  REQUIRE(r.node == "a");  // the lowest priorities lose
  REQUIRE(r.victims.size() == 1);  // one of the two is enough

  // Victims must be of lower priority, and removing them must make room.
  auto mid = Info(Pod("mid", "3"), 3);
  d = {};
  sched.Schedule(*mid, snap, {}, &state, &d);
  r = Preempt(*mid, snap, {}, state, d, {}, 1);
  CHECK(r.node.empty());
  CHECK(r.clear_nomination);
  CHECK(r.message ==
        "preemption: 0/2 nodes are available: 1 Insufficient cpu, 1 No preemption victims found for incoming pod.");

  // A budget protecting the pods on a sends the preemption to b.
  snap = SnapshotOf({NodeWith(Node("a", "2"), {low("a1", "1", 1, "a", {{"app", "db"}}),
                                               low("a2", "1", 1, "a", {{"app", "db"}})}),
                     NodeWith(Node("b", "2"), {low("b1", "2", 5, "b")})});
  DisruptionBudget pdb = ReadDisruptionBudget(json::parse(R"({"metadata": {"namespace": "default"},
      "spec": {"selector": {"matchLabels": {"app": "db"}}}, "status": {"disruptionsAllowed": 0}})"));
  d = {};
  sched.Schedule(*vip, snap, {}, &state, &d);
  r = Preempt(*vip, snap, {}, state, d, {pdb}, 1);
  CHECK(r.node == "b");
  REQUIRE(r.victims.size() == 1);
  CHECK(r.victims[0]->name == "b1");
  // With one disruption allowed, a is fine again.
  pdb.disruptions_allowed = 1;
  r = Preempt(*vip, snap, {}, state, d, {pdb}, 1);
  CHECK(r.node == "a");

  r = Preempt(*Info(Pod("vip", "1"), 100, true), snap, {}, state, d, {}, 1);
  CHECK(r.node.empty());
  CHECK(r.message == "preemption: not eligible due to preemptionPolicy=Never.");
}

TEST_CASE("scheduler preemption: victims chosen so that the pod fits, most important reprieved") {
  auto pod = [](const std::string& name, const std::string& cpu, int prio, const std::string& start) {
    json p = Pod(name, cpu);
    p["status"]["startTime"] = start;
    return OnNode(p, "a", prio);
  };
  Snapshot snap = SnapshotOf({NodeWith(Node("a", "4"), {pod("old", "1", 1, "2024-01-01T00:00:00Z"),
                                                        pod("new", "1", 1, "2024-06-01T00:00:00Z"),
                                                        pod("big", "2", 2, "2024-01-01T00:00:00Z")})});
  auto vip = Info(Pod("vip", "2"), 10);
  PodScheduler sched(1);
  CycleState state;
  Diagnosis d;
  REQUIRE(sched.Schedule(*vip, snap, {}, &state, &d).node.empty());
  PreemptionResult r = Preempt(*vip, snap, {}, state, d, {}, 1);
  REQUIRE(r.node == "a");
  // big (priority 2) is reprieved first and stays; both priority-1 pods go.
  std::set<std::string> victims;
  for (const auto& v : r.victims) victims.insert(v->name);
  CHECK(victims == std::set<std::string>{"old", "new"});
  CHECK(MoreImportant(*snap.Find("a")->pods[0], *snap.Find("a")->pods[1]));  // started earlier
}

TEST_CASE("scheduler queue: priority then age; backoff doubling to the cap; unschedulable until a change") {
  auto now = SchedulingQueue::Clock::time_point{} + std::chrono::hours(1);
  SchedulingQueue::Options o;
  o.now = [&] { return now; };
  SchedulingQueue q(o);
  json older = Pod("older");
  older["metadata"]["creationTimestamp"] = "2023-01-01T00:00:00Z";
  q.AddOrUpdate(Info(Pod("low"), 1));
  q.AddOrUpdate(Info(older, 1));
  q.AddOrUpdate(Info(Pod("high"), 50));
  SchedulingQueue::Item a, b, c, none;
  REQUIRE(q.TryPop(&a));
  REQUIRE(q.TryPop(&b));
  REQUIRE(q.TryPop(&c));
  CHECK(a.pod->name == "high");
  CHECK(b.pod->name == "older");
  CHECK(c.pod->name == "low");
  CHECK_FALSE(q.TryPop(&none));

  // An error: back off 1 s, then 2 s, ... at most 10 s.
  q.Requeue(a, false);
  CHECK(q.BackoffSize() == 1);
  now += std::chrono::milliseconds(999);
  CHECK_FALSE(q.TryPop(&none));
  now += std::chrono::milliseconds(1);
  REQUIRE(q.TryPop(&a));
  CHECK(a.attempts == 2);
  q.Requeue(a, false);
  now += std::chrono::milliseconds(1999);
  CHECK_FALSE(q.TryPop(&none));
  now += std::chrono::milliseconds(1);
  REQUIRE(q.TryPop(&a));
  for (int i = 0; i < 6; i++) {
    q.Requeue(a, false);
    now += std::chrono::seconds(10);
    REQUIRE(q.TryPop(&a));
  }
  CHECK(a.attempts == 9);

  // Unschedulable: waits for a change (after its backoff), or 60 s.
  q.Requeue(b, true);
  CHECK(q.UnschedulableSize() == 1);
  now += std::chrono::seconds(5);
  CHECK_FALSE(q.TryPop(&none));
  q.MoveAllToActiveOrBackoff();
  REQUIRE(q.TryPop(&b));
  CHECK(b.pod->name == "older");
  q.Requeue(b, true);
  now += std::chrono::seconds(59);
  CHECK_FALSE(q.TryPop(&none));
  now += std::chrono::seconds(1);
  REQUIRE(q.TryPop(&b));

  // A change during the attempt: straight to backoff, not to waiting.
  q.MoveAllToActiveOrBackoff();
  q.Requeue(b, true);
  CHECK(q.UnschedulableSize() == 0);
  CHECK(q.BackoffSize() == 1);
}

TEST_CASE("scheduler queue: updates, deletes while in flight, nominations") {
  SchedulingQueue q;
  json pod = Pod("p");
  q.AddOrUpdate(Info(pod));
  SchedulingQueue::Item item, none;
  REQUIRE(q.TryPop(&item));
  // Deleted while being scheduled: not requeued.
  q.Delete(item.pod->key);
  q.Requeue(item, true);
  CHECK(q.UnschedulableSize() == 0);

  q.AddOrUpdate(Info(pod));
  REQUIRE(q.TryPop(&item));
  q.Requeue(item, true);
  // A status-only change (the scheduler's own condition) does not retry it.
  json with_status = pod;
  with_status["status"]["conditions"] = {{{"type", "PodScheduled"}, {"status", "False"}}};
  q.AddOrUpdate(Info(with_status));
  CHECK(q.UnschedulableSize() == 1);
  // A spec change does (after the backoff).
  json relabelled = pod;
  relabelled["spec"]["nodeSelector"] = {{"disk", "hdd"}};
  q.AddOrUpdate(Info(relabelled));
  CHECK(q.UnschedulableSize() == 0);
  CHECK(q.ActiveSize() + q.BackoffSize() == 1);

  q.Nominate("default/p", "n1");
  NominatedPods nominated = q.Nominated();
  REQUIRE(nominated["n1"].size() == 1);
  CHECK(nominated["n1"][0]->name == "p");
  q.Nominate("default/p", "");
  CHECK(q.Nominated().empty());
  q.Delete("default/p");
  CHECK(q.ActiveSize() + q.BackoffSize() == 0);
}

TEST_CASE("scheduler cluster cache: assumed pods, confirmation, forgetting, snapshots that stay put") {
  ClusterCache cache;
  cache.AddOrUpdateNode(std::make_shared<const json>(Node("a", "2")));
  auto pod = Info(Pod("p", "1"));
  Snapshot before = cache.TakeSnapshot();
  cache.Assume(pod, "a");
  CHECK(cache.IsAssumed("default/p"));
  Snapshot after = cache.TakeSnapshot();
  CHECK(before.Find("a")->requested.milli_cpu == 0);  // the old snapshot is untouched
  CHECK(after.Find("a")->requested.milli_cpu == 1000);
  cache.Forget("default/p");
  CHECK(cache.TakeSnapshot().Find("a")->pods.empty());

  cache.Assume(pod, "a");
  cache.AddOrUpdatePod(OnNode(Pod("p", "1"), "a"));  // the binding seen
  CHECK_FALSE(cache.IsAssumed("default/p"));
  cache.Forget("default/p");
  CHECK(cache.TakeSnapshot().Find("a")->pods.size() == 1);
  // A finished pod frees its room.
  json done = Pod("p", "1");
  done["spec"]["nodeName"] = "a";
  done["status"]["phase"] = "Succeeded";
  cache.AddOrUpdatePod(Info(done));
  CHECK(cache.TakeSnapshot().Find("a")->pods.empty());
  // Pods on a node not yet seen wait for it.
  cache.AddOrUpdatePod(OnNode(Pod("q", "1"), "later"));
  CHECK(cache.TakeSnapshot().nodes().size() == 1);
  cache.AddOrUpdateNode(std::make_shared<const json>(Node("later")));
  CHECK(cache.TakeSnapshot().Find("later")->pods.size() == 1);
  CHECK(cache.PodCount() == 1);
}

}  // namespace
}  // namespace kubit::scheduler
