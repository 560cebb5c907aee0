#include "core/controllers/node_ipam_controller.h"

#include <vector>

#include <nlohmann/json.hpp>

namespace kubit::controllers {

using client::Json;
using client::ObjectPtr;

namespace {

const client::Resource kNodes{"", "v1", "nodes"};

// The node's range, when it has a valid IPv4 one.
bool NodeRange(const Json& node, net::Ipv4Prefix* out) {
  const Json& spec = node.value("spec", Json::object());
  if (!spec.is_object() || !spec.contains("podCIDR") || !spec["podCIDR"].is_string()) return false;
  std::string error;
  return net::ParseIpv4Prefix(spec["podCIDR"].get<std::string>(), out, &error);
}

}  // namespace

NodeIpamController::NodeIpamController(client::Client* client, client::SharedInformerFactory* informers,
                                       net::Ipv4Prefix cluster_cidr, int node_mask_size, Logger log)
    : client_(client),
      nodes_(informers->For(kNodes)),
      cluster_(cluster_cidr),
      mask_size_(node_mask_size),
      log_(log),
      loop_("node-ipam-controller", [this](const std::string& name) { return Sync(name); }, log) {
  client::EventHandlers events;
  events.on_add = [this](const ObjectPtr& o) { loop_.queue().Add(client::ObjectKey(*o)); };
  events.on_update = [this](const ObjectPtr&, const ObjectPtr& o) { loop_.queue().Add(client::ObjectKey(*o)); };
  events.on_delete = [this](const ObjectPtr& o, bool) {
    std::lock_guard<std::mutex> lock(mu_);
    given_.erase(client::ObjectKey(*o));
  };
  nodes_->AddHandler(events);
}

void NodeIpamController::Start(int workers) { loop_.Start(workers); }

void NodeIpamController::Stop() { loop_.Stop(); }

client::Status NodeIpamController::Sync(const std::string& name) {
  ObjectPtr node = nodes_->Get(name);
  if (!node) return client::Status();
  net::Ipv4Prefix have;
  std::lock_guard<std::mutex> lock(mu_);
  if (NodeRange(*node, &have)) {
    given_.erase(name);  // the cache has caught up
    return client::Status();
  }
  // Ranges of any size count (one set by hand may be wider or narrower).
  std::vector<net::Ipv4Prefix> taken;
  for (const ObjectPtr& other : nodes_->List()) {
    net::Ipv4Prefix r;
    if (NodeRange(*other, &r)) taken.push_back(r);
  }
  for (const auto& [n, a] : given_)
    if (n != name) taken.push_back({a, mask_size_});
  auto is_taken = [&](const net::Ipv4Prefix& c) {
    for (const auto& t : taken)
      if (t.Covers(c) || c.Covers(t)) return true;
    return false;
  };
  uint32_t addr = 0;
  auto it = given_.find(name);
  if (it != given_.end()) {
    addr = it->second;  // given before, and the write failed or has not shown yet
  } else {
    uint64_t count = uint64_t(1) << (mask_size_ - cluster_.len);
    uint64_t step = uint64_t(1) << (32 - mask_size_);
    bool found = false;
    for (uint64_t i = 0; i < count && !found; ++i) {
      uint64_t index = (next_ + i) % count;
      uint32_t candidate = cluster_.addr + static_cast<uint32_t>(index * step);
      if (is_taken({candidate, mask_size_})) continue;
      addr = candidate;
      next_ = index + 1;
      found = true;
    }
    if (!found)
      return client::Status::Api(
          500, "InternalError", "node-ipam-controller: no free /" + std::to_string(mask_size_) + " left in " + cluster_.String() +
          " for node " + name);
    given_[name] = addr;
  }
  std::string cidr = net::Ipv4Prefix{addr, mask_size_}.String();
  // The resourceVersion makes the patch fail if the node changed since
  // the cache saw it (a range set by someone else meanwhile).
  Json patch = {{"metadata", {{"resourceVersion", (*node)["metadata"].value("resourceVersion", "")}}},
                {"spec", {{"podCIDR", cidr}, {"podCIDRs", {cidr}}}}};
  client::Status s = client_->Patch(kNodes, "", name, client::PatchType::kMerge, patch.dump());
  if (s.IsNotFound()) {
    given_.erase(name);
    return client::Status();
  }
  if (!s.ok()) return s;
  if (log_) log_(LogLevel::kInfo, "node-ipam-controller: node " + name + " gets podCIDR " + cidr);
  return client::Status();
}

}  // namespace kubit::controllers
