// Names a data dir gives its things on the machine (links, nftables
// tables, MACs), so that two kubits with different data dirs never touch
// each other's: derived from the data dir's canonical absolute path with
// FNV-1a, which is stable across builds and machines (std::hash is not).
#pragma once

#include <string>

namespace kubit::net {

std::string CanonicalDataDir(const std::string& data_dir);
// The last `digits` hex digits of the hash of `s`.
std::string HashHex(const std::string& s, int digits);
// A locally administered unicast MAC (6 bytes) from the data dir and a
// purpose ("bridge", "vxlan"): the same on every start.
std::string LocalMac(const std::string& data_dir, const std::string& purpose);

}  // namespace kubit::net
