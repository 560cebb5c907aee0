#include "runtime/image/image_store.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "runtime/image/archive_import.h"
#include "runtime/image/content_store.h"
#include "runtime/image/image_index.h"
#include "runtime/image/manifest.h"
#include "runtime/image/reference.h"
#include "runtime/image/registry_pull.h"
#include "runtime/image/snapshots.h"

namespace kubit::runtime::image {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// flock on a lock file, held for the object's life.
class FileLock {
 public:
  bool Acquire(const std::string& path, bool exclusive, std::string* error) {
    fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0 || flock(fd_, exclusive ? LOCK_EX : LOCK_SH) != 0) {
      *error = "lock " + path + ": " + strerror(errno);
      return false;
    }
    return true;
  }
  ~FileLock() {
    if (fd_ >= 0) close(fd_);
  }

 private:
  int fd_ = -1;
};

bool IsHex(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return isdigit(c) || (c >= 'a' && c <= 'f'); });
}

bool IsArchiveName(const std::string& n) {
  for (const char* ext : {".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.zstd"}) {
    size_t l = strlen(ext);
    if (n.size() > l && n.compare(n.size() - l, l, ext) == 0) return true;
  }
  return false;
}

}  // namespace

struct ImageStore::Impl {
  std::string agent, index_path, lock_path, index_lock_path;
  std::unique_ptr<ContentStore> content;
  std::unique_ptr<Snapshots> snapshots;
  RegistryConfig registries;

  // Lock order: the store lock (shared for adding and using images,
  // exclusive for removing them, so that a sweep never takes a blob from
  // under a pull), then the index lock (the read-modify-write of the table).
  bool Update(const std::function<bool(ImageIndex*)>& change, std::string* error) {
    FileLock lock;
    if (!lock.Acquire(index_lock_path, true, error)) return false;
    ImageIndex idx;
    if (!LoadImageIndex(index_path, &idx, error)) return false;
    if (!change(&idx)) return true;
    return SaveImageIndex(index_path, idx, error);
  }

  bool Find(const ImageIndex& idx, const std::string& ref, ImageEntry* out, std::string* error) {
    // An image ID, as ls prints it: a digest, or 12+ hex digits of one.
    std::string hex = ref.rfind("sha256:", 0) == 0 ? ref.substr(7) : ref;
    if (IsHex(hex) && hex.size() >= 12 && hex.size() <= 64) {
      for (const auto& [name, e] : idx.images)
        for (const auto* d : {&e.config_digest, &e.digest, &e.manifest_digest})
          if (d->size() == 7 + 64 && d->compare(7, hex.size(), hex) == 0) {
            *out = e;
            return true;
          }
    }
    Reference r;
    if (!ParseReference(ref, &r, error)) return false;
    if (auto it = idx.images.find(r.String()); it != idx.images.end()) {
      *out = it->second;
      return true;
    }
    if (!r.digest.empty()) {  // repo@digest of an image pulled by tag
      for (const auto& [name, e] : idx.images) {
        Reference n;
        std::string ignored;
        if (ParseReference(name, &n, &ignored) && n.Repository() == r.Repository() &&
            (e.digest == r.digest || e.manifest_digest == r.digest)) {
          *out = e;
          return true;
        }
      }
    }
    *error = "image not found: " + r.String();
    return false;
  }

  // The table entry for `name` -> `digest`, all of whose blobs must be in
  // the content store.
  bool BuildEntry(const std::string& name, const std::string& digest, const std::string& media_type,
                  ImageEntry* out, std::string* error) {
    ImageEntry e;
    e.name = name;
    e.digest = digest;
    e.media_type = media_type;
    e.manifest_digest = digest;
    std::string body;
    if (!content->ReadSmall(digest, &body, error)) return false;
    if (IsIndexType(media_type)) {
      Index index;
      Descriptor chosen;
      if (!ParseIndex(body, &index, error) || !SelectPlatform(index, HostPlatform(), &chosen, error)) {
        *error = name + ": " + *error;
        return false;
      }
      e.manifest_digest = chosen.digest;
      if (!content->ReadSmall(chosen.digest, &body, error)) {
        *error = name + ": manifest for " + HostPlatform().String() + ": " + *error;
        return false;
      }
    }
    Manifest m;
    ImageConfig config;
    std::vector<std::string> diff_ids;
    std::string config_json;
    if (!ParseManifest(body, &m, error) || !content->ReadSmall(m.config.digest, &config_json, error) ||
        !ParseImageConfig(config_json, &config, &diff_ids, error)) {
      *error = name + ": " + *error;
      return false;
    }
    if (diff_ids.size() != m.layers.size()) {
      *error = name + ": the manifest has " + std::to_string(m.layers.size()) + " layers, the config " +
               std::to_string(diff_ids.size()) + " diff_ids";
      return false;
    }
    e.config_digest = m.config.digest;
    for (const auto& l : m.layers) {
      if (!content->Has(l.digest)) {
        *error = name + ": layer " + l.digest + " is not in the content store";
        return false;
      }
      e.size += l.size;
    }
    e.platform = Platform{config.os, config.architecture, config.variant}.String();
    e.last_used_ms = NowMs();
    *out = e;
    return true;
  }

  // The image with its layers unpacked.
  bool Materialise(const ImageEntry& e, Image* out, std::string* error) {
    std::string body, config_json;
    Manifest m;
    Image img;
    std::vector<std::string> diff_ids;
    if (!content->ReadSmall(e.manifest_digest, &body, error) || !ParseManifest(body, &m, error) ||
        !content->ReadSmall(m.config.digest, &config_json, error) ||
        !ParseImageConfig(config_json, &img.config, &diff_ids, error)) {
      *error = e.name + ": " + *error;
      return false;
    }
    if (diff_ids.size() != m.layers.size()) {
      *error = e.name + ": layer count differs between manifest and config";
      return false;
    }
    for (size_t i = 0; i < m.layers.size(); i++) {
      if (!snapshots->Ensure(diff_ids[i], content->Path(m.layers[i].digest), error)) {
        *error = e.name + ": " + *error;
        return false;
      }
      img.layer_dirs.push_back(snapshots->Dir(diff_ids[i]));
    }
    // A layer that comes twice (old images repeat the empty layer) is one
    // directory, and overlayfs refuses a lowerdir listed twice. The upper
    // copy shadows every path of the lower one, so dropping the lower
    // copies leaves the same view.
    for (size_t i = img.layer_dirs.size(); i-- > 0;) {
      auto above = std::find(img.layer_dirs.begin() + static_cast<long>(i) + 1, img.layer_dirs.end(),
                             img.layer_dirs[i]);
      if (above != img.layer_dirs.end()) img.layer_dirs.erase(img.layer_dirs.begin() + static_cast<long>(i));
    }
    img.name = e.name;
    img.digest = e.digest;
    img.config_digest = e.config_digest;
    img.size = e.size;
    *out = img;
    return true;
  }

  // The blobs and layer snapshots the table's images need. An image whose
  // manifest or config cannot be read (a blob removed by hand) keeps what
  // is known of it; it is broken either way, and must not stop the
  // removal of others (nor of itself).
  void Referenced(const ImageIndex& idx, std::set<std::string>* blobs, std::set<std::string>* diffs) {
    for (const auto& [name, e] : idx.images) {
      blobs->insert(e.digest);
      blobs->insert(e.manifest_digest);
      blobs->insert(e.config_digest);
      std::string body, config_json, ignored;
      Manifest m;
      if (!content->ReadSmall(e.manifest_digest, &body, &ignored) || !ParseManifest(body, &m, &ignored)) continue;
      for (const auto& l : m.layers) blobs->insert(l.digest);
      ImageConfig config;
      std::vector<std::string> diff_ids;
      if (content->ReadSmall(m.config.digest, &config_json, &ignored) &&
          ParseImageConfig(config_json, &config, &diff_ids, &ignored))
        diffs->insert(diff_ids.begin(), diff_ids.end());
    }
  }

  // Removes what no image needs any more. Called with the store lock held
  // exclusively, so that no pull or import is between storing a blob and
  // naming it.
  bool Sweep(std::string* error) {
    ImageIndex idx;
    std::set<std::string> blobs, diffs;
    if (!LoadImageIndex(index_path, &idx, error)) return false;
    Referenced(idx, &blobs, &diffs);
    for (const auto& d : snapshots->List())
      if (!diffs.count(d) && !snapshots->Remove(d, error)) return false;
    for (const auto& d : content->List())
      if (!blobs.count(d) && !content->Delete(d, error)) return false;
    return true;
  }

  static bool IsInUse(const ImageEntry& e, const InUse& in_use) {
    for (const auto& u : in_use) {
      if (u == e.name || u == e.digest || u == e.manifest_digest || u == e.config_digest) return true;
      Reference r;
      std::string ignored;
      if (ParseReference(u, &r, &ignored) && r.String() == e.name) return true;
    }
    return false;
  }

  bool RemoveNames(const std::vector<std::string>& names, std::string* error) {
    return Update(
               [&](ImageIndex* idx) {
                 for (const auto& n : names) idx->images.erase(n);
                 return true;
               },
               error) &&
           Sweep(error);
  }
};

ImageStore::ImageStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ImageStore::~ImageStore() = default;

std::unique_ptr<ImageStore> ImageStore::Open(const std::string& data_dir, std::string* error) {
  ImageStoreOptions o;
  o.data_dir = data_dir;
  return Open(o, error);
}

std::unique_ptr<ImageStore> ImageStore::Open(const ImageStoreOptions& options, std::string* error) {
  auto impl = std::make_unique<Impl>();
  impl->agent = options.data_dir + "/agent";
  impl->index_path = impl->agent + "/image-index.json";
  impl->lock_path = impl->agent + "/image.lock";
  impl->index_lock_path = impl->agent + "/image-index.lock";
  std::error_code ec;
  std::filesystem::create_directories(impl->agent + "/images", ec);
  if (ec) {
    *error = "create " + impl->agent + "/images: " + ec.message();
    return nullptr;
  }
  if (!RegistryConfig::Load(options.private_registry, &impl->registries, error)) return nullptr;
  impl->content = ContentStore::Open(impl->agent + "/content", error);
  if (!impl->content) return nullptr;
  impl->snapshots = Snapshots::Open(impl->agent + "/snapshots", error);
  if (!impl->snapshots) return nullptr;
  ImageIndex idx;
  if (!LoadImageIndex(impl->index_path, &idx, error)) return nullptr;
  return std::unique_ptr<ImageStore>(new ImageStore(std::move(impl)));
}

bool ImageStore::Get(const std::string& ref, Image* out, std::string* error) {
  Impl& d = *impl_;
  FileLock lock;
  if (!lock.Acquire(d.lock_path, false, error)) return false;
  ImageIndex idx;
  ImageEntry e;
  if (!LoadImageIndex(d.index_path, &idx, error) || !d.Find(idx, ref, &e, error)) return false;
  if (!d.Materialise(e, out, error)) return false;
  return d.Update(
      [&](ImageIndex* x) {
        auto it = x->images.find(e.name);
        if (it == x->images.end()) return false;
        it->second.last_used_ms = NowMs();
        return true;
      },
      error);
}

bool ImageStore::Pull(const std::string& ref, const ProgressFn& progress, Image* out, std::string* error,
                      const std::map<std::string, RegistryAuth>& auth) {
  Impl& d = *impl_;
  Reference r;
  if (!ParseReference(ref, &r, error)) return false;
  FileLock lock;
  if (!lock.Acquire(d.lock_path, false, error)) return false;
  RegistryConfig registries = d.registries;
  for (const auto& [host, a] : auth) registries.configs[host].auth = a;
  PullResult pulled;
  if (!PullFromRegistry(r, registries, d.content.get(), progress, &pulled, error)) return false;
  ImageEntry e;
  if (!d.BuildEntry(r.String(), pulled.digest, pulled.media_type, &e, error)) return false;
  if (!d.Materialise(e, out, error)) return false;
  return d.Update(
      [&](ImageIndex* x) {
        x->images[e.name] = e;
        return true;
      },
      error);
}

bool ImageStore::Import(const std::string& tar_path, std::vector<std::string>* names, std::string* error) {
  Impl& d = *impl_;
  FileLock lock;
  if (!lock.Acquire(d.lock_path, false, error)) return false;
  ArchiveContents archive;
  std::vector<std::string> snapshots_before = d.snapshots->List();
  bool ok = ReadImageArchive(tar_path, d.content.get(), &archive, error);
  std::vector<ImageEntry> entries;
  for (size_t i = 0; ok && i < archive.images.size(); i++) {
    const auto& a = archive.images[i];
    ImageEntry e;
    Image img;
    ok = d.BuildEntry(a.name, a.digest, a.media_type, &e, error) && d.Materialise(e, &img, error);
    entries.push_back(e);
  }
  if (ok) {
    ok = d.Update(
        [&](ImageIndex* x) {
          for (const auto& e : entries) x->images[e.name] = e;
          return true;
        },
        error);
  }
  // What this import stored or unpacked and no image needs (docker save's
  // per-layer json files, say, or everything after a failure) goes again.
  ImageIndex idx;
  std::set<std::string> blobs, diffs;
  std::string sweep_error;
  if (LoadImageIndex(d.index_path, &idx, &sweep_error)) {
    d.Referenced(idx, &blobs, &diffs);
    for (const auto& a : archive.added)
      if (!blobs.count(a)) d.content->Delete(a, &sweep_error);
    std::set<std::string> before(snapshots_before.begin(), snapshots_before.end());
    for (const auto& s : d.snapshots->List())
      if (!before.count(s) && !diffs.count(s)) d.snapshots->Remove(s, &sweep_error);
  }
  if (!ok) return false;
  names->clear();
  for (const auto& e : entries) names->push_back(e.name);
  return true;
}

void ImageStore::ImportDirectory(std::vector<std::string>* imported, std::vector<std::string>* errors) {
  Impl& d = *impl_;
  std::string dir = d.agent + "/images", error;
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& f : std::filesystem::directory_iterator(dir, ec))
    if (f.is_regular_file(ec) && IsArchiveName(f.path().filename().string())) files.push_back(f.path().filename());
  if (ec) {
    errors->push_back("read " + dir + ": " + ec.message());
    return;
  }
  std::sort(files.begin(), files.end());
  ImageIndex idx;
  if (!LoadImageIndex(d.index_path, &idx, &error)) {
    errors->push_back(error);
    return;
  }
  for (const auto& f : files) {
    struct stat st;
    std::string path = dir + "/" + f;
    if (stat(path.c_str(), &st) != 0) continue;
    ImportedFile seen{st.st_size, st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec};
    if (auto it = idx.imported.find(f); it != idx.imported.end() && it->second == seen) continue;
    std::vector<std::string> names;
    if (!Import(path, &names, &error)) {
      errors->push_back(error);
      continue;
    }
    if (!d.Update(
            [&](ImageIndex* x) {
              x->imported[f] = seen;
              return true;
            },
            &error)) {
      errors->push_back(error);
      continue;
    }
    imported->push_back(f);
  }
}

std::vector<ImageRecord> ImageStore::List(std::string* error) {
  ImageIndex idx;
  std::vector<ImageRecord> out;
  if (!LoadImageIndex(impl_->index_path, &idx, error)) return out;
  for (const auto& [name, e] : idx.images)
    out.push_back({e.name, e.digest, e.config_digest, e.media_type, e.platform, e.size, e.last_used_ms});
  return out;
}

bool ImageStore::Remove(const std::string& ref, const InUse& in_use, std::string* error) {
  Impl& d = *impl_;
  FileLock lock;
  if (!lock.Acquire(d.lock_path, true, error)) return false;
  ImageIndex idx;
  ImageEntry e;
  if (!LoadImageIndex(d.index_path, &idx, error) || !d.Find(idx, ref, &e, error)) return false;
  if (Impl::IsInUse(e, in_use)) {
    *error = "image " + e.name + " is in use by a container";
    return false;
  }
  return d.RemoveNames({e.name}, error);
}

bool ImageStore::Prune(const InUse& in_use, std::vector<std::string>* removed, std::string* error) {
  Impl& d = *impl_;
  FileLock lock;
  if (!lock.Acquire(d.lock_path, true, error)) return false;
  ImageIndex idx;
  if (!LoadImageIndex(d.index_path, &idx, error)) return false;
  std::vector<std::string> names;
  for (const auto& [name, e] : idx.images)
    if (!Impl::IsInUse(e, in_use)) names.push_back(name);
  if (!d.RemoveNames(names, error)) return false;
  *removed = names;
  return true;
}

bool ImageStore::GarbageCollect(const GcPolicy& policy, const InUse& in_use, std::vector<std::string>* removed,
                                std::string* error) {
  Impl& d = *impl_;
  if (policy.low_percent < 0 || policy.high_percent > 100 || policy.low_percent > policy.high_percent) {
    *error = "image GC thresholds must satisfy 0 <= low <= high <= 100";
    return false;
  }
  auto usage = [&](double* percent) {
    struct statvfs vfs;
    if (statvfs(d.agent.c_str(), &vfs) != 0 || vfs.f_blocks == 0) {
      *error = "statvfs " + d.agent + ": " + strerror(errno);
      return false;
    }
    *percent = 100.0 * static_cast<double>(vfs.f_blocks - vfs.f_bavail) / static_cast<double>(vfs.f_blocks);
    return true;
  };
  removed->clear();
  double used = 0;
  if (!usage(&used)) return false;
  if (used <= policy.high_percent) return true;
  FileLock lock;
  if (!lock.Acquire(d.lock_path, true, error)) return false;
  ImageIndex idx;
  if (!LoadImageIndex(d.index_path, &idx, error)) return false;
  std::vector<ImageEntry> unused;
  for (const auto& [name, e] : idx.images)
    if (!Impl::IsInUse(e, in_use)) unused.push_back(e);
  std::sort(unused.begin(), unused.end(), [](const ImageEntry& a, const ImageEntry& b) {
    return a.last_used_ms != b.last_used_ms ? a.last_used_ms < b.last_used_ms : a.name < b.name;
  });
  for (const auto& e : unused) {
    if (used < policy.low_percent) break;
    if (!d.RemoveNames({e.name}, error)) return false;
    removed->push_back(e.name);
    if (!usage(&used)) return false;
  }
  return true;
}

}  // namespace kubit::runtime::image
