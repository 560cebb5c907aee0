// The cluster DNS address on a node: the kube-dns Service's IP is put on
// the data dir's pod bridge as a /32, so that pods' packets to it (sent to
// their gateway, the bridge) are the node's own and reach the node's DNS
// server, which listens on it tied to that bridge (SO_BINDTODEVICE). Two
// kubits on one machine may then both serve the same address, each to its
// own pods, and nothing is rewritten in nftables. The address goes with
// the bridge when `kubit killall` removes it.
#pragma once

#include <stdint.h>

#include <string>
#include <vector>

namespace kubit::net {

// Makes the /32 addresses on `bridge` exactly `ips` (IPv4, dotted): adds
// the missing ones and removes other /32s (a former Service IP); the
// bridge's own pod gateway address (a shorter prefix) is never touched.
// *bridge_found false (and true returned) when the bridge does not exist
// yet: nothing is done then.
bool SyncDnsAddresses(const std::string& bridge, const std::vector<std::string>& ips, bool* bridge_found,
                      std::string* error);

}  // namespace kubit::net
