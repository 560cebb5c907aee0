#include "runtime/kubelet/resource_metrics.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "runtime/kubelet/pod_naming.h"

namespace kubit::kubelet {

namespace rc = runtime::container;

namespace {

bool ReadWhole(const char* path, std::string* out) {
  std::ifstream in(path);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  *out = s.str();
  return true;
}

// Shortest text that reads back as the same double, as Go's 'g' -1 format.
std::string Number(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

// A label value with Prometheus' escapes (backslash, quote, newline).
std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\', out += c;
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void Family(std::string* out, const char* name, const char* help, const char* type) {
  *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

bool ParseProcStatCpu(const std::string& proc_stat, long ticks_per_second, double* seconds) {
  if (proc_stat.rfind("cpu ", 0) != 0 || ticks_per_second <= 0) return false;
  std::istringstream line(proc_stat.substr(4, proc_stat.find('\n') - 4));
  // user nice system idle iowait irq softirq steal (guest time is in user already)
  uint64_t f[8] = {};
  for (auto& v : f)
    if (!(line >> v)) return false;
  uint64_t busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
  *seconds = static_cast<double>(busy) / static_cast<double>(ticks_per_second);
  return true;
}

bool ParseMeminfoWorkingSet(const std::string& meminfo, uint64_t* bytes) {
  std::map<std::string, uint64_t> kib;
  std::istringstream in(meminfo);
  std::string key;
  uint64_t value;
  for (std::string line; std::getline(in, line);) {
    std::istringstream l(line);
    if (l >> key >> value && !key.empty() && key.back() == ':') kib[key.substr(0, key.size() - 1)] = value;
  }
  if (!kib.count("MemTotal") || !kib.count("MemFree")) return false;
  uint64_t used = kib["MemTotal"] > kib["MemFree"] ? kib["MemTotal"] - kib["MemFree"] : 0;
  uint64_t inactive = kib.count("Inactive(file)") ? kib["Inactive(file)"] : 0;
  *bytes = (used > inactive ? used - inactive : 0) * 1024;
  return true;
}

bool PodOfLogPath(const std::string& log_path, std::string* ns, std::string* pod) {
  // .../logs/<ns>_<pod>_<uid>/<container>/<n>.log
  size_t file = log_path.rfind('/');
  size_t container = file == std::string::npos || file == 0 ? std::string::npos : log_path.rfind('/', file - 1);
  size_t dir = container == std::string::npos || container == 0 ? std::string::npos
                                                                 : log_path.rfind('/', container - 1);
  if (dir == std::string::npos) return false;
  std::string name = log_path.substr(dir + 1, container - dir - 1);
  size_t a = name.find('_'), b = a == std::string::npos ? a : name.find('_', a + 1);
  if (b == std::string::npos || a == 0 || b == a + 1) return false;
  *ns = name.substr(0, a);
  *pod = name.substr(a + 1, b - a - 1);
  return true;
}

ResourceUsage CollectResourceUsage(rc::Runtime* runtime) {
  ResourceUsage out;
  std::string stat, meminfo;
  if (ReadWhole("/proc/stat", &stat) && ReadWhole("/proc/meminfo", &meminfo) &&
      ParseProcStatCpu(stat, sysconf(_SC_CLK_TCK), &out.node.cpu_seconds) &&
      ParseMeminfoWorkingSet(meminfo, &out.node.memory_working_set)) {
    out.node.present = true;
    out.node.timestamp_ms = rc::NowNs() / 1000000;
  }
  std::vector<rc::ContainerInfo> all;
  std::string error;
  if (!runtime->List(&all, &error)) {
    out.scrape_error = true;
    return out;
  }
  for (const auto& c : all) {
    std::string uid, name;
    int attempt = 0;
    if (c.state.status != rc::ContainerStatus::kRunning || !ParseContainerId(c.id, &uid, &name, &attempt))
      continue;
    rc::ContainerSpec spec;
    rc::CgroupStats stats;
    ContainerUsage u;
    // A container that exited since the listing has nothing left to read.
    if (!runtime->LoadSpec(c.id, &spec, &error) || !PodOfLogPath(spec.log_path, &u.ns, &u.pod)) continue;
    if (!runtime->Stats(c.id, &stats, &error)) {
      rc::ContainerInfo now;
      if (runtime->Get(c.id, &now, &error) && now.state.status == rc::ContainerStatus::kRunning)
        out.scrape_error = true;
      continue;
    }
    u.container = name;
    u.cpu_seconds = static_cast<double>(stats.cpu_usage_ns) / 1e9;
    u.memory_working_set = stats.memory_working_set;
    u.start_time_seconds = static_cast<double>(c.state.started_at_ns) / 1e9;
    u.timestamp_ms = rc::NowNs() / 1000000;
    out.containers.push_back(std::move(u));
  }
  return out;
}

std::string RenderResourceMetrics(const ResourceUsage& usage) {
  std::string out;
  auto sample = [&out](const std::string& name, const std::string& labels, double v, int64_t ts) {
    out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + Number(v) + " " + std::to_string(ts) + "\n";
  };
  auto container_labels = [](const ContainerUsage& c) {
    return "container=\"" + Escape(c.container) + "\",namespace=\"" + Escape(c.ns) + "\",pod=\"" +
           Escape(c.pod) + "\"";
  };
  Family(&out, "container_cpu_usage_seconds_total",
         "[STABLE] Cumulative cpu time consumed by the container in core-seconds", "counter");
  for (const auto& c : usage.containers)
    sample("container_cpu_usage_seconds_total", container_labels(c), c.cpu_seconds, c.timestamp_ms);
  Family(&out, "container_memory_working_set_bytes", "[STABLE] Current working set of the container in bytes",
         "gauge");
  for (const auto& c : usage.containers)
    sample("container_memory_working_set_bytes", container_labels(c), static_cast<double>(c.memory_working_set),
           c.timestamp_ms);
  Family(&out, "container_start_time_seconds", "[STABLE] Start time of the container since unix epoch in seconds",
         "gauge");
  // Stamped with the start itself, as the kubelet's collector does.
  for (const auto& c : usage.containers)
    if (c.start_time_seconds > 0)
      sample("container_start_time_seconds", container_labels(c), c.start_time_seconds,
             static_cast<int64_t>(c.start_time_seconds * 1000));
  if (usage.node.present) {
    Family(&out, "node_cpu_usage_seconds_total", "[STABLE] Cumulative cpu time consumed by the node in core-seconds",
           "counter");
    sample("node_cpu_usage_seconds_total", "", usage.node.cpu_seconds, usage.node.timestamp_ms);
    Family(&out, "node_memory_working_set_bytes", "[STABLE] Current working set of the node in bytes", "gauge");
    sample("node_memory_working_set_bytes", "", static_cast<double>(usage.node.memory_working_set),
           usage.node.timestamp_ms);
  }
  // Pods: sums over their running containers, at the latest of their reads.
  struct Pod {
    double cpu = 0, memory = 0;
    int64_t ts = 0;
  };
  std::map<std::pair<std::string, std::string>, Pod> pods;
  for (const auto& c : usage.containers) {
    Pod& p = pods[{c.ns, c.pod}];
    p.cpu += c.cpu_seconds;
    p.memory += static_cast<double>(c.memory_working_set);
    p.ts = std::max(p.ts, c.timestamp_ms);
  }
  auto pod_labels = [](const std::pair<std::string, std::string>& key) {
    return "namespace=\"" + Escape(key.first) + "\",pod=\"" + Escape(key.second) + "\"";
  };
  Family(&out, "pod_cpu_usage_seconds_total", "[STABLE] Cumulative cpu time consumed by the pod in core-seconds",
         "counter");
  for (const auto& [key, p] : pods) sample("pod_cpu_usage_seconds_total", pod_labels(key), p.cpu, p.ts);
  Family(&out, "pod_memory_working_set_bytes", "[STABLE] Current working set of the pod in bytes", "gauge");
  for (const auto& [key, p] : pods) sample("pod_memory_working_set_bytes", pod_labels(key), p.memory, p.ts);
  // scrape_error's successor since 1.29 (the old name is hidden by 1.32).
  Family(&out, "resource_scrape_error", "[STABLE] 1 if there was an error while getting container metrics, 0 otherwise",
         "gauge");
  out += std::string("resource_scrape_error ") + (usage.scrape_error ? "1" : "0") + "\n";
  return out;
}

}  // namespace kubit::kubelet
