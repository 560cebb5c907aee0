// Shared pieces of the validation files (validation_*.cc); not an API:
// field paths, upstream's error constructors, Go's printing of bad values,
// safe JSON accessors and the validators every group uses.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/api/defaults_quantity.h"
#include "core/api/meta.h"
#include "core/api/resources.h"

namespace kubit::api::validation {

using Json = nlohmann::json;
using Errs = std::vector<FieldError>;

// A field path as upstream prints it: "spec.containers[0].ports[1].name",
// "data[key]".
class Path {
 public:
  Path() = default;
  explicit Path(std::string root) : s_(std::move(root)) {}
  Path Child(std::string_view name) const {
    return Path(s_.empty() ? std::string(name) : s_ + "." + std::string(name));
  }
  Path Index(size_t i) const { return Path(s_ + "[" + std::to_string(i) + "]"); }
  Path Key(std::string_view k) const { return Path(s_ + "[" + std::string(k) + "]"); }
  const std::string& str() const { return s_; }

 private:
  std::string s_;
};

// Upstream's error constructors. `value` is the bad value already printed
// as Go prints it (see the Go* helpers below).
FieldError Required(const Path& p, std::string detail = "");
FieldError Invalid(const Path& p, std::string value, std::string detail);
FieldError NotSupported(const Path& p, std::string value, const std::vector<std::string>& valid);
FieldError Duplicate(const Path& p, std::string value);
FieldError Forbidden(const Path& p, std::string detail);
FieldError NotFound(const Path& p, std::string value);
FieldError TooLong(const Path& p, int max_bytes);
FieldError TooMany(const Path& p, int actual, int max);

inline const char kImmutable[] = "field is immutable";
inline const char kNegative[] = "must be greater than or equal to 0";

// Go's printing of values: %q of a string, %v of numbers, %#v of the rest.
std::string Q(std::string_view s);
std::string GoInt(int64_t v);
// A JSON scalar as Go prints it (string quoted, number, bool, null).
std::string GoValue(const Json& v);
// map[string]string{"a":"b"}, or map[string]string(nil) when absent.
std::string GoMap(const Json* m, std::string_view type = "map[string]string");
// []string{"a", "b"}, or []string(nil) when absent; `type` names the slice type.
std::string GoStrings(const Json* a, std::string_view type = "[]string");
// v1.LabelSelector{MatchLabels:..., MatchExpressions:...}; "null" when absent.
std::string GoSelector(const Json* sel);
// intstr.IntOrString{Type:0, IntVal:1, StrVal:""}.
std::string GoIntOrString(const Json& v);

// Safe reads of JSON objects: absent, null and mistyped values read as
// absent or zero.
const Json* Get(const Json& o, std::string_view key);       // null if absent or null
const Json* GetObj(const Json& o, std::string_view key);    // an object, or null
const Json* GetArr(const Json& o, std::string_view key);    // an array, or null
const Json& ObjOrEmpty(const Json& o, std::string_view key);  // an object, or {}
std::string Str(const Json& o, std::string_view key);
std::optional<int64_t> Int(const Json& o, std::string_view key);
bool Bool(const Json& o, std::string_view key);
bool Has(const Json& o, std::string_view key);  // present and not null
size_t Len(const Json& o, std::string_view key);  // size of an array or object field
// The elements of an array field (empty when absent).
const Json& Items(const Json& o, std::string_view key);
std::optional<Quantity> Qty(const Json& v);

// Upstream's string rules (k8s.io/apimachinery/pkg/util/validation); each
// returns the messages, empty when valid.
std::vector<std::string> IsDNS1123Label(const std::string& v);
std::vector<std::string> IsDNS1123Subdomain(const std::string& v);
std::vector<std::string> IsDNS1035Label(const std::string& v);
std::vector<std::string> IsWildcardDNS1123Subdomain(const std::string& v);
std::vector<std::string> IsQualifiedName(const std::string& v);
std::vector<std::string> IsValidLabelValue(const std::string& v);
std::vector<std::string> IsConfigMapKey(const std::string& v);
std::vector<std::string> IsRelaxedEnvVarName(const std::string& v);
std::vector<std::string> IsValidPortName(const std::string& v);
std::vector<std::string> IsValidPortNum(int64_t v);
std::vector<std::string> IsValidPercent(const std::string& v);
std::vector<std::string> IsHTTPHeaderName(const std::string& v);
std::vector<std::string> IsValidPathSegmentName(const std::string& v);
std::vector<std::string> IsValidUserOrGroupID(int64_t v);
std::string InclusiveRangeError(int64_t lo, int64_t hi);
std::string MaxLenError(size_t n);
bool IsValidIP(const std::string& v);
bool IsValidCIDR(const std::string& v);
bool IsIPv6(const std::string& v);
inline const char kIPError[] = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";
inline const char kCIDRError[] = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";

// Appends Invalid(p, Q(value), msg) for each message.
void AddAll(Errs* errs, const Path& p, const std::string& value, const std::vector<std::string>& msgs);

// Common validators (k8s.io/apimachinery/pkg/apis/meta/v1/validation and
// pkg/api/validation).
void ValidateLabels(const Json* labels, const Path& p, Errs* errs);
void ValidateLabelName(const std::string& key, const Path& p, Errs* errs);
void ValidateAnnotations(const Json* annotations, const Path& p, Errs* errs);
void ValidateLabelSelector(const Json* sel, const Path& p, Errs* errs);
void ValidateNonnegative(const Json& o, std::string_view key, const Path& p, Errs* errs);
void ValidateNonnegativeValue(int64_t v, const Path& p, Errs* errs);
// `field is immutable` with `value` printed, when nv and ov differ.
void ValidateImmutable(const Json* nv, const Json* ov, const Path& p, const std::string& value,
                       Errs* errs);
bool SameValue(const Json* a, const Json* b);
// A short diff of two specs in the style of the cmp.Diff upstream appends
// to "is immutable" messages; `type` names the Go type ("core.PodSpec").
std::string SpecDiff(const Json& old_spec, const Json& new_spec, const std::string& type);

// Label selectors as labels.Selector: nil selects nothing, {} everything.
struct Selector {
  bool valid = true;    // LabelSelectorAsSelector succeeded
  bool nothing = false; // a nil selector
  bool empty = false;   // no requirements: selects everything
  const Json* sel = nullptr;
  bool Matches(const Json* labels) const;
};
Selector AsSelector(const Json* sel);

// Pod validation (validation_pod.cc, validation_volumes.cc).
struct PodOptions {
  bool resource_is_pod = false;
};
void ValidatePodSpec(const Json& spec, const Json* pod_meta, const Path& p, const PodOptions& o,
                     Errs* errs);
// ValidatePodTemplateSpec: labels, annotations, the spec, no ephemeral
// containers.
void ValidatePodTemplateSpec(const Json& tmpl, const Path& p, Errs* errs);
// What the containers of a pod spec are checked against
// (validation_containers.cc).
// The volumes of a pod spec, by name, for the mounts' checks.
struct VolumeInfo {
  std::string name;
  const Json* source = nullptr;  // the Volume object
};
struct PodContext {
  std::vector<VolumeInfo> vols;        // the valid volumes, by name
  std::set<std::string> claims;        // spec.resourceClaims names
  std::optional<int64_t> grace;        // terminationGracePeriodSeconds
  std::string restart_policy;
  bool host_users = true;
};
void ValidateContainers(const Json& spec, const PodContext& ctx, const Path& p, Errs* errs);
void ValidateInitContainers(const Json& spec, const PodContext& ctx, const Path& p, Errs* errs);
void ValidateEphemeralContainers(const Json& spec, const PodContext& ctx, const Path& p, Errs* errs);
// Security contexts: seccomp and AppArmor profiles, user and group IDs
// (with fsGroup for pods), a container's whole security context.
void ValidateSeccompProfile(const Json* sp, const Path& p, Errs* errs);
void ValidateAppArmorProfile(const Json* ap, const Path& p, Errs* errs);
void ValidateIDs(const Json& sc, const Path& p, Errs* errs, bool fs_group);
void ValidateSecurityContext(const Json* sc, bool host_users, const Path& p, Errs* errs);
// A container's requests and limits (validation_resources.cc).
void ValidateResources(const Json* res, const std::set<std::string>& claims, const Path& p, Errs* errs);
void ValidatePodSpecificAnnotations(const Json* annotations, const Json& spec, const Path& p,
                                    Errs* errs);
void ValidatePVCSpec(const Json& spec, const Path& p, Errs* errs);
void ValidateResourceQuantityValue(const std::string& name, const Json& v, const Path& p, Errs* errs);
void ValidateTolerations(const Json& list, const Path& p, Errs* errs);
void ValidateNodeSelector(const Json& ns, const Path& p, Errs* errs);
void ValidatePreemptionPolicy(const Json& v, const Path& p, Errs* errs);
void ValidatePortNumOrName(const Json& port, const Path& p, Errs* errs);
std::vector<VolumeInfo> ValidateVolumes(const Json& spec, const Json* pod_meta, const Path& p,
                                        Errs* errs);
// Downward API selectors: fieldRef against the allowed field paths,
// resourceFieldRef (volume files also need containerName).
void ValidateObjectFieldSelector(const Json& fs, const std::vector<std::string>& expressions, const Path& p,
                                 Errs* errs);
void ValidateResourceFieldSelector(const Json& fs, bool volume, const Path& p, Errs* errs);
void ValidateHostPathSource(const Json& hp, const Path& p, Errs* errs);
void ValidateNFSSource(const Json& nfs, const Path& p, Errs* errs);
void ValidateLocalDescendingPath(const std::string& v, const Path& p, Errs* errs);
void ValidateCSIDriverName(const std::string& v, const Path& p, Errs* errs);
// Resource names: validateResourceName (standard or fully qualified).
void ValidateResourceName(const std::string& name, const Path& p, Errs* errs);
bool IsStandardQuotaResourceName(const std::string& name);

// intstr rules of apps validation, shared with policy (validation_apps.cc).
void ValidatePositiveIntOrPercent(const Json& v, const Path& p, Errs* errs);
void IsNotMoreThan100Percent(const Json& v, const Path& p, Errs* errs);

// Per group (validation_core.cc, validation_apps.cc, validation_batch.cc,
// validation_networking.cc, validation_groups.cc); true when handled.
bool ValidateCoreKind(const ResourceType& t, const Json& obj, const Json* old, Errs* errs);
bool ValidateAppsKind(const ResourceType& t, const Json& obj, const Json* old, Errs* errs);
bool ValidateBatchKind(const ResourceType& t, const Json& obj, const Json* old, Errs* errs);
bool ValidateNetworkingKind(const ResourceType& t, const Json& obj, const Json* old, Errs* errs);
void ValidateServiceKind(const ResourceType& t, const Json& obj, const Json* old, Errs* errs);
void ValidateClaimKind(const ResourceType& t, const Json& obj, const Json* old, Errs* errs);
void ValidateQuotaKind(const ResourceType& t, const Json& obj, const Json* old, Errs* errs);
bool ValidateOtherKind(const ResourceType& t, const Json& obj, const Json* old, Errs* errs);

// The cron schedule parser's error for `schedule` (robfig/cron's standard
// parser), empty when it parses (validation_cron.cc).
std::string CronParseError(const std::string& schedule);

}  // namespace kubit::api::validation
