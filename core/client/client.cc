#include "core/client/client.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "net/http_client.h"

namespace kubit::client {
namespace {

// Events read ahead of the consumer; the reading thread waits beyond this,
// so a slow consumer slows the stream instead of growing memory.
constexpr size_t kWatchQueueLimit = 1024;

const char* PatchContentType(PatchType t) {
  switch (t) {
    case PatchType::kMerge: return "application/merge-patch+json";
    case PatchType::kStrategicMerge: return "application/strategic-merge-patch+json";
    case PatchType::kJson: return "application/json-patch+json";
    case PatchType::kApply: return "application/apply-patch+yaml";
  }
  return "application/json";
}

// "?a=1&b=2" from the pairs whose value is not empty ("" when none).
std::string Query(std::initializer_list<std::pair<const char*, std::string>> params) {
  std::string q;
  for (const auto& [k, v] : params) {
    if (v.empty()) continue;
    q += (q.empty() ? "?" : "&") + std::string(k) + "=" + QueryEscape(v);
  }
  return q;
}

std::string ListQuery(const ListOptions& o, bool watch, int64_t limit, const std::string& cont) {
  return Query({{"labelSelector", o.label_selector},
                {"fieldSelector", o.field_selector},
                {"resourceVersion", o.resource_version},
                {"watch", watch ? "true" : ""},
                {"allowWatchBookmarks", watch && o.allow_watch_bookmarks ? "true" : ""},
                {"timeoutSeconds", watch && o.timeout_seconds > 0 ? std::to_string(o.timeout_seconds) : ""},
                {"limit", limit > 0 ? std::to_string(limit) : ""},
                {"continue", cont}});
}

std::string WriteQuery(const WriteOptions& o) {
  return Query({{"fieldManager", o.field_manager}, {"dryRun", o.dry_run ? "All" : ""}});
}

}  // namespace

std::string QueryEscape(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string ResourcePath(const Resource& r, const std::string& ns, const std::string& name,
                         const std::string& subresource) {
  std::string p = r.group.empty() ? "/api/" + r.version : "/apis/" + r.group + "/" + r.version;
  if (!ns.empty()) p += "/namespaces/" + QueryEscape(ns);
  p += "/" + r.resource;
  if (!name.empty()) p += "/" + QueryEscape(name);
  if (!subresource.empty()) p += "/" + subresource;
  return p;
}

// ---- watch streams ----

struct WatchStream::Impl {
  std::shared_ptr<net::HttpClient> http;
  net::CancelToken cancel;
  std::thread reader;

  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<WatchEvent> events;
  std::function<void(Json& object)> transform;
  bool accepted = false;  // the server answered 200
  bool done = false;
  bool stopped = false;
  Status status;

  // Runs on the reading thread: the request, newline-separated JSON
  // events, until the end of the stream.
  void Read(net::HttpClientRequest req) {
    std::string line, error_body;
    net::HttpClientResponse resp;
    Status end;
    auto on_head = [&](const net::HttpClientResponse& r) {
      if (r.status == 200) {
        std::lock_guard<std::mutex> lock(mu);
        accepted = true;
        cv.notify_all();
      }
      return true;
    };
    auto on_body = [&](const char* data, size_t n) {
      if (resp.status != 200) {
        error_body.append(data, n);
        return error_body.size() < (1 << 20);
      }
      for (size_t i = 0; i < n; i++) {
        if (data[i] != '\n') {
          line += data[i];
          continue;
        }
        if (line.empty()) continue;
        Json j = Json::parse(line, nullptr, false);
        line.clear();
        if (!j.is_object() || !j.contains("type") || !j["type"].is_string() || !j.contains("object")) {
          end = Status::Transport("malformed watch event");
          return false;
        }
        std::string type = j["type"].get<std::string>();
        if (transform && type != "ERROR" && type != "BOOKMARK" && j["object"].is_object()) transform(j["object"]);
        WatchEvent ev{type, std::make_shared<const Json>(std::move(j["object"]))};
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return events.size() < kWatchQueueLimit || stopped; });
        if (stopped) return false;
        events.push_back(std::move(ev));
        cv.notify_all();
      }
      return true;
    };
    std::string error;
    bool ok = http->Stream(req, &resp, on_head, on_body, &error, &cancel);
    std::lock_guard<std::mutex> lock(mu);
    if (stopped)
      end = Status();
    else if (end.ok() && !ok)
      end = Status::Transport("watch " + req.url + ": " + error);
    else if (end.ok() && resp.status != 200)
      end = Status::FromResponse(resp.status, error_body);
    status = end;
    done = true;
    cv.notify_all();
  }
};

WatchStream::~WatchStream() {
  Stop();
  if (impl_->reader.joinable()) impl_->reader.join();
}

bool WatchStream::Next(WatchEvent* event) {
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->cv.wait(lock, [&] { return !impl_->events.empty() || impl_->done || impl_->stopped; });
  if (impl_->stopped || impl_->events.empty()) return false;
  *event = std::move(impl_->events.front());
  impl_->events.pop_front();
  impl_->cv.notify_all();
  return true;
}

void WatchStream::Stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopped = true;
    impl_->cv.notify_all();
  }
  impl_->cancel.Cancel();
}

Status WatchStream::status() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->status;
}

// ---- the client ----

Client::Client(Config config) : config_(std::move(config)) {
  net::HttpClientOptions o;
  o.tls = config_.tls;
  o.dial = config_.dial;
  o.read_timeout_ms = config_.timeout_ms;
  o.user_agent = config_.user_agent;
  // Controllers and informers issue requests from several threads at once.
  o.max_idle_per_host = 8;
  http_ = std::make_shared<net::HttpClient>(std::move(o));
}

Client::~Client() = default;

bool Client::FromKubeconfig(const std::string& path, const std::string& context,
                            std::unique_ptr<Client>* out, std::string* error) {
  Config cfg;
  if (!LoadKubeconfig(path, context, &cfg, error)) return false;
  *out = std::make_unique<Client>(std::move(cfg));
  return true;
}

Status Client::Raw(const std::string& method, const std::string& path_and_query, const std::string& body,
                   const std::string& content_type, Json* out) {
  net::HttpClientRequest req;
  req.method = method;
  req.url = config_.server + path_and_query;
  req.headers.emplace_back("Accept", "application/json");
  if (!body.empty()) req.headers.emplace_back("Content-Type", content_type);
  if (!config_.bearer_token.empty()) req.headers.emplace_back("Authorization", "Bearer " + config_.bearer_token);
  req.body = body;
  net::HttpClientResponse resp;
  std::string error;
  if (!http_->Do(req, &resp, &error)) return Status::Transport(method + " " + req.url + ": " + error);
  if (resp.status < 200 || resp.status > 299) return Status::FromResponse(resp.status, resp.body);
  if (out) {
    *out = Json::parse(resp.body, nullptr, false);
    if (out->is_discarded())
      return Status::Transport(method + " " + req.url + ": the response is not JSON");
  }
  return Status();
}

Status Client::Get(const Resource& r, const std::string& ns, const std::string& name, Json* out) {
  return Raw("GET", ResourcePath(r, ns, name), "", "", out);
}

Status Client::List(const Resource& r, const std::string& ns, const ListOptions& opts, Json* out) {
  std::string path = ResourcePath(r, ns);
  Json result;
  std::string cont;
  for (;;) {
    Json page;
    Status s = Raw("GET", path + ListQuery(opts, false, opts.page_size, cont), "", "", &page);
    if (!s.ok() && s.IsGone() && !cont.empty()) {
      // The snapshot the pages came from is compacted away: one list of
      // everything instead, as client-go's pager falls back.
      ListOptions all = opts;
      all.page_size = 0;
      return List(r, ns, all, out);
    }
    if (!s.ok()) return s;
    if (!page.is_object()) return Status::Transport("GET " + path + ": the list is not an object");
    if (opts.transform && page["items"].is_array())
      for (auto& item : page["items"])
        if (item.is_object()) opts.transform(item);
    if (result.is_null()) {
      result = page;
      if (!result["items"].is_array()) result["items"] = Json::array();
    } else if (page["items"].is_array()) {
      for (auto& item : page["items"]) result["items"].push_back(std::move(item));
    }
    const Json& meta = page.value("metadata", Json::object());
    cont = meta.is_object() ? meta.value("continue", "") : "";
    if (cont.empty()) break;
  }
  if (result["metadata"].is_object()) {
    result["metadata"].erase("continue");
    result["metadata"].erase("remainingItemCount");
  }
  *out = std::move(result);
  return Status();
}

Status Client::Create(const Resource& r, const std::string& ns, const Json& obj, Json* out,
                      const WriteOptions& opts) {
  return Raw("POST", ResourcePath(r, ns) + WriteQuery(opts), obj.dump(), "application/json", out);
}

Status Client::Update(const Resource& r, const std::string& ns, const Json& obj, Json* out,
                      const WriteOptions& opts) {
  return UpdateSubresource(r, ns, "", "", obj, out, opts);
}

Status Client::UpdateStatus(const Resource& r, const std::string& ns, const Json& obj, Json* out,
                            const WriteOptions& opts) {
  return UpdateSubresource(r, ns, "", "status", obj, out, opts);
}

Status Client::UpdateSubresource(const Resource& r, const std::string& ns, const std::string& name,
                                 const std::string& subresource, const Json& obj, Json* out,
                                 const WriteOptions& opts) {
  std::string n = name;
  if (n.empty() && obj.is_object() && obj.contains("metadata") && obj["metadata"].is_object())
    n = obj["metadata"].value("name", "");
  if (n.empty()) return Status::Api(400, "BadRequest", "the object to update has no metadata.name");
  return Raw("PUT", ResourcePath(r, ns, n, subresource) + WriteQuery(opts), obj.dump(),
              "application/json", out);
}

Status Client::GetSubresource(const Resource& r, const std::string& ns, const std::string& name,
                              const std::string& subresource, Json* out) {
  return Raw("GET", ResourcePath(r, ns, name, subresource), "", "", out);
}

Status Client::CreateSubresource(const Resource& r, const std::string& ns, const std::string& name,
                                 const std::string& subresource, const Json& body, Json* out,
                                 const WriteOptions& opts) {
  return Raw("POST", ResourcePath(r, ns, name, subresource) + WriteQuery(opts), body.dump(),
              "application/json", out);
}

Status Client::Patch(const Resource& r, const std::string& ns, const std::string& name, PatchType type,
                     const std::string& patch, Json* out, const PatchOptions& opts,
                     const std::string& subresource) {
  if (type == PatchType::kApply && opts.field_manager.empty())
    return Status::Api(400, "BadRequest", "server-side apply needs a field manager");
  std::string q = Query({{"fieldManager", opts.field_manager},
                         {"force", type == PatchType::kApply && opts.force ? "true" : ""},
                         {"dryRun", opts.dry_run ? "All" : ""}});
  return Raw("PATCH", ResourcePath(r, ns, name, subresource) + q, patch, PatchContentType(type), out);
}

namespace {

Json DeleteBody(const DeleteOptions& o) {
  Json b = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (!o.propagation_policy.empty()) b["propagationPolicy"] = o.propagation_policy;
  if (o.grace_period_seconds >= 0) b["gracePeriodSeconds"] = o.grace_period_seconds;
  if (!o.precondition_uid.empty()) b["preconditions"]["uid"] = o.precondition_uid;
  if (!o.precondition_resource_version.empty())
    b["preconditions"]["resourceVersion"] = o.precondition_resource_version;
  if (o.dry_run) b["dryRun"] = {"All"};
  return b;
}

}  // namespace

Status Client::Delete(const Resource& r, const std::string& ns, const std::string& name,
                      const DeleteOptions& opts, Json* out) {
  return Raw("DELETE", ResourcePath(r, ns, name), DeleteBody(opts).dump(), "application/json", out);
}

Status Client::DeleteCollection(const Resource& r, const std::string& ns, const ListOptions& selection,
                                const DeleteOptions& opts) {
  return Raw("DELETE", ResourcePath(r, ns) + ListQuery(selection, false, 0, ""), DeleteBody(opts).dump(),
              "application/json", nullptr);
}

Status Client::Watch(const Resource& r, const std::string& ns, const ListOptions& opts,
                     std::unique_ptr<WatchStream>* out) {
  net::HttpClientRequest req;
  req.url = config_.server + ResourcePath(r, ns) + ListQuery(opts, true, 0, "");
  req.headers.emplace_back("Accept", "application/json");
  if (!config_.bearer_token.empty()) req.headers.emplace_back("Authorization", "Bearer " + config_.bearer_token);
  // A quiet watch is no failure: no read deadline beyond the watch's own.
  req.read_timeout_ms = opts.timeout_seconds > 0 ? static_cast<int>((opts.timeout_seconds + 60) * 1000) : 0;
  auto impl = std::make_shared<WatchStream::Impl>();
  impl->http = http_;
  impl->transform = opts.transform;
  WatchStream::Impl* raw = impl.get();
  impl->reader = std::thread([raw, req] { raw->Read(req); });
  std::unique_ptr<WatchStream> stream(new WatchStream(impl));
  std::unique_lock<std::mutex> lock(impl->mu);
  impl->cv.wait(lock, [&] { return impl->accepted || impl->done; });
  if (!impl->accepted) {
    Status s = impl->status;
    lock.unlock();
    return s.ok() ? Status::Transport("watch " + req.url + ": ended before it started") : s;
  }
  lock.unlock();
  *out = std::move(stream);
  return Status();
}

}  // namespace kubit::client
