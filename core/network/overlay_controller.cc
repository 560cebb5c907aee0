#include "core/network/overlay_controller.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "net/host_gw_routes.h"
#include "net/vxlan_overlay.h"

namespace kubit::network {

namespace {

const client::Resource kNodes{"", "v1", "nodes"};
constexpr uint32_t kVni = 1;

std::string InternalIp(const client::Json& node) {
  if (!node.contains("status") || !node["status"].contains("addresses")) return "";
  for (const auto& a : node["status"]["addresses"]) {
    if (a.value("type", "") == "InternalIP") return a.value("address", "");
  }
  return "";
}

}  // namespace

std::vector<net::PeerNode> OverlayPeers(const std::vector<client::ObjectPtr>& nodes, const std::string& self,
                                        const std::string& backend) {
  std::vector<net::PeerNode> peers;
  for (const auto& n : nodes) {
    const client::Json& node = *n;
    const client::Json& meta = node["metadata"];
    if (meta.value("name", "") == self) continue;
    std::string cidr = node.contains("spec") ? node["spec"].value("podCIDR", "") : "";
    client::Json annotations = meta.value("annotations", client::Json::object());
    if (cidr.empty() || annotations.value(kBackendTypeAnnotation, "") != backend) continue;
    std::string mac;
    if (backend == "vxlan") {
      client::Json data = client::Json::parse(annotations.value(kBackendDataAnnotation, ""), nullptr, false);
      if (!data.is_object() || !data["VtepMAC"].is_string()) continue;
      mac = data["VtepMAC"].get<std::string>();
    }
    std::string ip = annotations.value(kPublicIpAnnotation, "");
    if (ip.empty()) ip = InternalIp(node);
    peers.push_back({ip, mac, cidr});
  }
  return peers;
}

OverlayController::OverlayController(client::Client* client, OverlayOptions options)
    : client_(client), opts_(std::move(options)), nodes_(client, kNodes) {
  client::EventHandlers h;
  auto changed = [this] {
    std::lock_guard<std::mutex> lock(mu_);
    dirty_ = true;
    cv_.notify_all();
  };
  h.on_add = [changed](const client::ObjectPtr&) { changed(); };
  h.on_update = [changed](const client::ObjectPtr& a, const client::ObjectPtr& b) {
    // Status heartbeats change nothing the tunnels depend on.
    if ((*a)["metadata"].value("annotations", client::Json::object()) !=
            (*b)["metadata"].value("annotations", client::Json::object()) ||
        (*a).value("spec", client::Json::object()) != (*b).value("spec", client::Json::object()) ||
        InternalIp(*a) != InternalIp(*b))
      changed();
  };
  h.on_delete = [changed](const client::ObjectPtr&, bool) { changed(); };
  nodes_.AddHandler(h);
}

OverlayController::~OverlayController() { Stop(); }

void OverlayController::Start() {
  nodes_.Start();
  thread_ = std::thread([this] { Run(); });
}

void OverlayController::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  nodes_.Stop();
}

void OverlayController::Log(bool error, const std::string& message) {
  if (opts_.log) opts_.log(error, message);
}

bool OverlayController::Ready() {
  if (routes_) return true;
  client::ObjectPtr self = nodes_.Get("", opts_.node_name);
  std::string cidr = self && (*self).contains("spec") ? (*self)["spec"].value("podCIDR", "") : "";
  if (cidr.empty()) return false;
  std::string error, what;
  client::Json data = nullptr;  // host-gw publishes "null", as flannel
  if (opts_.backend == "vxlan") {
    net::VxlanOptions vo;
    vo.data_dir = opts_.data_dir;
    vo.local_ip = opts_.node_ip;
    vo.pod_cidr = cidr;
    vo.vni = kVni;
    std::unique_ptr<net::VxlanOverlay> overlay;
    if (net::VxlanOverlay::Open(vo, &overlay, &error)) {
      data = {{"VNI", kVni}, {"VtepMAC", overlay->vtep_mac()}};
      what = "vxlan " + net::VxlanDeviceName(opts_.data_dir) + " (" + overlay->vtep_mac() + ")";
      routes_ = std::move(overlay);
    }
  } else {
    std::unique_ptr<net::HostGwRoutes> routes;
    if (net::HostGwRoutes::Open(opts_.data_dir, &routes, &error)) {
      what = "host-gw routes";
      routes_ = std::move(routes);
    }
  }
  if (!routes_) {
    if (error != last_error_) Log(true, "pod network between nodes: " + error);
    last_error_ = error;
    return false;
  }
  client::Json patch = {{"metadata",
                         {{"annotations",
                           {{kBackendDataAnnotation, data.dump()},
                            {kBackendTypeAnnotation, opts_.backend},
                            {kPublicIpAnnotation, opts_.node_ip},
                            {"flannel.alpha.coreos.com/kube-subnet-manager", "true"}}}}}};
  client::Status s = client_->Patch(kNodes, "", opts_.node_name, client::PatchType::kMerge, patch.dump());
  if (!s.ok()) {
    Log(true, "pod network between nodes: publishing this node's end: " + s.message());
    routes_.reset();
    return false;
  }
  Log(false, "pod network between nodes: " + what + " from " + opts_.node_ip + " for " + cidr);
  return true;
}

void OverlayController::Run() {
  auto next_resync = std::chrono::steady_clock::now() + opts_.resync;
  std::chrono::milliseconds retry(500);
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_until(lock, next_resync, [this] { return stop_ || dirty_; });
      if (stop_) return;
      // Let a burst of node changes settle into one sync.
      cv_.wait_for(lock, opts_.debounce, [this] { return stop_; });
      if (stop_) return;
      dirty_ = false;
    }
    next_resync = std::chrono::steady_clock::now() + opts_.resync;
    if (!nodes_.HasSynced() || !Ready()) {
      // Not yet (no podCIDR, or the device could not be made): again
      // soon, then less and less often.
      retry = std::min(retry * 2, std::chrono::milliseconds(30000));
      next_resync = std::chrono::steady_clock::now() + retry;
      continue;
    }
    retry = std::chrono::milliseconds(500);
    std::string error;
    if (!routes_->SetPeers(OverlayPeers(nodes_.List(), opts_.node_name, opts_.backend), &error)) {
      if (error != last_error_) Log(true, "pod network between nodes: " + error);
      last_error_ = error;
      next_resync = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    } else {
      last_error_.clear();
    }
  }
}

}  // namespace kubit::network
