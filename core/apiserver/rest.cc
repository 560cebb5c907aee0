#include "core/apiserver/rest.h"

#include "core/apiserver/rest_internal.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <random>

#include "core/api/conversion.h"
#include "core/api/custom_resources.h"
#include "core/api/defaults.h"
#include "core/api/managed_fields.h"
#include "core/api/yaml.h"
#include "core/api/validation.h"
#include "core/api/meta.h"
#include "core/api/printers.h"
#include "core/api/protobuf.h"
#include "core/api/schema.h"
#include "core/api/selectors.h"
#include "core/api/strategic_merge.h"
#include "core/apiserver/admission.h"
#include "core/apiserver/api_error.h"
#include "core/apiserver/responses.h"
#include "core/apiserver/stored_json.h"
#include "net/http_server.h"

namespace kubit::apiserver {
namespace rest_internal {

using api::Json;
using api::ResourceType;

const ResourceType& NamespaceType() { return *api::FindType("", "v1", "namespaces"); }

// The object as clients see it: the stored JSON plus resourceVersion.
Json Decode(const store::KeyValue& kv) {
  Json o = Json::parse(kv.value);
  o["metadata"]["resourceVersion"] = std::to_string(kv.mod_revision);
  return o;
}

// The stored form: no resourceVersion (the store's revision is the truth).
std::string Encode(const Json& o) {
  if (!o.contains("metadata") || !o["metadata"].is_object() ||
      !o["metadata"].contains("resourceVersion"))
    return o.dump();
  Json copy = o;
  copy["metadata"].erase("resourceVersion");
  return copy.dump();
}

Json DecodeAs(const ResourceType& t, const store::KeyValue& kv) {
  Json o = Decode(kv);
  if (api::StoredInOtherVersion(t)) api::ConvertFromStorage(t, &o);
  return o;
}

std::string EncodeAs(const ResourceType& t, const Json& o) {
  if (!api::StoredInOtherVersion(t)) return Encode(o);
  Json copy = o;
  api::ConvertToStorage(t, &copy);
  return Encode(copy);
}

// The written object as clients see it, without parsing back what was stored.
Json WithVersion(Json o, store::Revision rev) {
  o["metadata"]["resourceVersion"] = std::to_string(rev);
  return o;
}

bool WantsTable(const net::HttpRequest& req) {
  return req.Header("accept").find("as=Table") != std::string::npos;
}

// Parses a request body as a JSON object: JSON, or protobuf (what client-go's
// typed clients send) decoded into JSON; YAML bodies are not accepted yet.
bool ParseBody(const net::HttpRequest& req, Json* out, ApiError* err) {
  std::string ct = req.Header("content-type");
  ct = ct.substr(0, ct.find(';'));
  if (ct == api::kProtobufContentType) {
    std::string error;
    if (!api::DecodeProtobufObject(req.body, out, &error)) {
      *err = ApiError::BadRequest("the body of the request could not be decoded: " + error);
      return false;
    }
    return true;
  }
  if (!ct.empty() && ct != "application/json" && ct != "application/yaml" &&
      ct.find("+json") == std::string::npos && ct.find("+yaml") == std::string::npos) {
    *err = {415, "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types include: "
            "application/json, application/yaml"};
    return false;
  }
  if (ct == "application/yaml" || ct.find("+yaml") != std::string::npos) {
    std::string error;
    if (!api::ParseYaml(req.body, out, &error)) {
      *err = ApiError::BadRequest("error converting YAML to JSON: " + error);
      return false;
    }
  } else {
    try {
      *out = Json::parse(req.body);
    } catch (const std::exception& e) {
      *err = ApiError::BadRequest(std::string("the body of the request was in an unknown format - "
                                              "accepted media types include: application/json; "
                                              "error: ") + e.what());
      return false;
    }
  }
  if (!out->is_object()) {
    *err = ApiError::BadRequest("the body of the request must be a JSON object");
    return false;
  }
  return true;
}

// Checks apiVersion/kind of a body against the type served at the path.
bool CheckTypeMeta(const ResourceType& t, Json& o, ApiError* err) {
  std::string av = o.value("apiVersion", ""), kind = o.value("kind", "");
  if ((!av.empty() && av != t.api_version()) || (!kind.empty() && kind != t.kind)) {
    *err = ApiError::BadRequest("the API version in the data (" + av +
                                ") does not match the expected API version (" + t.api_version() +
                                ")");
    if (!kind.empty() && kind != t.kind)
      err->message = kind + " in version \"" + t.version + "\" cannot be handled as a " + t.kind +
                     ": the kind in the body does not match the resource";
    return false;
  }
  o["apiVersion"] = t.api_version();
  o["kind"] = t.kind;
  if (!o.contains("metadata") || !o["metadata"].is_object()) o["metadata"] = Json::object();
  return true;
}

}  // namespace rest_internal

using namespace rest_internal;

store::Status Rest::EnsureDefaults() {
  const ResourceType& t = NamespaceType();
  for (const char* name : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    Json ns = {{"apiVersion", "v1"},
               {"kind", "Namespace"},
               {"metadata",
                {{"name", name},
                 {"uid", api::NewUID()},
                 {"creationTimestamp", api::Now()},
                 {"labels", {{"kubernetes.io/metadata.name", name}}}}},
               {"spec", {{"finalizers", {"kubernetes"}}}},
               {"status", {{"phase", "Active"}}}};
    store::Status s = state_->Create(t.storage_key("", name), Encode(ns));
    if (!s.ok() && !s.IsAlreadyExists()) return s;
  }
  return EnsureKubernetesService(state_, options_);
}

namespace rest_internal {

std::string Call::manager() const {
  return api::RequestFieldManager(req.Param("fieldManager"), req.Header("user-agent"));
}

// fieldValidation: unknown fields are an error (Strict, kubectl's default),
// a warning (Warn, the server's default) or nothing (Ignore), as upstream.
// Values of the wrong type are an error in every mode.
bool CheckFields(Call& c, Json* o, ApiError* err) {
  std::string mode = c.req.Param("fieldValidation");
  if (mode.empty()) mode = "Warn";
  if (mode != "Strict" && mode != "Warn" && mode != "Ignore") {
    *err = ApiError::BadRequest("fieldValidation must be one of \"Ignore\", \"Warn\", or \"Strict\"");
    return false;
  }
  const api::schema::Message* m = api::schema::MessageForKind(c.type.api_version(), c.type.kind);
  if (!m) return true;
  // A value of the wrong type fails decoding whatever the mode.
  std::string type_error = api::schema::TypeError(*m, *o);
  if (!type_error.empty()) {
    *err = ApiError::BadRequest(c.type.kind + " in version \"" + c.type.version + "\" cannot be handled as a " +
                                c.type.kind + ": " + type_error);
    return false;
  }
  std::vector<std::string> unknown;
  api::schema::UnknownFields(*m, *o, &unknown);
  // Whatever the mode, unknown fields are not kept, as upstream's decoding drops them.
  if (!unknown.empty()) api::schema::PruneUnknownFields(*m, o);
  if (unknown.empty() || mode == "Ignore") return true;
  if (mode == "Warn") {
    std::string warning;
    for (const auto& f : unknown)
      warning += (warning.empty() ? "" : ", ") + std::string("299 - \"unknown field \\\"") + f + "\\\"\"";
    c.resp.SetHeader("Warning", warning);
    return true;
  }
  std::string msg = c.type.kind + " in version \"" + c.type.version + "\" cannot be handled as a " +
                    c.type.kind + ": strict decoding error: ";
  for (size_t i = 0; i < unknown.size(); i++)
    msg += (i ? ", " : "") + std::string("unknown field \"") + unknown[i] + "\"";
  *err = ApiError::BadRequest(msg);
  return false;
}

// Kind-specific checks of an object about to be written (`old` is null on
// create): custom objects against their CRD's schema (defaults applied,
// unknown fields pruned), CRDs themselves.
bool CheckKind(Call& c, Json* o, const Json* old, ApiError* err) {
  std::vector<api::FieldError> errs;
  std::string name = (*o)["metadata"].value("name", "");
  if (c.type.custom) {
    std::vector<std::string> pruned;
    api::ValidateCustomObject(c.type, o, &errs, &pruned);
    std::string mode = c.req.Param("fieldValidation");
    if (!pruned.empty() && mode == "Strict") {
      std::string msg = c.type.kind + " in version \"" + c.type.version +
                        "\" cannot be handled as a " + c.type.kind + ": strict decoding error: ";
      for (size_t i = 0; i < pruned.size(); i++)
        msg += (i ? ", " : "") + std::string("unknown field \"") + pruned[i] + "\"";
      *err = ApiError::BadRequest(msg);
      return false;
    }
    if (!pruned.empty() && mode != "Ignore") {
      std::string warning;
      for (const auto& f : pruned)
        warning += (warning.empty() ? "" : ", ") + std::string("299 - \"unknown field \\\"") + f + "\\\"\"";
      c.resp.SetHeader("Warning", warning);
    }
  } else if (c.type.kind == "CustomResourceDefinition") {
    api::ApplyDefaults(c.type, o);
    api::ValidateCRD(*o, &errs);
    if (!old) {
      Json& fins = (*o)["metadata"]["finalizers"];
      if (!fins.is_array()) fins = Json::array();
      if (std::find(fins.begin(), fins.end(), "customresourcecleanup.apiextensions.k8s.io") == fins.end())
        fins.push_back("customresourcecleanup.apiextensions.k8s.io");
    }
  }
  if (!c.type.custom && c.type.kind != "CustomResourceDefinition") {
    // Upstream validates decoded, defaulted objects.
    api::ApplyDefaults(c.type, o);
    api::ValidateObject(c.type, *o, old, &errs);
  }
  if (!errs.empty()) {
    *err = ApiError::Invalid(c.type, name, errs);
    return false;
  }
  return true;
}

// Namespaced writes need an existing namespace that is not terminating.
bool CheckNamespace(Call& c, const std::string& name, ApiError* err) {
  if (!c.type.namespaced) return true;
  store::KeyValue kv;
  store::Status s = c.state->Get(NamespaceType().storage_key("", c.info.ns), &kv);
  if (s.IsNotFound()) {
    *err = ApiError::NotFound(NamespaceType(), c.info.ns);
    return false;
  }
  if (!s.ok()) {
    *err = ApiError::FromStore(s, NamespaceType(), c.info.ns);
    return false;
  }
  if (Decode(kv)["metadata"].contains("deletionTimestamp")) {
    *err = ApiError::Forbidden(c.type.plural + " \"" + name + "\" is forbidden: unable to create new content in namespace " +
                               c.info.ns + " because it is being terminated");
    return false;
  }
  return true;
}

void Get(Call& c) {
  store::KeyValue kv;
  store::Status s = c.state->Get(c.key(c.info.name), &kv);
  if (!s.ok()) return SendError(c.resp, ApiError::FromStore(s, c.type, c.info.name));
  Json o = DecodeAs(c.type, kv);
  if (WantsTable(c.req)) {
    Json t = api::ToTable(c.type, {o}, c.req.Param("includeObject"));
    t["metadata"]["resourceVersion"] = std::to_string(kv.mod_revision);
    return SendJson(c.resp, 200, t);
  }
  SendJson(c.resp, 200, o);
}

bool ParseSelectors(Call& c, api::LabelSelector* ls, api::FieldSelector* fs) {
  std::string err;
  if (!api::LabelSelector::Parse(c.req.Param("labelSelector"), ls, &err)) {
    SendError(c.resp, ApiError::BadRequest("unable to parse requirement: " + err));
    return false;
  }
  if (!api::FieldSelector::Parse(c.req.Param("fieldSelector"), fs, &err)) {
    SendError(c.resp, ApiError::BadRequest(err));
    return false;
  }
  return true;
}

bool Matches(const Json& o, const api::LabelSelector& ls, const api::FieldSelector& fs) {
  const Json& meta = o["metadata"];
  return ls.Matches(meta.contains("labels") ? meta["labels"] : Json()) && fs.Matches(o);
}

// Whether objects can be served as stored (stored_json.h): no version to
// convert, and no selector but the name, which the key holds.
bool ServeAsStored(const ResourceType& t, const api::LabelSelector& ls, const api::FieldSelector& fs) {
  std::string name;
  return !api::StoredInOtherVersion(t) && ls.empty() &&
         (fs.empty() || (fs.size() == 1 && fs.Exact("metadata.name", &name)));
}

std::string NameOfKey(const std::string& key) { return key.substr(key.rfind('/') + 1); }

void List(Call& c) {
  api::LabelSelector ls;
  api::FieldSelector fs;
  if (!ParseSelectors(c, &ls, &fs)) return;
  int64_t limit = 0;
  std::string limit_s = c.req.Param("limit");
  if (!limit_s.empty()) limit = std::max<int64_t>(0, std::atoll(limit_s.c_str()));
  store::ListOptions lo;
  lo.continue_token = c.req.Param("continue");
  std::string rv = c.req.Param("resourceVersion");
  if (!rv.empty() && rv != "0" && c.req.Param("resourceVersionMatch") == "Exact")
    lo.revision = std::atoll(rv.c_str());
  // Filtering happens after reading, so read pages until `limit` items match.
  // Without a table or a selector to evaluate, items go out as stored.
  const bool as_stored = !WantsTable(c.req) && ServeAsStored(c.type, ls, fs);
  std::string only_name;
  fs.Exact("metadata.name", &only_name);
  std::string raw_items;
  int64_t raw_count = 0;
  std::vector<Json> items;
  std::string next;
  store::Revision at = 0;
  for (;;) {
    lo.limit = limit > 0 ? std::max<int64_t>(limit - static_cast<int64_t>(items.size()) - raw_count, 1) : 0;
    store::ListResult r;
    store::Status s = c.state->List(c.list_prefix(), lo, &r);
    if (s.IsGone() && !lo.continue_token.empty()) {
      ApiError e = ApiError::Gone(
          "The provided continue parameter is too old to display a consistent list result. You "
          "can start a new list without the continue parameter, or use the continue token in "
          "this response to retrieve the remainder of the results. Continuing with the provided "
          "token results in an inconsistent list - objects that were created, modified, or "
          "deleted between the time the first chunk was returned and now may show up in the "
          "list.");
      e.reason = "Expired";
      return SendError(c.resp, e);
    }
    if (!s.ok()) return SendError(c.resp, ApiError::FromStore(s, c.type, ""));
    at = r.revision;
    for (const auto& kv : r.items) {
      if (as_stored) {
        if (!only_name.empty() && NameOfKey(kv->key) != only_name) continue;
        std::string raw;
        if (!SpliceResourceVersion(kv->value, kv->mod_revision, &raw, true)) {
          Json o = DecodeAs(c.type, *kv);
          o.erase("apiVersion");
          o.erase("kind");
          raw = o.dump();
        }
        raw_items += (raw_count++ ? "," : "") + raw;
        continue;
      }
      Json o = DecodeAs(c.type, *kv);
      if (Matches(o, ls, fs)) items.push_back(std::move(o));
    }
    next = r.continue_token;
    int64_t matched = static_cast<int64_t>(items.size()) + raw_count;
    if (next.empty() || (limit > 0 && matched >= limit)) break;
    lo.continue_token = next;
    lo.revision = 0;
  }
  Json meta = {{"resourceVersion", std::to_string(at)}};
  if (!next.empty()) meta["continue"] = next;
  if (WantsTable(c.req)) {
    Json t = api::ToTable(c.type, items, c.req.Param("includeObject"));
    t["metadata"] = meta;
    return SendJson(c.resp, 200, t);
  }
  if (as_stored) {
    c.resp.SetHeader("Content-Type", "application/json");
    c.resp.Send(200, "{\"apiVersion\":" + Json(c.type.api_version()).dump() + ",\"items\":[" + raw_items +
                         "],\"kind\":" + Json(c.type.list_kind()).dump() + ",\"metadata\":" + meta.dump() + "}");
    return;
  }
  Json list = {{"kind", c.type.list_kind()}, {"apiVersion", c.type.api_version()},
               {"metadata", meta}, {"items", Json::array()}};
  for (auto& o : items) {
    // Items of a typed list carry no apiVersion/kind, as upstream.
    o.erase("apiVersion");
    o.erase("kind");
    list["items"].push_back(std::move(o));
  }
  SendJson(c.resp, 200, list);
}

void Create(Call& c) {
  Json o;
  ApiError err;
  if (!ParseBody(c.req, &o, &err)) return SendError(c.resp, err);
  CreateObject(c, std::move(o));
}

void CreateObject(Call& c, Json o) {
  ApiError err;
  if (!CheckTypeMeta(c.type, o, &err) || !CheckFields(c, &o, &err)) return SendError(c.resp, err);
  Json& meta = o["metadata"];
  if (c.type.namespaced) {
    std::string ns = meta.value("namespace", "");
    if (!ns.empty() && ns != c.info.ns)
      return SendError(c.resp, ApiError::BadRequest(
                                   "the namespace of the provided object does not match the "
                                   "namespace sent on the request"));
    meta["namespace"] = c.info.ns;
  } else {
    meta.erase("namespace");
  }
  if (meta.value("name", "").empty() && !meta.value("generateName", "").empty())
    meta["name"] = meta["generateName"].get<std::string>() + api::RandomSuffix(5);
  std::string name = meta.value("name", "");
  std::vector<api::FieldError> errs;
  api::ValidateObjectMeta(c.type, meta, true, &errs);
  if (!errs.empty()) return SendError(c.resp, ApiError::Invalid(c.type, name, errs));
  meta["uid"] = api::NewUID();
  bool builtin = !c.type.custom;
  // Status is the controllers' to write (through /status): a new object
  // starts without one, as upstream's PrepareForCreate; nodes register
  // with theirs.
  if (c.type.has_status && !(builtin && c.type.kind == "Node" && c.type.group.empty())) o.erase("status");
  if (builtin && c.type.kind == "Job" && c.type.group == "batch") GenerateJobSelector(&o);
  if (!MutateOnAdmission(c, &o, &err)) return SendError(c.resp, err);
  if (!CheckKind(c, &o, nullptr, &err)) return SendError(c.resp, err);
  if (builtin && c.type.kind == "Pod" && c.type.group.empty()) PreparePodCreate(&o);
  if (!CheckNamespace(c, name, &err)) return SendError(c.resp, err);
  std::unique_lock<std::mutex> allocating;
  if (builtin && c.type.kind == "Service" && c.type.group.empty()) {
    allocating = LockServiceAllocation();
    if (!PrepareServiceCreate(c, &o, &err)) return SendError(c.resp, err);
  }
  meta["creationTimestamp"] = api::Now();
  meta.erase("resourceVersion");
  meta.erase("deletionTimestamp");
  meta.erase("deletionGracePeriodSeconds");
  if (o.contains("spec")) meta["generation"] = 1;
  if (c.type.kind == "Namespace") {
    meta["labels"]["kubernetes.io/metadata.name"] = name;
    // Every namespace is emptied by the namespace controller before it goes.
    if (!o["spec"].is_object()) o["spec"] = Json::object();
    Json& fins = o["spec"]["finalizers"];
    if (!fins.is_array()) fins = Json::array();
    if (std::find(fins.begin(), fins.end(), "kubernetes") == fins.end()) fins.push_back("kubernetes");
    o["status"] = {{"phase", "Active"}};
  }
  if (!c.applying) api::TrackUpdate(c.type, nullptr, &o, c.manager(), "");
  if (!ValidateOnAdmission(c, o, nullptr, &err)) return SendError(c.resp, err);
  if (c.dry_run()) return SendJson(c.resp, 201, o);
  store::KeyValue kv;
  o["metadata"].erase("resourceVersion");
  std::string stored = EncodeAs(c.type, o);
  store::Status s = c.state->Create(c.key(name), stored, {}, &kv);
  if (!s.ok()) return SendError(c.resp, ApiError::FromStore(s, c.type, name));
  // The answer is what was stored, with its version (no second encoding).
  std::string answer;
  if (!api::StoredInOtherVersion(c.type) && SpliceResourceVersion(stored, kv.mod_revision, &answer)) {
    c.resp.SetHeader("Content-Type", "application/json");
    c.resp.Send(201, answer);
    return;
  }
  SendJson(c.resp, 201, WithVersion(std::move(o), kv.mod_revision));
}


// Validates `o` as the next version of `cur` and writes it with CAS on
// `expected`. Keeps what the server owns (uid, creation time, status
// unless this is the status subresource) and bumps generation on spec
// changes. Writes nothing when nothing changed.
Written WriteUpdate(Call& c, Json o, const store::KeyValue& cur, store::Revision expected) {
  Written w;
  const std::string& name = c.info.name;
  Json old = DecodeAs(c.type, cur);
  Json& meta = o["metadata"];
  std::vector<api::FieldError> errs;
  api::ValidateObjectMeta(c.type, meta, false, &errs);
  if (!errs.empty()) {
    w.error = ApiError::Invalid(c.type, name, errs);
    return w;
  }
  std::unique_lock<std::mutex> allocating;
  if (c.info.subresource.empty() && !c.type.custom && c.type.kind == "Service" && c.type.group.empty()) {
    allocating = LockServiceAllocation();
    if (!PrepareServiceUpdate(c, old, &o, &w.error)) return w;
  }
  if (c.info.subresource.empty() && !CheckKind(c, &o, &old, &w.error)) return w;
  for (const char* f : {"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"}) {
    if (old["metadata"].contains(f)) meta[f] = old["metadata"][f];
    else meta.erase(f);
  }
  if (c.info.subresource == "status") {
    // Only the status changes through /status.
    Json next = old;
    if (o.contains("status")) next["status"] = o["status"];
    else next.erase("status");
    // An apply to /status brings its managedFields along.
    if (c.applying && o["metadata"].contains("managedFields"))
      next["metadata"]["managedFields"] = o["metadata"]["managedFields"];
    o = std::move(next);
  } else if (c.type.has_status) {
    if (old.contains("status")) o["status"] = old["status"];
    else o.erase("status");
  }
  // A namespace's finalizers change only through /finalize.
  if (c.type.kind == "Namespace" && !c.type.custom && c.info.subresource.empty()) {
    const Json fins = old.contains("spec") && old["spec"].is_object()
                          ? old["spec"].value("finalizers", Json()) : Json();
    if (!fins.is_null()) o["spec"]["finalizers"] = fins;
    else if (o.contains("spec") && o["spec"].is_object()) o["spec"].erase("finalizers");
  }
  Json& m = o["metadata"];
  if (old["metadata"].contains("generation")) {
    int64_t gen = old["metadata"]["generation"].get<int64_t>();
    bool spec_changed = old.value("spec", Json()) != o.value("spec", Json());
    m["generation"] = spec_changed ? gen + 1 : gen;
  }
  m["resourceVersion"] = std::to_string(cur.mod_revision);
  if (!c.applying)
    api::TrackUpdate(c.type, &old, &o, c.manager(),
                     c.tracked_subresource.empty() ? c.info.subresource : c.tracked_subresource);
  if (old == o) {  // nothing to write
    w.ok = true;
    w.object = old;
    return w;
  }
  if (!ValidateOnAdmission(c, o, &old, &w.error)) return w;
  if (c.dry_run()) {
    w.ok = true;
    w.object = o;
    return w;
  }
  // The last finalizer of an object being deleted is gone: delete it. A
  // namespace also waits for its spec.finalizers (upstream's
  // ShouldDeleteNamespaceDuringUpdate): the namespace controller writes
  // its status conditions while it empties the namespace.
  bool spec_held = c.type.kind == "Namespace" && o.contains("spec") && o["spec"].is_object() &&
                   o["spec"].contains("finalizers") && o["spec"]["finalizers"].is_array() &&
                   !o["spec"]["finalizers"].empty();
  if (m.contains("deletionTimestamp") && !spec_held &&
      (!m.contains("finalizers") || !m["finalizers"].is_array() || m["finalizers"].empty())) {
    store::Status s = c.state->Delete(c.key(name), expected);
    if (!s.ok()) {
      w.error = ApiError::FromStore(s, c.type, name);
      return w;
    }
    w.ok = true;
    w.object = o;
    return w;
  }
  store::KeyValue kv;
  store::Status s = c.state->Update(c.key(name), EncodeAs(c.type, o), expected, {}, &kv);
  if (!s.ok()) {
    w.error = ApiError::FromStore(s, c.type, name);
    return w;
  }
  w.ok = true;
  w.object = WithVersion(std::move(o), kv.mod_revision);
  return w;
}

// Checks the name and namespace in a body against the URL.
bool CheckIdentity(Call& c, Json& o, ApiError* err) {
  Json& meta = o["metadata"];
  std::string name = meta.value("name", "");
  if (name != c.info.name) {
    *err = ApiError::BadRequest("the name of the object (" + name +
                                ") does not match the name on the URL (" + c.info.name + ")");
    return false;
  }
  if (c.type.namespaced) {
    std::string ns = meta.value("namespace", "");
    if (!ns.empty() && ns != c.info.ns) {
      *err = ApiError::BadRequest(
          "the namespace of the provided object does not match the namespace sent on the "
          "request");
      return false;
    }
    meta["namespace"] = c.info.ns;
  }
  return true;
}

void Update(Call& c) {
  Json o;
  ApiError err;
  if (!ParseBody(c.req, &o, &err) || !CheckTypeMeta(c.type, o, &err) ||
      !CheckIdentity(c, o, &err) || !CheckFields(c, &o, &err))
    return SendError(c.resp, err);
  store::KeyValue cur;
  store::Status s = c.state->Get(c.key(c.info.name), &cur);
  if (s.IsNotFound() && c.type.create_on_update && c.info.subresource.empty()) return Create(c);
  if (!s.ok()) return SendError(c.resp, ApiError::FromStore(s, c.type, c.info.name));
  store::Revision expected = cur.mod_revision;
  std::string rv = o["metadata"].value("resourceVersion", "");
  if (!rv.empty()) {
    expected = std::atoll(rv.c_str());
    if (expected != cur.mod_revision)
      return SendError(c.resp, ApiError::FromStore(store::Status::Conflict(""), c.type, c.info.name));
  }
  Written w = WriteUpdate(c, std::move(o), cur, expected);
  if (!w.ok) return SendError(c.resp, w.error);
  SendJson(c.resp, 200, w.object);
}

// Server-side apply: PATCH with application/apply-patch+yaml.
void Apply(Call& c) {
  Json applied;
  ApiError err;
  if (!ParseBody(c.req, &applied, &err)) return SendError(c.resp, err);
  if (c.req.Param("fieldManager").empty())
    return SendError(c.resp, ApiError{422, "Invalid",
                                      "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: "
                                      "Required value: is required for apply patch"});
  bool force = c.req.Param("force") == "true";
  c.applying = true;
  for (int attempt = 0;; attempt++) {
    store::KeyValue cur;
    store::Status s = c.state->Get(c.key(c.info.name), &cur);
    if (!s.ok() && !s.IsNotFound()) return SendError(c.resp, ApiError::FromStore(s, c.type, c.info.name));
    Json live = s.ok() ? DecodeAs(c.type, cur) : Json();
    Json result;
    api::ApplyError ae;
    api::ManagedFieldsOptions mfo;
    mfo.subresource = c.info.subresource;
    if (!api::ServerSideApply(c.type, live, applied, c.req.Param("fieldManager"), force, &result, &ae,
                              mfo)) {
      ApiError e{ae.code ? ae.code : 500, ae.reason.empty() ? "InternalError" : ae.reason, ae.message};
      e.details_name = c.info.name;
      e.details_group = c.type.group;
      e.details_kind = c.type.plural;
      for (const auto& cause : ae.causes)
        e.other_causes.push_back({cause.value("reason", ""), cause.value("message", ""), cause.value("field", "")});
      return SendError(c.resp, e);
    }
    if (!s.ok()) return CreateObject(c, std::move(result));
    ApiError terr;
    if (!CheckTypeMeta(c.type, result, &terr) || !CheckIdentity(c, result, &terr) ||
        !CheckFields(c, &result, &terr))
      return SendError(c.resp, terr);
    Written w = WriteUpdate(c, std::move(result), cur, cur.mod_revision);
    if (w.ok) return SendJson(c.resp, 200, w.object);
    if (w.error.code != 409 || w.error.reason != "Conflict" || attempt >= 8)
      return SendError(c.resp, w.error);
  }
}

void Patch(Call& c) {
  std::string ct = c.req.Header("content-type");
  ct = ct.substr(0, ct.find(';'));
  if (ct == "application/apply-patch+yaml" || ct == "application/apply-patch+cbor") return Apply(c);
  Json patch;
  try {
    patch = Json::parse(c.req.body);
  } catch (const std::exception& e) {
    return SendError(c.resp, ApiError::BadRequest(std::string("error decoding patch: ") + e.what()));
  }
  // Conflicts with concurrent writers are retried, as upstream's
  // GuaranteedUpdate does, unless the patch names a resourceVersion.
  for (int attempt = 0;; attempt++) {
    store::KeyValue cur;
    store::Status s = c.state->Get(c.key(c.info.name), &cur);
    if (!s.ok()) return SendError(c.resp, ApiError::FromStore(s, c.type, c.info.name));
    Json old = DecodeAs(c.type, cur), next;
    std::string error;
    try {
      if (ct == "application/json-patch+json") {
        if (!patch.is_array())
          return SendError(c.resp, ApiError::BadRequest("json patch must be a JSON array"));
        next = old.patch(patch);
      } else if (ct == "application/merge-patch+json") {
        next = old;
        next.merge_patch(patch);
      } else if (ct == "application/strategic-merge-patch+json" && c.type.custom) {
        return SendError(c.resp, {415, "UnsupportedMediaType",
                                  "the body of the request was in an unknown format - accepted "
                                  "media types include: application/json-patch+json, "
                                  "application/merge-patch+json, application/apply-patch+yaml"});
      } else if (ct == "application/strategic-merge-patch+json") {
        if (!api::StrategicMerge(c.type.api_version(), c.type.kind, old, patch, &next, &error))
          return SendError(c.resp, ApiError::BadRequest(error));
      } else {
        return SendError(c.resp, {415, "UnsupportedMediaType",
                                  "the body of the request was in an unknown format - accepted "
                                  "media types include: application/json-patch+json, "
                                  "application/merge-patch+json, "
                                  "application/strategic-merge-patch+json"});
      }
    } catch (const std::exception& e) {
      ApiError err{422, "Invalid", std::string("the server rejected our request due to an error in our request: ") + e.what()};
      return SendError(c.resp, err);
    }
    ApiError err;
    if (!next.is_object() || !CheckTypeMeta(c.type, next, &err) || !CheckIdentity(c, next, &err) ||
        !CheckFields(c, &next, &err)) {
      if (err.message.empty()) err = ApiError::BadRequest("the patch did not produce an object");
      return SendError(c.resp, err);
    }
    std::string rv = next["metadata"].value("resourceVersion", "");
    bool pinned = !rv.empty() && rv != std::to_string(cur.mod_revision);
    if (pinned)
      return SendError(c.resp, ApiError::FromStore(store::Status::Conflict(""), c.type, c.info.name));
    Written w = WriteUpdate(c, std::move(next), cur, cur.mod_revision);
    if (w.ok) return SendJson(c.resp, 200, w.object);
    bool patch_names_rv = patch.is_object() && patch.contains("metadata") &&
                          patch["metadata"].is_object() && patch["metadata"].contains("resourceVersion");
    if (w.error.code != 409 || w.error.reason != "Conflict" || patch_names_rv || attempt >= 8)
      return SendError(c.resp, w.error);
  }
}

// DeleteOptions from the body (or none): parsed, and preconditions checked
// against the live object.
bool ParseDeleteOptions(Call& c, const Json& live, Json* opts, ApiError* err) {
  *opts = Json::object();
  if (!c.req.body.empty() && !ParseBody(c.req, opts, err)) return false;
  return CheckPreconditions(c, live, *opts, err);
}

bool CheckPreconditions(Call& c, const Json& live, const Json& opts, ApiError* err) {
  const std::string& name = c.info.name;
  if (!opts.contains("preconditions") || !opts["preconditions"].is_object()) return true;
  const Json& p = opts["preconditions"];
  std::string uid = live["metadata"].value("uid", ""), rv = live["metadata"].value("resourceVersion", "");
  if (p.contains("uid") && p["uid"].is_string() && p["uid"] != uid) {
    *err = ApiError::Conflict(c.type, name, "Precondition failed: UID in precondition: " +
                                                p["uid"].get<std::string>() + ", UID in object meta: " + uid);
    return false;
  }
  if (p.contains("resourceVersion") && p["resourceVersion"].is_string() && p["resourceVersion"] != rv) {
    *err = ApiError::Conflict(c.type, name,
                              "Precondition failed: ResourceVersion in precondition: " +
                                  p["resourceVersion"].get<std::string>() +
                                  ", ResourceVersion in object meta: " + rv);
    return false;
  }
  return true;
}

Json DeletedStatus(const ResourceType& t, const Json& o) {
  return {{"kind", "Status"},
          {"apiVersion", "v1"},
          {"metadata", Json::object()},
          {"status", "Success"},
          {"details",
           {{"name", o["metadata"].value("name", "")}, {"group", t.group}, {"kind", t.plural},
            {"uid", o["metadata"].value("uid", "")}}}};
}

// The grace period a DELETE asks for: -1 when the kind is not deleted
// gracefully (everything but pods), else seconds (0: at once).
int64_t GracePeriod(Call& c, const Json& live, const Json& opts) {
  if (c.type.kind != "Pod" || c.type.custom) return -1;
  return PodGracePeriod(live, opts);
}

// The garbage collector's finalizers a DELETE asks for, as upstream's
// deletionFinalizersForGarbageCollection: propagationPolicy (body or
// query), else the deprecated orphanDependents, else the kind's default
// (Orphan for batch/v1 Jobs and v1 ReplicationControllers, kept for old
// clients; Background for the rest). Orphan adds "orphan", Foreground
// "foregroundDeletion", Background neither; the other is dropped. The
// garbage collector does the work and removes its finalizer. False with
// *err on a policy that does not exist.
bool ApplyPropagationPolicy(Call& c, const Json& opts, Json* meta, ApiError* err) {
  std::string policy = opts.value("propagationPolicy", "");
  if (policy.empty()) policy = c.req.Param("propagationPolicy");
  if (policy.empty() && opts.contains("orphanDependents") && opts["orphanDependents"].is_boolean())
    policy = opts["orphanDependents"].get<bool>() ? "Orphan" : "Background";
  if (policy.empty() && c.req.Param("orphanDependents") != "")
    policy = c.req.Param("orphanDependents") == "true" ? "Orphan" : "Background";
  if (policy.empty()) {
    bool legacy_orphan = !c.type.custom && ((c.type.group == "batch" && c.type.kind == "Job") ||
                                            (c.type.group.empty() && c.type.kind == "ReplicationController"));
    policy = legacy_orphan ? "Orphan" : "Background";
  }
  if (policy != "Orphan" && policy != "Foreground" && policy != "Background") {
    *err = {422, "Invalid",
            "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"" + policy +
                "\": supported values: \"Foreground\", \"Background\", \"Orphan\""};
    return false;
  }
  Json fins = Json::array();
  for (const Json& f : meta->value("finalizers", Json::array()))
    if (!(f == "orphan" && policy != "Orphan") && !(f == "foregroundDeletion" && policy != "Foreground"))
      fins.push_back(f);
  const char* wanted = policy == "Orphan" ? "orphan" : policy == "Foreground" ? "foregroundDeletion" : nullptr;
  if (wanted && std::find(fins.begin(), fins.end(), Json(wanted)) == fins.end()) fins.push_back(wanted);
  if (fins.empty()) meta->erase("finalizers");
  else (*meta)["finalizers"] = fins;
  return true;
}

bool DeleteObject(Call& c, const Json* given_opts, Json* result, ApiError* err) {
  const std::string& name = c.info.name;
  for (int attempt = 0;; attempt++) {
    store::KeyValue cur;
    store::Status s = c.state->Get(c.key(name), &cur);
    if (!s.ok()) {
      *err = ApiError::FromStore(s, c.type, name);
      return false;
    }
    Json old = DecodeAs(c.type, cur), opts;
    if (given_opts) {
      opts = *given_opts;
      if (!CheckPreconditions(c, old, opts, err)) return false;
    } else if (!ParseDeleteOptions(c, old, &opts, err)) {
      return false;
    }
    Json next = old;
    Json& meta = next["metadata"];
    // Namespaces empty themselves (the namespace controller), not by the
    // garbage collector's finalizers.
    if (c.type.kind != "Namespace" && !ApplyPropagationPolicy(c, opts, &meta, err)) return false;
    bool has_finalizers = meta.contains("finalizers") && !meta["finalizers"].empty();
    int64_t grace = GracePeriod(c, old, opts);
    if (grace > 0 || has_finalizers) {
      // Graceful deletion (the kubelet stops the pod, then deletes it with
      // grace 0) or finalizers (whoever owns each removes theirs; the last
      // removal deletes the object): mark the object and keep it.
      if (grace < 0) grace = 0;
      // A second DELETE may only shorten the grace period, or change the
      // propagation policy (the garbage collector's finalizers).
      if (meta.contains("deletionTimestamp") &&
          meta.value("deletionGracePeriodSeconds", int64_t{0}) <= grace) {
        if (meta.value("finalizers", Json()) == old["metadata"].value("finalizers", Json())) {
          *result = old;
          return true;
        }
      } else {
        meta["deletionTimestamp"] = api::TimeAfter(grace);
        meta["deletionGracePeriodSeconds"] = grace;
      }
      if (c.dry_run()) {
        *result = next;
        return true;
      }
      store::KeyValue kv;
      s = c.state->Update(c.key(name), EncodeAs(c.type, next), cur.mod_revision, {}, &kv);
      if (s.IsConflict() && attempt < 8) continue;
      if (!s.ok()) {
        *err = ApiError::FromStore(s, c.type, name);
        return false;
      }
      *result = DecodeAs(c.type, kv);
      return true;
    }
    if (!c.dry_run()) {
      s = c.state->Delete(c.key(name), cur.mod_revision);
      if (s.IsConflict() && attempt < 8) continue;
      if (!s.ok()) {
        *err = ApiError::FromStore(s, c.type, name);
        return false;
      }
    }
    // Upstream answers a DELETE that removed a pod with the pod itself.
    *result = c.type.kind == "Pod" && !c.type.custom ? old : DeletedStatus(c.type, old);
    return true;
  }
}

void Delete(Call& c) {
  Json result;
  ApiError err;
  if (!DeleteObject(c, nullptr, &result, &err)) return SendError(c.resp, err);
  SendJson(c.resp, 200, result);
}

void Watch(Call& c) {
  api::LabelSelector ls;
  api::FieldSelector fs;
  if (!ParseSelectors(c, &ls, &fs)) return;
  std::string rv = c.req.Param("resourceVersion");
  bool bookmarks = c.req.Param("allowWatchBookmarks") == "true";
  int64_t timeout = 0;
  if (!c.req.Param("timeoutSeconds").empty()) timeout = std::atoll(c.req.Param("timeoutSeconds").c_str());
  if (timeout <= 0) timeout = 1800 + std::random_device{}() % 1800;  // upstream: 30-60 min
  std::string prefix = c.list_prefix();
  if (!c.info.name.empty()) fs = api::FieldSelector();  // a named watch: the name decides below
  std::string only_name = c.info.name;
  if (only_name.empty()) fs.Exact("metadata.name", &only_name);

  auto type_name = [&](store::Event::Type t) {
    return t == store::Event::Type::kAdded ? "ADDED" : t == store::Event::Type::kModified ? "MODIFIED" : "DELETED";
  };
  auto wanted = [&](const Json& o) {
    return (only_name.empty() || o["metadata"].value("name", "") == only_name) && Matches(o, ls, fs);
  };

  // Without a selector to evaluate or a version to convert, events go out
  // as stored: no watcher parses what it only passes on.
  const bool as_stored = ServeAsStored(c.type, ls, fs);
  auto event_as_stored = [&](const char* type, const store::KeyValue& kv, store::Revision rev, std::string* out) {
    std::string obj;
    if (!SpliceResourceVersion(kv.value, rev, &obj)) return false;
    *out = std::string("{\"type\":\"") + type + "\",\"object\":" + obj + "}\n";
    return true;
  };

  std::vector<std::string> initial;
  store::Revision start = 0;
  if (rv.empty() || rv == "0") {
    // No version: the current state as ADDED events, then changes.
    store::ListResult r;
    store::Status s = c.state->List(prefix, {}, &r);
    if (!s.ok()) return SendError(c.resp, ApiError::FromStore(s, c.type, ""));
    for (const auto& kv : r.items) {
      std::string line;
      if (as_stored && !only_name.empty() && NameOfKey(kv->key) != only_name) continue;
      if (as_stored && event_as_stored("ADDED", *kv, kv->mod_revision, &line)) {
        initial.push_back(std::move(line));
        continue;
      }
      Json o = DecodeAs(c.type, *kv);
      if (wanted(o)) initial.push_back(Json({{"type", "ADDED"}, {"object", o}}).dump() + "\n");
    }
    start = r.revision + 1;
  } else {
    start = std::atoll(rv.c_str()) + 1;
  }
  std::unique_ptr<store::Watcher> w;
  store::Status s = c.state->Watch(prefix, start, &w);
  c.resp.SetHeader("Content-Type", "application/json");
  if (!c.resp.StartStream(200)) return;
  if (s.IsGone()) {
    ApiError e = ApiError::Gone("too old resource version: " + rv + " (" +
                                std::to_string(c.state->CompactRevision()) + ")");
    c.resp.Write(Json({{"type", "ERROR"}, {"object", Json::parse(e.ToJson())}}).dump() + "\n");
    return;
  }
  if (!s.ok()) return;
  for (const auto& line : initial)
    if (!c.resp.Write(line)) return;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout);
  auto next_bookmark = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  store::Revision last = start - 1;
  while (std::chrono::steady_clock::now() < deadline) {
    std::vector<store::EventPtr> events;
    s = w->Next(&events, std::chrono::milliseconds(1000));
    if (!s.ok()) {
      if (s.IsGone() || s.code() == store::Status::Code::kTooSlow) {
        ApiError e = ApiError::Gone("too old resource version: " + s.message());
        c.resp.Write(Json({{"type", "ERROR"}, {"object", Json::parse(e.ToJson())}}).dump() + "\n");
      }
      return;
    }
    for (const auto& ev : events) {
      last = ev->revision();
      if (as_stored) {
        if (!only_name.empty() && NameOfKey(ev->kv->key) != only_name) continue;
        std::string line;
        bool deleted = ev->type == store::Event::Type::kDeleted;
        const char* type = deleted ? "DELETED" : ev->type == store::Event::Type::kModified && ev->prev ? "MODIFIED" : "ADDED";
        if (deleted && !ev->prev) continue;
        if (event_as_stored(type, deleted ? *ev->prev : *ev->kv, deleted ? ev->revision() : ev->kv->mod_revision,
                            &line)) {
          if (!c.resp.Write(line)) return;
          continue;
        }
      }
      // An object that moved into or out of the selection is ADDED or DELETED for this watch.
      Json now = ev->type == store::Event::Type::kDeleted ? Json() : DecodeAs(c.type, *ev->kv);
      Json before = ev->prev ? DecodeAs(c.type, *ev->prev) : Json();
      bool in_now = !now.is_null() && wanted(now), in_before = !before.is_null() && wanted(before);
      std::string type;
      Json obj;
      if (ev->type == store::Event::Type::kDeleted) {
        if (!in_before) continue;
        type = "DELETED";
        obj = before;
        obj["metadata"]["resourceVersion"] = std::to_string(ev->revision());
      } else if (in_now && in_before) {
        type = type_name(ev->type);
        obj = now;
      } else if (in_now) {
        type = "ADDED";
        obj = now;
      } else if (in_before) {
        type = "DELETED";
        obj = now;
      } else {
        continue;
      }
      if (!c.resp.Write(Json({{"type", type}, {"object", obj}}).dump() + "\n")) return;
    }
    if (events.empty() && c.req.conn && c.req.conn->PeerGone()) return;
    if (bookmarks && std::chrono::steady_clock::now() >= next_bookmark) {
      last = std::max(last, c.state->CurrentRevision());
      Json bm = {{"kind", c.type.kind}, {"apiVersion", c.type.api_version()},
                 {"metadata", {{"resourceVersion", std::to_string(last)}}}};
      if (!c.resp.Write(Json({{"type", "BOOKMARK"}, {"object", bm}}).dump() + "\n")) return;
      next_bookmark = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    }
  }
}

// Each matching object is deleted as a DELETE of it would (finalizers and
// graceful deletion hold some); the answer lists what was matched.
void DeleteCollection(Call& c) {
  api::LabelSelector ls;
  api::FieldSelector fs;
  if (!ParseSelectors(c, &ls, &fs)) return;
  store::ListResult r;
  store::Status s = c.state->List(c.list_prefix(), {}, &r);
  if (!s.ok()) return SendError(c.resp, ApiError::FromStore(s, c.type, ""));
  Json list = {{"kind", c.type.list_kind()}, {"apiVersion", c.type.api_version()},
               {"metadata", {{"resourceVersion", std::to_string(r.revision)}}},
               {"items", Json::array()}};
  for (const auto& kv : r.items) {
    Json o = DecodeAs(c.type, *kv);
    if (!Matches(o, ls, fs)) continue;
    RequestInfo one = c.info;
    one.name = o["metadata"].value("name", "");
    one.ns = o["metadata"].value("namespace", "");
    Call item{c.state, one, c.type, c.req, c.resp, c.options};
    Json result;
    ApiError err;
    if (!DeleteObject(item, nullptr, &result, &err) && err.code != 404 && err.code != 409)
      return SendError(c.resp, err);
    list["items"].push_back(o);
  }
  SendJson(c.resp, 200, list);
}

// The autoscaling/v1 Scale of a scalable object.
Json ScaleOf(const Json& o) {
  const Json& meta = o["metadata"];
  std::string selector;
  const Json sel = o.contains("spec") ? o["spec"].value("selector", Json::object()) : Json::object();
  if (sel.is_object()) {
    const Json labels = sel.value("matchLabels", Json::object());  // outlives the loop
    for (const auto& [k, v] : labels.items())
      selector += (selector.empty() ? "" : ",") + k + "=" + (v.is_string() ? v.get<std::string>() : "");
    for (const auto& e : sel.value("matchExpressions", Json::array())) {
      std::string op = e.value("operator", ""), key = e.value("key", ""), vals;
      for (const auto& v : e.value("values", Json::array()))
        vals += (vals.empty() ? "" : ",") + (v.is_string() ? v.get<std::string>() : "");
      std::string term = op == "In" ? key + " in (" + vals + ")"
                         : op == "NotIn" ? key + " notin (" + vals + ")"
                         : op == "Exists" ? key : "!" + key;
      selector += (selector.empty() ? "" : ",") + term;
    }
  }
  Json scale = {{"kind", "Scale"},
                {"apiVersion", "autoscaling/v1"},
                {"metadata",
                 {{"name", meta.value("name", "")},
                  {"namespace", meta.value("namespace", "")},
                  {"uid", meta.value("uid", "")},
                  {"resourceVersion", meta.value("resourceVersion", "")},
                  {"creationTimestamp", meta.value("creationTimestamp", "")}}},
                {"spec", {{"replicas", o.contains("spec") ? o["spec"].value("replicas", 0) : 0}}},
                {"status", {{"replicas", o.contains("status") ? o["status"].value("replicas", 0) : 0}}}};
  if (!selector.empty()) scale["status"]["selector"] = selector;
  return scale;
}

// GET, PUT and PATCH of the scale subresource change only spec.replicas.
void Scale(Call& c) {
  for (int attempt = 0;; attempt++) {
    store::KeyValue cur;
    store::Status s = c.state->Get(c.key(c.info.name), &cur);
    if (!s.ok()) return SendError(c.resp, ApiError::FromStore(s, c.type, c.info.name));
    Json obj = DecodeAs(c.type, cur), scale = ScaleOf(obj);
    if (c.info.verb == "get") return SendJson(c.resp, 200, scale);
    Json next;
    ApiError err;
    std::string ct = c.req.Header("content-type");
    ct = ct.substr(0, ct.find(';'));
    try {
      if (c.info.verb == "update") {
        if (!ParseBody(c.req, &next, &err)) return SendError(c.resp, err);
      } else if (ct == "application/json-patch+json") {
        next = scale.patch(Json::parse(c.req.body));
      } else {
        next = scale;
        next.merge_patch(Json::parse(c.req.body));
      }
    } catch (const std::exception& e) {
      return SendError(c.resp, ApiError::BadRequest(std::string("error decoding patch: ") + e.what()));
    }
    if (!next.is_object() || !next.contains("spec") || !next["spec"].is_object() ||
        !next["spec"].contains("replicas") || !next["spec"]["replicas"].is_number_integer())
      return SendError(c.resp, ApiError::BadRequest("the scale must have spec.replicas"));
    int64_t replicas = next["spec"]["replicas"].get<int64_t>();
    if (replicas < 0)
      return SendError(c.resp, ApiError::Invalid(c.type, c.info.name,
                                                 {{"Invalid value", "spec.replicas",
                                                   "must be greater than or equal to 0",
                                                   std::to_string(replicas)}}));
    std::string rv = next.contains("metadata") && next["metadata"].is_object()
                         ? next["metadata"].value("resourceVersion", "") : "";
    if (!rv.empty() && rv != std::to_string(cur.mod_revision))
      return SendError(c.resp, ApiError::FromStore(store::Status::Conflict(""), c.type, c.info.name));
    obj["spec"]["replicas"] = replicas;
    RequestInfo main_info = c.info;
    main_info.subresource.clear();
    Call main{c.state, main_info, c.type, c.req, c.resp, c.options};
    main.tracked_subresource = "scale";  // upstream records scale writes so
    Written w = WriteUpdate(main, obj, cur, cur.mod_revision);
    if (w.ok) return SendJson(c.resp, 200, ScaleOf(w.object));
    if (w.error.code != 409 || !rv.empty() || attempt >= 8) return SendError(c.resp, w.error);
  }
}

}  // namespace rest_internal

bool ParseRequestBody(const net::HttpRequest& req, Json* out, ApiError* err) {
  return ParseBody(req, out, err);
}

void Rest::Serve(const RequestInfo& info, net::HttpRequest& req, net::HttpResponse& resp) {
  if (!info.type) return SendError(resp, ApiError::NotFoundPath());
  const ResourceType& t = *info.type;
  bool core = t.group.empty() && !t.custom;
  bool pod_sub = core && t.kind == "Pod" && (info.subresource == "binding" || info.subresource == "eviction");
  bool ns_sub = core && t.kind == "Namespace" && info.subresource == "finalize";
  if (!info.subresource.empty() && !(info.subresource == "status" && t.has_status) &&
      !(info.subresource == "scale" && t.has_scale) && !pod_sub && !ns_sub)
    return SendError(resp, ApiError::NotFoundPath());
  if (t.namespaced && info.ns.empty() && info.verb != "list" && info.verb != "watch")
    return SendError(resp, ApiError::NotFoundPath());
  Call c{state_, info, t, req, resp, &options_};
  if (core && t.kind == "Pod" && ServePod(c)) return;
  if (core && t.kind == "Namespace" && ServeNamespace(c)) return;
  if (pod_sub || ns_sub)
    return SendError(resp, ApiError::MethodNotAllowed(
                               "the server does not allow this method on the requested resource"));
  if (info.subresource == "scale") {
    if (info.verb == "get" || info.verb == "update" || info.verb == "patch") return Scale(c);
    return SendError(resp, ApiError::MethodNotAllowed(
                               "the server does not allow this method on the requested resource"));
  }
  if (info.verb == "get") return Get(c);
  if (info.verb == "list") return List(c);
  if (info.verb == "watch") return Watch(c);
  if (info.verb == "create" && info.name.empty()) return Create(c);
  if (info.verb == "update") return Update(c);
  if (info.verb == "patch") return Patch(c);
  if (info.verb == "delete") return Delete(c);
  if (info.verb == "deletecollection") return DeleteCollection(c);
  SendError(resp, ApiError::MethodNotAllowed("the server does not allow this method on the requested resource"));
}

}  // namespace kubit::apiserver
