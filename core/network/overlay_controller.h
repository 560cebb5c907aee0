// OverlayController: a node's part of the pod network between boards, as
// flannel with the Kubernetes subnet manager does it, with its vxlan or
// host-gw backend. Once this node has its podCIDR, it opens the backend
// (the node's vxlan device, or its routes), publishes the backend and the
// node's IP (and the vxlan device's MAC) in flannel's annotations on its
// own Node (flannel.alpha.coreos.com/backend-type, backend-data,
// public-ip), and keeps the routes or tunnels to every other node that
// published the same backend. Node changes are gathered for a moment and
// applied together; the kernel's state is checked again every resync.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/client/client.h"
#include "core/client/informer.h"
#include "net/node_routes.h"

namespace kubit::network {

struct OverlayOptions {
  std::string node_name;
  std::string node_ip;  // where the other nodes send this node's tunnel traffic
  std::string data_dir;
  std::string backend = "vxlan";  // or "host-gw"
  std::chrono::milliseconds debounce{200};
  std::chrono::milliseconds resync{300000};
  std::function<void(bool error, const std::string& message)> log;
};

// The annotations flannel publishes on each Node.
inline constexpr const char* kBackendDataAnnotation = "flannel.alpha.coreos.com/backend-data";
inline constexpr const char* kBackendTypeAnnotation = "flannel.alpha.coreos.com/backend-type";
inline constexpr const char* kPublicIpAnnotation = "flannel.alpha.coreos.com/public-ip";

// The other nodes a node keeps routes or tunnels to: those with a podCIDR
// that published the same backend (and, for vxlan, their device's MAC).
std::vector<net::PeerNode> OverlayPeers(const std::vector<client::ObjectPtr>& nodes, const std::string& self,
                                        const std::string& backend);

class OverlayController {
 public:
  // `client` must outlive the controller.
  OverlayController(client::Client* client, OverlayOptions options);
  ~OverlayController();  // stops
  OverlayController(const OverlayController&) = delete;
  OverlayController& operator=(const OverlayController&) = delete;

  void Start();
  void Stop();

 private:
  void Run();
  // Opens the device and publishes it once this node has its podCIDR;
  // false while it cannot yet.
  bool Ready();
  void Log(bool error, const std::string& message);

  client::Client* client_;
  OverlayOptions opts_;
  client::Informer nodes_;
  std::unique_ptr<net::NodeRoutes> routes_;  // the sync thread's
  std::string last_error_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool dirty_ = true, stop_ = false;
  std::thread thread_;
};

}  // namespace kubit::network
