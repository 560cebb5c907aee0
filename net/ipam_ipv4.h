// IPv4 addresses and prefixes as the pod network and the node IPAM
// controller use them: host byte order numbers, parsed from and printed
// as dotted quads and "a.b.c.d/len".
#pragma once

#include <stdint.h>

#include <string>

namespace kubit::net {

struct Ipv4Prefix {
  uint32_t addr = 0;  // the network address (host bits zero)
  int len = 0;

  uint32_t mask() const { return len == 0 ? 0 : ~uint32_t(0) << (32 - len); }
  uint64_t size() const { return uint64_t(1) << (32 - len); }
  bool Contains(uint32_t ip) const { return (ip & mask()) == addr; }
  // True when `other` lies wholly inside this prefix.
  bool Covers(const Ipv4Prefix& other) const { return other.len >= len && Contains(other.addr); }
  std::string String() const;
};

bool ParseIpv4(const std::string& s, uint32_t* out);
std::string FormatIpv4(uint32_t ip);
// "10.42.0.0/24"; host bits must be zero (as Kubernetes validates podCIDR).
bool ParseIpv4Prefix(const std::string& s, Ipv4Prefix* out, std::string* error);

}  // namespace kubit::net
