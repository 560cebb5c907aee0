// Unit tests of static pod manifests and mirror pods
// (runtime/kubelet/static_pods.h) and of the Events the kubelet posts
// (events.h).
#include "runtime/kubelet/static_pods.h"

#include <doctest/doctest.h>

#include "runtime/kubelet/events.h"

namespace {

using Json = nlohmann::json;
using namespace kubit::kubelet;

const char* kManifest = R"j(apiVersion: v1
kind: Pod
metadata:
  name: etcd
  namespace: kube-system
spec:
  containers:
  - name: main
    image: busybox:1
)j";

TEST_CASE("kubelet static pods: name, node, uid from the content, annotations") {
  Json pod;
  std::string error;
  REQUIRE(StaticPodFromManifest(kManifest, "board1", &pod, &error));
  CHECK(pod["metadata"]["name"] == "etcd-board1");
  CHECK(pod["metadata"]["namespace"] == "kube-system");
  CHECK(pod["spec"]["nodeName"] == "board1");
  CHECK(pod["spec"]["restartPolicy"] == "Always");
  CHECK(pod["spec"]["automountServiceAccountToken"] == false);
  std::string uid = pod["metadata"]["uid"];
  CHECK(uid.size() == 32);
  CHECK(pod["metadata"]["annotations"][kConfigHashAnnotation] == uid);
  CHECK(IsStaticPod(pod));
  CHECK_FALSE(IsMirrorPod(pod));
  Json again, other;
  REQUIRE(StaticPodFromManifest(kManifest, "board1", &again, &error));
  CHECK(again["metadata"]["uid"] == uid);  // the same file is the same pod
  REQUIRE(StaticPodFromManifest(std::string(kManifest) + "    command: [sleep, '9']\n", "board1", &other, &error));
  CHECK(other["metadata"]["uid"] != uid);  // an edit makes a new one
  REQUIRE(StaticPodFromManifest(kManifest, "board2", &other, &error));
  CHECK(other["metadata"]["uid"] != uid);

  Json mirror = MirrorPod(pod);
  CHECK(IsMirrorPod(mirror));
  CHECK(mirror["metadata"]["annotations"][kConfigMirrorAnnotation] == uid);
  CHECK_FALSE(mirror["metadata"].contains("uid"));
  CHECK_FALSE(mirror.contains("status"));
  CHECK(mirror["spec"]["nodeName"] == "board1");
}

TEST_CASE("kubelet static pods: manifests that are not one pod are refused") {
  Json pod;
  std::string error;
  CHECK_FALSE(StaticPodFromManifest("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "n", &pod, &error));
  CHECK(error == "not a v1 Pod");
  CHECK_FALSE(StaticPodFromManifest("apiVersion: v1\nkind: Pod\nmetadata: {}\nspec: {containers: [{name: c}]}\n", "n", &pod, &error));
  CHECK(error == "metadata.name is required");
  CHECK_FALSE(StaticPodFromManifest("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {}\n", "n", &pod, &error));
  CHECK(error == "spec.containers is required");
  CHECK_FALSE(StaticPodFromManifest("{ not yaml", "n", &pod, &error));
}

TEST_CASE("kubelet events: the Event a first occurrence posts") {
  Json pod = {{"metadata", {{"name", "web"}, {"namespace", "prod"}, {"uid", "u1"}, {"resourceVersion", "42"}}}};
  Json ev = EventRecorder::BuildEvent(pod, "board1", ContainerFieldPath(false, "app"), "Warning",
                                      "BackOff", "Back-off restarting failed container app", "T");
  CHECK(ev["metadata"]["namespace"] == "prod");
  CHECK(ev["metadata"]["name"].get<std::string>().rfind("web.", 0) == 0);
  CHECK(ev["involvedObject"]["kind"] == "Pod");
  CHECK(ev["involvedObject"]["uid"] == "u1");
  CHECK(ev["involvedObject"]["fieldPath"] == "spec.containers{app}");
  CHECK(ev["source"]["component"] == "kubelet");
  CHECK(ev["source"]["host"] == "board1");
  CHECK(ev["reportingComponent"] == "kubelet");
  CHECK(ev["reportingInstance"] == "board1");
  CHECK(ev["count"] == 1);
  CHECK(ev["firstTimestamp"] == "T");
  CHECK(ev["type"] == "Warning");
  CHECK(ContainerFieldPath(true, "setup") == "spec.initContainers{setup}");
}

}  // namespace
