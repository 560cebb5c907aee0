#include "runtime/kubelet/static_pods.h"

#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/api/meta.h"
#include "core/api/yaml.h"
#include "runtime/image/digest.h"

namespace kubit::kubelet {

using Json = nlohmann::json;

namespace {

bool HasAnnotation(const Json& pod, const char* key) {
  if (!pod.contains("metadata")) return false;
  const Json& m = pod["metadata"];
  return m.contains("annotations") && m["annotations"].is_object() && m["annotations"].contains(key);
}

}  // namespace

bool StaticPodFromManifest(const std::string& text, const std::string& node, Json* pod,
                           std::string* error) {
  Json p;
  if (!api::ParseYaml(text, &p, error)) return false;
  if (!p.is_object() || p.value("kind", "") != "Pod" || p.value("apiVersion", "") != "v1") {
    *error = "not a v1 Pod";
    return false;
  }
  if (!p.contains("metadata") || !p["metadata"].is_object() ||
      p["metadata"].value("name", "").empty()) {
    *error = "metadata.name is required";
    return false;
  }
  if (!p.contains("spec") || !p["spec"].is_object() || !p["spec"].contains("containers") ||
      !p["spec"]["containers"].is_array() || p["spec"]["containers"].empty()) {
    *error = "spec.containers is required";
    return false;
  }
  Json& m = p["metadata"];
  m["name"] = m["name"].get<std::string>() + "-" + node;
  if (m.value("namespace", "").empty()) m["namespace"] = "default";
  // The uid is the hash of what the pod is (upstream: of the pod and its
  // source), so an edited file makes a new pod and a restart the same one.
  std::string hex = runtime::image::DigestHex(runtime::image::DigestOf(node + "\n" + p.dump()));
  std::string uid = hex.substr(0, 32);
  m["uid"] = uid;
  m["annotations"][kConfigSourceAnnotation] = "file";
  m["annotations"][kConfigHashAnnotation] = uid;
  m["annotations"]["kubernetes.io/config.seen"] = api::Now();
  if (!m.contains("creationTimestamp")) m["creationTimestamp"] = api::Now();
  Json& spec = p["spec"];
  spec["nodeName"] = node;
  if (!spec.contains("restartPolicy")) spec["restartPolicy"] = "Always";
  if (!spec.contains("dnsPolicy")) spec["dnsPolicy"] = "ClusterFirst";
  if (!spec.contains("terminationGracePeriodSeconds")) spec["terminationGracePeriodSeconds"] = 30;
  // Static pods cannot use the API (upstream refuses service account tokens for them).
  spec["automountServiceAccountToken"] = false;
  for (const char* list : {"initContainers", "containers"})
    if (spec.contains(list))
      for (auto& c : spec[list]) {
        if (!c.contains("terminationMessagePath")) c["terminationMessagePath"] = "/dev/termination-log";
        if (!c.contains("terminationMessagePolicy")) c["terminationMessagePolicy"] = "File";
      }
  p["status"] = {{"phase", "Pending"}};
  *pod = std::move(p);
  return true;
}

std::vector<Json> ReadStaticPods(const std::string& dir, const std::string& node,
                                 std::vector<std::string>* errors) {
  std::vector<Json> out;
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    auto ends = [&](const std::string& suffix) {
      return n.size() > suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (n[0] != '.' && (ends(".yaml") || ends(".yml") || ends(".json"))) names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    std::ifstream in(dir + "/" + n);
    std::stringstream text;
    text << in.rdbuf();
    Json pod;
    std::string error;
    if (StaticPodFromManifest(text.str(), node, &pod, &error)) out.push_back(std::move(pod));
    else errors->push_back(n + ": " + error);
  }
  return out;
}

Json MirrorPod(const Json& static_pod) {
  Json m = static_pod;
  m.erase("status");
  Json& meta = m["metadata"];
  for (const char* f : {"uid", "resourceVersion", "creationTimestamp"}) meta.erase(f);
  meta["annotations"][kConfigMirrorAnnotation] = static_pod["metadata"]["uid"];
  return m;
}

bool IsMirrorPod(const Json& pod) { return HasAnnotation(pod, kConfigMirrorAnnotation); }

bool IsStaticPod(const Json& pod) {
  return pod.contains("metadata") && pod["metadata"].contains("annotations") &&
         pod["metadata"]["annotations"].value(kConfigSourceAnnotation, "") == "file";
}

}  // namespace kubit::kubelet
