// Why a pod fits nowhere, in upstream's words (FitError.Error in
// pkg/scheduler/framework/types.go): "0/3 nodes are available: 1
// Insufficient cpu, 2 node(s) had untolerated taint {k: v}. preemption:
// 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
// Each node's reasons are counted, "<count> <reason>" strings sorted as
// strings, joined by ", ".
#pragma once

#include <map>
#include <string>

#include "core/scheduler/framework.h"

namespace kubit::scheduler {

struct Diagnosis {
  std::map<std::string, Status> node_status;  // the nodes that were tried and failed
  // The reason of every node not in node_status (preemption: the nodes it
  // did not try); empty: they are not counted.
  std::string absent_reason;
  std::string post_filter_message;  // "preemption: ...", ending in "."
};

std::string FitErrorMessage(size_t num_all_nodes, const Diagnosis& d);

}  // namespace kubit::scheduler
