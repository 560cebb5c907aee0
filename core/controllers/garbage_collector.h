// GarbageCollector: deletes objects whose owners are gone, as upstream's
// garbage collector does over ownerReferences, for every resource the
// server serves (from discovery, custom resources included; looked at
// again every `rediscover_period` so that new CRDs are covered).
//
//   - an object all of whose owners are gone (absent, or a different uid
//     under that name: a dangling reference) is deleted; owners that still
//     exist keep it, and the dangling references are dropped from it;
//   - an owner deleted with propagationPolicy Foreground (finalizer
//     "foregroundDeletion") has its dependents deleted first; the
//     finalizer goes once no dependent with blockOwnerDeletion remains;
//   - an owner deleted with Orphan (finalizer "orphan") has its reference
//     removed from every dependent, then the finalizer;
//   - Background (no finalizer): the owner goes at once and its
//     dependents follow as dangling ones.
// Whether an owner is gone is checked against the server, never only the
// cache, so a lagging informer cannot get an object deleted. An owner of
// a kind the server does not serve counts as alive until the kind is
// discovered; then its dependents are judged again.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/client/client.h"
#include "core/client/discovery.h"
#include "core/client/informer.h"
#include "core/controllers/sync_loop.h"

namespace kubit::controllers {

inline constexpr const char* kOrphanFinalizer = "orphan";
inline constexpr const char* kForegroundFinalizer = "foregroundDeletion";

class GarbageCollector {
 public:
  // Informers are made (through `informers`) for what discovery lists now;
  // Start looks again periodically.
  GarbageCollector(client::Client* client, client::SharedInformerFactory* informers, Logger log,
                   std::chrono::seconds rediscover_period = std::chrono::seconds(30));
  ~GarbageCollector();
  void Start(int workers = 2);
  void Stop();
  // Syncs one object, by its queue key (see KeyFor).
  client::Status Sync(const std::string& key);

 private:
  struct Watched {
    client::ApiResource type;
    client::Informer* informer = nullptr;
  };
  // Makes informers for resources not watched yet; returns the new ones.
  std::vector<const Watched*> Discover();
  void EnqueueReferencesTo(const std::vector<const Watched*>& types);
  void Watch(const client::ApiResource& type);
  void Rediscover();
  // "group/version/resource|ns/name": which cache to look in.
  std::string KeyFor(const client::ApiResource& type, const client::Json& obj) const;
  void EnqueueDependentsOf(const std::string& uid);
  void EnqueueOwnersOf(const client::Json& obj);
  std::vector<client::Json> DependentsOf(const std::string& uid, std::vector<const Watched*>* types);
  const Watched* TypeOfRef(const client::Json& ref);

  client::Status AttemptToDelete(const Watched& w, const client::Json& obj);
  client::Status OrphanDependents(const Watched& w, const client::Json& obj);
  client::Status DeleteDependentsFirst(const Watched& w, const client::Json& obj);
  client::Status RemoveFinalizer(const Watched& w, const client::Json& obj, const std::string& finalizer);

  client::Client* client_;
  client::SharedInformerFactory* informers_;
  Logger log_;
  std::chrono::seconds rediscover_period_;
  std::mutex mu_;  // watched_
  std::map<std::string, Watched> watched_;  // "group/version/resource" ->
  SyncLoop loop_;

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread rediscover_;
};

}  // namespace kubit::controllers
