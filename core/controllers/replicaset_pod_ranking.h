// Which pods a ReplicaSet deletes first when it scales down, as upstream's
// ActivePodsWithRanks: the pods that matter least to the service go first.
// In order of precedence:
//   1. not yet on a node before on a node;
//   2. Pending before Unknown before Running;
//   3. not ready before ready;
//   4. lower controller.kubernetes.io/pod-deletion-cost before higher;
//   5. doubled up before alone (rank: pods of the same workload on the
//      same node, higher first);
//   6. ready for a shorter time before longer;
//   7. more container restarts before fewer;
//   8. newer before older.
// Times in 6 and 8 compare by powers of two of their age at `now_unix`,
// ties by uid (upstream's LogarithmicScaleDown).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/client/informer.h"

namespace kubit::controllers {

// `pods` sorted with the first to delete first. `related` are the active
// pods of the whole workload (the ReplicaSet's siblings under one
// Deployment included): a pod's rank is how many of them share its node.
std::vector<client::ObjectPtr> RankPodsForDeletion(std::vector<client::ObjectPtr> pods,
                                                   const std::vector<client::ObjectPtr>& related, int64_t now_unix);

}  // namespace kubit::controllers
