// Where a data dir keeps its containers and sandboxes:
//
//   agent/containers/<id>/spec.json      the ContainerSpec (for exec, ps, rm)
//   agent/containers/<id>/state          ContainerState (state.h)
//   agent/containers/<id>/rootfs/        the overlay mount point (mounted only
//                                        inside the container's mount namespace)
//   agent/containers/<id>/upper/, work/  the overlay's writable layer
//   agent/containers/<id>/shim.sock      the shim's control socket
//   agent/containers/<id>/container.log  CRI log when the spec names none
//   agent/sandboxes/<id>/{net,ipc,uts}   namespace files held by bind mounts
#pragma once

#include <string>

namespace kubit::runtime::container {

inline std::string ContainersDir(const std::string& data_dir) {
  return data_dir + "/agent/containers";
}
inline std::string ContainerDir(const std::string& data_dir, const std::string& id) {
  return ContainersDir(data_dir) + "/" + id;
}
inline std::string SandboxesDir(const std::string& data_dir) {
  return data_dir + "/agent/sandboxes";
}
inline std::string SandboxDir(const std::string& data_dir, const std::string& id) {
  return SandboxesDir(data_dir) + "/" + id;
}

}  // namespace kubit::runtime::container
