// Static pods: pod manifests in <data-dir>/agent/pod-manifests/ (YAML or
// JSON, one pod a file) that the kubelet runs by itself, with or without
// the server, as upstream's file source does. Each gets the name
// <name>-<node>, spec.nodeName, a uid derived from the node and the
// manifest (a changed file is a new pod) and the annotations
// kubernetes.io/config.{source,hash,seen}. While the server is there it
// shows a mirror pod of the same name (annotation kubernetes.io/config.mirror).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kubit::kubelet {

inline constexpr const char* kConfigMirrorAnnotation = "kubernetes.io/config.mirror";
inline constexpr const char* kConfigSourceAnnotation = "kubernetes.io/config.source";
inline constexpr const char* kConfigHashAnnotation = "kubernetes.io/config.hash";

// The static pod a manifest's text makes; false with *error for a file
// that is not one Pod.
bool StaticPodFromManifest(const std::string& text, const std::string& node, nlohmann::json* pod,
                           std::string* error);

// Every manifest of `dir` (files ending .yaml, .yml or .json; others and
// dot files are skipped). Files that fail go to *errors as "file: why".
std::vector<nlohmann::json> ReadStaticPods(const std::string& dir, const std::string& node,
                                           std::vector<std::string>* errors);

// The mirror pod to create in the API for a static pod.
nlohmann::json MirrorPod(const nlohmann::json& static_pod);

bool IsMirrorPod(const nlohmann::json& pod);
bool IsStaticPod(const nlohmann::json& pod);

}  // namespace kubit::kubelet
