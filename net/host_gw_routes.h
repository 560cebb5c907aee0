// HostGwRoutes: flannel's host-gw backend: for every other node a plain
// route <its podCIDR> via <its node IP>, on whichever device reaches that
// address directly: no encapsulation, for boards on one flat L2 network.
// The routes carry a protocol number of this data dir's (0x60-0x7f, from
// its hash), so they are found again after a restart and another kubit's
// are never touched.
#pragma once

#include <memory>
#include <string>

#include "net/node_routes.h"

namespace kubit::net {

class HostGwRoutes : public NodeRoutes {
 public:
  static bool Open(const std::string& data_dir, std::unique_ptr<HostGwRoutes>* out, std::string* error);
};

// For kubit killall: deletes the data dir's host-gw routes.
bool RemoveHostGwRoutes(const std::string& data_dir, std::string* error);

}  // namespace kubit::net
