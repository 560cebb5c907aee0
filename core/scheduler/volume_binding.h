// Upstream's VolumeBinding plugin, in its simplest correct form for
// kubit's volumes (hostPath and local, provisioned on a node): PreFilter
// reads the pod's claims; Filter keeps the nodes every bound volume's node
// affinity allows; PreBind names the chosen node on the claims of a
// WaitForFirstConsumer class that are still unbound
// (volume.kubernetes.io/selected-node, for the provisioner) and waits
// until they are bound before the pod is bound, so the kubelet starts it
// with its volumes in place. Delayed claims of a class with a provisioner
// are taken to be provisionable on any node (local-path's are); those of a
// class without one (kubernetes.io/no-provisioner) need a free matching
// volume the node reaches.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/client/informer.h"
#include "core/scheduler/framework.h"
#include "core/scheduler/volume_binding_state.h"

namespace kubit::scheduler {

inline constexpr const char* kReasonVolumeNodeConflict = "node(s) had volume node affinity conflict";
inline constexpr const char* kReasonVolumeMissing =
    "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";
inline constexpr const char* kReasonUnboundImmediate = "pod has unbound immediate PersistentVolumeClaims";
inline constexpr const char* kReasonBindConflict = "node(s) didn't find available persistent volumes to bind";

Status FilterVolumeBinding(const VolumeState& state, const NodeInfo& node);

class VolumeBinding {
 public:
  // Makes its informers (claims, volumes, storage classes) through the
  // factory; `changed` is called when one of them changes in a way that
  // may let a waiting pod fit.
  VolumeBinding(client::Client* client, client::SharedInformerFactory* informers, std::function<void()> changed);

  std::vector<client::Informer*> informers() const { return {claims_, volumes_, classes_}; }
  VolumeState PreFilter(const client::Json& pod) const;
  // False with *error when a claim could not be annotated or did not get
  // bound within the bind timeout (or `stopping` said so).
  bool PreBind(const client::Json& pod, const std::string& node, const std::function<bool()>& stopping,
               std::string* error);

 private:
  client::Client* client_;
  client::Informer* claims_;
  client::Informer* volumes_;
  client::Informer* classes_;
};

}  // namespace kubit::scheduler
