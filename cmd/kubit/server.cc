// kubit server: the control plane of a cluster: the state (the revisioned
// store) and the Kubernetes API in front of it. The scheduler, controllers
// and the node agent are wired in here as they land.
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>

#include "cmd/kubit/agent_flags.h"
#include "cmd/kubit/commands.h"
#include "cmd/kubit/flags.h"
#include "cmd/kubit/log.h"
#include "core/api/resources.h"
#include "core/apiserver/api_server.h"
#include "core/apiserver/cluster_pki.h"
#include "core/client/client.h"
#include "core/client/informer.h"
#include "core/client/leader_election.h"
#include "core/controllers/controller_manager.h"
#include "core/controllers/cron_schedule.h"
#include "core/network/dns_node.h"
#include "core/network/ingress_proxy.h"
#include "core/scheduler/scheduler.h"
#include "manifests/bundled.h"
#include "manifests/deployer.h"
#include "net/ipam_ipv4.h"
#include "net/service_proxy.h"
#include "net/vxlan_overlay.h"
#include "runtime/kubelet/node_status.h"
#include "runtime/kubelet/stream_server.h"
#include "runtime/kubelet/tunnel_client.h"
#include "store/store.h"

namespace kubit::cmd {

std::string DatabasePath(const std::string& data_dir) { return data_dir + "/server/db/state.db"; }

bool MakeDirs(const std::string& path, unsigned mode, std::string* error) {
  for (size_t i = 1; i <= path.size(); i++) {
    if (i != path.size() && path[i] != '/') continue;
    std::string part = path.substr(0, i);
    if (mkdir(part.c_str(), mode) != 0 && errno != EEXIST) {
      *error = "mkdir " + part + ": " + strerror(errno);
      return false;
    }
  }
  return true;
}

namespace {

// This server's candidate identity in leader elections, made once and kept
// in the data dir.
bool LeaderIdentityFor(const std::string& data_dir, std::string* out, std::string* error) {
  const std::string path = data_dir + "/server/leader-identity";
  if (FILE* f = fopen(path.c_str(), "r")) {
    char buf[512] = "";
    bool ok = fgets(buf, sizeof(buf), f) != nullptr;
    fclose(f);
    *out = buf;
    while (!out->empty() && isspace(static_cast<unsigned char>(out->back()))) out->pop_back();
    if (ok && !out->empty()) return true;
  }
  *out = client::LeaderIdentity();
  const std::string tmp = path + ".tmp";
  FILE* f = fopen(tmp.c_str(), "w");
  if (!f || fprintf(f, "%s\n", out->c_str()) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0 ||
      fclose(f) != 0 || rename(tmp.c_str(), path.c_str()) != 0) {
    *error = "cannot write " + path + ": " + strerror(errno);
    return false;
  }
  return true;
}

store::Options StoreOptions(const std::string& data_dir) {
  store::Options o;
  o.path = DatabasePath(data_dir);
  o.key_namespace = "/registry/";
  // Heartbeats (node Leases) and Events: written in batches to spare SD
  // cards and eMMC. Events of both API groups share one storage prefix.
  const std::string leases = api::FindType("coordination.k8s.io", "v1", "leases")->storage_prefix();
  const std::string events = api::FindType("", "v1", "events")->storage_prefix();
  o.volatile_prefixes = {leases, events};
  // Held in memory up to 5 minutes (nodes post their status as often, and
  // any durable write takes pending heartbeats along): a crash loses only
  // renewals that the next 10 s of heartbeats make good again.
  o.volatile_flush_interval = std::chrono::minutes(5);
  o.default_ttls = {{events, 3600}};
  o.log = [](store::LogLevel level, const std::string& msg) {
    Log(static_cast<Level>(static_cast<int>(level)), "store", msg);
  };
  return o;
}

}  // namespace

int ServerCommand(const Args& args) {
  std::string data_dir = "/var/lib/kubit", log_level = "info", bind_address = "0.0.0.0";
  std::string kubeconfig = "/etc/kubit/kubit.yaml", kubeconfig_mode = "0600", token;
  std::string service_cidr = "10.43.0.0/16";
  std::string cluster_cidr = "10.42.0.0/16";
  std::string flannel_backend = "vxlan";
  std::string node_monitor_grace_period = "40s";
  std::string metric_resolution = "15s";
  int64_t port = 6443;
  std::vector<std::string> tls_sans, node_ips, disabled;
  bool disable_controller_manager = false;
  bool disable_agent = false;
  AgentFlags agent;
  FlagSet flags("kubit server [flags]",
                "Run a kubit server: the cluster's state and the Kubernetes API (HTTPS).");
  flags.String("data-dir", &data_dir, "Folder to hold state");
  flags.Int("https-listen-port", &port, "HTTPS listen port of the API server");
  flags.String("bind-address", &bind_address, "Address the API server listens on");
  flags.StringList("tls-san", &tls_sans,
                   "Add a hostname or IP as a Subject Alternative Name in the serving certificate");
  flags.StringList("node-ip", &node_ips, "IP address of this node, added to the serving certificate");
  flags.String("write-kubeconfig", &kubeconfig, "Write the admin kubeconfig to this file");
  flags.String("write-kubeconfig-mode", &kubeconfig_mode,
               "File mode of the kubeconfig written, in octal");
  flags.String("token", &token,
               "Shared secret that nodes use to join (a K10 token or its secret part); "
               "made at random on first start if not given");
  flags.String("service-cidr", &service_cidr,
               "IPv4 network CIDR for Service ClusterIPs; the first address is the kubernetes Service's");
  flags.String("cluster-cidr", &cluster_cidr,
               "IPv4 network CIDR for pod IPs; each node gets a /24 of it as its podCIDR");
  flags.String("flannel-backend", &flannel_backend,
               "How pods reach the pods of other nodes, as flannel's backends: vxlan (the kernel's vxlan "
               "device, UDP 8472), host-gw (plain routes via the other nodes: boards on one L2 network) "
               "or none (another network plugin connects the nodes)");
  flags.String("node-monitor-grace-period", &node_monitor_grace_period,
               "How long a node may go without renewing its Lease or posting status before it is "
               "marked Unknown and tainted unreachable (a Go duration, as kube-controller-manager's)");
  flags.String("metric-resolution", &metric_resolution,
               "How often each node's usage is scraped for metrics.k8s.io (kubectl top, HPAs), as "
               "metrics-server's --metric-resolution (a Go duration, at least 1s; metrics-server's own minimum is 10s)");
  flags.Bool("disable-controller-manager", &disable_controller_manager,
             "Do not run the controllers (namespaces, service accounts, ...)");
  flags.Bool("disable-agent", &disable_agent, "Do not run a node agent (no workloads on this board)");
  flags.StringList("disable", &disabled,
                   "Do not deploy a packaged component, as k3s names them: coredns (cluster DNS), "
                   "servicelb (LoadBalancer Services), traefik (the ingress proxy), local-storage "
                   "(the local-path provisioner), metrics-server (kubectl top); repeatable");
  agent.Register(&flags);
  flags.String("log-level", &log_level, "Least level to log: debug, info, warn or error");
  std::vector<std::string> pos;
  if (int rc = flags.ParseCommand(args, &pos, 0, 0); rc >= 0) return rc;
  std::string flag_error;
  if (!agent.Check(&flag_error)) {
    fprintf(stderr, "Error: %s\n", flag_error.c_str());
    return 2;
  }
  for (const auto& d : disabled) {
    if (d != "coredns" && d != "servicelb" && d != "traefik" && d != "local-storage" && d != "metrics-server") {
      fprintf(stderr, "Error: invalid --disable \"%s\": want coredns, servicelb, traefik, local-storage or "
              "metrics-server\n", d.c_str());
      return 2;
    }
  }
  Level level;
  if (!ParseLevel(log_level, &level)) {
    fprintf(stderr, "Error: invalid --log-level \"%s\": want debug, info, warn or error\n",
            log_level.c_str());
    return 2;
  }
  SetLogLevel(level);
  char* mode_end = nullptr;
  unsigned long mode = strtoul(kubeconfig_mode.c_str(), &mode_end, 8);
  if (kubeconfig_mode.empty() || *mode_end || mode > 0777) {
    fprintf(stderr, "Error: invalid --write-kubeconfig-mode \"%s\": want an octal mode like 0600\n",
            kubeconfig_mode.c_str());
    return 2;
  }
  double grace_nanos = 0;
  if (!controllers::ParseGoDuration(node_monitor_grace_period, &grace_nanos) || grace_nanos < 1e9) {
    fprintf(stderr, "Error: invalid --node-monitor-grace-period \"%s\": a duration of at least 1s, like 40s\n",
            node_monitor_grace_period.c_str());
    return 2;
  }
  double resolution_nanos = 0;
  if (!controllers::ParseGoDuration(metric_resolution, &resolution_nanos) || resolution_nanos < 1e9) {
    fprintf(stderr, "Error: invalid --metric-resolution \"%s\": a duration of at least 1s, like 15s\n",
            metric_resolution.c_str());
    return 2;
  }
  // Pod network: nodes' podCIDRs are /24s of --cluster-cidr (as k3s).
  if (net::Ipv4Prefix p; !net::ParseIpv4Prefix(cluster_cidr, &p, &flag_error) || p.len > 24) {
    fprintf(stderr, "Error: invalid --cluster-cidr \"%s\": %s\n", cluster_cidr.c_str(),
            flag_error.empty() ? "want a /24 or wider" : flag_error.c_str());
    return 2;
  }
  // The cluster DNS: the 10th address of --service-cidr unless given, as k3s's.
  if (net::Ipv4Prefix p; !net::ParseIpv4Prefix(service_cidr, &p, &flag_error) || p.len > 28) {
    fprintf(stderr, "Error: invalid --service-cidr \"%s\": %s\n", service_cidr.c_str(),
            flag_error.empty() ? "want a /28 or wider" : flag_error.c_str());
    return 2;
  } else if (agent.cluster_dns.empty()) {
    agent.cluster_dns = net::FormatIpv4(p.addr + 10);
  }
  if (flannel_backend != "vxlan" && flannel_backend != "host-gw" && flannel_backend != "none") {
    fprintf(stderr, "Error: invalid --flannel-backend \"%s\": want vxlan, host-gw or none\n",
            flannel_backend.c_str());
    return 2;
  }
  if (port <= 0 || port > 65535) {
    fprintf(stderr, "Error: invalid --https-listen-port %lld\n", static_cast<long long>(port));
    return 2;
  }
  // Few malloc arenas: per-thread arenas keep freed memory of large
  // responses around, and a board has little of it.
  mallopt(M_ARENA_MAX, 2);
  Log(Level::kInfo, "server", "starting " + VersionString());

  // Signals are taken synchronously by this thread; every other thread
  // inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::string error;
  if (!MakeDirs(data_dir + "/server/db", 0700, &error)) {
    Log(Level::kError, "server", error);
    return 1;
  }
  std::unique_ptr<store::Store> state;
  store::Status s = store::Store::Open(StoreOptions(data_dir), &state);
  if (!s.ok()) {
    Log(Level::kError, "server", "cannot open the cluster state: " + s.message());
    return 1;
  }

  apiserver::PKIOptions po;
  po.data_dir = data_dir;
  po.sans = tls_sans;
  po.node_ips = node_ips;
  po.token = token;
  apiserver::ClusterPKI pki;
  if (!apiserver::EnsureClusterPKI(po, &pki, &error)) {
    Log(Level::kError, "server", "cannot set up certificates: " + error);
    return 1;
  }
  apiserver::ApiServerOptions ao;
  ao.bind_address = bind_address;
  ao.port = static_cast<int>(port);
  ao.version = ShortVersion();
  ao.rest.service_cidr = service_cidr;
  ao.rest.advertise_address = node_ips.empty() ? PrimaryIPv4() : node_ips[0];
  ao.rest.advertise_port = static_cast<int>(port);
  ao.network.cluster_cidr = cluster_cidr;
  ao.network.service_cidr = service_cidr;
  ao.network.cluster_dns = agent.cluster_dns;
  ao.network.flannel_backend = flannel_backend;
  ao.metrics.enabled = std::find(disabled.begin(), disabled.end(), "metrics-server") == disabled.end();
  ao.metrics.resolution = std::chrono::milliseconds(static_cast<int64_t>(resolution_nanos / 1e6));
  ao.metrics.log = [](const std::string& m) { Log(Level::kWarn, "server", m); };
  apiserver::ApiServer api(ao, state.get(), &pki);
  if (!api.Start(&error)) {
    Log(Level::kError, "server", error);
    return 1;
  }
  std::string url = "https://127.0.0.1:" + std::to_string(api.port());
  if (!kubeconfig.empty()) {
    if (!apiserver::WriteAdminKubeconfig(pki, url, kubeconfig, static_cast<unsigned>(mode), &error)) {
      Log(Level::kError, "server", "cannot write kubeconfig: " + error);
      return 1;
    }
    Log(Level::kInfo, "server", "wrote kubeconfig " + kubeconfig);
  }
  Log(Level::kInfo, "server", "API server listening on " + bind_address + ":" +
                                  std::to_string(api.port()));

  // The controllers and the scheduler run while this server holds their
  // Leases (kube-system/kube-controller-manager and kube-scheduler), as
  // upstream's, so that servers sharing one datastore run them once. The
  // identity is kept in the data dir: a restarted server takes its own
  // lease back at once instead of waiting for it to expire.
  std::string leader_identity;
  if (!LeaderIdentityFor(data_dir, &leader_identity, &error)) {
    Log(Level::kError, "server", error);
    return 1;
  }
  auto election_log = [](const std::string& m) { Log(Level::kInfo, "leader-election", m); };

  // The controllers, over the in-process transport as the controller
  // manager (kubit has no bootstrap role for it: system:masters).
  std::unique_ptr<client::Client> controller_client;
  std::unique_ptr<controllers::ControllerManager> controller_manager;
  std::unique_ptr<client::LeaderElector> controller_election;
  if (!disable_controller_manager) {
    client::Config cc = client::InProcessConfig(
        api.InProcessDialer("system:kube-controller-manager", {"system:masters"}));
    cc.user_agent = "kubit-controller-manager/" + ShortVersion();
    controller_client = std::make_unique<client::Client>(cc);
    controllers::ControllerManagerOptions cmo;
    cmo.ca_pem = pki.ca.cert_pem;
    cmo.cluster_cidr = cluster_cidr;
    cmo.node_monitor_grace_period = std::chrono::milliseconds(static_cast<int64_t>(grace_nanos / 1e6));
    cmo.servicelb = std::find(disabled.begin(), disabled.end(), "servicelb") == disabled.end();
    cmo.local_storage = std::find(disabled.begin(), disabled.end(), "local-storage") == disabled.end();
    cmo.log = [](controllers::LogLevel l, const std::string& m) {
      Log(static_cast<Level>(static_cast<int>(l)), "controllers", m);
    };
    client::LeaderElectionConfig le;
    le.name = "kube-controller-manager";
    le.identity = leader_identity;
    le.log = election_log;
    le.on_started_leading = [&controller_manager, &controller_client, cmo] {
      controller_manager = std::make_unique<controllers::ControllerManager>(controller_client.get(), cmo);
      controller_manager->Start();
    };
    le.on_stopped_leading = [&controller_manager] {
      controller_manager->Stop();
      controller_manager.reset();
    };
    controller_election = std::make_unique<client::LeaderElector>(controller_client.get(), le);
    controller_election->Start();
  }

  // The auto-deploy directory: its files applied and kept applied, as
  // system:masters (manifests may hold anything, RBAC included).
  client::Config deploy_config = client::InProcessConfig(
      api.InProcessDialer("system:kubit-deploy", {"system:masters"}));
  deploy_config.user_agent = "kubit-deploy/" + ShortVersion();
  client::Client deploy_client(deploy_config);
  manifests::DeployerOptions deploy_options;
  deploy_options.dir = data_dir + "/server/manifests";
  deploy_options.log = [](bool failed, const std::string& m) {
    Log(failed ? Level::kError : Level::kInfo, "deploy", m);
  };
  // The packaged components' manifests first (--disable removes theirs).
  manifests::BundledOptions bundled;
  bundled.cluster_dns = agent.cluster_dns;
  if (!manifests::WriteBundledManifests(deploy_options.dir, disabled, &error, bundled)) {
    Log(Level::kError, "server", "bundled manifests: " + error);
    return 1;
  }
  manifests::ManifestDeployer deployer(&deploy_client, deploy_options);
  if (!deployer.Start(&error)) {
    Log(Level::kError, "server", "auto-deploy manifests: " + error);
    return 1;
  }

  // This board's own node: the same agent `kubit agent` runs, over the
  // in-process transport, as system:node:<name>.
  std::unique_ptr<client::Client> node_client;
  std::unique_ptr<kubelet::NodeStatus> node;
  std::unique_ptr<kubelet::PodManager> pods;
  std::unique_ptr<kubelet::StreamServer> streams;
  std::unique_ptr<kubelet::TunnelClient> tunnel;
  std::unique_ptr<network::IngressProxy> ingress;
  std::unique_ptr<network::NodeDns> dns;
  std::unique_ptr<network::OverlayController> overlay;
  std::unique_ptr<network::ServiceProxyController> service_proxy;
  std::unique_ptr<network::NetworkPolicyController> network_policy;
  if (!disable_agent) {
    client::Config nc = client::InProcessConfig(
        api.InProcessDialer("system:node:" + agent.node_name, {"system:nodes"}));
    nc.user_agent = "kubit-agent/" + ShortVersion();
    node_client = std::make_unique<client::Client>(nc);
    node = std::make_unique<kubelet::NodeStatus>(
        node_client.get(), agent.NodeOptionsFor(data_dir, {ao.rest.advertise_address}, true));
    node->Start();
    kubelet::PodManagerOptions pod_options = agent.PodOptionsFor(data_dir, ao.rest.advertise_address);
    pod_options.cluster_cidr = cluster_cidr;
    if (flannel_backend == "vxlan") pod_options.pod_mtu = net::VxlanPodMtu();
    pods = std::make_unique<kubelet::PodManager>(node_client.get(), pod_options);
    if (!pods->Start(&error)) {
      Log(Level::kError, "server", error);
      return 1;
    }
    // logs and exec of this node's pods, through the same tunnel as an agent's.
    streams = std::make_unique<kubelet::StreamServer>(data_dir);
    tunnel = std::make_unique<kubelet::TunnelClient>(
        kubelet::TunnelConnectFor(nc), [s = streams.get()](net::Conn* c) { s->Serve(c); },
        [](const std::string& m) { Log(Level::kInfo, "kubelet", m); });
    tunnel->Start();
    ingress = std::make_unique<network::IngressProxy>(node_client.get(), agent.IngressOptions());
    ingress->Start();
    // Services' data path on this board (kube-proxy's part).
    if (!agent.disable_kube_proxy) {
      service_proxy = std::make_unique<network::ServiceProxyController>(
          node_client.get(), agent.ServiceProxyOptionsFor(data_dir, cluster_cidr));
      if (!service_proxy->Start(&error)) {
        Log(Level::kError, "server", "service proxy: " + error);
        return 1;
      }
    } else if (!net::RemoveServiceProxy(data_dir, &error)) {  // an earlier run's rules go
      Log(Level::kWarn, "server", "service proxy: " + error);
    }
    // NetworkPolicies for this node's pods (kube-router's part).
    if (!agent.disable_network_policy) {
      network_policy = std::make_unique<network::NetworkPolicyController>(node_client.get(),
                                                                           agent.NetworkPolicyOptionsFor(data_dir));
      network_policy->Start();
    } else if (!net::RemoveNetworkPolicyFilter(data_dir, &error)) {  // an earlier run's rules stop applying
      Log(Level::kWarn, "server", "network policy: " + error);
    }
    // Cluster DNS: this node answers on the kube-dns Service's address itself.
    dns = std::make_unique<network::NodeDns>(node_client.get(), agent.DnsOptionsFor(data_dir));
    dns->Start();
    if (flannel_backend != "none") {
      overlay = std::make_unique<network::OverlayController>(
          node_client.get(), agent.OverlayOptionsFor(data_dir, ao.rest.advertise_address, flannel_backend));
      overlay->Start();
    }
  }
  // The scheduler, as system:kube-scheduler over the in-process
  // transport, with informers of its own, while it holds its Lease.
  client::Config scheduler_config = client::InProcessConfig(
      api.InProcessDialer("system:kube-scheduler", {}));
  scheduler_config.user_agent = "kube-scheduler/" + ShortVersion();
  client::Client scheduler_client(scheduler_config);
  scheduler::SchedulerOptions scheduler_options;
  scheduler_options.log = [](bool error, const std::string& m) {
    Log(error ? Level::kError : Level::kInfo, "scheduler", m);
  };
  std::unique_ptr<client::SharedInformerFactory> scheduler_informers;
  std::unique_ptr<scheduler::Scheduler> pod_scheduler;
  client::LeaderElectionConfig sle;
  sle.name = "kube-scheduler";
  sle.identity = leader_identity;
  sle.log = election_log;
  sle.on_started_leading = [&] {
    scheduler_informers = std::make_unique<client::SharedInformerFactory>(
        &scheduler_client, [](const std::string& m) { Log(Level::kWarn, "scheduler", m); });
    pod_scheduler = std::make_unique<scheduler::Scheduler>(&scheduler_client, scheduler_informers.get(),
                                                           scheduler_options);
    pod_scheduler->Start();
  };
  sle.on_stopped_leading = [&] {
    scheduler_informers->Stop();  // first: informers cannot drop the scheduler's handlers
    pod_scheduler->Stop();
    pod_scheduler.reset();
    scheduler_informers.reset();
  };
  client::LeaderElector scheduler_election(&scheduler_client, sle);
  scheduler_election.Start();

  Log(Level::kInfo, "server", "ready");

  int sig = 0;
  sigwait(&stop_signals, &sig);
  Log(Level::kInfo, "server", std::string("received ") + strsignal(sig) + ", shutting down");
  if (ingress) ingress->Stop();
  if (dns) dns->Stop();
  if (network_policy) network_policy->Stop();
  if (service_proxy) service_proxy->Stop();
  if (overlay) overlay->Stop();
  if (tunnel) tunnel->Stop();
  if (pods) pods->Stop();
  if (node) node->Stop();
  scheduler_election.Stop();
  if (controller_election) controller_election->Stop();
  deployer.Stop();
  api.Stop();
  state->Close();
  return 0;
}

}  // namespace kubit::cmd
