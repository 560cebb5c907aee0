// PodInfo: what the scheduler needs of a pod, read once from its JSON when
// the pod enters the queue or the cache: requests, ports, tolerations, node
// and pod affinity, topology spread constraints, priority. Immutable and
// shared (an assumed pod and the snapshots holding it share one PodInfo).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/api/selectors.h"
#include "core/scheduler/resources.h"

namespace kubit::scheduler {

using ObjectPtr = std::shared_ptr<const Json>;

struct Toleration {
  std::string key;
  std::string op = "Equal";  // "Equal" or "Exists"
  std::string value;
  std::string effect;  // empty: every effect
};

struct Taint {
  std::string key;
  std::string value;
  std::string effect;  // NoSchedule, PreferNoSchedule, NoExecute
};

// A label selector that may be absent: an absent one matches nothing, as
// LabelSelectorAsSelector(nil) does upstream.
struct Selector {
  bool present = false;
  api::LabelSelector selector;
  bool Matches(const Json& labels) const { return present && selector.Matches(labels); }
};

// One node selector requirement (node affinity).
struct NodeSelectorRequirement {
  std::string key;
  std::string op;  // In, NotIn, Exists, DoesNotExist, Gt, Lt
  std::vector<std::string> values;
};

struct NodeSelectorTerm {
  std::vector<NodeSelectorRequirement> match_expressions;
  std::vector<NodeSelectorRequirement> match_fields;  // metadata.name only
};

struct PreferredNodeTerm {
  int32_t weight = 0;
  NodeSelectorTerm term;
};

// A pod affinity or anti-affinity term, namespaces resolved: the pod's own
// namespace unless the term names some or has a namespace selector.
struct AffinityTerm {
  std::set<std::string> namespaces;
  std::optional<api::LabelSelector> namespace_selector;
  Selector selector;
  std::string topology_key;
  int32_t weight = 0;  // preferred terms only
};

struct SpreadConstraint {
  int32_t max_skew = 1;
  std::string topology_key;
  bool hard = true;  // DoNotSchedule; false: ScheduleAnyway
  Selector selector;
  int32_t min_domains = 1;
  bool honor_node_affinity = true;  // nodeAffinityPolicy (default Honor)
  bool honor_node_taints = false;   // nodeTaintsPolicy (default Ignore)
};

struct HostPort {
  std::string ip = "0.0.0.0";
  std::string protocol = "TCP";
  int32_t port = 0;
};

struct PodInfo {
  ObjectPtr pod;
  std::string key;  // "namespace/name"
  std::string ns, name, uid;
  std::string node_name;
  std::string nominated_node_name;
  std::string scheduler_name;
  std::string creation_timestamp;  // RFC 3339: sorts as time
  std::string start_time;          // status.startTime, or the creation time
  Json labels = Json::object();
  int32_t priority = 0;
  bool preempt_never = false;
  bool terminating = false;  // metadata.deletionTimestamp is set

  Resources requests;
  Resources non_zero_requests;
  std::vector<HostPort> host_ports;
  std::vector<Toleration> tolerations;
  std::vector<std::string> images;  // of every init and app container, in order

  std::map<std::string, std::string> node_selector;
  std::optional<std::vector<NodeSelectorTerm>> required_node_affinity;
  std::vector<PreferredNodeTerm> preferred_node_affinity;

  std::vector<AffinityTerm> required_affinity;
  std::vector<AffinityTerm> required_anti_affinity;
  std::vector<AffinityTerm> preferred_affinity;
  std::vector<AffinityTerm> preferred_anti_affinity;

  std::vector<SpreadConstraint> spread_constraints;

  // The priority and preemption policy as resolved from the pod's
  // PriorityClass (spec.priority wins when the API server already set it).
  struct Priority {
    int32_t value = 0;
    bool preempt_never = false;
  };
};

// Reads a pod. `priority` is the resolved priority (see PodInfo::Priority).
std::shared_ptr<const PodInfo> NewPodInfo(ObjectPtr pod, PodInfo::Priority priority);

// Tolerations of the pod that match the taint (ToleratesTaint).
bool Tolerates(const std::vector<Toleration>& tolerations, const Taint& taint);

// The term's namespaces hold `ns` (whose labels are `ns_labels`).
bool TermMatchesNamespace(const AffinityTerm& term, const std::string& ns, const Json& ns_labels);

// The pod (namespace, labels) matches the term.
bool TermMatchesPod(const AffinityTerm& term, const PodInfo& pod, const Json& ns_labels);

}  // namespace kubit::scheduler
