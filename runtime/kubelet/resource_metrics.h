// ResourceMetrics: the kubelet's /metrics/resource, the Prometheus text that
// metrics-server scrapes (kubectl top, HorizontalPodAutoscalers). Usage is
// read at the moment of the request, as the kubelet's collector does:
//
//   node_cpu_usage_seconds_total         /proc/stat: all CPUs' busy time
//   node_memory_working_set_bytes        /proc/meminfo: used minus inactive file pages
//   container_cpu_usage_seconds_total    the container's cgroup (cpuacct / cpu.stat)
//   container_memory_working_set_bytes   its memory usage minus inactive_file, as cAdvisor
//   container_start_time_seconds
//   pod_cpu_usage_seconds_total          the sums of the pod's running containers
//   pod_memory_working_set_bytes
//   resource_scrape_error                1 if a container could not be read
//
// Each sample carries its own timestamp (milliseconds), so that rates are
// computed over the time between reads, not between scrapes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/container/runtime.h"

namespace kubit::kubelet {

struct ContainerUsage {
  std::string ns, pod, container;
  double cpu_seconds = 0;          // cumulative
  uint64_t memory_working_set = 0;  // bytes
  double start_time_seconds = 0;    // unix time
  int64_t timestamp_ms = 0;
};

struct NodeUsage {
  bool present = false;  // /proc could be read
  double cpu_seconds = 0;
  uint64_t memory_working_set = 0;
  int64_t timestamp_ms = 0;
};

struct ResourceUsage {
  NodeUsage node;
  std::vector<ContainerUsage> containers;
  bool scrape_error = false;
};

// Busy CPU time of the first "cpu " line of /proc/stat (user, nice, system,
// irq, softirq, steal; not idle nor iowait) in seconds, at `ticks_per_second`.
bool ParseProcStatCpu(const std::string& proc_stat, long ticks_per_second, double* seconds);
// MemTotal - MemFree - Inactive(file) of /proc/meminfo, in bytes: the
// root cgroup's working set as cAdvisor computes it.
bool ParseMeminfoWorkingSet(const std::string& meminfo, uint64_t* bytes);

// Namespace and pod of a container from the kubelet's log path
// (<data-dir>/agent/logs/<ns>_<pod>_<uid>/<container>/<n>.log).
bool PodOfLogPath(const std::string& log_path, std::string* ns, std::string* pod);

// The node's usage and that of every running container the kubelet made.
ResourceUsage CollectResourceUsage(runtime::container::Runtime* runtime);

// The Prometheus text exposition of `usage`, with the kubelet's metric
// names, help texts and labels; pods summed from their containers.
std::string RenderResourceMetrics(const ResourceUsage& usage);

}  // namespace kubit::kubelet
