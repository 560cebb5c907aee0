#include "core/client/informer.h"

#include <algorithm>
#include <random>

#include <nlohmann/json.hpp>

namespace kubit::client {
namespace {

std::string MetaString(const Json& obj, const char* field) {
  if (!obj.is_object()) return "";
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  auto f = m->find(field);
  return f != m->end() && f->is_string() ? f->get<std::string>() : "";
}

std::string Describe(const Resource& r, const std::string& ns) {
  std::string s = r.group.empty() ? r.resource : r.resource + "." + r.group;
  return ns.empty() ? s : s + " in " + ns;
}

}  // namespace

std::string ObjectKey(const Json& obj) {
  std::string ns = MetaString(obj, "namespace"), name = MetaString(obj, "name");
  return ns.empty() ? name : ns + "/" + name;
}

void SplitKey(const std::string& key, std::string* ns, std::string* name) {
  size_t slash = key.find('/');
  *ns = slash == std::string::npos ? "" : key.substr(0, slash);
  *name = slash == std::string::npos ? key : key.substr(slash + 1);
}

void StripManagedFields(Json& object) {
  auto meta = object.find("metadata");
  if (meta != object.end() && meta->is_object()) meta->erase("managedFields");
}

Informer::Informer(Client* client, Resource resource, InformerOptions options)
    : client_(client), resource_(std::move(resource)), opts_(std::move(options)) {
  if (!opts_.selection.transform) opts_.selection.transform = StripManagedFields;
  index_funcs_[kNamespaceIndex] = [](const Json& o) {
    return std::vector<std::string>{MetaString(o, "namespace")};
  };
}

Informer::~Informer() { Stop(); }

void Informer::Log(const std::string& message) const {
  if (opts_.log) opts_.log(message);
}

void Informer::AddHandler(EventHandlers handlers) {
  std::lock_guard<std::mutex> dispatch(dispatch_mu_);
  handlers_.push_back(std::move(handlers));
  const EventHandlers& h = handlers_.back();
  if (h.on_add)
    for (const ObjectPtr& o : List()) h.on_add(o);
}

void Informer::AddIndex(const std::string& name, IndexFunc fn) {
  std::lock_guard<std::mutex> lock(mu_);
  index_funcs_[name] = std::move(fn);
  auto& index = indices_[name];
  index.clear();
  for (const auto& [key, obj] : items_)
    for (const std::string& v : index_funcs_[name](*obj)) index[v].insert(key);
}

void Informer::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void Informer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    if (watch_) watch_->Stop();
    cv_.notify_all();
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

bool Informer::HasSynced() const {
  std::lock_guard<std::mutex> lock(mu_);
  return synced_;
}

bool Informer::WaitForSync(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return synced_; });
}

ObjectPtr Informer::Get(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : it->second;
}

ObjectPtr Informer::Get(const std::string& ns, const std::string& name) const {
  return Get(ns.empty() ? name : ns + "/" + name);
}

std::vector<ObjectPtr> Informer::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ObjectPtr> out;
  out.reserve(items_.size());
  for (const auto& [k, v] : items_) out.push_back(v);
  return out;
}

std::vector<std::string> Informer::Keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [k, v] : items_) out.push_back(k);
  return out;
}

std::vector<ObjectPtr> Informer::ByIndex(const std::string& index, const std::string& value) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ObjectPtr> out;
  auto idx = indices_.find(index);
  if (idx == indices_.end()) return out;
  auto keys = idx->second.find(value);
  if (keys == idx->second.end()) return out;
  for (const std::string& k : keys->second) out.push_back(items_.at(k));
  return out;
}

std::string Informer::ResourceVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  return resource_version_;
}

void Informer::IndexLocked(const std::string& key, const Json* old_obj, const Json* new_obj) {
  for (const auto& [name, fn] : index_funcs_) {
    auto& index = indices_[name];
    if (old_obj)
      for (const std::string& v : fn(*old_obj)) {
        auto it = index.find(v);
        if (it == index.end()) continue;
        it->second.erase(key);
        if (it->second.empty()) index.erase(it);
      }
    if (new_obj)
      for (const std::string& v : fn(*new_obj)) index[v].insert(key);
  }
}

void Informer::Upsert(const ObjectPtr& obj) {
  std::lock_guard<std::mutex> dispatch(dispatch_mu_);
  std::string key = ObjectKey(*obj);
  ObjectPtr old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    auto it = items_.find(key);
    if (it != items_.end()) old = it->second;
    IndexLocked(key, old.get(), obj.get());
    items_[key] = obj;
  }
  for (const EventHandlers& h : handlers_) {
    if (old && h.on_update) h.on_update(old, obj);
    if (!old && h.on_add) h.on_add(obj);
  }
}

void Informer::Remove(const std::string& key, const ObjectPtr& last, bool final_state_unknown) {
  std::lock_guard<std::mutex> dispatch(dispatch_mu_);
  ObjectPtr cached;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    auto it = items_.find(key);
    if (it != items_.end()) {
      cached = it->second;
      IndexLocked(key, cached.get(), nullptr);
      items_.erase(it);
    }
  }
  // A delete of something never seen (it came and went between a list
  // and the watch) still tells the handlers, as upstream does.
  ObjectPtr obj = last ? last : cached;
  for (const EventHandlers& h : handlers_)
    if (h.on_delete) h.on_delete(obj, final_state_unknown);
}

bool Informer::ListAndReplace(std::string* error) {
  ListOptions lo = opts_.selection;
  lo.resource_version.clear();
  Json list;
  Status s = client_->List(resource_, opts_.ns, lo, &list);
  if (!s.ok()) {
    *error = s.ToString();
    return false;
  }
  // Items of a list carry no kind; watch events' objects do. The cache
  // holds them alike.
  std::string kind = list.value("kind", "");
  if (kind.size() > 4 && kind.compare(kind.size() - 4, 4, "List") == 0) kind.resize(kind.size() - 4);
  std::string api_version = list.value("apiVersion", "");
  std::map<std::string, ObjectPtr> fresh;
  for (Json& item : list["items"]) {
    if (!item.is_object()) continue;
    if (!item.contains("kind")) item["kind"] = kind;
    if (!item.contains("apiVersion")) item["apiVersion"] = api_version;
    std::string key = ObjectKey(item);
    fresh[key] = std::make_shared<const Json>(std::move(item));
  }
  std::vector<std::pair<std::string, ObjectPtr>> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, obj] : items_)
      if (!fresh.count(key)) gone.emplace_back(key, obj);
  }
  for (const auto& [key, obj] : gone) Remove(key, obj, true);
  for (const auto& [key, obj] : fresh) {
    ObjectPtr have = Get(key);
    if (have && MetaString(*have, "resourceVersion") == MetaString(*obj, "resourceVersion")) continue;
    Upsert(obj);
  }
  std::lock_guard<std::mutex> lock(mu_);
  resource_version_ = MetaString(list, "resourceVersion");
  synced_ = true;
  cv_.notify_all();
  return true;
}

Informer::WatchEnd Informer::WatchOnce(std::string* error) {
  ListOptions lo = opts_.selection;
  lo.resource_version = ResourceVersion();
  lo.allow_watch_bookmarks = true;
  // Spread re-watches of many informers over time, as client-go does
  // (5 to 10 minutes).
  static thread_local std::mt19937 rng{std::random_device{}()};
  lo.timeout_seconds = 300 + static_cast<int64_t>(rng() % 300);
  std::unique_ptr<WatchStream> w;
  Status s = client_->Watch(resource_, opts_.ns, lo, &w);
  if (!s.ok()) {
    *error = s.ToString();
    return s.IsGone() ? WatchEnd::kExpired : WatchEnd::kFailed;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return WatchEnd::kEnded;
    watch_ = w.get();
  }
  WatchEnd end = WatchEnd::kEnded;
  WatchEvent ev;
  while (w->Next(&ev)) {
    if (ev.type == "ERROR") {
      Status st = Status::FromStatusObject(*ev.object);
      *error = st.ToString();
      end = st.IsGone() ? WatchEnd::kExpired : WatchEnd::kFailed;
      break;
    }
    std::string rv = MetaString(*ev.object, "resourceVersion");
    if (ev.type == "ADDED" || ev.type == "MODIFIED") Upsert(ev.object);
    else if (ev.type == "DELETED") Remove(ObjectKey(*ev.object), ev.object, false);
    else if (ev.type != "BOOKMARK") continue;
    std::lock_guard<std::mutex> lock(mu_);
    if (!rv.empty()) resource_version_ = rv;
  }
  if (end == WatchEnd::kEnded && !w->status().ok()) {
    *error = w->status().ToString();
    end = WatchEnd::kFailed;
  }
  std::lock_guard<std::mutex> lock(mu_);
  watch_ = nullptr;
  return end;
}

bool Informer::SleepUnlessStopped(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, d, [&] { return stopping_; });
}

void Informer::Run() {
  auto backoff = opts_.initial_backoff;
  auto grow = [&] { backoff = std::min(backoff * 2, opts_.max_backoff); };
  auto stopping = [&] {
    std::lock_guard<std::mutex> lock(mu_);
    return stopping_;
  };
  const std::string what = Describe(resource_, opts_.ns);
  while (!stopping()) {
    std::string error;
    if (!ListAndReplace(&error)) {
      Log("list " + what + " failed (retrying in " + std::to_string(backoff.count()) + " ms): " + error);
      if (!SleepUnlessStopped(backoff)) return;
      grow();
      continue;
    }
    backoff = opts_.initial_backoff;
    for (;;) {
      WatchEnd end = WatchOnce(&error);
      if (stopping()) return;
      if (end == WatchEnd::kExpired) {
        Log("watch " + what + ": " + error + "; listing again");
        break;
      }
      if (end == WatchEnd::kEnded) {
        backoff = opts_.initial_backoff;
        continue;
      }
      Log("watch " + what + " failed (retrying in " + std::to_string(backoff.count()) + " ms): " + error);
      if (!SleepUnlessStopped(backoff)) return;
      grow();
    }
  }
}

// ---- the shared factory ----

SharedInformerFactory::SharedInformerFactory(Client* client, std::function<void(const std::string&)> log)
    : client_(client), log_(std::move(log)) {}

SharedInformerFactory::~SharedInformerFactory() { Stop(); }

Informer* SharedInformerFactory::For(const Resource& resource, const std::string& ns,
                                     const ListOptions& selection) {
  std::string key = resource.group + "/" + resource.version + "/" + resource.resource + "|" + ns + "|" +
                    selection.label_selector + "|" + selection.field_selector;
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = informers_[key];
  if (!slot) {
    InformerOptions o;
    o.ns = ns;
    o.selection.label_selector = selection.label_selector;
    o.selection.field_selector = selection.field_selector;
    o.log = log_;
    slot = std::make_unique<Informer>(client_, resource, std::move(o));
  }
  return slot.get();
}

void SharedInformerFactory::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [k, inf] : informers_) inf->Start();
}

bool SharedInformerFactory::WaitForSync(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<Informer*> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [k, inf] : informers_) all.push_back(inf.get());
  }
  for (Informer* inf : all) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (!inf->WaitForSync(std::max(left, std::chrono::milliseconds(0)))) return false;
  }
  return true;
}

void SharedInformerFactory::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [k, inf] : informers_) inf->Stop();
}

}  // namespace kubit::client
