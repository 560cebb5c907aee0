// The vxlan overlay's pure parts: which nodes are peers (flannel's
// annotations, podCIDR, this node skipped), MAC text both ways, and the
// device's name per data dir.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/network/overlay_controller.h"
#include "net/pod_network.h"
#include "net/vxlan_overlay.h"

namespace kubit::network {
namespace {

client::ObjectPtr Node(const std::string& name, const std::string& cidr, const std::string& mac,
                       const std::string& public_ip, const std::string& internal_ip = "") {
  client::Json n = {{"metadata", {{"name", name}, {"annotations", client::Json::object()}}},
                    {"spec", client::Json::object()},
                    {"status", {{"addresses", client::Json::array()}}}};
  if (!cidr.empty()) n["spec"]["podCIDR"] = cidr;
  if (!mac.empty()) {
    n["metadata"]["annotations"][kBackendTypeAnnotation] = "vxlan";
    n["metadata"]["annotations"][kBackendDataAnnotation] = client::Json{{"VNI", 1}, {"VtepMAC", mac}}.dump();
  }
  if (!public_ip.empty()) n["metadata"]["annotations"][kPublicIpAnnotation] = public_ip;
  if (!internal_ip.empty()) n["status"]["addresses"].push_back({{"type", "InternalIP"}, {"address", internal_ip}});
  return std::make_shared<const client::Json>(n);
}

TEST_CASE("overlay: peers are the other nodes with a podCIDR and published vxlan ends") {
  std::vector<client::ObjectPtr> nodes = {
      Node("self", "10.42.0.0/24", "02:00:00:00:00:01", "192.168.1.1"),
      Node("b", "10.42.1.0/24", "02:00:00:00:00:02", "192.168.1.2"),
      Node("no-cidr", "", "02:00:00:00:00:03", "192.168.1.3"),
      Node("no-vxlan", "10.42.3.0/24", "", "192.168.1.4"),
      Node("internal-only", "10.42.4.0/24", "02:00:00:00:00:05", "", "192.168.1.5"),
  };
  std::vector<net::PeerNode> peers = OverlayPeers(nodes, "self", "vxlan");
  REQUIRE(peers.size() == 2);
  CHECK(peers[0].node_ip == "192.168.1.2");
  CHECK(peers[0].vtep_mac == "02:00:00:00:00:02");
  CHECK(peers[0].pod_cidr == "10.42.1.0/24");
  CHECK(peers[1].node_ip == "192.168.1.5");  // no public-ip annotation: the InternalIP
  // host-gw peers are those that published host-gw.
  CHECK(OverlayPeers(nodes, "self", "host-gw").empty());
}

TEST_CASE("overlay: MAC addresses as text and bytes") {
  std::string bytes;
  REQUIRE(net::ParseMac("02:ab:CD:00:10:ff", &bytes));
  CHECK(bytes == std::string("\x02\xab\xcd\x00\x10\xff", 6));
  CHECK(net::FormatMac(bytes) == "02:ab:cd:00:10:ff");
  CHECK_FALSE(net::ParseMac("02:ab:cd:00:10", &bytes));
  CHECK_FALSE(net::ParseMac("02:ab:cd:00:10:ff:11", &bytes));
  CHECK_FALSE(net::ParseMac("zz:ab:cd:00:10:ff", &bytes));
}

TEST_CASE("overlay: the vxlan device is named per data dir, like the bridge") {
  std::string a = net::VxlanDeviceName("/var/lib/kubit"), b = net::VxlanDeviceName("/var/lib/kubit2");
  CHECK(a.size() == 8);
  CHECK(a.rfind("kx", 0) == 0);
  CHECK(a != b);
  CHECK(a.substr(2) == net::PodBridgeName("/var/lib/kubit").substr(2));
  CHECK(net::VxlanDeviceName("/var/lib/kubit/") == a);
}

}  // namespace
}  // namespace kubit::network
