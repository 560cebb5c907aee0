// What the VolumeBinding plugin's PreFilter finds out about a pod's
// PersistentVolumeClaims (core/scheduler/volume_binding.h), kept in the
// CycleState for its filter.
#pragma once

#include <string>
#include <vector>

#include "core/scheduler/pod_info.h"

namespace kubit::scheduler {

struct VolumeState {
  // Why no node can take the pod (a claim missing or being deleted, an
  // unbound claim of an Immediate class); empty: none.
  std::string unresolvable;
  // A claim bound to a volume that does not exist.
  bool missing_volume = false;
  // Per bound volume, its required node affinity terms (ORed): the node
  // must match one term of each.
  std::vector<std::vector<NodeSelectorTerm>> volume_affinities;
  // Per delayed claim of a class without a provisioner, the affinity of
  // each free volume that could take it (an empty list: any node): the
  // node must reach one of them.
  std::vector<std::vector<std::vector<NodeSelectorTerm>>> static_candidates;
};

}  // namespace kubit::scheduler
