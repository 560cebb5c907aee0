#include "core/scheduler/fit_error.h"

#include <algorithm>
#include <vector>

namespace kubit::scheduler {

std::string FitErrorMessage(size_t num_all_nodes, const Diagnosis& d) {
  std::string msg = "0/" + std::to_string(num_all_nodes) + " nodes are available:";
  std::map<std::string, size_t> counts;
  for (const auto& [node, status] : d.node_status)
    for (const auto& r : status.reasons) counts[r]++;
  if (!d.absent_reason.empty() && d.node_status.size() < num_all_nodes)
    counts[d.absent_reason] += num_all_nodes - d.node_status.size();
  std::vector<std::string> parts;
  for (const auto& [reason, n] : counts) parts.push_back(std::to_string(n) + " " + reason);
  std::sort(parts.begin(), parts.end());
  if (!parts.empty()) {
    msg += " ";
    for (size_t i = 0; i < parts.size(); i++) msg += (i ? ", " : "") + parts[i];
    msg += ".";
  }
  // Post-filter messages bring their own full stop.
  if (!d.post_filter_message.empty()) msg += " " + d.post_filter_message;
  return msg;
}

}  // namespace kubit::scheduler
