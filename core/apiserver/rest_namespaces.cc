// Namespaces' own verbs, as upstream's namespace registry: a DELETE marks
// the namespace Terminating; the namespace controller empties it and clears
// spec.finalizers through /finalize; a DELETE after that removes it.
#include <nlohmann/json.hpp>

#include "core/api/meta.h"
#include "core/apiserver/responses.h"
#include "core/apiserver/rest_internal.h"

namespace kubit::apiserver::rest_internal {
namespace {

bool HasItems(const Json& o, const char* parent, const char* field) {
  return o.contains(parent) && o[parent].is_object() && o[parent].contains(field) &&
         o[parent][field].is_array() && !o[parent][field].empty();
}

void DeleteNamespace(Call& c) {
  const std::string& name = c.info.name;
  for (int attempt = 0;; attempt++) {
    store::KeyValue cur;
    store::Status s = c.state->Get(c.key(name), &cur);
    if (!s.ok()) return SendError(c.resp, ApiError::FromStore(s, c.type, name));
    Json ns = Decode(cur), opts;
    ApiError err;
    if (!ParseDeleteOptions(c, ns, &opts, &err)) return SendError(c.resp, err);
    Json& meta = ns["metadata"];
    if (!meta.contains("deletionTimestamp")) {
      // The first DELETE starts termination; the controller does the rest.
      meta["deletionTimestamp"] = api::Now();
      meta["deletionGracePeriodSeconds"] = 0;
      ns["status"]["phase"] = "Terminating";
      if (c.dry_run()) return SendJson(c.resp, 200, ns);
      store::KeyValue kv;
      s = c.state->Update(c.key(name), Encode(ns), cur.mod_revision, {}, &kv);
      if (s.IsConflict() && attempt < 8) continue;
      if (!s.ok()) return SendError(c.resp, ApiError::FromStore(s, c.type, name));
      return SendJson(c.resp, 200, Decode(kv));
    }
    if (HasItems(ns, "spec", "finalizers"))
      return SendError(c.resp, ApiError::Conflict(
                                   c.type, name,
                                   "The system is ensuring all content is removed from this "
                                   "namespace.  Upon completion, this namespace will "
                                   "automatically be purged by the system."));
    if (HasItems(ns, "metadata", "finalizers")) return SendJson(c.resp, 200, ns);
    if (!c.dry_run()) {
      s = c.state->Delete(c.key(name), cur.mod_revision);
      if (s.IsConflict() && attempt < 8) continue;
      if (!s.ok()) return SendError(c.resp, ApiError::FromStore(s, c.type, name));
    }
    return SendJson(c.resp, 200, DeletedStatus(c.type, ns));
  }
}

// PUT namespaces/<name>/finalize: only spec.finalizers changes.
void Finalize(Call& c) {
  Json body;
  ApiError err;
  if (!ParseBody(c.req, &body, &err) || !CheckTypeMeta(c.type, body, &err) ||
      !CheckIdentity(c, body, &err))
    return SendError(c.resp, err);
  Json fins = body.contains("spec") && body["spec"].is_object() && body["spec"].contains("finalizers")
                  ? body["spec"]["finalizers"] : Json::array();
  if (!fins.is_array()) fins = Json::array();
  std::vector<api::FieldError> errs;
  for (size_t i = 0; i < fins.size(); i++) {
    std::string f = fins[i].is_string() ? fins[i].get<std::string>() : "";
    // Upstream: a qualified name; "kubernetes" is the standard one.
    bool ok = !f.empty() && (f == "kubernetes" || f.find('/') != std::string::npos);
    if (!ok)
      errs.push_back({"Invalid value", "spec.finalizers[" + std::to_string(i) + "]",
                      "name is neither a standard finalizer name nor is it fully qualified",
                      "\"" + f + "\""});
  }
  if (!errs.empty()) return SendError(c.resp, ApiError::Invalid(c.type, c.info.name, errs));
  std::string rv = body["metadata"].value("resourceVersion", "");
  for (int attempt = 0;; attempt++) {
    store::KeyValue cur;
    store::Status s = c.state->Get(c.key(c.info.name), &cur);
    if (!s.ok()) return SendError(c.resp, ApiError::FromStore(s, c.type, c.info.name));
    if (!rv.empty() && rv != std::to_string(cur.mod_revision))
      return SendError(c.resp, ApiError::FromStore(store::Status::Conflict(""), c.type, c.info.name));
    Json ns = Decode(cur);
    if (!ns["spec"].is_object()) ns["spec"] = Json::object();
    if (fins.empty()) ns["spec"].erase("finalizers");
    else ns["spec"]["finalizers"] = fins;
    if (c.dry_run()) return SendJson(c.resp, 200, ns);
    store::KeyValue kv;
    s = c.state->Update(c.key(c.info.name), Encode(ns), cur.mod_revision, {}, &kv);
    if (s.IsConflict() && rv.empty() && attempt < 8) continue;
    if (!s.ok()) return SendError(c.resp, ApiError::FromStore(s, c.type, c.info.name));
    return SendJson(c.resp, 200, Decode(kv));
  }
}

}  // namespace

bool ServeNamespace(Call& c) {
  if (c.info.subresource.empty() && c.info.verb == "delete") return DeleteNamespace(c), true;
  if (c.info.subresource == "finalize" && c.info.verb == "update") return Finalize(c), true;
  return false;
}

}  // namespace kubit::apiserver::rest_internal
