#include "core/controllers/job_controller_status.h"

#include <cstdio>

#include "core/controllers/json_fields.h"

namespace kubit::controllers {
namespace {

using fields::Array;
using fields::Field;
using fields::Str;

// The container (regular first, as upstream) that terminated with a
// non-zero code matching one onExitCodes requirement.
const Json* MatchExitCodes(const Json& status, const Json& req) {
  const std::string container = Str(req, "containerName");
  const std::string op = Str(req, "operator");
  for (const char* list : {"containerStatuses", "initContainerStatuses"}) {
    for (const Json& cs : Array(status, list)) {
      const Json& term = Field(Field(cs, "state"), "terminated");
      if (!term.is_object()) continue;
      int64_t code = Field(term, "exitCode").is_number() ? term["exitCode"].get<int64_t>() : 0;
      if (code == 0) continue;
      if (!container.empty() && Str(cs, "name") != container) continue;
      bool in = false;
      for (const Json& v : Array(req, "values"))
        if (v.is_number() && v.get<int64_t>() == code) in = true;
      if ((op == "In" && in) || (op == "NotIn" && !in)) return &cs;
    }
  }
  return nullptr;
}

}  // namespace

bool HasFinalizer(const Json& obj, const std::string& finalizer) {
  for (const Json& f : Array(Field(obj, "metadata"), "finalizers"))
    if (f.is_string() && f.get<std::string>() == finalizer) return true;
  return false;
}

const std::string& PodPhase(const Json& pod) {
  static const std::string kNone;
  const Json& p = Field(Field(pod, "status"), "phase");
  return p.is_string() ? p.get_ref<const std::string&>() : kNone;
}

const Json* FindCondition(const Json& status, const std::string& type) {
  for (const Json& c : Array(status, "conditions"))
    if (Str(c, "type") == type) return &c;
  return nullptr;
}

bool ConditionTrue(const Json& status, const std::string& type) {
  const Json* c = FindCondition(status, type);
  return c && Str(*c, "status") == "True";
}

bool SetCondition(Json* status, const std::string& type, const std::string& cond_status,
                  const std::string& reason, const std::string& message, const std::string& now) {
  Json& conds = (*status)["conditions"];
  if (!conds.is_array()) conds = Json::array();
  for (Json& c : conds) {
    if (Str(c, "type") != type) continue;
    if (Str(c, "status") == cond_status && Str(c, "reason") == reason && Str(c, "message") == message)
      return false;
    if (Str(c, "status") != cond_status) c["lastTransitionTime"] = now;
    c["status"] = cond_status;
    c["reason"] = reason;
    c["message"] = message;
    c["lastProbeTime"] = now;
    return true;
  }
  conds.push_back({{"type", type},
                   {"status", cond_status},
                   {"reason", reason},
                   {"message", message},
                   {"lastProbeTime", now},
                   {"lastTransitionTime", now}});
  return true;
}

FailureAction MatchPodFailurePolicy(const Json& policy, const Json& pod, std::string* message) {
  const Json& status = Field(pod, "status");
  const Json& meta = Field(pod, "metadata");
  const std::string pod_name = Str(meta, "namespace") + "/" + Str(meta, "name");
  int index = 0;
  for (const Json& rule : Array(policy, "rules")) {
    const std::string action = Str(rule, "action");
    bool matched = false;
    if (const Json& req = Field(rule, "onExitCodes"); req.is_object()) {
      if (const Json* cs = MatchExitCodes(status, req)) {
        matched = true;
        *message = "Container " + Str(*cs, "name") + " for pod " + pod_name + " failed with exit code " +
                   std::to_string(cs->at("state").at("terminated").at("exitCode").get<int64_t>()) +
                   " matching " + action + " rule at index " + std::to_string(index);
      }
    } else {
      for (const Json& pattern : Array(rule, "onPodConditions")) {
        for (const Json& c : Array(status, "conditions")) {
          if (Str(c, "type") != Str(pattern, "type")) continue;
          std::string want = Str(pattern, "status");
          if (Str(c, "status") != (want.empty() ? "True" : want)) continue;
          matched = true;
          *message = "Pod " + pod_name + " has condition " + Str(c, "type") + " matching " + action +
                     " rule at index " + std::to_string(index);
          break;
        }
        if (matched) break;
      }
    }
    if (matched) {
      if (action == "FailJob") return FailureAction::kFailJob;
      if (action == "FailIndex") return FailureAction::kFailIndex;
      if (action == "Ignore") return FailureAction::kIgnore;
      return FailureAction::kCount;
    }
    index++;
  }
  return FailureAction::kNoMatch;
}

int CompletionIndex(const Json& pod, int completions) {
  const Json& meta = Field(pod, "metadata");
  std::string v = Str(Field(meta, "annotations"), kJobCompletionIndex);
  if (v.empty()) v = Str(Field(meta, "labels"), kJobCompletionIndex);
  if (v.empty() || v.size() > 9) return -1;
  int idx = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return -1;
    idx = idx * 10 + (c - '0');
  }
  return idx < completions ? idx : -1;
}

std::string FormatIndexes(const std::set<int>& indexes) {
  std::string out;
  for (auto it = indexes.begin(); it != indexes.end();) {
    int first = *it, last = *it;
    for (++it; it != indexes.end() && *it == last + 1; ++it) last = *it;
    if (!out.empty()) out += ",";
    out += std::to_string(first);
    if (last > first) out += "-" + std::to_string(last);
  }
  return out;
}

std::set<int> ParseIndexes(const std::string& text, int completions) {
  std::set<int> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    int first = 0, last = 0, n = 0;
    if (sscanf(part.c_str(), "%d-%d%n", &first, &last, &n) == 2 && n == int(part.size())) {
    } else if (sscanf(part.c_str(), "%d%n", &first, &n) == 1 && n == int(part.size())) {
      last = first;
    } else {
      first = 0, last = -1;
    }
    for (int i = std::max(first, 0); i <= last && i < completions; i++) out.insert(i);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace kubit::controllers
