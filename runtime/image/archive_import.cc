#include "runtime/image/archive_import.h"

#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <nlohmann/json.hpp>

#include "runtime/image/manifest.h"
#include "runtime/image/reference.h"
#include "runtime/image/tar_reader.h"

namespace kubit::runtime::image {
namespace {

using nlohmann::json;

constexpr int64_t kMaxMetadata = 16 << 20;
constexpr const char* kContainerdName = "io.containerd.image.name";
constexpr const char* kOciRefName = "org.opencontainers.image.ref.name";

// "./a//b/" -> "a/b"; a ".." goes up (never above the archive root).
std::string CleanName(const std::string& raw) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= raw.size()) {
    size_t end = raw.find('/', start);
    if (end == std::string::npos) end = raw.size();
    std::string c = raw.substr(start, end - start);
    start = end + 1;
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(c);
  }
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : "/") + p;
  return s;
}

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

struct Archive {
  std::map<std::string, std::string> metadata;  // small JSON files by name
  std::map<std::string, std::string> blobs;     // path -> digest
  std::map<std::string, std::string> links;     // path -> path it names

  // The digest of the file at `path`, following the archive's own links.
  bool Find(std::string path, std::string* digest) const {
    for (int hops = 0; hops < 16; hops++) {
      path = CleanName(path);
      if (auto b = blobs.find(path); b != blobs.end()) {
        *digest = b->second;
        return true;
      }
      auto l = links.find(path);
      if (l == links.end()) return false;
      path = l->second;
    }
    return false;
  }
};

bool IsMetadataName(const std::string& name) {
  return name == "manifest.json" || name == "index.json" || name == "oci-layout" || name == "repositories";
}

bool ReadArchive(const std::string& path, ContentStore* content, Archive* a, std::vector<std::string>* added,
                 std::string* error) {
  std::unique_ptr<FdReader> file = FdReader::Open(path, error);
  if (!file) return false;
  DecompressReader plain(file.get());
  TarReader tar(&plain);
  TarEntry e;
  std::vector<char> buf(256 << 10);
  while (tar.Next(&e, error)) {
    std::string name = CleanName(e.path);
    if (e.type == TarEntry::kSymlink) {
      std::string dir = DirOf(name);
      a->links[name] = e.linkname[0] == '/' ? e.linkname : (dir.empty() ? "" : dir + "/") + e.linkname;
      continue;
    }
    if (e.type == TarEntry::kHardlink) {
      a->links[name] = e.linkname;
      continue;
    }
    if (e.type != TarEntry::kRegular) continue;
    if (IsMetadataName(name)) {
      if (e.size > kMaxMetadata) {
        *error = name + " in the archive is too large";
        return false;
      }
      std::string data;
      size_t got = 0;
      do {
        if (!tar.ReadData(buf.data(), buf.size(), &got, error)) return false;
        data.append(buf.data(), got);
      } while (got > 0);
      a->metadata[name] = data;
      continue;
    }
    // An OCI layout names its blobs by digest: the content must match.
    std::string expected;
    if (name.rfind("blobs/sha256/", 0) == 0) {
      expected = "sha256:" + name.substr(13);
      if (!IsValidDigest(expected)) expected.clear();
    }
    if (!expected.empty() && content->Has(expected)) {
      a->blobs[name] = expected;  // dedup: the bytes are skipped unread
      continue;
    }
    // With the digest known from the name, Commit checks it before the
    // blob is stored under it.
    auto w = content->NewWriter(expected, false, error);
    if (!w) return false;
    size_t got = 0;
    do {
      if (!tar.ReadData(buf.data(), buf.size(), &got, error) || !w->Write(buf.data(), got, error)) {
        w->Discard();  // a broken archive leaves nothing to resume from
        return false;
      }
    } while (got > 0);
    std::string digest;
    if (!w->Commit(&digest, error)) {
      *error = "archive blob " + name + ": " + *error;
      return false;
    }
    added->push_back(digest);
    a->blobs[name] = digest;
  }
  if (!error->empty()) {
    *error = path + ": " + *error;
    return false;
  }
  return true;
}

bool NormaliseName(const std::string& raw, std::string* name) {
  Reference ref;
  std::string ignored;
  if (!ParseReference(raw, &ref, &ignored)) return false;
  *name = ref.String();
  return true;
}

// The layer's media type from its first bytes (docker save does not say).
std::string SniffLayerType(const ContentStore& content, const std::string& digest) {
  unsigned char b[4] = {};
  int fd = open(content.Path(digest).c_str(), O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, b, 4) : 0;
  if (fd >= 0) close(fd);
  if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) return media_type::kOciLayerGzip;
  if (n >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) return media_type::kOciLayerZstd;
  return media_type::kOciLayer;
}

bool FromOciLayout(const Archive& a, ArchiveContents* out, std::string* error) {
  Index index;
  if (!ParseIndex(a.metadata.at("index.json"), &index, error)) {
    *error = "index.json: " + *error;
    return false;
  }
  for (const auto& d : index.manifests) {
    std::string raw, name;
    if (auto it = d.annotations.find(kContainerdName); it != d.annotations.end()) raw = it->second;
    else if (auto it2 = d.annotations.find(kOciRefName); it2 != d.annotations.end()) raw = it2->second;
    if (raw.empty()) continue;  // an image without a name cannot be used by name
    if (!NormaliseName(raw, &name)) {
      *error = "index.json: the image name \"" + raw + "\" is not a valid reference";
      return false;
    }
    std::string digest;
    if (!a.Find("blobs/sha256/" + DigestHex(d.digest), &digest)) {
      *error = "index.json names " + d.digest + ", which the archive does not hold";
      return false;
    }
    std::string mt = d.media_type.empty() ? media_type::kOciManifest : d.media_type;
    out->images.push_back({name, d.digest, mt});
  }
  return true;
}

bool FromDockerSave(const Archive& a, ContentStore* content, ArchiveContents* out, std::string* error) {
  json m = json::parse(a.metadata.at("manifest.json"), nullptr, false);
  if (m.is_discarded() || !m.is_array()) {
    *error = "manifest.json is not a JSON array";
    return false;
  }
  for (const auto& item : m) {
    if (!item.is_object() || !item.contains("Config") || !item["Config"].is_string()) {
      *error = "manifest.json: an entry without Config";
      return false;
    }
    std::string config_path = item["Config"].get<std::string>(), config;
    if (!a.Find(config_path, &config)) {
      *error = "manifest.json names the config " + config_path + ", which the archive does not hold";
      return false;
    }
    json layers = json::array();
    for (const auto& l : item.value("Layers", json::array())) {
      std::string layer;
      if (!l.is_string() || !a.Find(l.get<std::string>(), &layer)) {
        *error = "manifest.json names the layer " + l.dump() + ", which the archive does not hold";
        return false;
      }
      int64_t size = 0;
      content->Has(layer, &size);
      layers.push_back({{"mediaType", SniffLayerType(*content, layer)}, {"digest", layer}, {"size", size}});
    }
    int64_t config_size = 0;
    content->Has(config, &config_size);
    // docker save keeps no manifest: one is made, as containerd's import
    // does, so that the image is stored like a pulled one.
    json manifest = {{"schemaVersion", 2},
                     {"mediaType", media_type::kOciManifest},
                     {"config", {{"mediaType", media_type::kOciConfig}, {"digest", config}, {"size", config_size}}},
                     {"layers", layers}};
    std::string digest, text = manifest.dump();
    bool had = content->Has(DigestOf(text));
    if (!content->Put(text, "", &digest, error)) return false;
    if (!had) out->added.push_back(digest);
    for (const auto& tag : item.value("RepoTags", json::array())) {
      std::string name;
      if (!tag.is_string() || !NormaliseName(tag.get<std::string>(), &name)) {
        *error = "manifest.json: the tag " + tag.dump() + " is not a valid reference";
        return false;
      }
      out->images.push_back({name, digest, media_type::kOciManifest});
    }
  }
  return true;
}

}  // namespace

bool ReadImageArchive(const std::string& path, ContentStore* content, ArchiveContents* out, std::string* error) {
  Archive a;
  *out = ArchiveContents{};
  if (!ReadArchive(path, content, &a, &out->added, error)) return false;
  bool oci = a.metadata.count("oci-layout") && a.metadata.count("index.json");
  bool ok;
  if (oci) {
    ok = FromOciLayout(a, out, error);
    // Docker 25+ writes both; its manifest.json adds tags the index may lack.
    if (ok && out->images.empty() && a.metadata.count("manifest.json")) ok = FromDockerSave(a, content, out, error);
  } else if (a.metadata.count("manifest.json")) {
    ok = FromDockerSave(a, content, out, error);
  } else {
    *error = path + " is neither a docker save archive (no manifest.json) nor an OCI image layout "
                    "(no oci-layout and index.json)";
    return false;
  }
  if (ok && out->images.empty()) {
    *error = path + " holds no named image (no RepoTags, and no " + kContainerdName + " or " + kOciRefName +
             " annotation)";
    ok = false;
  }
  if (!ok && error->rfind(path, 0) != 0) *error = path + ": " + *error;
  return ok;
}

}  // namespace kubit::runtime::image
