// Informer: a local, always-current copy of one resource (optionally one
// namespace, label/field selection) kept by list-then-watch, as client-go's
// reflector and shared index informer do. Lists, then watches from the
// list's resourceVersion (bookmarks on); lists again when the watch says
// 410 Gone; backs off on errors. Handlers hear of every change with the
// old and new object; objects that vanished while no watch was running are
// reported as deleted with final_state_unknown (upstream's tombstone).
//
// Objects are shared, immutable JSON: never modify one; copy it first.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/client/client.h"

namespace kubit::client {

using ObjectPtr = std::shared_ptr<const Json>;

// "namespace/name", or "name" for cluster-scoped objects (client-go's
// MetaNamespaceKeyFunc).
std::string ObjectKey(const Json& obj);
// The two halves of a key.
void SplitKey(const std::string& key, std::string* ns, std::string* name);

struct EventHandlers {
  std::function<void(const ObjectPtr& obj)> on_add;
  std::function<void(const ObjectPtr& old_obj, const ObjectPtr& new_obj)> on_update;
  // `final_state_unknown`: the deletion was missed (it happened while the
  // watch was down); `obj` is the last state seen.
  std::function<void(const ObjectPtr& obj, bool final_state_unknown)> on_delete;
};

// Values an object is indexed under ("the node it runs on", say).
using IndexFunc = std::function<std::vector<std::string>(const Json& obj)>;
// The index every informer has: by metadata.namespace.
inline constexpr const char* kNamespaceIndex = "namespace";

// An informer's default transform: drops metadata.managedFields.
void StripManagedFields(Json& object);

struct InformerOptions {
  std::string ns;         // empty: every namespace
  // label_selector, field_selector; selection.transform defaults to
  // StripManagedFields (no controller reads them; they are most of a
  // small object's bytes, as kube-controller-manager's informers drop them).
  ListOptions selection;
  // Failures of list and watch, for the log.
  std::function<void(const std::string& message)> log;
  std::chrono::milliseconds initial_backoff{800};
  std::chrono::milliseconds max_backoff{30000};
};

class Informer {
 public:
  // `client` must outlive the informer.
  Informer(Client* client, Resource resource, InformerOptions options = {});
  ~Informer();  // stops
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Handlers run on the informer's thread, one change at a time, in
  // order; they should be quick (enqueue a key) and must not add handlers.
  // A handler added after the start first hears of every cached object as
  // an add.
  void AddHandler(EventHandlers handlers);
  // May be added at any time; existing objects are indexed at once.
  void AddIndex(const std::string& name, IndexFunc fn);

  void Start();  // idempotent
  void Stop();   // idempotent; handlers are not called after it returns
  // The first list has been applied to the cache.
  bool HasSynced() const;
  // Waits for HasSynced up to `timeout`; its value.
  bool WaitForSync(std::chrono::milliseconds timeout) const;

  ObjectPtr Get(const std::string& key) const;  // null if absent
  ObjectPtr Get(const std::string& ns, const std::string& name) const;
  std::vector<ObjectPtr> List() const;
  std::vector<std::string> Keys() const;
  std::vector<ObjectPtr> ByIndex(const std::string& index, const std::string& value) const;
  // The resourceVersion the cache is current to.
  std::string ResourceVersion() const;

  const Resource& resource() const { return resource_; }

 private:
  enum class WatchEnd { kExpired, kEnded, kFailed };
  void Run();
  bool ListAndReplace(std::string* error);
  WatchEnd WatchOnce(std::string* error);
  // Cache changes; each tells the handlers after the cache is updated.
  void Upsert(const ObjectPtr& obj);
  void Remove(const std::string& key, const ObjectPtr& last, bool final_state_unknown);
  void IndexLocked(const std::string& key, const Json* old_obj, const Json* new_obj);
  bool SleepUnlessStopped(std::chrono::milliseconds d);
  void Log(const std::string& message) const;

  Client* client_;
  Resource resource_;
  InformerOptions opts_;

  mutable std::mutex mu_;  // the cache, indices and state below
  mutable std::condition_variable cv_;
  std::map<std::string, ObjectPtr> items_;
  std::map<std::string, IndexFunc> index_funcs_;
  // index name -> value -> keys
  std::map<std::string, std::map<std::string, std::set<std::string>>> indices_;
  std::string resource_version_;
  bool synced_ = false;
  bool started_ = false;
  bool stopping_ = false;
  WatchStream* watch_ = nullptr;  // the running watch, for Stop

  // Held while the cache changes and handlers run, so that a late handler's
  // replay and the live events never interleave.
  std::mutex dispatch_mu_;
  std::vector<EventHandlers> handlers_;

  std::thread thread_;
};

// One informer per (resource, namespace, selection) shared by every
// controller that asks: two controllers watching pods share one watch.
class SharedInformerFactory {
 public:
  explicit SharedInformerFactory(Client* client,
                                 std::function<void(const std::string&)> log = nullptr);
  ~SharedInformerFactory();  // stops every informer

  // The informer for this selection, made on first ask (not started).
  Informer* For(const Resource& resource, const std::string& ns = "",
                const ListOptions& selection = {});
  // Starts every informer made so far (later ones: call Start again).
  void Start();
  // Waits until every informer made so far has synced, up to `timeout`.
  bool WaitForSync(std::chrono::milliseconds timeout);
  void Stop();

 private:
  Client* client_;
  std::function<void(const std::string&)> log_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Informer>> informers_;
};

}  // namespace kubit::client
