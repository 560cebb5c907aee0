// The node's resolver configuration, which the cluster DNS forwards other
// names to and pods of dnsPolicy Default copy: kubelet's --resolv-conf
// when given, else /etc/resolv.conf, unless that names only loopback
// resolvers (systemd-resolved's 127.0.0.53 stub, which a pod's own network
// namespace cannot reach) and /run/systemd/resolve/resolv.conf names real
// ones: then that file, as k3s chooses.
#pragma once

#include <string>
#include <vector>

namespace kubit::net {

inline constexpr const char* kHostResolvConf = "/etc/resolv.conf";
inline constexpr const char* kSystemdResolvConf = "/run/systemd/resolve/resolv.conf";

// The nameserver addresses of a resolv.conf text, in order (comments,
// "#" and ";", and words after the address ignored; a zone index such as
// "fe80::1%eth0" is kept).
std::vector<std::string> ResolvConfNameservers(const std::string& text);

// Whether the file names a nameserver that is not loopback, unspecified
// or multicast. False for a file that cannot be read.
bool UsableResolvConf(const std::string& path);

// The file to use: `configured` if not empty, else as above between
// `host` and `systemd` (the defaults: the paths above).
std::string NodeResolvConf(const std::string& configured, const std::string& host = kHostResolvConf,
                           const std::string& systemd = kSystemdResolvConf);

}  // namespace kubit::net
