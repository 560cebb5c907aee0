// The scheduler's filters and scores, one plugin at a time, with JSON
// nodes and pods as kubectl would create them; reasons are upstream's
// exact strings.
#include <doctest/doctest.h>

#include <cmath>

#include "core/scheduler/plugins.h"
#include "test/unit/scheduler_test_objects.h"

namespace kubit::scheduler {
namespace {

using namespace testing;

std::string Reasons(const Status& s) {
  std::string out;
  for (const auto& r : s.reasons) out += (out.empty() ? "" : "; ") + r;
  return out;
}

TEST_CASE("scheduler resources: pod requests add containers and sidecars, take the largest init container") {
  json pod = Pod("p", "100m", "64Mi");
  pod["spec"]["containers"].push_back({{"name", "d"}, {"resources", {{"requests", {{"cpu", "200m"}}}}}});
  CHECK(PodRequests(pod, false).milli_cpu == 300);
  CHECK(PodRequests(pod, false).memory == 64 * 1024 * 1024);

  pod["spec"]["initContainers"] = {{{"name", "init"}, {"resources", {{"requests", {{"cpu", "500m"}}}}}}};
  CHECK(PodRequests(pod, false).milli_cpu == 500);

  // A sidecar started before the init container runs beside it and beside
  // the app containers.
  pod["spec"]["initContainers"].insert(
      pod["spec"]["initContainers"].begin(),
      json::parse(R"({"name": "side", "restartPolicy": "Always", "resources": {"requests": {"cpu": "50m"}}})"));
  CHECK(PodRequests(pod, false).milli_cpu == 550);
  pod["spec"]["initContainers"][1]["resources"]["requests"]["cpu"] = "100m";
  CHECK(PodRequests(pod, false).milli_cpu == 350);

  pod["spec"]["overhead"] = {{"cpu", "10m"}, {"nvidia.com/gpu", "1"}};
  Resources r = PodRequests(pod, false);
  CHECK(r.milli_cpu == 360);
  CHECK(r.Get("nvidia.com/gpu") == 1);
}

TEST_CASE("scheduler resources: containers without requests count as 100m and 200Mi when spreading") {
  json pod = Pod("p");
  pod["spec"]["containers"].push_back({{"name", "d"}, {"resources", {{"requests", {{"cpu", "0"}}}}}});
  Resources fit = PodRequests(pod, false), spread = PodRequests(pod, true);
  CHECK(fit.IsZero());
  CHECK(spread.milli_cpu == 100);  // the explicit 0 stays 0
  CHECK(spread.memory == 2 * 200 * 1024 * 1024);
  CHECK(ParseResourceList({{"cpu", "1.5"}, {"memory", "1Gi"}, {"ephemeral-storage", "1e3"}}).milli_cpu == 1500);
  CHECK(ParseResourceList({{"cpu", "0.1m"}}).milli_cpu == 1);  // rounded up
}

TEST_CASE("scheduler NodeName and NodeUnschedulable") {
  auto n = NodeWith(Node("a"));
  json pod = Pod("p");
  CHECK(FilterNodeName(*Info(pod), *n).ok());
  pod["spec"]["nodeName"] = "b";
  Status s = FilterNodeName(*Info(pod), *n);
  CHECK(s.code == Code::kUnresolvable);
  CHECK(Reasons(s) == "node(s) didn't match the requested node name");

  json cordoned = Node("a");
  cordoned["spec"]["unschedulable"] = true;
  n = NodeWith(cordoned);
  pod = Pod("p");
  s = FilterNodeUnschedulable(*Info(pod), *n);
  CHECK(s.code == Code::kUnresolvable);
  CHECK(Reasons(s) == "node(s) were unschedulable");
  pod["spec"]["tolerations"] = {{{"key", "node.kubernetes.io/unschedulable"}, {"operator", "Exists"},
                                 {"effect", "NoSchedule"}}};
  CHECK(FilterNodeUnschedulable(*Info(pod), *n).ok());
}

TEST_CASE("scheduler NodeResourcesFit: requests against what the node's pods leave") {
  auto node = NodeWith(Node("a", "2", "4Gi", "3"), {OnNode(Pod("x", "1500m", "1Gi"), "a")});
  CHECK(FilterNodeResourcesFit(*Info(Pod("p", "500m", "3Gi")), *node).ok());
  Status s = FilterNodeResourcesFit(*Info(Pod("p", "501m", "3Gi")), *node);
  CHECK(s.code == Code::kUnschedulable);
  CHECK(Reasons(s) == "Insufficient cpu");
  CHECK(Reasons(FilterNodeResourcesFit(*Info(Pod("p", "1", "4Gi")), *node)) ==
        "Insufficient cpu; Insufficient memory");

  // Pod slots: a pod asking for nothing still needs one.
  node->AddPod(OnNode(Pod("y"), "a"));
  node->AddPod(OnNode(Pod("z"), "a"));
  CHECK(Reasons(FilterNodeResourcesFit(*Info(Pod("p")), *node)) == "Too many pods");

  // Extended resources and ephemeral storage.
  json gpu_node = Node("g");
  gpu_node["status"]["allocatable"]["example.com/gpu"] = "2";
  gpu_node["status"]["allocatable"]["ephemeral-storage"] = "10Gi";
  json gpu_pod = Pod("p");
  gpu_pod["spec"]["containers"][0]["resources"]["requests"] = {{"example.com/gpu", "3"},
                                                               {"ephemeral-storage", "20Gi"}};
  CHECK(Reasons(FilterNodeResourcesFit(*Info(gpu_pod), *NodeWith(gpu_node))) ==
        "Insufficient ephemeral-storage; Insufficient example.com/gpu");
  gpu_pod["spec"]["containers"][0]["resources"]["requests"] = {{"example.com/gpu", "2"}};
  CHECK(FilterNodeResourcesFit(*Info(gpu_pod), *NodeWith(gpu_node)).ok());
  CHECK(Reasons(FilterNodeResourcesFit(*Info(gpu_pod), *NodeWith(Node("plain")))) ==
        "Insufficient example.com/gpu");
}

TEST_CASE("scheduler NodeResourcesFit: assumed pods count like bound ones") {
  auto node = NodeWith(Node("a", "1"));
  node->AddPod(OnNode(Pod("assumed", "800m"), "a"));
  CHECK(Reasons(FilterNodeResourcesFit(*Info(Pod("p", "300m")), *node)) == "Insufficient cpu");
  CHECK(node->RemovePod("default/assumed"));
  CHECK(FilterNodeResourcesFit(*Info(Pod("p", "300m")), *node).ok());
  CHECK_FALSE(node->RemovePod("default/assumed"));
}

TEST_CASE("scheduler NodeAffinity: nodeSelector and required terms with every operator") {
  json n = Node("a");
  n["metadata"]["labels"]["zone"] = "z1";
  n["metadata"]["labels"]["gen"] = "5";
  auto node = NodeWith(n);
  auto with = [&](json affinity_terms) {
    json pod = Pod("p");
    pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"] =
        affinity_terms;
    return FilterNodeAffinity(*Info(pod), *node).ok();
  };
  auto expr = [](const std::string& key, const std::string& op, json values = json::array()) {
    json e = {{"key", key}, {"operator", op}};
    if (!values.empty()) e["values"] = values;
    return json::array({{{"matchExpressions", json::array({e})}}});
  };
  CHECK(with(expr("zone", "In", {"z1", "z2"})));
  CHECK_FALSE(with(expr("zone", "In", {"z2"})));
  CHECK(with(expr("zone", "NotIn", {"z2"})));
  CHECK(with(expr("missing", "NotIn", {"z2"})));
  CHECK(with(expr("zone", "Exists")));
  CHECK_FALSE(with(expr("zone", "DoesNotExist")));
  CHECK(with(expr("missing", "DoesNotExist")));
  CHECK(with(expr("gen", "Gt", {"4"})));
  CHECK_FALSE(with(expr("gen", "Gt", {"5"})));
  CHECK(with(expr("gen", "Lt", {"6"})));
  CHECK_FALSE(with(expr("zone", "Lt", {"6"})));  // not a number
  // matchFields: metadata.name only.
  CHECK(with(json::array({{{"matchFields", {{{"key", "metadata.name"}, {"operator", "In"}, {"values", {"a"}}}}}}})));
  CHECK_FALSE(with(json::array({{{"matchFields", {{{"key", "metadata.name"}, {"operator", "In"}, {"values", {"b"}}}}}}})));
  // Terms are ORed; an empty term matches nothing.
  json terms = expr("zone", "In", {"z9"});
  terms.push_back(expr("zone", "Exists")[0]);
  CHECK(with(terms));
  CHECK_FALSE(with(json::array({json::object()})));

  json pod = Pod("p");
  pod["spec"]["nodeSelector"] = {{"zone", "z2"}};
  Status s = FilterNodeAffinity(*Info(pod), *node);
  CHECK(s.code == Code::kUnresolvable);
  CHECK(Reasons(s) == "node(s) didn't match Pod's node affinity/selector");
  pod["spec"]["nodeSelector"] = {{"zone", "z1"}};
  CHECK(FilterNodeAffinity(*Info(pod), *node).ok());
}

TEST_CASE("scheduler TaintToleration: untolerated NoSchedule and NoExecute taints") {
  json n = Node("cp");
  n["spec"]["taints"] = {{{"key", "node-role.kubernetes.io/control-plane"}, {"effect", "NoSchedule"}},
                         {{"key", "soft"}, {"value", "x"}, {"effect", "PreferNoSchedule"}}};
  auto node = NodeWith(n);
  json pod = Pod("p");
  Status s = FilterTaintToleration(*Info(pod), *node);
  CHECK(s.code == Code::kUnresolvable);
  CHECK(Reasons(s) == "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }");
  pod["spec"]["tolerations"] = {{{"key", "node-role.kubernetes.io/control-plane"}, {"operator", "Exists"},
                                 {"effect", "NoSchedule"}}};
  CHECK(FilterTaintToleration(*Info(pod), *node).ok());
  CHECK(ScoreTaintToleration(*Info(pod), *node) == 1);
  pod["spec"]["tolerations"] = {{{"operator", "Exists"}}};  // tolerates everything
  CHECK(FilterTaintToleration(*Info(pod), *node).ok());
  CHECK(ScoreTaintToleration(*Info(pod), *node) == 0);

  n["spec"]["taints"] = {{{"key", "dedicated"}, {"value", "db"}, {"effect", "NoExecute"}}};
  node = NodeWith(n);
  pod["spec"]["tolerations"] = {{{"key", "dedicated"}, {"value", "web"}, {"effect", "NoExecute"}}};
  CHECK(Reasons(FilterTaintToleration(*Info(pod), *node)) == "node(s) had untolerated taint {dedicated: db}");
  pod["spec"]["tolerations"][0]["value"] = "db";
  CHECK(FilterTaintToleration(*Info(pod), *node).ok());
  pod["spec"]["tolerations"][0]["effect"] = "NoSchedule";  // the wrong effect
  CHECK_FALSE(FilterTaintToleration(*Info(pod), *node).ok());
}

TEST_CASE("scheduler NodePorts: host port conflicts by protocol, port and address") {
  auto with_port = [](json pod, int port, const std::string& proto = "", const std::string& ip = "") {
    json p = {{"containerPort", 80}, {"hostPort", port}};
    if (!proto.empty()) p["protocol"] = proto;
    if (!ip.empty()) p["hostIP"] = ip;
    pod["spec"]["containers"][0]["ports"] = {p};
    return pod;
  };
  auto node = NodeWith(Node("a"), {OnNode(with_port(Pod("x"), 8080), "a")});
  Status s = FilterNodePorts(*Info(with_port(Pod("p"), 8080)), *node);
  CHECK(s.code == Code::kUnschedulable);
  CHECK(Reasons(s) == "node(s) didn't have free ports for the requested pod ports");
  CHECK(FilterNodePorts(*Info(with_port(Pod("p"), 8081)), *node).ok());
  CHECK(FilterNodePorts(*Info(with_port(Pod("p"), 8080, "UDP")), *node).ok());
  CHECK_FALSE(FilterNodePorts(*Info(with_port(Pod("p"), 8080, "TCP", "10.0.0.1")), *node).ok());

  node = NodeWith(Node("a"), {OnNode(with_port(Pod("x"), 9000, "TCP", "10.0.0.1"), "a")});
  CHECK(FilterNodePorts(*Info(with_port(Pod("p"), 9000, "TCP", "10.0.0.2")), *node).ok());
  CHECK_FALSE(FilterNodePorts(*Info(with_port(Pod("p"), 9000, "TCP", "10.0.0.1")), *node).ok());
  CHECK_FALSE(FilterNodePorts(*Info(with_port(Pod("p"), 9000)), *node).ok());
  // Removing the pod frees the port.
  node->RemovePod("default/x");
  CHECK(FilterNodePorts(*Info(with_port(Pod("p"), 9000)), *node).ok());
}

json Labelled(json pod, json labels) {
  pod["metadata"]["labels"] = std::move(labels);
  return pod;
}

json ZoneNode(const std::string& name, const std::string& zone) {
  json n = Node(name);
  if (!zone.empty()) n["metadata"]["labels"]["topology.kubernetes.io/zone"] = zone;
  return n;
}

json Term(json match_labels, const std::string& key) {
  return {{"labelSelector", {{"matchLabels", std::move(match_labels)}}}, {"topologyKey", key}};
}

Status AffinityFilter(const PodInfo& pod, const Snapshot& snap, const std::string& node) {
  CycleState state;
  RunPreFilter(pod, snap, &state);
  return FilterInterPodAffinity(state.affinity, pod, *snap.Find(node));
}

TEST_CASE("scheduler InterPodAffinity: required affinity and anti-affinity by topology domain") {
  const std::string zone = "topology.kubernetes.io/zone";
  Snapshot snap = SnapshotOf({NodeWith(ZoneNode("a1", "a"), {OnNode(Labelled(Pod("db"), {{"app", "db"}}), "a1")}),
                              NodeWith(ZoneNode("a2", "a")), NodeWith(ZoneNode("b1", "b")),
                              NodeWith(ZoneNode("nozone", ""))});
  json pod = Labelled(Pod("web"), {{"app", "web"}});
  pod["spec"]["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {Term({{"app", "db"}}, zone)};
  auto info = Info(pod);
  CHECK(AffinityFilter(*info, snap, "a1").ok());
  CHECK(AffinityFilter(*info, snap, "a2").ok());  // same zone
  Status s = AffinityFilter(*info, snap, "b1");
  CHECK(s.code == Code::kUnresolvable);
  CHECK(Reasons(s) == "node(s) didn't match pod affinity rules");
  CHECK_FALSE(AffinityFilter(*info, snap, "nozone").ok());

  // The first of a group that wants to be together goes anywhere.
  json first = Labelled(Pod("first"), {{"app", "cache"}});
  first["spec"]["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {
      Term({{"app", "cache"}}, zone)};
  CHECK(AffinityFilter(*Info(first), snap, "b1").ok());

  // Anti-affinity: not in a zone with a db pod.
  json anti = Labelled(Pod("anti"), {{"app", "web"}});
  anti["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {
      Term({{"app", "db"}}, zone)};
  s = AffinityFilter(*Info(anti), snap, "a2");
  CHECK(s.code == Code::kUnschedulable);
  CHECK(Reasons(s) == "node(s) didn't match pod anti-affinity rules");
  CHECK(AffinityFilter(*Info(anti), snap, "b1").ok());
  CHECK(AffinityFilter(*Info(anti), snap, "nozone").ok());

  // Other namespaces do not count unless the term names them.
  json other_ns = Labelled(Pod("x", "", "", "prod"), {{"app", "web"}});
  other_ns["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {
      Term({{"app", "db"}}, zone)};
  CHECK(AffinityFilter(*Info(other_ns), snap, "a2").ok());
  other_ns["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]["namespaces"] = {
      "default"};
  CHECK_FALSE(AffinityFilter(*Info(other_ns), snap, "a2").ok());
  other_ns["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0].erase("namespaces");
  other_ns["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]["namespaceSelector"] =
      json::object();  // every namespace
  CHECK_FALSE(AffinityFilter(*Info(other_ns), snap, "a2").ok());
}

TEST_CASE("scheduler InterPodAffinity: existing pods' anti-affinity keeps the incoming pod away") {
  json guard = Labelled(Pod("guard"), {{"app", "guard"}});
  guard["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {
      Term({{"app", "web"}}, "kubernetes.io/hostname")};
  Snapshot snap = SnapshotOf({NodeWith(Node("a"), {OnNode(guard, "a")}), NodeWith(Node("b"))});
  auto web = Info(Labelled(Pod("web"), {{"app", "web"}}));
  Status s = AffinityFilter(*web, snap, "a");
  CHECK(s.code == Code::kUnschedulable);
  CHECK(Reasons(s) == "node(s) didn't satisfy existing pods anti-affinity rules");
  CHECK(AffinityFilter(*web, snap, "b").ok());
  CHECK(AffinityFilter(*Info(Labelled(Pod("db"), {{"app", "db"}})), snap, "a").ok());

  // The counts follow pods leaving (preemption's what-ifs).
  CycleState state;
  RunPreFilter(*web, snap, &state);
  NodeInfo a = *snap.Find("a");
  auto guard_info = a.pods[0];
  a.RemovePod(guard_info->key);
  UpdateStateForPod(&state, *web, *guard_info, a, snap, -1);
  CHECK(FilterInterPodAffinity(state.affinity, *web, a).ok());
}

json Spread(const std::string& key, int max_skew, json match_labels, bool hard = true) {
  return {{"maxSkew", max_skew},
          {"topologyKey", key},
          {"whenUnsatisfiable", hard ? "DoNotSchedule" : "ScheduleAnyway"},
          {"labelSelector", {{"matchLabels", std::move(match_labels)}}}};
}

TEST_CASE("scheduler PodTopologySpread: maxSkew against the least loaded domain, minDomains") {
  const std::string zone = "topology.kubernetes.io/zone";
  auto app = [](const std::string& name) { return Labelled(Pod(name), {{"app", "web"}}); };
  Snapshot snap = SnapshotOf({NodeWith(ZoneNode("a1", "a"), {OnNode(app("w1"), "a1"), OnNode(app("w2"), "a1")}),
                              NodeWith(ZoneNode("b1", "b"), {OnNode(app("w3"), "b1")}),
                              NodeWith(ZoneNode("nozone", ""))});
  json pod = app("new");
  pod["spec"]["topologySpreadConstraints"] = {Spread(zone, 1, {{"app", "web"}})};
  auto info = Info(pod);
  CycleState state;
  RunPreFilter(*info, snap, &state);
  Status s = FilterPodTopologySpread(state.spread, *info, *snap.Find("a1"));
  CHECK(s.code == Code::kUnschedulable);
  CHECK(Reasons(s) == "node(s) didn't match pod topology spread constraints");
  CHECK(FilterPodTopologySpread(state.spread, *info, *snap.Find("b1")).ok());
  s = FilterPodTopologySpread(state.spread, *info, *snap.Find("nozone"));
  CHECK(s.code == Code::kUnresolvable);
  CHECK(Reasons(s) == "node(s) didn't match pod topology spread constraints (missing required label)");

  // maxSkew 2 allows a1; minDomains 3 (only 2 zones) counts the minimum as 0.
  pod["spec"]["topologySpreadConstraints"][0]["maxSkew"] = 2;
  info = Info(pod);
  RunPreFilter(*info, snap, &state);
  CHECK(FilterPodTopologySpread(state.spread, *info, *snap.Find("a1")).ok());
  pod["spec"]["topologySpreadConstraints"][0]["minDomains"] = 3;
  info = Info(pod);
  RunPreFilter(*info, snap, &state);
  CHECK_FALSE(FilterPodTopologySpread(state.spread, *info, *snap.Find("a1")).ok());
  CHECK(FilterPodTopologySpread(state.spread, *info, *snap.Find("b1")).ok());

  // Nodes the pod's nodeSelector excludes do not count (nodeAffinityPolicy
  // Honor): zone b left out, a1 is the only domain, skew 0.
  pod = app("new");
  pod["spec"]["topologySpreadConstraints"] = {Spread(zone, 1, {{"app", "web"}})};
  pod["spec"]["nodeSelector"] = {{zone, "a"}};
  info = Info(pod);
  RunPreFilter(*info, snap, &state);
  CHECK(FilterPodTopologySpread(state.spread, *info, *snap.Find("a1")).ok());
  pod["spec"]["topologySpreadConstraints"][0]["nodeAffinityPolicy"] = "Ignore";
  info = Info(pod);
  RunPreFilter(*info, snap, &state);
  CHECK_FALSE(FilterPodTopologySpread(state.spread, *info, *snap.Find("a1")).ok());
}

TEST_CASE("scheduler scores: LeastAllocated and BalancedAllocation") {
  auto empty = NodeWith(Node("a", "4", "8Gi"));
  auto busy = NodeWith(Node("b", "4", "8Gi"), {OnNode(Pod("x", "3", "2Gi"), "b")});
  auto pod = Info(Pod("p", "1", "2Gi"));
  // cpu (4-1)/4 = 75, memory (8-2)/8 = 75.
  CHECK(ScoreLeastAllocated(*pod, *empty) == 75);
  // cpu (4-4)/4 = 0, memory (8-4)/8 = 50.
  CHECK(ScoreLeastAllocated(*pod, *busy) == 25);
  // Fractions 0.25 and 0.25: balanced; 1.0 and 0.5: off by 0.25.
  CHECK(ScoreBalancedAllocation(*pod, *empty) == 100);
  CHECK(ScoreBalancedAllocation(*pod, *busy) == 75);
  CHECK_FALSE(ScoreBalancedAllocation(*Info(Pod("besteffort")), *empty));
  // No requests: the defaults (100m, 200Mi) are what LeastAllocated sees.
  CHECK(ScoreLeastAllocated(*Info(Pod("besteffort")), *empty) == (3900 * 100 / 4000 + 97) / 2);
}

TEST_CASE("scheduler scores: NodeAffinity preferred terms, TaintToleration, normalizing") {
  json n = Node("a");
  n["metadata"]["labels"]["disk"] = "ssd";
  json pod = Pod("p");
  pod["spec"]["affinity"]["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"] = json::parse(R"([
      {"weight": 30, "preference": {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}},
      {"weight": 20, "preference": {"matchExpressions": [{"key": "disk", "operator": "Exists"}]}}])");
  CHECK(ScoreNodeAffinity(*Info(pod), *NodeWith(n)) == 50);
  CHECK(ScoreNodeAffinity(*Info(pod), *NodeWith(Node("b"))) == 0);

  std::vector<int64_t> scores = {50, 0, 25};
  NormalizeDefault(&scores, false);
  CHECK((scores == std::vector<int64_t>{100, 0, 50}));
  scores = {2, 0, 1};
  NormalizeDefault(&scores, true);
  CHECK((scores == std::vector<int64_t>{0, 100, 50}));
  scores = {0, 0};
  NormalizeDefault(&scores, true);
  CHECK((scores == std::vector<int64_t>{100, 100}));
  scores = {-10, 10, 0};
  NormalizeMinMax(&scores);
  CHECK((scores == std::vector<int64_t>{0, 100, 50}));
}

TEST_CASE("scheduler scores: InterPodAffinity preferred terms and existing pods' affinity") {
  json cache = Labelled(Pod("cache"), {{"app", "cache"}});
  Snapshot snap = SnapshotOf({NodeWith(Node("a"), {OnNode(cache, "a")}), NodeWith(Node("b"))});
  json pod = Labelled(Pod("web"), {{"app", "web"}});
  pod["spec"]["affinity"]["podAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"] = {
      {{"weight", 80}, {"podAffinityTerm", Term({{"app", "cache"}}, "kubernetes.io/hostname")}}};
  auto pairs = PreScoreInterPodAffinity(*Info(pod), snap);
  CHECK(ScoreInterPodAffinity(pairs, *snap.Find("a")) == 80);
  CHECK(ScoreInterPodAffinity(pairs, *snap.Find("b")) == 0);

  // An existing pod that prefers to be away from web pods.
  json loner = Labelled(Pod("loner"), {{"app", "loner"}});
  loner["spec"]["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"] = {
      {{"weight", 10}, {"podAffinityTerm", Term({{"app", "web"}}, "kubernetes.io/hostname")}}};
  snap = SnapshotOf({NodeWith(Node("a"), {OnNode(loner, "a")}), NodeWith(Node("b"))});
  pairs = PreScoreInterPodAffinity(*Info(Labelled(Pod("web"), {{"app", "web"}})), snap);
  CHECK(ScoreInterPodAffinity(pairs, *snap.Find("a")) == -10);
  CHECK(ScoreInterPodAffinity(pairs, *snap.Find("b")) == 0);
}

TEST_CASE("scheduler scores: ImageLocality by size, scaled by how many nodes have the image") {
  json with_image = Node("a");
  with_image["status"]["images"] = {{{"names", {"docker.io/library/nginx:1.25"}}, {"sizeBytes", 500 * 1024 * 1024}}};
  Snapshot snap = SnapshotOf({NodeWith(with_image), NodeWith(Node("b"))});
  json pod = Pod("p");
  pod["spec"]["containers"][0]["image"] = "nginx:1.25";
  // 500 MiB held by 1 of 2 nodes counts 250 MiB: (250-23)/(1000-23).
  CHECK(ScoreImageLocality(*Info(pod), *snap.Find("a"), snap) == 100 * (250 - 23) / (1000 - 23));
  CHECK(ScoreImageLocality(*Info(pod), *snap.Find("b"), snap) == 0);
  CHECK(NormalizeImageName("nginx") == "docker.io/library/nginx:latest");
  CHECK(NormalizeImageName("quay.io/x/y") == "quay.io/x/y:latest");
  CHECK(NormalizeImageName("localhost:5000/y@sha256:ab") == "localhost:5000/y@sha256:ab");
}

TEST_CASE("scheduler scores: ScheduleAnyway spreading and the system defaults for a controller's pods") {
  const std::string zone = "topology.kubernetes.io/zone";
  auto app = [](const std::string& name) { return Labelled(Pod(name), {{"app", "web"}}); };
  Snapshot snap = SnapshotOf({NodeWith(ZoneNode("a1", "a"), {OnNode(app("w1"), "a1"), OnNode(app("w2"), "a1")}),
                              NodeWith(ZoneNode("b1", "b"))});
  std::vector<const NodeInfo*> feasible = {snap.Find("a1"), snap.Find("b1")};
  json pod = app("new");
  pod["spec"]["topologySpreadConstraints"] = {Spread(zone, 1, {{"app", "web"}}, false)};
  auto info = Info(pod);
  CycleState state;
  SpreadScoreState s;
  REQUIRE(PreScorePodTopologySpread(state, *info, snap, feasible, &s));
  std::vector<int64_t> scores = {ScorePodTopologySpread(s, *info, *feasible[0]),
                                 ScorePodTopologySpread(s, *info, *feasible[1])};
  NormalizePodTopologySpread(s, feasible, &scores);
  CHECK(scores[0] < scores[1]);
  CHECK(scores[1] == 100);

  // No constraints and no Service or controller selecting it: no spreading.
  auto plain = Info(app("plain"));
  CHECK_FALSE(PreScorePodTopologySpread(state, *plain, snap, feasible, &s));
  // With one: hostname and zone, ScheduleAnyway.
  api::LabelSelector sel;
  std::string error;
  REQUIRE(api::LabelSelector::FromJson({{"matchLabels", {{"app", "web"}}}}, &sel, &error));
  state.default_spread_selector = sel;
  REQUIRE(PreScorePodTopologySpread(state, *plain, snap, feasible, &s));
  CHECK(s.constraints.size() == 2);
  CHECK(s.constraints[0].max_skew == 3);
  CHECK(s.constraints[1].max_skew == 5);
  scores = {ScorePodTopologySpread(s, *plain, *feasible[0]), ScorePodTopologySpread(s, *plain, *feasible[1])};
  // Upstream's raw score: matching pods times log(domains + 2), plus
  // maxSkew - 1, per constraint; a1 holds 2 web pods in its node and zone.
  CHECK(scores[0] == std::llround(2 * std::log(4.0) + 2 + 2 * std::log(4.0) + 4));
  CHECK(scores[1] == 6);
  // The zone pass counted each node's pods once; Score's hostname
  // constraint took them from there, and counts a node it lacks itself.
  CHECK(s.matching.at(snap.Find("a1")) == 2);
  CHECK(s.matching.at(snap.Find("b1")) == 0);
  s.matching.clear();
  CHECK(ScorePodTopologySpread(s, *plain, *feasible[0]) == scores[0]);
  NormalizePodTopologySpread(s, feasible, &scores);
  CHECK(scores[0] < scores[1]);
}

}  // namespace
}  // namespace kubit::scheduler
