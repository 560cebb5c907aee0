// NodeDns: a node's part of the cluster DNS. While the Service
// kube-system/kube-dns exists with the annotation kubit.io/node-local:
// "true" (the server makes it unless --disable coredns), the node answers
// on that Service's IPv4 address itself: the address is put on the data
// dir's pod bridge (net/dns_node_address.h) and a net::DnsServer listens
// on it tied to the bridge, for the node's pods, and tied to the loopback
// device, for the node itself and hostNetwork pods. The bridge appears
// once the pod network opens; the node looks for it (a name lookup, no
// netlink) every `recheck` and serves the pods on it as it comes (and
// again if it is made anew).
//
// Records come from Services, EndpointSlices and Namespaces
// (dns_cluster_records.h), rebuilt a moment after they change; other
// names go to the resolvers of the node's resolv.conf (--resolv-conf, or
// as net/dns_resolv_conf.h chooses at start), read again when the file
// changes.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/client/client.h"
#include "core/client/informer.h"
#include "net/dns_server.h"

namespace kubit::network {

inline constexpr const char* kNodeLocalAnnotation = "kubit.io/node-local";

struct NodeDnsOptions {
  std::string data_dir;  // names the pod bridge
  std::string cluster_domain = "cluster.local";
  std::string resolv_conf;  // empty: the node's, chosen as net/dns_resolv_conf.h says
  int port = 53;
  std::chrono::milliseconds debounce{100};
  std::chrono::milliseconds recheck{500};
  std::function<void(bool error, const std::string& message)> log;
};

class NodeDns {
 public:
  // `client` must outlive this.
  NodeDns(client::Client* client, NodeDnsOptions options);
  ~NodeDns();  // stops
  NodeDns(const NodeDns&) = delete;
  NodeDns& operator=(const NodeDns&) = delete;

  void Start();
  void Stop();  // closes the listeners; the address stays on the bridge (killall removes it with the bridge)

 private:
  void Run();
  void Changed();
  // Listeners and address for the kube-dns Service's addresses; `force`
  // reopens the bridge's listeners (the bridge was made anew).
  void SyncServing(const std::vector<std::string>& ips, bool force);
  void SyncRecords(const std::vector<std::string>& ips);
  void SyncUpstreams(const std::vector<std::string>& ips, bool force);
  std::vector<std::string> ServiceIps() const;
  void Log(bool error, const std::string& message);

  NodeDnsOptions opts_;
  std::string bridge_;
  client::SharedInformerFactory informers_;
  client::Informer* services_;
  client::Informer* slices_;
  client::Informer* namespaces_;
  net::DnsServer server_;

  std::mutex mu_;  // dirty_, stop_, started_
  std::condition_variable cv_;
  bool dirty_ = true, stop_ = false, started_ = false;

  // The sync thread's own.
  std::vector<std::string> serving_;  // addresses listened on
  unsigned bridge_index_ = 0;         // the bridge listened on (0: none yet)
  std::string resolv_path_;     // chosen at start
  std::string resolv_stamp_;    // the file's inode, size and time when last read
  std::string resolv_text_;
  std::string last_error_;
  uint32_t serial_ = 0;
  std::thread thread_;
};

}  // namespace kubit::network
