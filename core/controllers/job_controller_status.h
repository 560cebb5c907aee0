// What the Job controller reads off pods and writes into a Job's status,
// as pure functions over the objects' JSON: finalizers, phases, conditions,
// the pod failure policy and the completed-index notation. The controller
// (job_controller.h) does the I/O around them.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>

namespace kubit::controllers {

using Json = nlohmann::json;

inline constexpr const char* kJobTrackingFinalizer = "batch.kubernetes.io/job-tracking";
inline constexpr const char* kJobCompletionIndex = "batch.kubernetes.io/job-completion-index";

bool HasFinalizer(const Json& obj, const std::string& finalizer);
const std::string& PodPhase(const Json& pod);

// The condition of `type` in status.conditions, or null.
const Json* FindCondition(const Json& status, const std::string& type);
bool ConditionTrue(const Json& status, const std::string& type);
// Sets a condition (lastProbeTime and, when its status changes,
// lastTransitionTime to `now`); true when anything changed.
bool SetCondition(Json* status, const std::string& type, const std::string& cond_status,
                  const std::string& reason, const std::string& message, const std::string& now);

// The first rule of spec.podFailurePolicy that matches a failed pod, as
// upstream's matchPodFailurePolicy: exit codes of terminated containers
// (non-zero only; containers, then init containers), or pod conditions.
enum class FailureAction { kNoMatch, kFailJob, kFailIndex, kIgnore, kCount };
FailureAction MatchPodFailurePolicy(const Json& policy, const Json& pod, std::string* message);

// A pod's completion index (Indexed Jobs), -1 when missing or not below
// `completions`.
int CompletionIndex(const Json& pod, int completions);
// "0-2,5": the form of status.completedIndexes.
std::string FormatIndexes(const std::set<int>& indexes);
// Indexes below `completions` in that form; bad parts are skipped.
std::set<int> ParseIndexes(const std::string& text, int completions);

}  // namespace kubit::controllers
