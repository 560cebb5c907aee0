#include "net/dns_resolv_conf.h"

#include <arpa/inet.h>

#include <fstream>
#include <sstream>

namespace kubit::net {

namespace {

bool UsableNameserver(const std::string& ns) {
  std::string addr = ns.substr(0, ns.find('%'));
  in_addr v4;
  if (inet_pton(AF_INET, addr.c_str(), &v4) == 1) {
    uint32_t a = ntohl(v4.s_addr);
    return a != 0 && (a >> 24) != 127 && (a >> 28) != 0xe;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, addr.c_str(), &v6) == 1)
    return !IN6_IS_ADDR_LOOPBACK(&v6) && !IN6_IS_ADDR_UNSPECIFIED(&v6) && !IN6_IS_ADDR_MULTICAST(&v6) &&
           !(IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
  return false;
}

}  // namespace

std::vector<std::string> ResolvConfNameservers(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t comment = line.find_first_of("#;");
    if (comment != std::string::npos) line.resize(comment);
    std::istringstream words(line);
    std::string key, addr;
    if (words >> key >> addr && key == "nameserver") out.push_back(addr);
  }
  return out;
}

bool UsableResolvConf(const std::string& path) {
  std::ifstream in(path);
  if (!in) return false;
  std::ostringstream text;
  text << in.rdbuf();
  for (const auto& ns : ResolvConfNameservers(text.str()))
    if (UsableNameserver(ns)) return true;
  return false;
}

std::string NodeResolvConf(const std::string& configured, const std::string& host, const std::string& systemd) {
  if (!configured.empty()) return configured;
  if (!UsableResolvConf(host) && UsableResolvConf(systemd)) return systemd;
  return host;
}

}  // namespace kubit::net
