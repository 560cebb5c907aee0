#include "core/network/dns_node.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/network/dns_cluster_records.h"
#include "net/dns_node_address.h"
#include "net/dns_resolv_conf.h"
#include "net/pod_network.h"

namespace kubit::network {

using client::Json;
using client::ObjectPtr;

namespace {

const client::Resource kServices{"", "v1", "services"};
const client::Resource kEndpointSlices{"discovery.k8s.io", "v1", "endpointslices"};
const client::Resource kNamespaces{"", "v1", "namespaces"};
const char* kServiceNameIndex = "service-name";

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s.empty() ? "none" : s;
}

}  // namespace

NodeDns::NodeDns(client::Client* client, NodeDnsOptions options)
    : opts_(std::move(options)),
      bridge_(net::PodBridgeName(opts_.data_dir)),
      informers_(client, [this](const std::string& m) { Log(true, "dns: informer: " + m); }),
      services_(informers_.For(kServices)),
      slices_(informers_.For(kEndpointSlices)),
      namespaces_(informers_.For(kNamespaces)),
      server_([this] {
        net::DnsServerOptions o;
        o.log = [this](const std::string& m) { Log(false, m); };
        return o;
      }()) {
  slices_->AddIndex(kServiceNameIndex, [](const Json& s) -> std::vector<std::string> {
    const Json& m = s["metadata"];
    if (!m.contains("labels") || !m["labels"].is_object()) return {};
    std::string svc = m["labels"].value("kubernetes.io/service-name", "");
    if (svc.empty()) return {};
    return {m.value("namespace", "") + "/" + svc};
  });
  client::EventHandlers h;
  h.on_add = [this](const ObjectPtr&) { Changed(); };
  h.on_update = [this](const ObjectPtr&, const ObjectPtr&) { Changed(); };
  h.on_delete = [this](const ObjectPtr&, bool) { Changed(); };
  for (client::Informer* i : {services_, slices_, namespaces_}) i->AddHandler(h);
}

NodeDns::~NodeDns() { Stop(); }

void NodeDns::Log(bool error, const std::string& message) {
  if (opts_.log) opts_.log(error, message);
}

void NodeDns::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_) return;
    started_ = true;
  }
  std::string error;
  if (!server_.Start(&error)) Log(true, "dns: " + error);
  informers_.Start();
  thread_ = std::thread([this] { Run(); });
}

void NodeDns::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  informers_.Stop();
  server_.Stop();
}

void NodeDns::Changed() {
  std::lock_guard<std::mutex> lock(mu_);
  dirty_ = true;
  cv_.notify_all();
}

std::vector<std::string> NodeDns::ServiceIps() const {
  ObjectPtr svc = services_->Get("kube-system", "kube-dns");
  if (!svc) return {};
  const Json& meta = (*svc)["metadata"];
  if (!meta.contains("annotations") || !meta["annotations"].is_object() ||
      meta["annotations"].value(kNodeLocalAnnotation, "") != "true")
    return {};
  std::vector<std::string> ips;
  const Json& spec = (*svc)["spec"];
  if (spec.contains("clusterIPs") && spec["clusterIPs"].is_array()) {
    for (const Json& ip : spec["clusterIPs"]) {
      in_addr v4;
      // IPv4 only: the bridge carries IPv4 (pods get no IPv6 yet).
      if (ip.is_string() && inet_pton(AF_INET, ip.get<std::string>().c_str(), &v4) == 1)
        ips.push_back(ip.get<std::string>());
    }
  }
  return ips;
}

void NodeDns::Run() {
  // The caches first: a table from half a list would answer NXDOMAIN.
  while (!informers_.WaitForSync(std::chrono::milliseconds(500))) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
  }
  std::vector<std::string> ips;
  for (;;) {
    bool changed;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, opts_.recheck, [&] { return dirty_ || stop_; });
      if (stop_) return;
      if (dirty_) {
        // Gathers the burst a single change brings (a rollout moves many slices).
        cv_.wait_for(lock, opts_.debounce, [&] { return stop_; });
        if (stop_) return;
      }
      changed = dirty_;
      dirty_ = false;
    }
    std::vector<std::string> now = changed ? ServiceIps() : ips;
    unsigned index = if_nametoindex(bridge_.c_str());
    bool force = index != bridge_index_;
    if (changed || force || now != ips) SyncServing(now, force);
    if (changed && !now.empty()) SyncRecords(now);
    SyncUpstreams(now, now != ips);
    ips = now;
  }
}

void NodeDns::SyncServing(const std::vector<std::string>& ips, bool force) {
  std::string error;
  bool found = false;
  if (!net::SyncDnsAddresses(bridge_, ips, &found, &error)) {
    if (error != last_error_) Log(true, "dns: " + error);
    last_error_ = error;
    return;  // tried again at the next recheck (the bridge index stays unknown)
  }
  std::vector<net::DnsListenAddress> listen;
  for (const auto& ip : ips) listen.push_back({ip, opts_.port, "lo"});
  unsigned index = found ? if_nametoindex(bridge_.c_str()) : 0;
  if (force && bridge_index_ != 0) server_.SetListeners(listen, &error);  // the old bridge's sockets go
  for (const auto& ip : ips)
    if (index) listen.push_back({ip, opts_.port, bridge_});
  // One address that cannot be had (another kubit on this machine took
  // the same one on lo first) leaves the others serving; it is tried again
  // at the next change.
  if (!server_.SetListeners(listen, &error)) {
    if (error != last_error_) Log(true, "dns: " + error);
    last_error_ = error;
  } else {
    last_error_.clear();
  }
  bridge_index_ = index;
  if (ips != serving_) {
    if (ips.empty())
      Log(false, "dns: no node-local Service kube-system/kube-dns; the cluster DNS is off on this node");
    else if (!index)
      Log(false, "dns: serving " + Join(ips) + " to this node; to its pods once the pod network is up");
    serving_ = ips;
  }
  if (force && index && !ips.empty()) Log(false, "dns: serving " + Join(ips) + " to the pods on " + bridge_);
}

void NodeDns::SyncRecords(const std::vector<std::string>& ips) {
  ClusterDnsObjects objs;
  objs.domain = opts_.cluster_domain;
  objs.dns_ips = ips;
  objs.services = services_->List();
  objs.namespaces = namespaces_->List();
  objs.endpoint_slices = [this](const std::string& ns, const std::string& svc) {
    return slices_->ByIndex(kServiceNameIndex, ns + "/" + svc);
  };
  objs.serial = ++serial_;
  server_.SetRecords(BuildClusterDnsTable(objs));
}

void NodeDns::SyncUpstreams(const std::vector<std::string>& ips, bool force) {
  if (resolv_path_.empty()) resolv_path_ = net::NodeResolvConf(opts_.resolv_conf);
  const std::string& path = resolv_path_;
  struct stat st;
  std::string stamp = stat(path.c_str(), &st) != 0 ? "" :
      std::to_string(st.st_ino) + "/" + std::to_string(st.st_size) + "/" + std::to_string(st.st_mtim.tv_sec) + "." +
      std::to_string(st.st_mtim.tv_nsec);
  if (!force && stamp == resolv_stamp_) return;
  resolv_stamp_ = stamp;
  std::string text = ReadText(path);
  if (!force && text == resolv_text_) return;
  resolv_text_ = text;
  std::vector<std::string> upstreams;
  for (const auto& ns : net::ResolvConfNameservers(text))
    // Our own address would send queries round in a loop.
    if (std::find(ips.begin(), ips.end(), ns) == ips.end()) upstreams.push_back(ns);
  std::string error;
  server_.SetUpstreams(upstreams, &error);
  if (!error.empty()) Log(true, "dns: " + path + ": " + error);
  Log(false, "dns: forwarding other names to " + Join(upstreams) + " (from " + path + ")");
}

}  // namespace kubit::network
