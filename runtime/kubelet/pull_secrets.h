// imagePullSecrets: the registry credentials of a pod's
// kubernetes.io/dockerconfigjson (and legacy kubernetes.io/dockercfg)
// Secrets, by the registry host the image store connects to. Keys are
// written as Docker does ("https://index.docker.io/v1/", "host:5000",
// "https://host:5000/v2/"): the scheme and path go, Docker Hub's names
// become the host its pulls go to (registry-1.docker.io).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "runtime/image/registry_config.h"
#include "runtime/kubelet/object_source.h"

namespace kubit::kubelet {

using RegistryCredentials = std::map<std::string, runtime::image::RegistryAuth>;

// Adds the credentials of one Secret; false (and *error) for a Secret of
// another type or with unreadable data.
bool AddPullSecret(const nlohmann::json& secret, RegistryCredentials* out, std::string* error);

// Every imagePullSecret of the pod; missing ones are skipped (upstream
// pulls without them and warns), their names in *missing.
RegistryCredentials PodPullCredentials(const nlohmann::json& pod, const ObjectSource& objects,
                                       std::string* missing);

}  // namespace kubit::kubelet
