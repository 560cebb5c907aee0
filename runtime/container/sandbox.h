// Pod sandboxes without a pause process: the network, IPC and UTS
// namespaces a pod's containers share are created by a short-lived child
// and kept alive by bind mounts of their /proc/<pid>/ns/* files onto
// agent/sandboxes/<id>/{net,ipc,uts}. Containers join them by path
// (Namespaces::network = ".../net"); net/ configures the network namespace
// through the same path. Nothing runs for an idle pod, and the namespaces
// live until RemoveSandbox (or killall) unmounts the files.
#pragma once

#include <string>

namespace kubit::runtime::container {

struct SandboxPaths {
  std::string net, ipc, uts;
};

// Creates the sandbox's namespaces; hostname goes into its UTS namespace.
bool CreateSandbox(const std::string& data_dir, const std::string& id,
                   const std::string& hostname, SandboxPaths* out, std::string* error);
// Unmounts the namespace files and removes the directory; missing is fine.
bool RemoveSandbox(const std::string& data_dir, const std::string& id, std::string* error);
// Whether the sandbox's namespaces still exist: its net file is a bind
// mount of a namespace. After RemoveSandbox, killall or a reboot it is
// not, though the directory may still be there.
bool SandboxAlive(const std::string& data_dir, const std::string& id);

}  // namespace kubit::runtime::container
