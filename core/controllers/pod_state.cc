#include "core/controllers/pod_state.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

namespace kubit::controllers {

using client::Json;

namespace {

const Json* ReadyCondition(const Json& pod) {
  auto status = pod.find("status");
  if (status == pod.end() || !status->is_object()) return nullptr;
  auto conds = status->find("conditions");
  if (conds == status->end() || !conds->is_array()) return nullptr;
  for (const Json& c : *conds)
    if (c.is_object() && c.value("type", "") == "Ready") return &c;
  return nullptr;
}

}  // namespace

bool IsPodActive(const Json& pod) {
  const std::string phase = pod.value("status", Json::object()).value("phase", "");
  if (phase == "Succeeded" || phase == "Failed") return false;
  const Json& meta = pod["metadata"];
  return !(meta.contains("deletionTimestamp") && !meta["deletionTimestamp"].is_null());
}

bool IsPodReady(const Json& pod) {
  const Json* c = ReadyCondition(pod);
  return c && c->value("status", "") == "True";
}

int64_t PodReadySince(const Json& pod) {
  const Json* c = ReadyCondition(pod);
  if (!c || c->value("status", "") != "True") return 0;
  return ParseTime(c->value("lastTransitionTime", ""));
}

bool IsPodAvailable(const Json& pod, int64_t min_ready_seconds, int64_t now_unix) {
  if (!IsPodReady(pod)) return false;
  if (min_ready_seconds <= 0) return true;
  int64_t since = PodReadySince(pod);
  return since > 0 && since + min_ready_seconds <= now_unix;
}

int64_t ParseTime(const std::string& s) {
  int y, mo, d, h, mi, sec, n = 0;
  if (sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6) return 0;
  size_t i = static_cast<size_t>(n);
  if (i < s.size() && s[i] == '.')
    for (i++; i < s.size() && isdigit(static_cast<unsigned char>(s[i])); i++) {
    }
  int64_t offset = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (sscanf(s.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2) return 0;
    offset = (s[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  } else if (i >= s.size() || (s[i] != 'Z' && s[i] != 'z')) {
    return 0;
  }
  struct tm tm = {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  return static_cast<int64_t>(timegm(&tm)) - offset;
}

int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace kubit::controllers
