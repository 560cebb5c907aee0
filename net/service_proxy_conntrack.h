// Conntrack entries of Service flows that must go when endpoints change,
// as kube-proxy clears them: UDP has no connection to end, so a client
// that keeps sending from the same port would keep reaching (through the
// kernel's remembered DNAT) an endpoint that is gone, or keep missing one
// that came. Found by dumping the table over ctnetlink and deleted one by
// one; TCP is left to its own ends.
#pragma once

#include <stdint.h>

#include <string>
#include <vector>

#include "net/service_proxy.h"

namespace kubit::net {

// Entries of `protocol` sent to `dst` (0: any address, as for a NodePort)
// port `port`, answered from `reply_src` (0: any endpoint).
struct StaleFlow {
  uint8_t protocol = IPPROTO_UDP;
  uint32_t dst = 0;
  uint16_t port = 0;
  uint32_t reply_src = 0;
  bool operator==(const StaleFlow&) const = default;
};

// What a change of the table from `before` to `after` leaves stale: for
// each UDP service port, its addresses (ClusterIP, external and
// LoadBalancer IPs, NodePort) to each usable endpoint that went, and to
// any endpoint when the port had none usable before (its packets were
// refused: nothing to keep).
std::vector<StaleFlow> StaleUdpFlows(const std::vector<ServicePortEntry>& before,
                                     const std::vector<ServicePortEntry>& after);

// Deletes the conntrack entries (IPv4) matching any of `flows`; *deleted
// counts them. Entries that vanish meanwhile are fine.
bool DeleteConntrackFlows(const std::vector<StaleFlow>& flows, int* deleted, std::string* error);

}  // namespace kubit::net
