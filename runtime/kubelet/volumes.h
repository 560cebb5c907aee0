// A pod's volumes under <data-dir>/agent/pods/<uid>/volumes/<name>:
// emptyDir (a directory; medium Memory: a tmpfs of sizeLimit), hostPath
// (with upstream's type checks), configMap, secret, downwardAPI and
// projected (written with the AtomicWriter on every sync, so changes of
// the objects reach running containers), persistentVolumeClaim (the bound
// PV's hostPath or local path). ContainerMounts turns a container's
// volumeMounts into runtime mounts (subPath, subPathExpr, readOnly).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/container/spec.h"
#include "runtime/kubelet/atomic_writer.h"
#include "runtime/kubelet/env.h"
#include "runtime/kubelet/object_source.h"

namespace kubit::kubelet {

namespace container = runtime::container;

// A service account token for a projected serviceAccountToken source
// (TokenRequest bound to the pod); the caller caches and refreshes.
using TokenSource = std::function<bool(const nlohmann::json& pod, const std::string& audience,
                                       int64_t expiration_seconds, std::string* token,
                                       std::string* error)>;

struct VolumeEnv {
  std::string data_dir;
  PodFacts facts;
  ObjectSource objects;
  TokenSource tokens;
};

struct VolumePath {
  std::string path;        // on the host
  bool read_only = false;  // configMap, secret, downwardAPI, projected are
};
using VolumePaths = std::map<std::string, VolumePath>;

// Sets up (or refreshes) every volume of the pod; false with the first
// error (the pod cannot start: upstream's FailedMount).
bool SetUpVolumes(const nlohmann::json& pod, const VolumeEnv& env, VolumePaths* out,
                  std::string* error);

// The payload of a configMap/secret/downwardAPI/projected volume.
bool VolumePayload(const nlohmann::json& pod, const nlohmann::json& volume, const VolumeEnv& env,
                   Payload* payload, std::string* error);

bool ContainerMounts(const nlohmann::json& container, const VolumePaths& volumes,
                     const EnvList& env, std::vector<container::Mount>* out, std::string* error);

// Unmounts tmpfs volumes and removes the pod's directory.
bool TearDownVolumes(const std::string& data_dir, const std::string& pod_uid, std::string* error);

// The hostPath check of `type` ("", DirectoryOrCreate, Directory,
// FileOrCreate, File, Socket, CharDevice, BlockDevice), creating what the
// *OrCreate types create.
bool CheckHostPath(const std::string& path, const std::string& type, std::string* error);

}  // namespace kubit::kubelet
