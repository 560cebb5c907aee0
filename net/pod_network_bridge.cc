// The bridge pod network: one Linux bridge per data dir holding the first
// address of the node's pod CIDR, a veth pair per sandbox (the pod's end
// made directly inside the sandbox's network namespace as eth0), addresses
// from Ipam, and one nftables table per data dir with the outbound
// masquerade and the hostPort DNAT. Everything is done over netlink from
// this process; the table is rewritten whole, in one transaction, whenever
// the host ports change, from the records on disk, so a restarted kubit
// converges on the same rules.
// glibc's netinet/in.h before the kernel's headers: it tells them what it defines.
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

#include <nlohmann/json.hpp>

#include "net/ipam.h"
#include "net/local_names.h"
#include "net/netlink_route.h"
#include "net/nftables.h"
#include "net/pod_network.h"
#include "runtime/container/sandbox.h"

namespace kubit::net {

namespace {

constexpr int kDstNatPriority = -100, kSrcNatPriority = 100;

std::string StateDir(const std::string& data_dir) { return data_dir + "/agent/podnet"; }
std::string AddressesDir(const std::string& data_dir) { return StateDir(data_dir) + "/addresses"; }
std::string HostPortsDir(const std::string& data_dir) { return StateDir(data_dir) + "/hostports"; }

bool ValidSandboxId(const std::string& id) {
  return !id.empty() && id.size() <= 200 && id.find_first_of("/\n") == std::string::npos && id != "." &&
         id != "..";
}

uint8_t ProtocolNumber(const std::string& p) {
  if (p == "UDP") return IPPROTO_UDP;
  if (p == "SCTP") return IPPROTO_SCTP;
  return IPPROTO_TCP;
}

bool WriteFileAtomic(const std::string& path, const std::string& body, std::string* error) {
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "open " + tmp + ": " + strerror(errno);
    return false;
  }
  bool ok = write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size()) && fsync(fd) == 0;
  int saved = errno;
  close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    if (ok) saved = errno;
    unlink(tmp.c_str());
    *error = "write " + path + ": " + strerror(saved);
    return false;
  }
  return true;
}

bool WriteProcSys(const std::string& path, const std::string& value, std::string* error) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
    *error = "write " + path + ": " + strerror(errno);
    if (fd >= 0) close(fd);
    return false;
  }
  close(fd);
  return true;
}

nlohmann::json PortsToJson(const std::vector<PortMapping>& ports) {
  nlohmann::json out = nlohmann::json::array();
  for (const PortMapping& p : ports)
    out.push_back({{"protocol", p.protocol}, {"containerPort", p.container_port}, {"hostPort", p.host_port},
                   {"hostIP", p.host_ip}});
  return out;
}

std::vector<PortMapping> PortsFromJson(const nlohmann::json& j) {
  std::vector<PortMapping> out;
  if (!j.is_array()) return out;
  for (const auto& e : j) {
    PortMapping p;
    p.protocol = e.value("protocol", "TCP");
    p.container_port = e.value("containerPort", 0);
    p.host_port = e.value("hostPort", 0);
    p.host_ip = e.value("hostIP", "");
    out.push_back(p);
  }
  return out;
}

bool SamePorts(const std::vector<PortMapping>& a, const std::vector<PortMapping>& b) {
  return PortsToJson(a) == PortsToJson(b);
}

class BridgePodNetwork : public PodNetwork {
 public:
  bool Open(const PodNetworkOptions& options, std::string* error);
  bool Setup(const std::string& sandbox_id, const std::string& netns_path, const std::vector<PortMapping>& ports,
             std::string* ip, std::string* error) override;
  bool Teardown(const std::string& sandbox_id, std::string* error) override;

 private:
  bool SetupLocked(const std::string& id, const std::string& netns_path, uint32_t ip, std::string* error);
  bool ConfigurePodSide(const std::string& netns_path, uint32_t ip, std::string* error);
  bool SavePorts(const std::string& id, const std::vector<PortMapping>& ports, std::string* error);
  // Rewrites the nftables table from cidrs_ and ports_ in one transaction.
  bool SyncRules(std::string* error);

  std::mutex mu_;
  std::string data_dir_, bridge_name_, table_;
  Ipv4Prefix pod_cidr_, cluster_cidr_;
  int mtu_ = 1500;
  rtnl::Link bridge_;
  netlink::Socket route_;
  std::unique_ptr<Ipam> ipam_;
  std::map<std::string, std::vector<PortMapping>> ports_;  // sandbox id -> its host ports
};

bool BridgePodNetwork::Open(const PodNetworkOptions& options, std::string* error) {
  data_dir_ = options.data_dir;
  bridge_name_ = PodBridgeName(data_dir_);
  table_ = PodNftTableName(data_dir_);
  if (!ParseIpv4Prefix(options.pod_cidr, &pod_cidr_, error)) {
    *error = "pod CIDR: " + *error;
    return false;
  }
  cluster_cidr_ = pod_cidr_;
  if (!options.cluster_cidr.empty() && !ParseIpv4Prefix(options.cluster_cidr, &cluster_cidr_, error)) {
    *error = "cluster CIDR: " + *error;
    return false;
  }
  if (!netlink::Socket::Open(NETLINK_ROUTE, "", &route_, error)) return false;
  mtu_ = options.mtu;
  if (mtu_ <= 0 && !rtnl::DefaultRouteMtu(&route_, &mtu_, error)) return false;

  if (!rtnl::EnsureBridge(&route_, bridge_name_, mtu_, LocalMac(data_dir_, "bridge"), &bridge_, error) ||
      !rtnl::AddAddress(&route_, bridge_, pod_cidr_.addr + 1, pod_cidr_.len, error) ||
      !rtnl::SetLink(&route_, bridge_, -1, true, error))
    return false;
  if (!WriteProcSys("/proc/sys/net/ipv4/ip_forward", "1", error)) return false;

  if (!Ipam::Open(AddressesDir(data_dir_), pod_cidr_, &ipam_, error)) return false;
  // A sandbox that is gone (removed, or killed with its namespaces while
  // kubit was down) gives its address back; so does a claim that a crash
  // left between allocation and use, when its sandbox went too.
  std::vector<std::string> released;
  auto alive = [&](const std::string& id) { return runtime::container::SandboxAlive(data_dir_, id); };
  if (!ipam_->Reconcile(alive, &released, error))
    return false;
  for (const std::string& id : released) {
    std::string ignored;
    rtnl::DeleteLink(&route_, PodVethName(data_dir_, id), &ignored);
  }
  // Veths on the bridge that no record explains are leftovers of a crash.
  std::vector<rtnl::Link> links;
  if (!rtnl::ListLinks(&route_, &links, error)) return false;
  for (const rtnl::Link& l : links) {
    if (l.master != bridge_.index) continue;
    bool known = false;
    for (const auto& [id, ip] : ipam_->allocations()) known = known || l.name == PodVethName(data_dir_, id);
    if (!known && !rtnl::DeleteLink(&route_, l.name, error)) return false;
  }

  std::error_code ec;
  std::filesystem::create_directories(HostPortsDir(data_dir_), ec);
  if (ec) {
    *error = "mkdir " + HostPortsDir(data_dir_) + ": " + ec.message();
    return false;
  }
  for (const auto& entry : std::filesystem::directory_iterator(HostPortsDir(data_dir_), ec)) {
    std::string id = entry.path().filename().string();
    if (!ipam_->allocations().count(id)) {
      std::filesystem::remove(entry.path(), ec);
      continue;
    }
    std::ifstream in(entry.path());
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    std::vector<PortMapping> ports = PortsFromJson(j);
    if (!ports.empty()) ports_[id] = ports;
  }
  return SyncRules(error);
}

bool BridgePodNetwork::Setup(const std::string& sandbox_id, const std::string& netns_path,
                             const std::vector<PortMapping>& ports, std::string* ip, std::string* error) {
  if (!ValidSandboxId(sandbox_id)) {
    *error = "invalid sandbox id \"" + sandbox_id + "\"";
    return false;
  }
  std::lock_guard<std::mutex> lock(mu_);
  uint32_t addr;
  bool fresh = !ipam_->Lookup(sandbox_id, &addr);
  if (!ipam_->Allocate(sandbox_id, &addr, error)) return false;
  if (!SetupLocked(sandbox_id, netns_path, addr, error)) {
    if (fresh) {
      // Leave nothing of a sandbox that never got its network.
      std::string ignored;
      rtnl::DeleteLink(&route_, PodVethName(data_dir_, sandbox_id), &ignored);
      ipam_->Release(sandbox_id, &ignored);
    }
    return false;
  }
  auto it = ports_.find(sandbox_id);
  const std::vector<PortMapping> none;
  if (!SamePorts(it == ports_.end() ? none : it->second, ports)) {
    if (!SavePorts(sandbox_id, ports, error)) return false;
    if (ports.empty())
      ports_.erase(sandbox_id);
    else
      ports_[sandbox_id] = ports;
    if (!SyncRules(error)) return false;
  }
  *ip = FormatIpv4(addr);
  return true;
}

bool BridgePodNetwork::SetupLocked(const std::string& id, const std::string& netns_path, uint32_t ip,
                                   std::string* error) {
  std::string veth = PodVethName(data_dir_, id);
  rtnl::Link host;
  bool host_found;
  if (!rtnl::GetLink(&route_, veth, &host, &host_found, error)) return false;
  netlink::Socket pod;
  if (!netlink::Socket::Open(NETLINK_ROUTE, netns_path, &pod, error)) return false;
  rtnl::Link eth0;
  bool eth0_found;
  if (!rtnl::GetLink(&pod, "eth0", &eth0, &eth0_found, error)) return false;
  // Both ends there: set up before (Setup again). One end only: a pair
  // that is not this sandbox's, or half of one; made again.
  if (!(host_found && eth0_found)) {
    if (host_found && !rtnl::DeleteLink(&route_, veth, error)) return false;
    if (eth0_found && !rtnl::DeleteLink(&pod, "eth0", error)) return false;
    if (!rtnl::CreateVeth(&route_, veth, "eth0", netns_path, mtu_, error)) return false;
    if (!rtnl::GetLink(&route_, veth, &host, &host_found, error)) return false;
    if (!host_found) {
      *error = "RTM_GETLINK " + veth + ": gone right after it was made";
      return false;
    }
  }
  if (!rtnl::SetLink(&route_, host, bridge_.index, true, error) ||
      !rtnl::SetBridgePortHairpin(&route_, host, error))
    return false;
  return ConfigurePodSide(netns_path, ip, error);
}

bool BridgePodNetwork::ConfigurePodSide(const std::string& netns_path, uint32_t ip, std::string* error) {
  netlink::Socket pod;
  if (!netlink::Socket::Open(NETLINK_ROUTE, netns_path, &pod, error)) return false;
  rtnl::Link lo, eth0;
  bool found;
  if (!rtnl::GetLink(&pod, "lo", &lo, &found, error)) return false;
  if (found && !rtnl::SetLink(&pod, lo, -1, true, error)) return false;
  if (!rtnl::GetLink(&pod, "eth0", &eth0, &found, error)) return false;
  if (!found) {
    *error = "RTM_GETLINK eth0 in " + netns_path + ": no such device";
    return false;
  }
  return rtnl::AddAddress(&pod, eth0, ip, pod_cidr_.len, error) && rtnl::SetLink(&pod, eth0, -1, true, error) &&
         rtnl::SetDefaultRoute(&pod, eth0, ipam_->gateway(), error);
}

bool BridgePodNetwork::SavePorts(const std::string& id, const std::vector<PortMapping>& ports,
                                 std::string* error) {
  std::string path = HostPortsDir(data_dir_) + "/" + id;
  if (ports.empty()) {
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      *error = "unlink " + path + ": " + strerror(errno);
      return false;
    }
    return true;
  }
  return WriteFileAtomic(path, PortsToJson(ports).dump() + "\n", error);
}

bool BridgePodNetwork::Teardown(const std::string& sandbox_id, std::string* error) {
  if (!ValidSandboxId(sandbox_id)) return true;  // never set up
  std::lock_guard<std::mutex> lock(mu_);
  // The host end takes the pod's end (and its routes) with it.
  if (!rtnl::DeleteLink(&route_, PodVethName(data_dir_, sandbox_id), error)) return false;
  if (ports_.count(sandbox_id)) {
    ports_.erase(sandbox_id);
    if (!SyncRules(error)) return false;
  }
  if (!SavePorts(sandbox_id, {}, error)) return false;
  return ipam_->Release(sandbox_id, error);
}

bool BridgePodNetwork::SyncRules(std::string* error) {
  nft::Batch b(NFPROTO_IPV4);
  // Add, delete, add: the table is replaced whole whether it existed or not.
  b.AddTable(table_);
  b.DeleteTable(table_);
  b.AddTable(table_);
  b.AddChain(table_, "prerouting", "nat", NF_INET_PRE_ROUTING, kDstNatPriority);
  b.AddChain(table_, "output", "nat", NF_INET_LOCAL_OUT, kDstNatPriority);
  b.AddChain(table_, "postrouting", "nat", NF_INET_POST_ROUTING, kSrcNatPriority);
  std::vector<nft::Rule> hairpin;
  for (const auto& [id, ports] : ports_) {
    uint32_t ip;
    if (!ipam_->Lookup(id, &ip)) continue;
    for (const PortMapping& p : ports) {
      if (p.host_port <= 0 || p.host_port > 65535 || p.container_port <= 0 || p.container_port > 65535) continue;
      uint32_t host_ip = 0;
      if (!p.host_ip.empty() && !ParseIpv4(p.host_ip, &host_ip)) continue;  // an IPv6 hostIP: not ours
      bool specific = host_ip != 0;
      nft::Rule rule = nft::Join({specific ? nft::IpDaddrIn({host_ip, 32}) : nft::DaddrIsLocal(),
                                  nft::L4Proto(ProtocolNumber(p.protocol)),
                                  nft::DestPort(static_cast<uint16_t>(p.host_port)),
                                  nft::DnatTo(ip, static_cast<uint16_t>(p.container_port))});
      b.AddRule(table_, "prerouting", rule);
      b.AddRule(table_, "output", rule);
      // A pod reaching a host port that lands on a pod (itself included)
      // must get its answer back through the node, so it leaves with the
      // bridge's address: only that traffic (the original destination
      // port says it came through this mapping), not other DNAT'ed flows
      // such as Services.
      hairpin.push_back(nft::Join({nft::IpSaddrIn(pod_cidr_), nft::IpDaddrIn({ip, 32}),
                                   nft::L4Proto(ProtocolNumber(p.protocol)),
                                   nft::CtOriginalDestPort(static_cast<uint16_t>(p.host_port)),
                                   {nft::Masquerade()}}));
    }
  }
  for (const nft::Rule& rule : hairpin) b.AddRule(table_, "postrouting", rule);
  // Pods reaching outside the cluster leave with the node's address.
  b.AddRule(table_, "postrouting",
            nft::Join({nft::IpSaddrIn(pod_cidr_), nft::IpDaddrIn(cluster_cidr_, true), {nft::Masquerade()}}));
  netlink::Socket nfnl;
  if (!netlink::Socket::Open(NETLINK_NETFILTER, "", &nfnl, error)) return false;
  std::vector<netlink::Message> messages = b.Finish();
  return nfnl.Batch(&messages, "nftables table ip " + table_, error);
}

}  // namespace

std::string PodBridgeName(const std::string& data_dir) { return "kb" + HashHex(CanonicalDataDir(data_dir), 6); }

std::string PodVethName(const std::string& data_dir, const std::string& sandbox_id) {
  return "kv" + HashHex(CanonicalDataDir(data_dir) + "\n" + sandbox_id, 8);
}

std::string PodNftTableName(const std::string& data_dir) {
  return "kubit_" + HashHex(CanonicalDataDir(data_dir), 6);
}

bool OpenBridgePodNetwork(const PodNetworkOptions& options, std::unique_ptr<PodNetwork>* out,
                          std::string* error) {
  auto network = std::make_unique<BridgePodNetwork>();
  if (!network->Open(options, error)) return false;
  *out = std::move(network);
  return true;
}

bool RemoveBridgePodNetwork(const std::string& data_dir, std::string* error) {
  netlink::Socket route;
  if (!netlink::Socket::Open(NETLINK_ROUTE, "", &route, error)) return false;
  rtnl::Link bridge;
  bool found;
  if (!rtnl::GetLink(&route, PodBridgeName(data_dir), &bridge, &found, error)) return false;
  std::vector<std::string> names;
  if (found) {
    std::vector<rtnl::Link> links;
    if (!rtnl::ListLinks(&route, &links, error)) return false;
    for (const rtnl::Link& l : links)
      if (l.master == bridge.index) names.push_back(l.name);
  }
  // Veths of recorded sandboxes that a crash left off the bridge.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(AddressesDir(data_dir), ec)) {
    std::ifstream in(entry.path());
    std::string id;
    if (std::getline(in, id) && !id.empty()) names.push_back(PodVethName(data_dir, id));
  }
  for (const std::string& name : names)
    if (!rtnl::DeleteLink(&route, name, error)) return false;
  if (found && !rtnl::DeleteLink(&route, bridge.name, error)) return false;
  // A kernel without nftables has no table to remove.
  netlink::Socket nfnl;
  if (!netlink::Socket::Open(NETLINK_NETFILTER, "", &nfnl, error)) return errno == EPROTONOSUPPORT;
  bool exists;
  if (!nft::TableExists(&nfnl, NFPROTO_IPV4, PodNftTableName(data_dir), &exists, error)) return false;
  if (!exists) return true;
  nft::Batch b(NFPROTO_IPV4);
  b.DeleteTable(PodNftTableName(data_dir));
  std::vector<netlink::Message> messages = b.Finish();
  return nfnl.Batch(&messages, "delete nftables table ip " + PodNftTableName(data_dir), error);
}

}  // namespace kubit::net
