#include "core/controllers/namespace_deleter.h"

#include <algorithm>
#include <map>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/api/meta.h"
#include "core/client/discovery.h"

namespace kubit::controllers {

using client::Json;
using client::Status;

namespace {

const client::Resource kNamespaces{"", "v1", "namespaces"};
// Upstream's guess for how long an object's finalizers take.
constexpr int64_t kFinalizerEstimateSeconds = 15;
// Conflicting writes of the namespace (other controllers, users) are
// retried this often with the newest copy before the pass gives up.
constexpr int kConflictRetries = 5;

// ---- status conditions ----

struct Condition {
  const char* type;
  const char* ok_reason;
  const char* ok_message;
};

// In upstream's order, with what each says when all is well.
const Condition kConditions[] = {
    {"NamespaceDeletionDiscoveryFailure", "ResourcesDiscovered", "All resources successfully discovered"},
    {"NamespaceDeletionGroupVersionParsingFailure", "ParsedGroupVersions",
     "All legacy kube types successfully parsed"},
    {"NamespaceDeletionContentFailure", "ContentDeleted",
     "All content successfully deleted, may be waiting on finalization"},
    {"NamespaceContentRemaining", "ContentRemoved", "All content successfully removed"},
    {"NamespaceFinalizersRemaining", "ContentHasNoFinalizers", "All content-preserving finalizers finished"},
};

struct Failure {
  std::string reason, message;
};

// Sets each condition to its failure, or to its all-is-well variant;
// true if anything changed. The transition time moves only with the
// status.
bool UpdateConditions(Json* status, const std::map<std::string, Failure>& failures) {
  if (!status->is_object()) *status = Json::object();
  Json& conds = (*status)["conditions"];
  if (!conds.is_array()) conds = Json::array();
  bool changed = false;
  for (const Condition& c : kConditions) {
    auto f = failures.find(c.type);
    std::string want_status = f != failures.end() ? "True" : "False";
    std::string reason = f != failures.end() ? f->second.reason : c.ok_reason;
    std::string message = f != failures.end() ? f->second.message : c.ok_message;
    Json* have = nullptr;
    for (Json& x : conds)
      if (x.is_object() && x.value("type", "") == c.type) have = &x;
    if (!have) {
      conds.push_back({{"type", c.type},
                       {"status", want_status},
                       {"lastTransitionTime", api::Now()},
                       {"reason", reason},
                       {"message", message}});
      changed = true;
      continue;
    }
    if (have->value("status", "") == want_status && have->value("reason", "") == reason &&
        have->value("message", "") == message)
      continue;
    if (have->value("status", "") != want_status) (*have)["lastTransitionTime"] = api::Now();
    (*have)["status"] = want_status;
    (*have)["reason"] = reason;
    (*have)["message"] = message;
    changed = true;
  }
  return changed;
}

std::string Join(std::vector<std::string> parts) {
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

bool HasDeletionTimestamp(const Json& o) {
  const Json& m = o.value("metadata", Json::object());
  return m.is_object() && m.contains("deletionTimestamp") && !m["deletionTimestamp"].is_null();
}

std::vector<std::string> SpecFinalizers(const Json& ns) {
  std::vector<std::string> out;
  const Json& spec = ns.value("spec", Json::object());
  if (spec.is_object() && spec.contains("finalizers") && spec["finalizers"].is_array())
    for (const Json& f : spec["finalizers"])
      if (f.is_string()) out.push_back(f.get<std::string>());
  return out;
}

// Applies `change` to the newest copy of the namespace with `write`,
// fetching it again after a conflict. *out: what the server answered.
Status RetryOnConflict(client::Client* c, Json ns, const std::function<bool(Json*)>& change,
                       const std::function<Status(const Json&, Json*)>& write, Json* out) {
  std::string uid = ns["metadata"].value("uid", "");
  for (int attempt = 0;; attempt++) {
    if (!change(&ns)) {
      *out = ns;
      return Status();
    }
    Status s = write(ns, out);
    if (!s.IsConflict() || attempt >= kConflictRetries) return s;
    s = c->Get(kNamespaces, "", ns["metadata"].value("name", ""), &ns);
    if (!s.ok()) return s;
    if (ns["metadata"].value("uid", "") != uid)
      return Status::Api(409, "Conflict", "namespace uid has changed across retries");
  }
}

// What deleting one resource type's content left behind.
struct Leftovers {
  int64_t remaining = 0;
  std::map<std::string, int64_t> finalizers;  // finalizer -> objects holding it
  int64_t estimate_seconds = 0;
};

std::string GvrText(const client::Resource& r) {
  return (r.group.empty() ? "" : r.group + "/") + r.version + ", Resource=" + r.resource;
}

Status DeleteContentOf(client::Client* c, const client::ApiResource& t, const std::string& ns,
                       Leftovers* left) {
  client::DeleteOptions background;
  // Dependents go too: the namespace is emptied whole, owners or not.
  background.propagation_policy = "Background";
  bool collected = false;
  if (t.Supports("deletecollection")) {
    Status s = c->DeleteCollection(t.resource, ns, {}, background);
    if (s.ok()) collected = true;
    else if (!s.IsMethodNotSupported() && !s.IsNotFound()) return s;
  }
  if (!t.Supports("list")) return Status();
  Json list;
  if (!collected) {
    Status s = c->List(t.resource, ns, {}, &list);
    if (s.IsMethodNotSupported() || s.IsNotFound()) return Status();
    if (!s.ok()) return s;
    for (const Json& item : list["items"]) {
      s = c->Delete(t.resource, ns, item.value("metadata", Json::object()).value("name", ""), background);
      if (!s.ok() && !s.IsNotFound() && !s.IsMethodNotSupported()) return s;
    }
  }
  // What is still there, and why.
  Status s = c->List(t.resource, ns, {}, &list);
  if (s.IsMethodNotSupported() || s.IsNotFound()) return Status();
  if (!s.ok()) return s;
  for (const Json& item : list["items"]) {
    left->remaining++;
    const Json meta = item.value("metadata", Json::object());
    if (meta.contains("finalizers") && meta["finalizers"].is_array() && !meta["finalizers"].empty()) {
      for (const Json& f : meta["finalizers"])
        if (f.is_string()) left->finalizers[f.get<std::string>()]++;
      left->estimate_seconds = std::max(left->estimate_seconds, kFinalizerEstimateSeconds);
    }
    // Pods being deleted gracefully wait for their kubelet.
    if (t.resource.group.empty() && t.resource.resource == "pods" && HasDeletionTimestamp(item))
      left->estimate_seconds = std::max<int64_t>(left->estimate_seconds,
                                                 std::max<int64_t>(1, meta.value("deletionGracePeriodSeconds", 0)));
  }
  if (left->remaining > 0 && left->estimate_seconds == 0)
    return Status::Api(500, "InternalError",
                       "unexpected items still remain in namespace: " + ns + " for gvr: " + GvrText(t.resource));
  return Status();
}

}  // namespace

Status NamespaceDeleter::Delete(const std::string& name, int64_t* remaining_seconds) {
  *remaining_seconds = 0;
  Json ns;
  Status s = client_->Get(kNamespaces, "", name, &ns);
  if (s.IsNotFound()) return Status();
  if (!s.ok()) return s;
  if (!HasDeletionTimestamp(ns)) return Status();
  auto update_status = [&](const Json& o, Json* out) { return client_->UpdateStatus(kNamespaces, "", o, out); };

  s = RetryOnConflict(
      client_, ns,
      [](Json* o) {
        Json& status = (*o)["status"];
        if (!status.is_object()) status = Json::object();
        if (status.value("phase", "") == "Terminating") return false;
        status["phase"] = "Terminating";
        return true;
      },
      update_status, &ns);
  if (s.IsNotFound()) return Status();
  if (!s.ok()) return s;

  auto delete_namespace = [&](const Json& o) {
    client::DeleteOptions pre;
    pre.precondition_uid = o.value("metadata", Json::object()).value("uid", "");
    Status d = client_->Delete(kNamespaces, "", name, pre);
    return d.IsNotFound() ? Status() : d;
  };
  std::vector<std::string> fins = SpecFinalizers(ns);
  if (std::find(fins.begin(), fins.end(), kNamespaceFinalizer) == fins.end())
    return fins.empty() ? delete_namespace(ns) : Status();

  // Empty it.
  std::map<std::string, Failure> failures;
  std::vector<client::ApiResource> types;
  std::map<std::string, std::string> failed;
  s = client::ServerPreferredResources(*client_, &types, &failed);
  if (!s.ok()) return s;
  if (!failed.empty()) {
    std::vector<std::string> parts;
    for (const auto& [gv, err] : failed) parts.push_back(gv + ": " + err);
    failures["NamespaceDeletionDiscoveryFailure"] = {
        "DiscoveryFailed", "Discovery failed for some groups, " + std::to_string(failed.size()) +
                               " failing: unable to retrieve the complete list of server APIs: " + Join(parts)};
  }
  // Pods first: they hold on to everything else they use.
  std::stable_partition(types.begin(), types.end(), [](const client::ApiResource& t) {
    return t.resource.group.empty() && t.resource.resource == "pods";
  });
  std::vector<std::string> errors, remaining;
  std::map<std::string, int64_t> finalizers;
  int64_t estimate = 0;
  for (const client::ApiResource& t : types) {
    if (!t.namespaced || !t.Supports("delete")) continue;
    Leftovers left;
    Status e = DeleteContentOf(client_, t, name, &left);
    if (!e.ok()) errors.push_back(e.message());
    estimate = std::max(estimate, left.estimate_seconds);
    if (left.remaining > 0)
      remaining.push_back(t.resource.resource + "." + t.resource.group + " has " + std::to_string(left.remaining) +
                          " resource instances");
    for (const auto& [f, n] : left.finalizers) finalizers[f] += n;
  }
  if (!errors.empty())
    failures["NamespaceDeletionContentFailure"] = {
        "ContentDeletionFailed",
        "Failed to delete all resource types, " + std::to_string(errors.size()) + " remaining: " + Join(errors)};
  if (!remaining.empty())
    failures["NamespaceContentRemaining"] = {"SomeResourcesRemain",
                                             "Some resources are remaining: " + Join(remaining)};
  if (!finalizers.empty()) {
    std::vector<std::string> parts;
    for (const auto& [f, n] : finalizers) parts.push_back(f + " in " + std::to_string(n) + " resource instances");
    failures["NamespaceFinalizersRemaining"] = {
        "SomeFinalizersRemain", "Some content in the namespace has finalizers remaining: " + Join(parts)};
  }
  s = RetryOnConflict(
      client_, ns, [&](Json* o) { return UpdateConditions(&(*o)["status"], failures); }, update_status, &ns);
  if (s.IsNotFound()) return Status();
  if (!s.ok()) return s;
  if (!errors.empty())
    return Status::Api(500, "InternalError",
                       "failed to delete all content of namespace " + name + ": " + Join(errors));
  if (estimate > 0) {
    *remaining_seconds = estimate;
    return Status();
  }

  // Empty: our finalizer goes.
  s = RetryOnConflict(
      client_, ns,
      [](Json* o) {
        std::vector<std::string> keep;
        for (const std::string& f : SpecFinalizers(*o))
          if (f != kNamespaceFinalizer) keep.push_back(f);
        (*o)["spec"]["finalizers"] = keep;
        return true;
      },
      [&](const Json& o, Json* out) { return client_->UpdateSubresource(kNamespaces, "", name, "finalize", o, out); },
      &ns);
  if (s.IsNotFound()) return Status();
  if (!s.ok()) return s;
  // The last finalizer is gone: the namespace itself goes (a server that
  // removed it at the finalize already answers NotFound here).
  return SpecFinalizers(ns).empty() ? delete_namespace(ns) : Status();
}

}  // namespace kubit::controllers
