#include "runtime/kubelet/agent_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "store/store.h"

namespace kubit::kubelet {

namespace {

using Json = nlohmann::json;

std::string Key(const std::string& resource, const std::string& ns, const std::string& name) {
  return "/" + resource + "/" + ns + "/" + name;
}

}  // namespace

AgentCache::AgentCache(std::unique_ptr<store::Store> store) : store_(std::move(store)) {}

AgentCache::~AgentCache() = default;

bool AgentCache::Open(const std::string& data_dir, std::unique_ptr<AgentCache>* out, std::string* error) {
  store::Options o;
  o.path = data_dir + "/agent/state.db";
  // A handful of objects that rarely change: little history, small caches.
  o.compact_keep_revisions = 100;
  o.watch_cache_events = 16;
  o.volatile_max_pending = 8;  // nothing here is volatile; the store wants it below the cache
  o.watch_cache_bytes = 1 << 16;
  // Created 0600 before SQLite opens it (it holds Secrets); SQLite gives its
  // -wal and -shm files the database's mode.
  int fd = open(o.path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || fchmod(fd, 0600) != 0) {
    *error = "cannot create " + o.path + ": " + strerror(errno);
    if (fd >= 0) close(fd);
    return false;
  }
  close(fd);
  std::unique_ptr<store::Store> s;
  store::Status st = store::Store::Open(o, &s);
  if (!st.ok()) {
    *error = o.path + ": " + st.message();
    return false;
  }
  std::unique_ptr<AgentCache> cache(new AgentCache(std::move(s)));
  store::ListResult all;
  st = cache->store_->List("/", {}, &all);
  if (!st.ok()) {
    *error = o.path + ": " + st.message();
    return false;
  }
  for (const auto& kv : all.items) cache->bytes_[kv->key] = kv->value;
  *out = std::move(cache);
  return true;
}

Json AgentCache::Kept(const std::string& resource, const Json& object) {
  Json kept = object;
  if (Json* meta = kept.contains("metadata") ? &kept["metadata"] : nullptr) {
    meta->erase("managedFields");
    if (resource == "pods") meta->erase("resourceVersion");
  }
  if (resource == "pods") kept.erase("status");
  return kept;
}

bool AgentCache::Put(const std::string& resource, const Json& object, std::string* error) {
  const Json& meta = object.value("metadata", Json::object());
  std::string key = Key(resource, meta.value("namespace", ""), meta.value("name", ""));
  std::string value = Kept(resource, object).dump();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = bytes_.find(key);
  if (it != bytes_.end() && it->second == value) return true;
  store::Status s = it == bytes_.end() ? store_->Create(key, value) : store_->Update(key, value, 0);
  if (!s.ok()) {
    *error = "agent state " + key + ": " + s.message();
    return false;
  }
  bytes_[key] = std::move(value);
  return true;
}

bool AgentCache::Remove(const std::string& resource, const std::string& ns, const std::string& name,
                        std::string* error) {
  std::string key = Key(resource, ns, name);
  std::lock_guard<std::mutex> lock(mu_);
  if (!bytes_.count(key)) return true;
  store::Status s = store_->Delete(key);
  if (!s.ok() && !s.IsNotFound()) {
    *error = "agent state " + key + ": " + s.message();
    return false;
  }
  bytes_.erase(key);
  return true;
}

bool AgentCache::Get(const std::string& resource, const std::string& ns, const std::string& name, Json* out) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = bytes_.find(Key(resource, ns, name));
  if (it == bytes_.end()) return false;
  *out = Json::parse(it->second);
  return true;
}

std::vector<Json> AgentCache::List(const std::string& resource) {
  std::string prefix = "/" + resource + "/";
  std::vector<Json> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = bytes_.lower_bound(prefix); it != bytes_.end() && it->first.rfind(prefix, 0) == 0; ++it)
    out.push_back(Json::parse(it->second));
  return out;
}

}  // namespace kubit::kubelet
