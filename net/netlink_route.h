// rtnetlink requests the pod network needs: links (bridge, veth pairs,
// master, up, MTU, delete), IPv4 addresses and the default route. Each
// function builds one message (the Build* ones are exposed for tests) and
// sends it on a NETLINK_ROUTE socket of the namespace it acts in.
#pragma once

#include <stdint.h>

#include <string>
#include <vector>

#include "net/netlink.h"

namespace kubit::net::rtnl {

struct Link {
  int index = 0;
  std::string name;
  std::string kind;  // "bridge", "veth", ... (IFLA_INFO_KIND); empty for lo and plain devices
  int mtu = 0;
  int master = 0;    // the bridge a port is attached to
};

// `mac` (6 bytes, or empty): a fixed address, which the bridge then keeps
// instead of taking the lowest of its ports' (pods would see their
// gateway's MAC change as pods come and go).
netlink::Message BuildNewBridge(const std::string& name, int mtu, const std::string& mac);
// A veth pair: `name` here, `peer_name` made directly in the namespace of
// `peer_netns_fd` (so a pod's end is never visible on the host).
netlink::Message BuildNewVeth(const std::string& name, const std::string& peer_name, int peer_netns_fd,
                              int mtu);
// Sets master (0: none) and brings the link up.
netlink::Message BuildSetLink(int index, int master, bool up);
netlink::Message BuildAddAddress(int index, uint32_t ip, int prefix_len);
netlink::Message BuildDefaultRoute(uint32_t gateway, int oif);

// *found false (and true returned) when no link has that name.
bool GetLink(netlink::Socket* s, const std::string& name, Link* out, bool* found, std::string* error);
bool ListLinks(netlink::Socket* s, std::vector<Link>* out, std::string* error);
// Makes the bridge, or adopts one of that name (false if it is no bridge).
bool EnsureBridge(netlink::Socket* s, const std::string& name, int mtu, const std::string& mac, Link* out,
                  std::string* error);
bool CreateVeth(netlink::Socket* s, const std::string& name, const std::string& peer_name,
                const std::string& peer_netns_path, int mtu, std::string* error);
bool SetLink(netlink::Socket* s, const Link& link, int master, bool up, std::string* error);
// Lets a bridge port send frames back out where they came in (hairpin
// mode): a pod reaching itself through a Service, when bridged traffic
// passes netfilter, is DNAT'ed on the bridge and bridged back to its own port.
bool SetBridgePortHairpin(netlink::Socket* s, const Link& port, std::string* error);
// A link that is already gone is fine.
bool DeleteLink(netlink::Socket* s, const std::string& name, std::string* error);
// Adds ip/prefix_len; an address already there is fine.
bool AddAddress(netlink::Socket* s, const Link& link, uint32_t ip, int prefix_len, std::string* error);
// Sets (or replaces) the default route via `gateway` on `link`.
bool SetDefaultRoute(netlink::Socket* s, const Link& link, uint32_t gateway, std::string* error);
// The MTU of the default route's device; 1500 when there is none.
bool DefaultRouteMtu(netlink::Socket* s, int* mtu, std::string* error);

}  // namespace kubit::net::rtnl
