// The pieces of the REST verbs (core/apiserver/rest.cc) that the
// kind-specific handlers (rest_pods.cc, rest_namespaces.cc,
// rest_services.cc) build on. Only those files include this header.
#pragma once

#include <nlohmann/json.hpp>
#include <cstdint>
#include <mutex>
#include <string>

#include "core/api/resources.h"
#include "core/apiserver/api_error.h"
#include "core/apiserver/request_info.h"
#include "core/apiserver/rest.h"
#include "net/http_server.h"
#include "store/store.h"

namespace kubit::apiserver::rest_internal {

using api::Json;
using api::ResourceType;

// Everything one request needs, so that each verb is a plain function.
struct Call {
  store::Store* state;
  const RequestInfo& info;
  const ResourceType& type;
  net::HttpRequest& req;
  net::HttpResponse& resp;
  const RestOptions* options = nullptr;

  bool applying = false;  // a server-side apply: managedFields come from the apply
  std::string tracked_subresource;  // managedFields subresource when not info.subresource

  bool dry_run() const { return req.Param("dryRun") == "All"; }
  std::string manager() const;
  std::string key(const std::string& name) const { return type.storage_key(info.ns, name); }
  std::string list_prefix() const {
    return type.storage_prefix() + (type.namespaced && !info.ns.empty() ? info.ns + "/" : "");
  }
};

const ResourceType& NamespaceType();
// The object as clients see it: the stored JSON plus resourceVersion.
Json Decode(const store::KeyValue& kv);
// The stored form: no resourceVersion (the store's revision is the truth).
std::string Encode(const Json& o);
// The same for objects of `t`, which may be stored in another version.
Json DecodeAs(const ResourceType& t, const store::KeyValue& kv);
std::string EncodeAs(const ResourceType& t, const Json& o);
// The written object as clients see it, without parsing back what was stored.
Json WithVersion(Json o, store::Revision rev);
bool ParseBody(const net::HttpRequest& req, Json* out, ApiError* err);
// Checks apiVersion/kind of a body against the type served at the path.
bool CheckTypeMeta(const ResourceType& t, Json& o, ApiError* err);
// Checks the name and namespace in a body against the URL.
bool CheckIdentity(Call& c, Json& o, ApiError* err);
// Creates `o` (a parsed body) as a new object of c.type.
void CreateObject(Call& c, Json o);

// The outcome of writing an object: the object to send, or an error.
struct Written {
  bool ok = false;
  Json object;
  ApiError error;
};
// Validates `o` as the next version of `cur` and writes it with CAS on
// `expected` (see rest.cc).
Written WriteUpdate(Call& c, Json o, const store::KeyValue& cur, store::Revision expected);

// The Status a successful DELETE of `o` answers with.
Json DeletedStatus(const ResourceType& t, const Json& o);

// Kind-specific verbs. Each returns true if it handled the request.
// DELETE of a namespace (Terminating until finalized) and PUT .../finalize.
bool ServeNamespace(Call& c);
// POST .../binding and .../eviction of a pod.
bool ServePod(Call& c);
// A new pod's status: Pending, with its QoS class.
void PreparePodCreate(Json* pod);
// The grace period of a pod's DELETE with options `opts`: 0 deletes at once.
int64_t PodGracePeriod(const Json& pod, const Json& opts);
// DELETE of one object with the DeleteOptions in the body (graceful for
// pods, held by finalizers).
void Delete(Call& c);
// The same with DeleteOptions given (an eviction's): the object to answer
// with (the marked object, or the Status of the removal) in *result.
bool DeleteObject(Call& c, const Json* opts, Json* result, ApiError* err);
bool ParseDeleteOptions(Call& c, const Json& live, Json* opts, ApiError* err);
bool CheckPreconditions(Call& c, const Json& live, const Json& opts, ApiError* err);
// Server-set fields of a Service on create (clusterIP, nodePorts) and on
// update (kept from the old object, allocated when the type needs more).
// The lock is held from allocation until the write.
std::unique_lock<std::mutex> LockServiceAllocation();
bool PrepareServiceCreate(Call& c, Json* o, ApiError* err);
bool PrepareServiceUpdate(Call& c, const Json& old, Json* o, ApiError* err);
store::Status EnsureKubernetesService(store::Store* state, const RestOptions& options);
// A Job's selector and pod labels from its uid, unless manualSelector.
void GenerateJobSelector(Json* job);

}  // namespace kubit::apiserver::rest_internal
