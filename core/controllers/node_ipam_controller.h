// NodeIpamController: every Node gets a range of the cluster CIDR for its
// pods in spec.podCIDR and spec.podCIDRs (upstream's node-ipam-controller
// with the range allocator; k3s: --cluster-cidr 10.42.0.0/16, a /24 per
// node). A range is never given to two nodes: what is taken is read from
// every node in the cache plus the ranges given but not yet seen there.
// A deleted node's range is free again, and handed out again only after
// the rest (the search goes on from the last one given), so a node that
// is deleted and comes back soon does not meet its old pods' addresses on
// another board.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "core/client/client.h"
#include "core/client/informer.h"
#include "core/controllers/sync_loop.h"
#include "net/ipam_ipv4.h"

namespace kubit::controllers {

class NodeIpamController {
 public:
  // Registers its informer (nodes). `cluster_cidr` must be at least as
  // wide as a /`node_mask_size`.
  NodeIpamController(client::Client* client, client::SharedInformerFactory* informers,
                     net::Ipv4Prefix cluster_cidr, int node_mask_size, Logger log);
  void Start(int workers = 1);
  void Stop();
  // Gives node `name` a range when it has none.
  client::Status Sync(const std::string& name);

 private:
  client::Client* client_;
  client::Informer* nodes_;
  net::Ipv4Prefix cluster_;
  int mask_size_;
  Logger log_;
  std::mutex mu_;
  std::map<std::string, uint32_t> given_;  // node -> range given, until the cache shows it
  uint64_t next_ = 0;                      // index of the range to try first
  SyncLoop loop_;
};

}  // namespace kubit::controllers
