// The arithmetic and bookkeeping of Deployments, as upstream's
// deployment/util: pod-template-hash, revisions and the annotations
// ReplicaSets carry, maxSurge/maxUnavailable, conditions, status from the
// ReplicaSets, proportional scaling fractions. Pure functions over JSON
// objects, so each is tested alone.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/client/client.h"

namespace kubit::controllers {

inline constexpr const char* kPodTemplateHashLabel = "pod-template-hash";
inline constexpr const char* kRevisionAnnotation = "deployment.kubernetes.io/revision";
inline constexpr const char* kRevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history";
inline constexpr const char* kDesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas";
inline constexpr const char* kMaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas";

// Condition reasons (upstream's deployment/util).
inline constexpr const char* kNewRSAvailableReason = "NewReplicaSetAvailable";
inline constexpr const char* kReplicaSetUpdatedReason = "ReplicaSetUpdated";
inline constexpr const char* kTimedOutReason = "ProgressDeadlineExceeded";
inline constexpr const char* kFoundNewRSReason = "FoundNewReplicaSet";
inline constexpr const char* kNewRSCreatedReason = "NewReplicaSetCreated";
inline constexpr const char* kFailedRSCreateReason = "FailedCreateRS";
inline constexpr const char* kPausedReason = "DeploymentPaused";
inline constexpr const char* kResumedReason = "DeploymentResumed";
inline constexpr const char* kMinimumReplicasAvailable = "MinimumReplicasAvailable";
inline constexpr const char* kMinimumReplicasUnavailable = "MinimumReplicasUnavailable";

// spec.replicas (1 when unset) of a Deployment or ReplicaSet.
int64_t SpecReplicas(const client::Json& obj);
int64_t StatusInt(const client::Json& obj, const char* field);
bool IsRollingUpdate(const client::Json& d);
// An int or a percentage of `total` ("25%"), rounded up or down.
int64_t ScaledValue(const client::Json& int_or_percent, int64_t total, bool round_up);
// maxSurge and maxUnavailable resolved against spec.replicas; never both 0.
int64_t MaxSurge(const client::Json& d);
int64_t MaxUnavailable(const client::Json& d);

// The hash of a pod template and collisionCount, encoded as upstream's
// SafeEncodeString (letters and digits no word can be spelt with).
std::string ComputeHash(const client::Json& pod_template, int64_t collision_count);
// Templates equal but for the pod-template-hash label.
bool EqualIgnoreHash(const client::Json& a, const client::Json& b);

int64_t Revision(const client::Json& obj);  // 0 when absent or malformed
int64_t MaxRevision(const std::vector<client::Json>& rss);
// Sets the new ReplicaSet's annotations from the Deployment: the
// Deployment's own (but for kubectl's last-applied and the deployment.*
// ones), the revision (the old one pushed onto revision-history when it
// rises: a rollback), and on a new ReplicaSet the replica annotations.
// True if anything changed.
bool SetNewReplicaSetAnnotations(const client::Json& d, client::Json* rs, int64_t new_revision, bool exists);
// desired-replicas and max-replicas (replicas + maxSurge); true if changed.
bool SetReplicasAnnotations(client::Json* rs, int64_t desired, int64_t max);
bool ReplicasAnnotationsNeedUpdate(const client::Json& rs, int64_t desired, int64_t max);
// The desired-replicas annotation; false if absent.
bool DesiredReplicasAnnotation(const client::Json& rs, int64_t* out);

// Conditions in status.conditions.
client::Json GetCondition(const client::Json& status, const std::string& type);  // null if absent
// Sets one, keeping lastTransitionTime when the status is unchanged, and
// the whole condition when status and reason are (as upstream).
void SetCondition(client::Json* status, client::Json cond);
void RemoveCondition(client::Json* status, const std::string& type);
client::Json NewCondition(const std::string& type, const std::string& status, const std::string& reason,
                          const std::string& message);

bool HasProgressDeadline(const client::Json& d);
// The Deployment's status computed from its ReplicaSets (conditions other
// than Available kept from d's status).
client::Json CalculateStatus(const client::Json& d, const std::vector<client::Json>& all, const client::Json* new_rs);
bool DeploymentComplete(const client::Json& d, const client::Json& status);
bool DeploymentProgressing(const client::Json& d, const client::Json& status);
bool DeploymentTimedOut(const client::Json& d, const client::Json& status, int64_t now_unix);
// A ReplicaSet's share of `to_add` when a Deployment is resized mid-rollout
// (upstream's GetReplicaSetProportion).
int64_t ReplicaSetProportion(const client::Json& rs, const client::Json& d, int64_t to_add, int64_t added);
// Replicas the new ReplicaSet should have now (rolling: within maxSurge).
int64_t NewRSNewReplicas(const client::Json& d, const std::vector<client::Json>& all, const client::Json& new_rs);

}  // namespace kubit::controllers
