#include "net/ipam_ipv4.h"

#include <arpa/inet.h>

namespace kubit::net {

bool ParseIpv4(const std::string& s, uint32_t* out) {
  in_addr a;
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) return false;
  *out = ntohl(a.s_addr);
  return true;
}

std::string FormatIpv4(uint32_t ip) {
  in_addr a{htonl(ip)};
  char buf[INET_ADDRSTRLEN];
  return inet_ntop(AF_INET, &a, buf, sizeof(buf));
}

std::string Ipv4Prefix::String() const { return FormatIpv4(addr) + "/" + std::to_string(len); }

bool ParseIpv4Prefix(const std::string& s, Ipv4Prefix* out, std::string* error) {
  size_t slash = s.find('/');
  uint32_t ip;
  if (slash == std::string::npos || !ParseIpv4(s.substr(0, slash), &ip)) {
    *error = "invalid IPv4 CIDR \"" + s + "\"";
    return false;
  }
  std::string len = s.substr(slash + 1);
  if (len.empty() || len.size() > 2 || len.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(len) > 32) {
    *error = "invalid prefix length in \"" + s + "\"";
    return false;
  }
  Ipv4Prefix p;
  p.len = std::stoi(len);
  if ((ip & p.mask()) != ip) {
    *error = "\"" + s + "\" has host bits set (want " + FormatIpv4(ip & p.mask()) + "/" + len + ")";
    return false;
  }
  p.addr = ip;
  *out = p;
  return true;
}

}  // namespace kubit::net
