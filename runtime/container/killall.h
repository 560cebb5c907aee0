// Killall: everything a data dir runs, stopped and cleaned, as k3s's
// killall script does for k3s: every container's processes (found through
// the data dir's cgroup tree, so strays count too) and every shim (found in
// /proc by its command line naming a container dir of this data dir) are
// killed, every mount under the data dir is unmounted (deepest first), and
// the data dir's cgroup tree is removed. Containers' records and logs stay.
// Other data dirs are not touched. Running it twice is harmless.
#pragma once

#include <string>

namespace kubit::runtime::container {

struct KillallReport {
  int processes_killed = 0, shims_killed = 0, unmounted = 0;
};

bool Killall(const std::string& data_dir, const std::string& cgroup_root, KillallReport* report,
             std::string* error);

}  // namespace kubit::runtime::container
