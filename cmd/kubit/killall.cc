// kubit killall: stops every container and shim of one data dir and
// removes its mounts and cgroups (runtime/container/killall.h), then its
// pod network: bridge, veths and nftables table (net/pod_network.h).
#include "cmd/kubit/commands.h"
#include "cmd/kubit/flags.h"
#include "cmd/kubit/log.h"
#include "net/host_gw_routes.h"
#include "net/network_policy_rules.h"
#include "net/pod_network.h"
#include "net/service_proxy.h"
#include "net/vxlan_overlay.h"
#include "runtime/container/killall.h"

namespace kubit::cmd {

int KillallCommand(const Args& args) {
  std::string data_dir = "/var/lib/kubit";
  FlagSet flags("kubit killall [flags]",
                "Stop every container and shim that the data dir runs, unmount everything\n"
                "mounted under it, remove its cgroups and its pod network (bridge, veths,\n"
                "vxlan device or host-gw routes, nftables tables) and its Services' rules, as\n"
                "k3s's killall script. Containers of other data dirs are left alone; records and\n"
                "logs are kept. Safe to repeat.");
  flags.String("data-dir", &data_dir, "Folder that holds kubit's state");
  std::vector<std::string> pos;
  if (int rc = flags.ParseCommand(args, &pos, 0, 0); rc >= 0) return rc;
  runtime::container::KillallReport report;
  std::string error;
  if (!runtime::container::Killall(data_dir, "/sys/fs/cgroup", &report, &error)) {
    Log(Level::kError, "killall", error);
    return 1;
  }
  // After the containers: nothing uses the pod network any more.
  if (!net::RemoveBridgePodNetwork(data_dir, &error)) {
    Log(Level::kError, "killall", "pod network: " + error);
    return 1;
  }
  if (!net::RemoveVxlanOverlay(data_dir, &error) || !net::RemoveHostGwRoutes(data_dir, &error)) {
    Log(Level::kError, "killall", "pod network between nodes: " + error);
    return 1;
  }
  if (!net::RemoveServiceProxy(data_dir, &error)) {
    Log(Level::kError, "killall", "service proxy: " + error);
    return 1;
  }
  if (!net::RemoveNetworkPolicyFilter(data_dir, &error)) {
    Log(Level::kError, "killall", "network policy: " + error);
    return 1;
  }
  Log(Level::kInfo, "killall",
      data_dir + ": killed " + std::to_string(report.processes_killed) + " container processes, " +
          std::to_string(report.shims_killed) + " shims; unmounted " +
          std::to_string(report.unmounted) + " mounts; removed the pod network (bridge " +
          net::PodBridgeName(data_dir) + ")");
  return 0;
}

}  // namespace kubit::cmd
