#include "runtime/image/registry_pull.h"

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "net/http_client.h"
#include "runtime/image/manifest.h"
#include "runtime/image/registry_auth.h"

namespace kubit::runtime::image {
namespace {

constexpr size_t kMaxManifestBytes = 4 << 20;

bool ReadFile(const std::string& path, std::string* out, std::string* error) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    *error = "cannot read " + path;
    return false;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return true;
}

// The first error of a distribution-spec error body, for messages.
std::string RegistryMessage(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("errors") && j["errors"].is_array() && !j["errors"].empty()) {
    const auto& e = j["errors"][0];
    std::string code = e.value("code", ""), msg = e.is_object() && e.contains("message") && e["message"].is_string()
                                                      ? e["message"].get<std::string>()
                                                      : "";
    return code + (code.empty() || msg.empty() ? "" : " ") + msg;
  }
  std::string s = body.substr(0, 200);
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

std::string StatusHint(int status) {
  switch (status) {
    case 401: return " (unauthorized: check configs.<host>.auth)";
    case 403: return " (forbidden)";
    case 404: return " (not found)";
    case 429: return " (too many requests)";
    default: return status >= 500 ? " (registry error)" : "";
  }
}

// One endpoint: its HTTP client and, once a challenge was answered, the
// Authorization header to send. Shared by the layer threads.
class Session {
 public:
  Session(const RegistryEndpoint& ep, const std::string& scope_repo) : ep_(ep) {
    scope_ = "repository:" + scope_repo + ":pull";
  }

  bool Init(std::string* error) {
    net::HttpClientOptions o;
    o.user_agent = "kubit";
    const RegistryTls& tls = ep_.config.tls;
    o.tls.insecure_skip_verify = tls.insecure_skip_verify;
    if (!tls.ca_file.empty() && !ReadFile(tls.ca_file, &o.tls.ca_pem, error)) return false;
    if (!tls.cert_file.empty() && (!ReadFile(tls.cert_file, &o.tls.cert_pem, error) ||
                                   !ReadFile(tls.key_file, &o.tls.key_pem, error)))
      return false;
    client_ = std::make_unique<net::HttpClient>(o);
    return true;
  }

  const RegistryEndpoint& endpoint() const { return ep_; }

  // One request, answering a 401 challenge once. A 401 body is never
  // handed to on_body.
  bool Send(net::HttpClientRequest req, net::HttpClientResponse* resp,
            const std::function<bool(const net::HttpClientResponse&)>& on_head,
            const std::function<bool(const char*, size_t)>& on_body, std::string* error) {
    for (int round = 0;; round++) {
      net::HttpClientRequest r = req;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!auth_header_.empty()) r.headers.push_back({"Authorization", auth_header_});
      }
      bool challenged = false;
      auto head = [&](const net::HttpClientResponse& h) {
        if (h.status == 401 && round == 0) {
          challenged = true;
          return false;
        }
        return on_head ? on_head(h) : true;
      };
      if (!client_->Stream(r, resp, head, on_body, error)) return false;
      if (!challenged) return true;
      std::vector<AuthChallenge> challenges;
      std::string www = resp->Header("www-authenticate"), header;
      if (www.empty()) {
        *error = "registry " + ep_.host + " answered 401 without a WWW-Authenticate challenge";
        return false;
      }
      if (!ParseWwwAuthenticate(www, &challenges, error) ||
          !Authorize(client_.get(), challenges, ep_.config.auth, scope_, &header, error)) {
        *error = "registry " + ep_.host + ": authentication failed: " + *error;
        return false;
      }
      std::lock_guard<std::mutex> lock(mu_);
      auth_header_ = header;
    }
  }

  // GET of a manifest by tag or digest; *media_type from the document.
  bool Manifest(const std::string& object, const std::string& what, std::string* body, std::string* media_type,
                std::string* error) {
    net::HttpClientRequest req;
    req.url = ep_.base + "/" + ep_.repository + "/manifests/" + object;
    req.headers.push_back({"Accept", std::string(media_type::kOciIndex) + ", " + media_type::kDockerList + ", " +
                                         media_type::kOciManifest + ", " + media_type::kDockerManifest});
    req.follow_redirects = true;
    net::HttpClientResponse resp;
    body->clear();
    bool too_big = false;
    auto on_body = [&](const char* d, size_t n) {
      if (body->size() + n > kMaxManifestBytes) {
        too_big = true;
        return false;
      }
      body->append(d, n);
      return true;
    };
    if (!Send(req, &resp, nullptr, on_body, error)) {
      *error = too_big ? "manifest " + what + " is larger than 4 MiB"
                       : "registry " + ep_.host + ": manifest " + what + ": " + *error;
      return false;
    }
    if (resp.status != 200) {
      *error = "registry " + ep_.host + " returned " + std::to_string(resp.status) + StatusHint(resp.status) +
               " for manifest " + what;
      std::string msg = RegistryMessage(*body);
      if (!msg.empty()) *error += ": " + msg;
      return false;
    }
    std::string got = DigestOf(*body);
    // A digest the registry states (or the reference pins) must be the
    // digest of the bytes received.
    std::string claimed = IsValidDigest(object) ? object : resp.Header("docker-content-digest");
    if (!claimed.empty() && IsValidDigest(claimed) && claimed != got) {
      *error = "registry " + ep_.host + ": manifest " + what + " has digest " + got + ", expected " + claimed;
      return false;
    }
    return ManifestMediaType(*body, resp.Header("content-type"), media_type, error);
  }

  // Downloads one blob into the content store, resuming a partial file.
  // False with *error; *retryable says whether another attempt may help.
  bool Blob(const Descriptor& d, ContentStore* content, const std::function<void(int64_t)>& on_progress,
            const std::atomic<bool>& stop, bool* retryable, std::string* error) {
    *retryable = false;
    auto w = content->NewWriter(d.digest, true, error);
    if (!w) return false;
    if (content->Has(d.digest)) {  // someone else stored it while we waited for the lock
      w->Discard();
      return true;
    }
    if (w->offset() > d.size) {
      w->Discard();
      *retryable = true;
      *error = "partial download larger than the blob";
      return false;
    }
    if (w->offset() < d.size || d.size == 0) {
      net::HttpClientRequest req;
      req.url = ep_.base + "/" + ep_.repository + "/blobs/" + d.digest;
      req.follow_redirects = true;
      int64_t offset = w->offset();
      if (offset > 0) req.headers.push_back({"Range", "bytes=" + std::to_string(offset) + "-"});
      net::HttpClientResponse resp;
      bool restart = false, too_long = false;
      auto on_head = [&](const net::HttpClientResponse& h) {
        if (h.status == 200 && offset > 0) {
          restart = true;  // the server ignored the Range: start over
          return false;
        }
        if (h.status == 206) {
          std::string cr = h.Header("content-range");
          if (cr.rfind("bytes " + std::to_string(offset) + "-", 0) != 0) {
            restart = true;
            return false;
          }
        }
        return h.status == 200 || h.status == 206;
      };
      auto on_body = [&](const char* data, size_t n) {
        if (stop) return false;
        if (w->offset() + static_cast<int64_t>(n) > d.size) {
          too_long = true;
          return false;
        }
        std::string werr;
        if (!w->Write(data, n, &werr)) return false;
        on_progress(w->offset());
        return true;
      };
      bool ok = Send(req, &resp, on_head, on_body, error);
      if (restart || resp.status == 416) {
        w->Discard();
        *retryable = true;
        *error = "registry " + ep_.host + " did not resume blob " + d.digest;
        return false;
      }
      if (too_long) {
        w->Discard();
        *error = "registry " + ep_.host + ": blob " + d.digest + " is larger than the " + std::to_string(d.size) +
                 " bytes the manifest says";
        return false;
      }
      if (!ok) {
        *retryable = !stop;
        *error = "registry " + ep_.host + ": blob " + d.digest + ": " + *error + " (" +
                 std::to_string(w->offset()) + " of " + std::to_string(d.size) + " bytes stored)";
        return false;
      }
      if (resp.status != 200 && resp.status != 206) {
        *retryable = resp.status >= 500 || resp.status == 429;
        *error = "registry " + ep_.host + " returned " + std::to_string(resp.status) + StatusHint(resp.status) +
                 " for blob " + d.digest;
        return false;
      }
      if (w->offset() != d.size) {
        *retryable = true;
        *error = "registry " + ep_.host + ": blob " + d.digest + " ended after " + std::to_string(w->offset()) +
                 " of " + std::to_string(d.size) + " bytes";
        return false;
      }
    }
    std::string digest;
    if (!w->Commit(&digest, error)) {
      *error = "registry " + ep_.host + ": blob " + *error;
      return false;
    }
    return true;
  }

 private:
  RegistryEndpoint ep_;
  std::string scope_;
  std::unique_ptr<net::HttpClient> client_;
  std::mutex mu_;
  std::string auth_header_;
};

// Fetches the blobs in `blobs` with a few threads; progress calls are
// serialised.
bool FetchBlobs(Session* s, const std::vector<std::pair<Descriptor, std::string>>& blobs, ContentStore* content,
                const ProgressFn& progress, const PullOptions& opts, std::string* error) {
  std::mutex mu;
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::string first_error;
  auto report = [&](const PullProgress& p) {
    if (!progress) return;
    std::lock_guard<std::mutex> lock(mu);
    progress(p);
  };
  auto worker = [&] {
    while (!stop) {
      size_t i = next++;
      if (i >= blobs.size()) return;
      const auto& [d, what] = blobs[i];
      PullProgress p{d.digest, what, 0, d.size, false, false};
      if (content->Has(d.digest)) {
        p.done = d.size;
        p.finished = p.cached = true;
        report(p);
        continue;
      }
      std::string err;
      bool ok = false;
      for (int attempt = 0; attempt < opts.attempts_per_blob && !stop; attempt++) {
        if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
        bool retryable = false;
        ok = s->Blob(
            d, content,
            [&](int64_t done) {
              p.done = done;
              report(p);
            },
            stop, &retryable, &err);
        if (ok || !retryable) break;
      }
      if (!ok) {
        std::lock_guard<std::mutex> lock(mu);
        if (first_error.empty()) first_error = err;
        stop = true;
        return;
      }
      p.done = d.size;
      p.finished = true;
      report(p);
    }
  };
  size_t n = std::min<size_t>(std::max(1, opts.parallel_layers), std::max<size_t>(1, blobs.size()));
  std::vector<std::thread> threads;
  for (size_t i = 1; i < n; i++) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  if (!first_error.empty()) {
    *error = first_error;
    return false;
  }
  return true;
}

bool PullFrom(Session* s, const Reference& ref, ContentStore* content, const ProgressFn& progress,
              const PullOptions& opts, PullResult* out, std::string* error) {
  std::string what = ref.path + ":" + (ref.tag.empty() ? ref.digest : ref.tag);
  if (!ref.digest.empty() && !ref.tag.empty()) what = ref.path + "@" + ref.digest;
  std::string body, mt;
  if (!s->Manifest(ref.Object(), what, &body, &mt, error)) return false;
  PullResult r;
  if (!content->Put(body, "", &r.digest, error)) return false;
  r.media_type = mt;
  r.manifest_digest = r.digest;
  if (progress) {
    auto n = static_cast<int64_t>(body.size());
    progress({r.digest, IsIndexType(mt) ? "index" : "manifest", n, n, true, false});
  }
  if (IsIndexType(mt)) {
    Index index;
    Descriptor chosen;
    if (!ParseIndex(body, &index, error) || !SelectPlatform(index, HostPlatform(), &chosen, error)) {
      *error = "manifest " + what + ": " + *error;
      return false;
    }
    std::string mbody, mmt;
    if (!s->Manifest(chosen.digest, ref.path + "@" + chosen.digest, &mbody, &mmt, error)) return false;
    if (!IsManifestType(mmt)) {
      *error = "manifest " + chosen.digest + " for " + HostPlatform().String() + " is not an image manifest";
      return false;
    }
    if (!content->Put(mbody, chosen.digest, &r.manifest_digest, error)) return false;
    body = mbody;
  }
  Manifest m;
  if (!ParseManifest(body, &m, error)) {
    *error = "manifest " + what + ": " + *error;
    return false;
  }
  std::vector<std::pair<Descriptor, std::string>> blobs;
  blobs.emplace_back(m.config, "config");
  for (const auto& l : m.layers) blobs.emplace_back(l, "layer");
  if (!FetchBlobs(s, blobs, content, progress, opts, error)) return false;
  *out = r;
  return true;
}

}  // namespace

bool PullFromRegistry(const Reference& ref, const RegistryConfig& config, ContentStore* content,
                      const ProgressFn& progress, PullResult* out, std::string* error,
                      const PullOptions& options) {
  std::vector<RegistryEndpoint> endpoints;
  if (!config.Endpoints(ref.domain, ref.path, &endpoints, error)) return false;
  std::string errors;
  for (const auto& ep : endpoints) {
    Session s(ep, ep.repository);
    std::string err;
    if (s.Init(&err) && PullFrom(&s, ref, content, progress, options, out, &err)) return true;
    errors += (errors.empty() ? "" : "; then ") + err;
  }
  *error = "pull " + ref.String() + ": " + errors;
  return false;
}

}  // namespace kubit::runtime::image
