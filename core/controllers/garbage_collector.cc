#include "core/controllers/garbage_collector.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/controllers/controller_ref.h"

namespace kubit::controllers {

using client::Json;
using client::ObjectPtr;
using client::Status;

namespace {

constexpr const char* kOwnerIndex = "gc-owner-uid";
constexpr int kConflictRetries = 5;

std::string IdOf(const client::Resource& r) { return r.group + "/" + r.version + "/" + r.resource; }

std::string GroupOf(const std::string& api_version) {
  auto slash = api_version.find('/');
  return slash == std::string::npos ? "" : api_version.substr(0, slash);
}

const Json& MetaOf(const Json& obj) {
  static const Json empty = Json::object();
  auto it = obj.find("metadata");
  return it != obj.end() && it->is_object() ? *it : empty;
}

Json OwnerRefs(const Json& obj) {
  Json refs = MetaOf(obj).value("ownerReferences", Json::array());
  return refs.is_array() ? refs : Json::array();
}

bool HasFinalizer(const Json& obj, const std::string& f) {
  for (const Json& x : MetaOf(obj).value("finalizers", Json::array()))
    if (x == f) return true;
  return false;
}

// Events are many and never owned; upstream's collector leaves them out too.
bool Collectable(const client::ApiResource& t) {
  if (t.resource.resource == "events") return false;
  return t.Supports("list") && t.Supports("watch") && t.Supports("delete") && t.Supports("patch");
}

// What the collector decides on differs in these only.
bool GcFieldsDiffer(const Json& a, const Json& b) {
  const Json &ma = MetaOf(a), &mb = MetaOf(b);
  for (const char* f : {"ownerReferences", "finalizers", "deletionTimestamp", "uid"})
    if (ma.value(f, Json()) != mb.value(f, Json())) return true;
  return false;
}

// Rewrites ownerReferences if the object is unchanged since it was read
// (a JSON patch with a test of resourceVersion works for every kind,
// custom resources included); a failed test comes back as an error and
// the object is synced again.
Status ReplaceOwnerRefs(client::Client* c, const client::Resource& r, const Json& obj, const Json& refs) {
  const Json& meta = MetaOf(obj);
  Json patch = Json::array({{{"op", "test"}, {"path", "/metadata/resourceVersion"}, {"value", meta.value("resourceVersion", "")}}});
  if (refs.empty())
    patch.push_back({{"op", "remove"}, {"path", "/metadata/ownerReferences"}});
  else
    patch.push_back({{"op", "replace"}, {"path", "/metadata/ownerReferences"}, {"value", refs}});
  Status s = c->Patch(r, meta.value("namespace", ""), meta.value("name", ""), client::PatchType::kJson, patch.dump());
  return s.IsNotFound() ? Status() : s;
}

}  // namespace

GarbageCollector::GarbageCollector(client::Client* client, client::SharedInformerFactory* informers, Logger log,
                                   std::chrono::seconds rediscover_period)
    : client_(client),
      informers_(informers),
      log_(log),
      rediscover_period_(rediscover_period),
      loop_("garbage-collector", [this](const std::string& key) { return Sync(key); }, log) {
  Discover();
}

GarbageCollector::~GarbageCollector() { Stop(); }

void GarbageCollector::Start(int workers) {
  for (const Watched* w : Discover()) w->informer->Start();
  loop_.Start(workers);
  rediscover_ = std::thread([this] { Rediscover(); });
}

void GarbageCollector::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (rediscover_.joinable()) rediscover_.join();
  loop_.Stop();
}

void GarbageCollector::Rediscover() {
  std::unique_lock<std::mutex> lock(stop_mu_);
  while (!stop_cv_.wait_for(lock, rediscover_period_, [this] { return stopping_; })) {
    lock.unlock();
    std::vector<const Watched*> fresh = Discover();
    for (const Watched* w : fresh) w->informer->Start();
    // References to a kind not served before were judged alive; the
    // owners may be long gone: judge them again.
    EnqueueReferencesTo(fresh);
    lock.lock();
  }
}

std::vector<const GarbageCollector::Watched*> GarbageCollector::Discover() {
  std::vector<client::ApiResource> types;
  std::map<std::string, std::string> failed;
  Status s = client::ServerPreferredResources(*client_, &types, &failed);
  if (!s.ok()) {
    if (log_) log_(LogLevel::kWarn, "garbage-collector: discovery failed: " + s.ToString());
    return {};
  }
  std::vector<const Watched*> fresh;
  for (const client::ApiResource& t : types) {
    if (!Collectable(t)) continue;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (watched_.count(IdOf(t.resource))) continue;
    }
    Watch(t);
    std::lock_guard<std::mutex> lock(mu_);
    fresh.push_back(&watched_[IdOf(t.resource)]);
  }
  return fresh;
}

void GarbageCollector::EnqueueReferencesTo(const std::vector<const Watched*>& types) {
  if (types.empty()) return;
  std::vector<const Watched*> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, w] : watched_) all.push_back(&w);
  }
  for (const Watched* w : all)
    for (const ObjectPtr& o : w->informer->List())
      for (const Json& ref : OwnerRefs(*o)) {
        const std::string group = GroupOf(ref.value("apiVersion", "")), kind = ref.value("kind", "");
        if (std::any_of(types.begin(), types.end(), [&](const Watched* t) {
              return t->type.resource.group == group && t->type.kind == kind;
            }))
          loop_.queue().Add(KeyFor(w->type, *o));
      }
}

void GarbageCollector::Watch(const client::ApiResource& type) {
  client::Informer* inf = informers_->For(type.resource);
  inf->AddIndex(kOwnerIndex, [](const Json& obj) {
    std::vector<std::string> uids;
    for (const Json& ref : OwnerRefs(obj)) uids.push_back(ref.value("uid", ""));
    return uids;
  });
  {
    std::lock_guard<std::mutex> lock(mu_);
    watched_[IdOf(type.resource)] = {type, inf};
  }
  auto interesting = [](const Json& o) {
    return !OwnerRefs(o).empty() || HasFinalizer(o, kOrphanFinalizer) || HasFinalizer(o, kForegroundFinalizer);
  };
  client::EventHandlers h;
  h.on_add = [this, type, interesting](const ObjectPtr& o) {
    if (interesting(*o)) loop_.queue().Add(KeyFor(type, *o));
  };
  h.on_update = [this, type, interesting](const ObjectPtr& old_obj, const ObjectPtr& o) {
    if (!GcFieldsDiffer(*old_obj, *o)) return;
    if (interesting(*o)) loop_.queue().Add(KeyFor(type, *o));
    // An owner waiting for its dependents hears when one lets go.
    if (OwnerRefs(*old_obj) != OwnerRefs(*o)) EnqueueOwnersOf(*old_obj);
  };
  h.on_delete = [this](const ObjectPtr& o, bool) {
    EnqueueDependentsOf(MetaOf(*o).value("uid", ""));
    EnqueueOwnersOf(*o);
  };
  inf->AddHandler(h);
}

std::string GarbageCollector::KeyFor(const client::ApiResource& type, const Json& obj) const {
  return IdOf(type.resource) + "|" + client::ObjectKey(obj);
}

void GarbageCollector::EnqueueDependentsOf(const std::string& uid) {
  std::vector<const Watched*> types;
  std::vector<Json> deps = DependentsOf(uid, &types);
  for (size_t i = 0; i < deps.size(); i++) loop_.queue().Add(KeyFor(types[i]->type, deps[i]));
}

void GarbageCollector::EnqueueOwnersOf(const Json& obj) {
  for (const Json& ref : OwnerRefs(obj)) {
    const Watched* w = TypeOfRef(ref);
    if (!w) continue;
    std::string ns = w->type.namespaced ? MetaOf(obj).value("namespace", "") : "";
    loop_.queue().Add(IdOf(w->type.resource) + "|" + (ns.empty() ? "" : ns + "/") + ref.value("name", ""));
  }
}

std::vector<Json> GarbageCollector::DependentsOf(const std::string& uid, std::vector<const Watched*>* types) {
  std::vector<const Watched*> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, w] : watched_) all.push_back(&w);
  }
  std::vector<Json> out;
  for (const Watched* w : all)
    for (const ObjectPtr& o : w->informer->ByIndex(kOwnerIndex, uid)) {
      out.push_back(*o);
      types->push_back(w);
    }
  return out;
}

const GarbageCollector::Watched* GarbageCollector::TypeOfRef(const Json& ref) {
  const std::string group = GroupOf(ref.value("apiVersion", "")), kind = ref.value("kind", "");
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, w] : watched_)
    if (w.type.resource.group == group && w.type.kind == kind) return &w;
  return nullptr;
}

Status GarbageCollector::Sync(const std::string& key) {
  auto bar = key.find('|');
  if (bar == std::string::npos) return Status();
  const Watched* w = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = watched_.find(key.substr(0, bar));
    if (it == watched_.end()) return Status();
    w = &it->second;
  }
  ObjectPtr obj = w->informer->Get(key.substr(bar + 1));
  if (!obj) return Status();  // gone; its dependents were queued when it went
  if (BeingDeleted(*obj)) {
    if (HasFinalizer(*obj, kOrphanFinalizer)) return OrphanDependents(*w, *obj);
    if (HasFinalizer(*obj, kForegroundFinalizer)) return DeleteDependentsFirst(*w, *obj);
    return Status();
  }
  return AttemptToDelete(*w, *obj);
}

Status GarbageCollector::AttemptToDelete(const Watched& w, const Json& obj) {
  const Json refs = OwnerRefs(obj);
  if (refs.empty()) return Status();
  const std::string ns = MetaOf(obj).value("namespace", "");
  std::vector<Json> solid, dangling, waiting;
  for (const Json& ref : refs) {
    const Watched* ow = TypeOfRef(ref);
    // An owner of a kind the server does not serve (yet: its CRD may be
    // coming) is never judged gone.
    if (!ow) {
      solid.push_back(ref);
      continue;
    }
    if (ow->type.namespaced && ns.empty()) {  // a cluster-scoped object cannot have a namespaced owner
      dangling.push_back(ref);
      continue;
    }
    const std::string owner_ns = ow->type.namespaced ? ns : "";
    const std::string uid = ref.value("uid", ""), name = ref.value("name", "");
    ObjectPtr cached = ow->informer->Get(owner_ns, name);
    Json owner;
    if (cached && MetaOf(*cached).value("uid", "") == uid) {
      owner = *cached;
    } else {
      // The cache may lag behind a just-made owner: ask the server.
      Status s = client_->Get(ow->type.resource, owner_ns, name, &owner);
      if (s.IsNotFound() || (s.ok() && MetaOf(owner).value("uid", "") != uid)) {
        dangling.push_back(ref);
        continue;
      }
      if (!s.ok()) return s;
    }
    if (BeingDeleted(owner) && HasFinalizer(owner, kForegroundFinalizer)) waiting.push_back(ref);
    else solid.push_back(ref);
  }

  if (!solid.empty()) {
    if (dangling.empty() && waiting.empty()) return Status();
    // Kept by its live owners: forget the dead ones, and stop blocking
    // the ones deleting in the foreground.
    Json kept = Json::array();
    for (Json ref : refs) {
      const std::string uid = ref.value("uid", "");
      auto same = [&uid](const Json& r) { return r.value("uid", "") == uid; };
      if (std::any_of(dangling.begin(), dangling.end(), same)) continue;
      if (std::any_of(waiting.begin(), waiting.end(), same)) ref["blockOwnerDeletion"] = false;
      kept.push_back(ref);
    }
    return ReplaceOwnerRefs(client_, w.type.resource, obj, kept);
  }

  client::DeleteOptions opts;
  opts.precondition_uid = MetaOf(obj).value("uid", "");
  std::vector<const Watched*> types;
  std::vector<Json> deps = waiting.empty() ? std::vector<Json>() : DependentsOf(opts.precondition_uid, &types);
  if (!deps.empty()) {
    // Its owners wait for it, and it has dependents of its own: it goes in
    // the foreground too, and its owners keep waiting for it. Only if one
    // of its dependents waits as well (maybe a cycle of references) does
    // it stop blocking its owners, as upstream.
    bool dependent_waits = std::any_of(deps.begin(), deps.end(), [](const Json& d) {
      return BeingDeleted(d) && HasFinalizer(d, kForegroundFinalizer);
    });
    if (dependent_waits) {
      Json unblocked = refs;
      for (Json& ref : unblocked) ref["blockOwnerDeletion"] = false;
      Status s = ReplaceOwnerRefs(client_, w.type.resource, obj, unblocked);
      if (!s.ok()) return s;
    }
    opts.propagation_policy = "Foreground";
  } else if (HasFinalizer(obj, kOrphanFinalizer)) {
    opts.propagation_policy = "Orphan";
  } else if (HasFinalizer(obj, kForegroundFinalizer)) {
    opts.propagation_policy = "Foreground";
  } else {
    opts.propagation_policy = "Background";
  }
  if (log_)
    log_(LogLevel::kDebug, "garbage-collector: deleting " + w.type.kind + " " + client::ObjectKey(obj) +
                               " (" + opts.propagation_policy + "): its owners are gone");
  Status s = client_->Delete(w.type.resource, ns, MetaOf(obj).value("name", ""), opts);
  return s.IsNotFound() || s.IsConflict() ? Status() : s;  // Conflict: the uid changed; a new object
}

Status GarbageCollector::OrphanDependents(const Watched& w, const Json& obj) {
  const std::string uid = MetaOf(obj).value("uid", "");
  std::vector<const Watched*> types;
  std::vector<Json> deps = DependentsOf(uid, &types);
  for (size_t i = 0; i < deps.size(); i++) {
    Json kept = Json::array();
    for (const Json& ref : OwnerRefs(deps[i]))
      if (ref.value("uid", "") != uid) kept.push_back(ref);
    Status s = ReplaceOwnerRefs(client_, types[i]->type.resource, deps[i], kept);
    if (!s.ok()) return s;
  }
  return RemoveFinalizer(w, obj, kOrphanFinalizer);
}

Status GarbageCollector::DeleteDependentsFirst(const Watched& w, const Json& obj) {
  const std::string uid = MetaOf(obj).value("uid", "");
  std::vector<const Watched*> types;
  std::vector<Json> deps = DependentsOf(uid, &types);
  bool blocked = false;
  for (size_t i = 0; i < deps.size(); i++) {
    for (const Json& ref : OwnerRefs(deps[i]))
      if (ref.value("uid", "") == uid && ref.value("blockOwnerDeletion", false)) blocked = true;
    // Each dependent is judged again: its owner now waits for it.
    if (!BeingDeleted(deps[i])) loop_.queue().Add(KeyFor(types[i]->type, deps[i]));
  }
  // Dependents' deletions queue this owner again.
  if (blocked) return Status();
  return RemoveFinalizer(w, obj, kForegroundFinalizer);
}

Status GarbageCollector::RemoveFinalizer(const Watched& w, const Json& obj, const std::string& finalizer) {
  const std::string ns = MetaOf(obj).value("namespace", ""), name = MetaOf(obj).value("name", "");
  const std::string uid = MetaOf(obj).value("uid", "");
  Json live = obj;
  for (int attempt = 0;; attempt++) {
    if (MetaOf(live).value("uid", "") != uid || !HasFinalizer(live, finalizer)) return Status();
    Json fins = Json::array();
    for (const Json& f : MetaOf(live).value("finalizers", Json::array()))
      if (f != finalizer) fins.push_back(f);
    live["metadata"]["finalizers"] = fins;
    Status s = client_->Update(w.type.resource, ns, live);
    if (s.ok() || s.IsNotFound()) return Status();
    if (!s.IsConflict() || attempt >= kConflictRetries) return s;
    s = client_->Get(w.type.resource, ns, name, &live);
    if (s.IsNotFound()) return Status();
    if (!s.ok()) return s;
  }
}

}  // namespace kubit::controllers
