// Client: how everything above core/apiserver talks to the cluster. Any
// resource by (group, version, plural), objects as JSON, errors as a
// client::Status decoded from the server's Status bodies. The same code
// runs over HTTPS (a kubeconfig: the agent's kubelet, tests) and over the
// in-process transport (the controllers, scheduler and kubelet inside
// `kubit server`), so the two can never behave differently.
//
// Namespaces: `ns` is the object's namespace; empty for cluster-scoped
// resources, and for a List or Watch across all namespaces.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "core/client/config.h"
#include "core/client/status.h"

namespace kubit::net {
class HttpClient;
}

namespace kubit::client {

using Json = nlohmann::json;

// A resource as REST paths name it: ("apps", "v1", "deployments").
struct Resource {
  std::string group;  // "" for the core group
  std::string version;
  std::string resource;  // the plural
};

struct ListOptions {
  std::string label_selector;  // "app=web,tier!=db"
  std::string field_selector;  // "spec.nodeName=node1"
  std::string resource_version;
  // List: the page size asked for; every page is fetched and the items
  // joined (0: one request for everything).
  int64_t page_size = 500;
  // Watch only.
  bool allow_watch_bookmarks = false;
  int64_t timeout_seconds = 0;  // 0: the server's choice
  // Applied to every object of a List's items and of watch events before
  // they are handed out (client-go's informer transform: caches keep only
  // what their controllers read).
  std::function<void(Json& object)> transform;
};

struct WriteOptions {
  std::string field_manager;
  bool dry_run = false;
};

enum class PatchType {
  kMerge,           // application/merge-patch+json
  kStrategicMerge,  // application/strategic-merge-patch+json
  kJson,            // application/json-patch+json
  kApply,           // server-side apply; needs a field manager
};

struct PatchOptions {
  std::string field_manager;
  bool force = false;  // apply: take over conflicting fields
  bool dry_run = false;
};

struct DeleteOptions {
  std::string propagation_policy;     // "Orphan", "Background", "Foreground"; empty: the kind's default
  int64_t grace_period_seconds = -1;  // -1: the object's own
  std::string precondition_uid;       // refused with a Conflict unless these match
  std::string precondition_resource_version;
  bool dry_run = false;
};

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK or ERROR (object: a Status)
  std::shared_ptr<const Json> object;
};

// One watch's events in order. A thread reads the stream; Next blocks until
// an event arrives or the stream ends.
class WatchStream {
 public:
  ~WatchStream();  // stops and waits for the reading thread
  WatchStream(const WatchStream&) = delete;
  WatchStream& operator=(const WatchStream&) = delete;

  // The next event; false when the stream has ended (the server's timeout,
  // Stop, or an error: see status()).
  bool Next(WatchEvent* event);
  // Ends the stream from any thread; a blocked Next returns false.
  void Stop();
  // Why the stream ended: OK for a normal end or Stop, else the error.
  Status status() const;

  struct Impl;

 private:
  friend class Client;
  explicit WatchStream(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

class Client {
 public:
  explicit Client(Config config);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  // A client from a kubeconfig (see LoadKubeconfig); false with *error.
  static bool FromKubeconfig(const std::string& path, const std::string& context,
                             std::unique_ptr<Client>* out, std::string* error);

  const Config& config() const { return config_; }

  Status Get(const Resource& r, const std::string& ns, const std::string& name, Json* out);
  // The whole list (kind <Kind>List, items, metadata.resourceVersion of
  // the first page: a consistent snapshot), however many pages it took.
  Status List(const Resource& r, const std::string& ns, const ListOptions& opts, Json* out);
  Status Create(const Resource& r, const std::string& ns, const Json& obj, Json* out = nullptr,
                const WriteOptions& opts = {});
  // PUT of obj (its metadata.name; metadata.resourceVersion for the
  // optimistic-concurrency check).
  Status Update(const Resource& r, const std::string& ns, const Json& obj, Json* out = nullptr,
                const WriteOptions& opts = {});
  Status UpdateStatus(const Resource& r, const std::string& ns, const Json& obj, Json* out = nullptr,
                      const WriteOptions& opts = {});
  // PUT of a subresource ("status", "scale", "finalize").
  Status UpdateSubresource(const Resource& r, const std::string& ns, const std::string& name,
                           const std::string& subresource, const Json& obj, Json* out = nullptr,
                           const WriteOptions& opts = {});
  Status GetSubresource(const Resource& r, const std::string& ns, const std::string& name,
                        const std::string& subresource, Json* out);
  // POST to a subresource: pods/binding, pods/eviction, serviceaccounts/token.
  Status CreateSubresource(const Resource& r, const std::string& ns, const std::string& name,
                           const std::string& subresource, const Json& body, Json* out = nullptr,
                           const WriteOptions& opts = {});
  // `patch` is JSON text (apply: a JSON or YAML object). `subresource`
  // patches e.g. the status instead.
  Status Patch(const Resource& r, const std::string& ns, const std::string& name, PatchType type,
               const std::string& patch, Json* out = nullptr, const PatchOptions& opts = {},
               const std::string& subresource = "");
  // *out, if given: the deleted object, or the object still waiting on its
  // finalizers or grace period.
  Status Delete(const Resource& r, const std::string& ns, const std::string& name,
                const DeleteOptions& opts = {}, Json* out = nullptr);
  Status DeleteCollection(const Resource& r, const std::string& ns, const ListOptions& selection,
                          const DeleteOptions& opts = {});
  // Starts a watch; returns once the server has accepted it (an error
  // such as 403 comes back here; a too old resourceVersion may also come
  // as the first event, an ERROR with a 410 Status).
  Status Watch(const Resource& r, const std::string& ns, const ListOptions& opts,
               std::unique_ptr<WatchStream>* out);
  // Any request by path ("/apis", "/version"): discovery and the rest.
  // `body` is sent as `content_type` when not empty.
  Status Raw(const std::string& method, const std::string& path_and_query, const std::string& body,
             const std::string& content_type, Json* out);

 private:
  Config config_;
  std::shared_ptr<net::HttpClient> http_;
};

// The REST path of a resource, a named object and a subresource:
// "/apis/apps/v1/namespaces/web/deployments/front/scale". Names are
// percent-encoded.
std::string ResourcePath(const Resource& r, const std::string& ns, const std::string& name = "",
                         const std::string& subresource = "");
// Percent-encoding of a query value or path segment.
std::string QueryEscape(const std::string& s);

}  // namespace kubit::client
