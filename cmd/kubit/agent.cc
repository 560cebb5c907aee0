// `kubit agent`: joins a board to a cluster and runs its node agent; the
// same node agent runs inside `kubit server` unless --disable-agent.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <memory>
#include <nlohmann/json.hpp>

#include "cmd/kubit/agent_flags.h"
#include "cmd/kubit/commands.h"
#include "cmd/kubit/flags.h"
#include "cmd/kubit/log.h"
#include "core/client/client.h"
#include "core/network/dns_node.h"
#include "core/network/ingress_proxy.h"
#include "net/dns_resolv_conf.h"
#include "net/service_proxy.h"
#include "net/vxlan_overlay.h"
#include "runtime/kubelet/join.h"
#include "runtime/kubelet/node_images.h"
#include "runtime/kubelet/node_status.h"
#include "runtime/kubelet/stream_server.h"
#include "runtime/kubelet/tunnel_client.h"

namespace kubit::cmd {

std::string DefaultNodeName() {
  char host[256] = "localhost";
  gethostname(host, sizeof(host) - 1);
  std::string name = host;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(tolower(c)); });
  return name;
}

// The address other nodes and pods reach this one at: that of the default
// route's interface, else any non-loopback IPv4, else loopback.
std::string PrimaryIPv4() {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(53);
    inet_pton(AF_INET, "192.0.2.1", &to.sin_addr);  // TEST-NET: a UDP connect sends nothing
    sockaddr_in me{};
    socklen_t len = sizeof(me);
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) == 0 &&
              getsockname(fd, reinterpret_cast<sockaddr*>(&me), &len) == 0;
    close(fd);
    char buf[INET_ADDRSTRLEN];
    if (ok && inet_ntop(AF_INET, &me.sin_addr, buf, sizeof(buf))) return buf;
  }
  std::string found = "127.0.0.1";
  ifaddrs* ifs = nullptr;
  if (getifaddrs(&ifs) != 0) return found;
  for (ifaddrs* i = ifs; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK)) continue;
    char buf[INET_ADDRSTRLEN];
    if (inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf, sizeof(buf))) {
      found = buf;
      break;
    }
  }
  freeifaddrs(ifs);
  return found;
}

void AgentFlags::Register(FlagSet* flags) {
  flags->String("node-name", &node_name, "Node name (default: the hostname, lower-cased)");
  flags->StringList("node-label", &node_labels, "Label to register the node with (key=value)");
  flags->StringList("node-taint", &node_taints,
                    "Taint to register the node with (key=value:Effect)");
  flags->String("private-registry", &private_registry,
                "Private registry configuration file (k3s's registries.yaml format)");
  flags->String("cluster-dns", &cluster_dns,
                "Cluster DNS address pods resolve names with (default: the 10th address of the server's "
                "--service-cidr, as the server tells its agents)");
  flags->String("resolv-conf", &resolv_conf,
                "Resolver file whose nameservers the cluster DNS forwards other names to and pods of "
                "dnsPolicy Default use (default: /etc/resolv.conf, or /run/systemd/resolve/resolv.conf "
                "when the former names only loopback resolvers)");
  flags->Int("ingress-http-port", &ingress_http_port, "Port the ingress proxy serves HTTP on");
  flags->Int("ingress-https-port", &ingress_https_port, "Port the ingress proxy serves HTTPS on");
  flags->Bool("disable-kube-proxy", &disable_kube_proxy,
              "Do not program Services' data path on this node (ClusterIPs, NodePorts, LoadBalancer IPs)");
  flags->Bool("disable-network-policy", &disable_network_policy,
              "Do not enforce NetworkPolicies for this node's pods");
}

bool AgentFlags::Check(std::string* error) {
  if (node_name.empty()) node_name = DefaultNodeName();
  for (int64_t p : {ingress_http_port, ingress_https_port})
    if (p <= 0 || p > 65535) {
      *error = "invalid ingress port " + std::to_string(p) + ": want 1-65535";
      return false;
    }
  if (ingress_http_port == ingress_https_port) {
    *error = "--ingress-http-port and --ingress-https-port must differ";
    return false;
  }
  for (const auto& l : node_labels)
    if (l.find('=') == std::string::npos) {
      *error = "invalid --node-label \"" + l + "\": want key=value";
      return false;
    }
  for (const auto& t : node_taints) {
    std::string why;
    nlohmann::json taint;
    if (!kubelet::ParseTaint(t, &taint, &why)) {
      *error = why;
      return false;
    }
  }
  return true;
}

kubelet::NodeOptions AgentFlags::NodeOptionsFor(const std::string& data_dir,
                                                const std::vector<std::string>& ips,
                                                bool control_plane) const {
  kubelet::NodeOptions o;
  o.name = node_name;
  o.data_dir = data_dir;
  o.ips = ips;
  for (const auto& l : node_labels) o.labels[l.substr(0, l.find('='))] = l.substr(l.find('=') + 1);
  o.taints = node_taints;
  o.control_plane = control_plane;
  o.kubelet_version = "v1.32.0+kubit-" + ShortVersion().substr(1);
  o.runtime_version = "kubit://" + ShortVersion().substr(1);
  o.log = [](const std::string& m) { Log(Level::kInfo, "kubelet", m); };
  // The images of this node, from its own view of the image store.
  std::shared_ptr<runtime::image::ImageStore> images;
  o.images = [images, data_dir]() mutable {
    std::string error;
    if (!images) images = runtime::image::ImageStore::Open(data_dir, &error);
    return images ? kubelet::NodeImages(images->List(&error)) : nlohmann::json::array();
  };
  return o;
}

kubelet::PodManagerOptions AgentFlags::PodOptionsFor(const std::string& data_dir,
                                                     const std::string& ip) const {
  kubelet::PodManagerOptions o;
  o.node_name = node_name;
  o.data_dir = data_dir;
  o.host_ip = ip;
  o.private_registry = private_registry;
  o.dns.cluster_dns = cluster_dns;
  o.dns.resolv_conf = net::NodeResolvConf(resolv_conf);
  o.log = [](const std::string& m) { Log(Level::kInfo, "kubelet", m); };
  return o;
}

network::IngressProxyOptions AgentFlags::IngressOptions() const {
  network::IngressProxyOptions o;
  o.proxy.http_port = static_cast<int>(ingress_http_port);
  o.proxy.https_port = static_cast<int>(ingress_https_port);
  o.proxy.log = [](const std::string& m) { Log(Level::kWarn, "network", "ingress proxy: " + m); };
  o.log = [](bool error, const std::string& m) { Log(error ? Level::kError : Level::kInfo, "network", m); };
  return o;
}

network::NodeDnsOptions AgentFlags::DnsOptionsFor(const std::string& data_dir) const {
  network::NodeDnsOptions o;
  o.data_dir = data_dir;
  o.resolv_conf = resolv_conf;
  o.log = [](bool error, const std::string& m) { Log(error ? Level::kError : Level::kInfo, "network", m); };
  return o;
}

network::ServiceProxyControllerOptions AgentFlags::ServiceProxyOptionsFor(const std::string& data_dir,
                                                                          const std::string& cluster_cidr) const {
  network::ServiceProxyControllerOptions o;
  o.node_name = node_name;
  o.data_dir = data_dir;
  o.cluster_cidr = cluster_cidr;
  o.log = [](bool error, const std::string& m) { Log(error ? Level::kError : Level::kInfo, "network", m); };
  return o;
}

network::NetworkPolicyControllerOptions AgentFlags::NetworkPolicyOptionsFor(const std::string& data_dir) const {
  network::NetworkPolicyControllerOptions o;
  o.node_name = node_name;
  o.data_dir = data_dir;
  o.log = [](bool error, const std::string& m) { Log(error ? Level::kError : Level::kInfo, "network", m); };
  return o;
}

network::OverlayOptions AgentFlags::OverlayOptionsFor(const std::string& data_dir, const std::string& node_ip,
                                                      const std::string& backend) const {
  network::OverlayOptions o;
  o.backend = backend;
  o.node_name = node_name;
  o.node_ip = node_ip;
  o.data_dir = data_dir;
  o.log = [](bool error, const std::string& m) { Log(error ? Level::kError : Level::kInfo, "network", m); };
  return o;
}

int AgentCommand(const Args& args) {
  std::string data_dir = "/var/lib/kubit", server, token, token_file, log_level = "info";
  std::vector<std::string> node_ips;
  AgentFlags agent;
  FlagSet flags("kubit agent --server URL --token TOKEN [flags]",
                "Join this board to a kubit cluster and run its workloads.");
  flags.String("server", &server, "Server to join, https://HOST:6443");
  flags.String("token", &token, "The server's join token (K10..., from its <data-dir>/server/token)");
  flags.String("token-file", &token_file, "File holding the join token");
  flags.String("data-dir", &data_dir, "Folder to hold state");
  flags.StringList("node-ip", &node_ips, "IP address to advertise for this node");
  agent.Register(&flags);
  flags.String("log-level", &log_level, "Least level to log: debug, info, warn or error");
  std::vector<std::string> pos;
  if (int rc = flags.ParseCommand(args, &pos, 0, 0); rc >= 0) return rc;
  Level level;
  if (!ParseLevel(log_level, &level)) {
    fprintf(stderr, "Error: invalid --log-level \"%s\"\n", log_level.c_str());
    return 2;
  }
  SetLogLevel(level);
  if (!token_file.empty()) {
    FILE* f = fopen(token_file.c_str(), "r");
    char buf[512] = "";
    if (!f || !fgets(buf, sizeof(buf), f)) {
      fprintf(stderr, "Error: cannot read --token-file %s: %s\n", token_file.c_str(), strerror(errno));
      if (f) fclose(f);
      return 2;
    }
    fclose(f);
    token = buf;
    while (!token.empty() && isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  }
  std::string error;
  if (server.empty() || token.empty()) {
    fprintf(stderr, "Error: --server and --token (or --token-file) are required\n");
    return 2;
  }
  if (!agent.Check(&error)) {
    fprintf(stderr, "Error: %s\n", error.c_str());
    return 2;
  }
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  Log(Level::kInfo, "agent", "starting " + VersionString() + " as node " + agent.node_name);
  if (!MakeDirs(data_dir + "/agent", 0700, &error)) {
    Log(Level::kError, "agent", error);
    return 1;
  }
  kubelet::JoinOptions jo{server, token, data_dir, agent.node_name};
  client::Config config;
  if (!kubelet::JoinCluster(jo, &config, &error)) {
    Log(Level::kError, "agent", error);
    return 1;
  }
  Log(Level::kInfo, "agent", "joined " + server + "; kubeconfig " + kubelet::KubeletKubeconfigPath(data_dir));
  config.user_agent = "kubit-agent/" + ShortVersion();
  client::Client client(config);
  if (node_ips.empty()) node_ips.push_back(PrimaryIPv4());
  kubelet::NodeStatus node(&client, agent.NodeOptionsFor(data_dir, node_ips, false));
  node.Start();
  // The pods of this node, on the cluster's pod network.
  kubelet::ClusterNetwork network;
  if (!kubelet::FetchClusterNetwork(jo, config, &network, &error)) {
    Log(Level::kError, "agent", error);
    return 1;
  }
  kubelet::PodManagerOptions pod_options = agent.PodOptionsFor(data_dir, node_ips[0]);
  pod_options.cluster_cidr = network.cluster_cidr;
  if (agent.cluster_dns.empty()) pod_options.dns.cluster_dns = network.cluster_dns;
  if (network.flannel_backend == "vxlan") pod_options.pod_mtu = net::VxlanPodMtu();
  kubelet::PodManager pods(&client, pod_options);
  if (!pods.Start(&error)) {
    Log(Level::kError, "agent", error);
    return 1;
  }
  // logs and exec: the API server reaches this kubelet through a tunnel
  // the board opens, so a board behind NAT works.
  kubelet::StreamServer streams(data_dir);
  kubelet::TunnelClient tunnel(
      kubelet::TunnelConnectFor(config), [&streams](net::Conn* c) { streams.Serve(c); },
      [](const std::string& m) { Log(Level::kInfo, "kubelet", m); });
  tunnel.Start();
  network::IngressProxy ingress(&client, agent.IngressOptions());
  ingress.Start();
  // Services' data path on this board (kube-proxy's part).
  network::ServiceProxyController service_proxy(&client, agent.ServiceProxyOptionsFor(data_dir, network.cluster_cidr));
  if (!agent.disable_kube_proxy && !service_proxy.Start(&error)) {
    Log(Level::kError, "agent", "service proxy: " + error);
    return 1;
  }
  if (agent.disable_kube_proxy && !net::RemoveServiceProxy(data_dir, &error))  // an earlier run's rules go
    Log(Level::kWarn, "agent", "service proxy: " + error);
  // NetworkPolicies for this board's pods (kube-router's part).
  network::NetworkPolicyController network_policy(&client, agent.NetworkPolicyOptionsFor(data_dir));
  if (!agent.disable_network_policy)
    network_policy.Start();
  else if (!net::RemoveNetworkPolicyFilter(data_dir, &error))  // an earlier run's rules stop applying
    Log(Level::kWarn, "agent", "network policy: " + error);
  // Cluster DNS: this board answers on the kube-dns Service's address itself.
  network::NodeDns dns(&client, agent.DnsOptionsFor(data_dir));
  dns.Start();
  // Pods on other boards, through the vxlan overlay.
  network::OverlayController overlay(&client, agent.OverlayOptionsFor(data_dir, node_ips[0], network.flannel_backend));
  if (network.flannel_backend != "none") overlay.Start();
  Log(Level::kInfo, "agent", "ready");

  int sig = 0;
  sigwait(&stop_signals, &sig);
  Log(Level::kInfo, "agent", std::string("received ") + strsignal(sig) + ", shutting down");
  overlay.Stop();
  network_policy.Stop();
  service_proxy.Stop();
  dns.Stop();
  ingress.Stop();
  tunnel.Stop();
  pods.Stop();
  node.Stop();
  return 0;
}

}  // namespace kubit::cmd
