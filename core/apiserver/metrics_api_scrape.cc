#include "core/apiserver/metrics_api_scrape.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace kubit::apiserver {

namespace {

bool NameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
bool NameChar(char c) { return NameStart(c) || (c >= '0' && c <= '9'); }

void SkipBlanks(const std::string& s, size_t* i) {
  while (*i < s.size() && (s[*i] == ' ' || s[*i] == '\t')) ++*i;
}

// One sample line; false with *why.
bool ParseLine(const std::string& line, PromSample* out, std::string* why) {
  size_t i = 0;
  SkipBlanks(line, &i);
  if (i >= line.size() || !NameStart(line[i])) return *why = "a metric name", false;
  size_t start = i;
  while (i < line.size() && NameChar(line[i])) i++;
  out->name = line.substr(start, i - start);
  SkipBlanks(line, &i);
  if (i < line.size() && line[i] == '{') {
    i++;
    for (;;) {
      SkipBlanks(line, &i);
      if (i < line.size() && line[i] == '}') {
        i++;
        break;
      }
      if (i >= line.size() || !NameStart(line[i])) return *why = "a label name", false;
      start = i;
      while (i < line.size() && NameChar(line[i])) i++;
      std::string label = line.substr(start, i - start);
      SkipBlanks(line, &i);
      if (i >= line.size() || line[i] != '=') return *why = "= after " + label, false;
      i++;
      SkipBlanks(line, &i);
      if (i >= line.size() || line[i] != '"') return *why = "a quoted value of " + label, false;
      i++;
      std::string value;
      for (;; i++) {
        if (i >= line.size()) return *why = "the end of the value of " + label, false;
        char c = line[i];
        if (c == '"') break;
        if (c == '\\') {
          if (++i >= line.size()) return *why = "an escape in the value of " + label, false;
          c = line[i] == 'n' ? '\n' : line[i];
        }
        value += c;
      }
      i++;
      if (out->labels.count(label)) return *why = "label " + label + " once", false;
      out->labels[label] = value;
      SkipBlanks(line, &i);
      if (i < line.size() && line[i] == ',') i++;
      else if (i >= line.size() || line[i] != '}') return *why = ", or } after label " + label, false;
    }
  }
  SkipBlanks(line, &i);
  start = i;
  while (i < line.size() && line[i] != ' ' && line[i] != '\t') i++;
  std::string value = line.substr(start, i - start);
  if (value.empty()) return *why = "a value", false;
  char* end = nullptr;
  errno = 0;
  out->value = strtod(value.c_str(), &end);
  if (*end != '\0') return *why = "a number, not \"" + value + "\"", false;
  SkipBlanks(line, &i);
  if (i < line.size()) {
    std::string ts = line.substr(i);
    while (!ts.empty() && (ts.back() == ' ' || ts.back() == '\t')) ts.pop_back();
    errno = 0;
    long long t = strtoll(ts.c_str(), &end, 10);
    if (ts.empty() || *end != '\0' || errno != 0) return *why = "a timestamp in milliseconds, not \"" + ts + "\"", false;
    out->timestamp_ms = t;
  }
  return true;
}

uint64_t NonNegative(double v) { return std::isfinite(v) && v > 0 ? static_cast<uint64_t>(v) : 0; }

}  // namespace

bool ParsePrometheusText(const std::string& text, std::vector<PromSample>* out, std::string* error) {
  size_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    line_no++;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    PromSample s;
    std::string why;
    if (!ParseLine(line, &s, &why)) {
      *error = "line " + std::to_string(line_no) + ": want " + why + ": " + line;
      return false;
    }
    out->push_back(std::move(s));
  }
  return true;
}

bool DecodeResourceMetrics(const std::string& node, const std::string& text, int64_t scraped_ns,
                           MetricsBatch* batch, std::string* error) {
  std::vector<PromSample> samples;
  if (!ParsePrometheusText(text, &samples, error)) return false;
  MetricsPoint node_point;
  std::map<PodRef, std::map<std::string, MetricsPoint>> pods;
  for (const auto& s : samples) {
    const int64_t ts = s.timestamp_ms >= 0 ? s.timestamp_ms * 1000000 : scraped_ns;
    if (s.name == "node_cpu_usage_seconds_total") {
      node_point.cpu_ns = NonNegative(s.value * 1e9);
      node_point.timestamp_ns = ts;
      continue;
    }
    if (s.name == "node_memory_working_set_bytes") {
      node_point.memory = NonNegative(s.value);
      node_point.timestamp_ns = ts;
      continue;
    }
    const bool cpu = s.name == "container_cpu_usage_seconds_total";
    const bool memory = s.name == "container_memory_working_set_bytes";
    if (!cpu && !memory && s.name != "container_start_time_seconds") continue;
    auto ns = s.labels.find("namespace"), pod = s.labels.find("pod"), c = s.labels.find("container");
    if (ns == s.labels.end() || pod == s.labels.end() || c == s.labels.end()) continue;
    MetricsPoint& p = pods[{ns->second, pod->second}][c->second];
    if (cpu) p.cpu_ns = NonNegative(s.value * 1e9), p.timestamp_ns = ts;
    else if (memory) p.memory = NonNegative(s.value), p.timestamp_ns = ts;
    else p.start_ns = std::isfinite(s.value) ? static_cast<int64_t>(s.value * 1e9) : 0;
  }
  if (node_point.timestamp_ns != 0 && node_point.cpu_ns != 0 && node_point.memory != 0)
    batch->nodes[node] = node_point;
  for (auto& [ref, containers] : pods) {
    // A zero counter or working set is a read that failed: the pod waits
    // for a complete scrape rather than show a part of its usage.
    bool complete = std::all_of(containers.begin(), containers.end(),
                                [](const auto& c) { return c.second.cpu_ns != 0 && c.second.memory != 0; });
    if (complete) batch->pods[ref] = std::move(containers);
  }
  return true;
}

}  // namespace kubit::apiserver
