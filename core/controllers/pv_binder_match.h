// What the PersistentVolume binder decides without the cluster, as
// upstream's pkg/controller/volume/persistentvolume: which volume a claim
// binds to (FindMatchingVolume: the smallest volume that is large enough,
// with the claim's storageClassName, volumeMode, accessModes and selector;
// a volume pre-bound to the claim by claimRef wins), and the phases both
// sides should show. Pure functions over the objects' JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kubit::controllers {

// Annotations and finalizers upstream's binder and protection controllers use.
inline constexpr const char* kAnnBindCompleted = "pv.kubernetes.io/bind-completed";
inline constexpr const char* kAnnBoundByController = "pv.kubernetes.io/bound-by-controller";
inline constexpr const char* kAnnProvisionedBy = "pv.kubernetes.io/provisioned-by";
inline constexpr const char* kAnnStorageProvisioner = "volume.kubernetes.io/storage-provisioner";
inline constexpr const char* kAnnBetaStorageProvisioner = "volume.beta.kubernetes.io/storage-provisioner";
inline constexpr const char* kAnnSelectedNode = "volume.kubernetes.io/selected-node";
inline constexpr const char* kAnnDefaultClass = "storageclass.kubernetes.io/is-default-class";
inline constexpr const char* kPVCProtectionFinalizer = "kubernetes.io/pvc-protection";
inline constexpr const char* kPVProtectionFinalizer = "kubernetes.io/pv-protection";
inline constexpr const char* kNoProvisioner = "kubernetes.io/no-provisioner";

// The claim's class: spec.storageClassName, else the beta annotation;
// "" for none.
std::string ClaimClassName(const nlohmann::json& claim);
std::string VolumeClassName(const nlohmann::json& volume);

// Whether `volume` can hold `claim` on its own terms (class, mode, access
// modes, capacity, selector), ignoring who it is bound to. *why says what
// failed, for tests and logs.
bool VolumeSatisfiesClaim(const nlohmann::json& volume, const nlohmann::json& claim, std::string* why = nullptr);

// Whether the volume's claimRef names this claim (by namespace and name,
// and by uid when the ref has one).
bool ClaimRefMatches(const nlohmann::json& volume, const nlohmann::json& claim);

// The volume the claim should bind to, or null: a volume pre-bound to the
// claim first; else the smallest satisfying one without a claimRef that
// is not being deleted.
const nlohmann::json* FindMatchingVolume(const nlohmann::json& claim, const std::vector<const nlohmann::json*>& volumes);

// Whether a volume may be used from the node named `node` by its
// nodeAffinity's kubernetes.io/hostname requirements (no such requirement:
// any node). The binder has no Node objects: local volumes name hosts.
bool VolumeReachableFrom(const nlohmann::json& volume, const std::string& node);

// The bytes of a capacity quantity ("1Gi"); -1 when it does not parse.
long double QuantityBytes(const nlohmann::json& q);

}  // namespace kubit::controllers
