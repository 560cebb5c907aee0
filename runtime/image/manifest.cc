#include "runtime/image/manifest.h"

#include <nlohmann/json.hpp>

#include "runtime/image/digest.h"

namespace kubit::runtime::image {
namespace {

using nlohmann::json;

bool Parse(const std::string& text, const char* what, json* out, std::string* error) {
  *out = json::parse(text, nullptr, false);
  if (out->is_discarded() || !out->is_object()) {
    *error = std::string(what) + " is not a JSON object";
    return false;
  }
  return true;
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

std::vector<std::string> Strings(const json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

bool ParseDescriptor(const json& j, const std::string& where, Descriptor* d, std::string* error) {
  if (!j.is_object()) {
    *error = where + " is not an object";
    return false;
  }
  d->media_type = Str(j, "mediaType");
  d->digest = Str(j, "digest");
  if (!IsValidDigest(d->digest)) {
    *error = where + ": unsupported or malformed digest \"" + d->digest + "\"";
    return false;
  }
  auto size = j.find("size");
  if (size == j.end() || !size->is_number_integer() || size->get<int64_t>() < 0) {
    *error = where + ": missing or negative size";
    return false;
  }
  d->size = size->get<int64_t>();
  if (auto p = j.find("platform"); p != j.end() && p->is_object()) {
    d->platform.os = Str(*p, "os");
    d->platform.architecture = Str(*p, "architecture");
    d->platform.variant = Str(*p, "variant");
  }
  if (auto a = j.find("annotations"); a != j.end() && a->is_object())
    for (const auto& [k, v] : a->items())
      if (v.is_string()) d->annotations[k] = v.get<std::string>();
  return true;
}

bool IsLayerType(const std::string& t) {
  return t == media_type::kOciLayer || t == media_type::kOciLayerGzip || t == media_type::kOciLayerZstd ||
         t == media_type::kDockerLayer || t == media_type::kDockerLayerGzip;
}

// How well an index entry's variant fits the wanted one: 2 exact, 1
// compatible, 0 not at all.
int VariantFit(const Platform& want, const std::string& have) {
  if (have == want.variant) return 2;
  if (want.architecture == "arm64") return have.empty() || have == "v8" ? 2 : 0;
  if (want.architecture == "arm") {
    // An ARMv7 core runs v6 and v5 code; an entry without a variant is
    // taken as the oldest.
    auto level = [](const std::string& v) { return v.size() == 2 && v[0] == 'v' ? v[1] - '0' : 5; };
    return level(have) <= level(want.variant) ? 1 : 0;
  }
  return have.empty() || want.variant.empty() ? 1 : 0;
}

}  // namespace

std::string Platform::String() const {
  std::string s = os + "/" + architecture;
  if (!variant.empty()) s += "/" + variant;
  return s;
}

Platform HostPlatform() {
  Platform p{"linux", "", ""};
#if defined(__x86_64__)
  p.architecture = "amd64";
#elif defined(__aarch64__)
  p.architecture = "arm64";
#elif defined(__arm__)
  p.architecture = "arm";
#if defined(__ARM_ARCH) && __ARM_ARCH >= 7
  p.variant = "v7";
#elif defined(__ARM_ARCH) && __ARM_ARCH == 6
  p.variant = "v6";
#else
  p.variant = "v5";
#endif
#elif defined(__i386__)
  p.architecture = "386";
#elif defined(__riscv) && __riscv_xlen == 64
  p.architecture = "riscv64";
#else
#error "unknown architecture: add its OCI name to HostPlatform"
#endif
  return p;
}

bool IsIndexType(const std::string& t) { return t == media_type::kOciIndex || t == media_type::kDockerList; }
bool IsManifestType(const std::string& t) {
  return t == media_type::kOciManifest || t == media_type::kDockerManifest;
}

bool ManifestMediaType(const std::string& text, const std::string& content_type, std::string* media_type,
                       std::string* error) {
  json j;
  if (!Parse(text, "manifest", &j, error)) return false;
  std::string t = Str(j, "mediaType");
  if (t.empty()) t = content_type.substr(0, content_type.find(';'));
  if (t.empty() || t == "application/json" || t == "text/plain" || t == "application/octet-stream") {
    if (j.contains("manifests")) t = media_type::kOciIndex;
    else if (j.contains("config") && j.contains("layers")) t = media_type::kOciManifest;
  }
  if (j.value("schemaVersion", 0) == 1 || t.find("distribution.manifest.v1") != std::string::npos) {
    *error = "Docker schema1 manifests are not supported (push the image again with a current tool)";
    return false;
  }
  if (!IsIndexType(t) && !IsManifestType(t)) {
    *error = "unsupported manifest media type \"" + t + "\"";
    return false;
  }
  *media_type = t;
  return true;
}

bool ParseManifest(const std::string& text, Manifest* out, std::string* error) {
  json j;
  if (!Parse(text, "manifest", &j, error)) return false;
  if (j.value("schemaVersion", 0) != 2) {
    *error = "manifest: schemaVersion is not 2";
    return false;
  }
  Manifest m;
  m.media_type = Str(j, "mediaType");
  if (!j.contains("config") || !ParseDescriptor(j["config"], "manifest config", &m.config, error)) {
    if (error->empty()) *error = "manifest has no config";
    return false;
  }
  auto layers = j.find("layers");
  if (layers == j.end() || !layers->is_array()) {
    *error = "manifest has no layers array";
    return false;
  }
  for (size_t i = 0; i < layers->size(); i++) {
    Descriptor d;
    if (!ParseDescriptor((*layers)[i], "manifest layer " + std::to_string(i), &d, error)) return false;
    if (!IsLayerType(d.media_type)) {
      *error = "manifest layer " + std::to_string(i) + ": unsupported media type \"" + d.media_type + "\"";
      return false;
    }
    m.layers.push_back(d);
  }
  *out = m;
  return true;
}

bool ParseIndex(const std::string& text, Index* out, std::string* error) {
  json j;
  if (!Parse(text, "index", &j, error)) return false;
  if (j.value("schemaVersion", 0) != 2) {
    *error = "index: schemaVersion is not 2";
    return false;
  }
  Index idx;
  idx.media_type = Str(j, "mediaType");
  auto ms = j.find("manifests");
  if (ms == j.end() || !ms->is_array()) {
    *error = "index has no manifests array";
    return false;
  }
  for (size_t i = 0; i < ms->size(); i++) {
    Descriptor d;
    if (!ParseDescriptor((*ms)[i], "index entry " + std::to_string(i), &d, error)) return false;
    idx.manifests.push_back(d);
  }
  *out = idx;
  return true;
}

bool SelectPlatform(const Index& index, const Platform& want, Descriptor* out, std::string* error) {
  int best = 0;
  std::vector<std::string> seen;
  for (const auto& d : index.manifests) {
    // Attestations (buildkit's "unknown/unknown") and nested indexes are
    // not images to run.
    if (!IsManifestType(d.media_type) && !d.media_type.empty()) continue;
    if (d.platform.os.empty() || d.platform.architecture == "unknown") continue;
    seen.push_back(d.platform.String());
    if (d.platform.os != want.os || d.platform.architecture != want.architecture) continue;
    int fit = VariantFit(want, d.platform.variant);
    if (fit > best) {
      best = fit;
      *out = d;
    }
  }
  if (best > 0) return true;
  std::string list;
  for (const auto& s : seen) list += (list.empty() ? "" : ", ") + s;
  *error = "no image for platform " + want.String() + " (the index has: " + (list.empty() ? "none" : list) + ")";
  return false;
}

bool ParseImageConfig(const std::string& text, ImageConfig* out, std::vector<std::string>* diff_ids,
                      std::string* error) {
  json j;
  if (!Parse(text, "image config", &j, error)) return false;
  ImageConfig c;
  c.os = Str(j, "os");
  c.architecture = Str(j, "architecture");
  c.variant = Str(j, "variant");
  if (auto cfg = j.find("config"); cfg != j.end() && cfg->is_object()) {
    c.entrypoint = Strings(*cfg, "Entrypoint");
    c.cmd = Strings(*cfg, "Cmd");
    c.env = Strings(*cfg, "Env");
    c.working_dir = Str(*cfg, "WorkingDir");
    c.user = Str(*cfg, "User");
    c.stop_signal = Str(*cfg, "StopSignal");
    if (auto l = cfg->find("Labels"); l != cfg->end() && l->is_object())
      for (const auto& [k, v] : l->items())
        if (v.is_string()) c.labels[k] = v.get<std::string>();
  }
  diff_ids->clear();
  auto rootfs = j.find("rootfs");
  if (rootfs == j.end() || !rootfs->is_object() || !rootfs->contains("diff_ids")) {
    *error = "image config has no rootfs.diff_ids";
    return false;
  }
  for (const auto& d : Strings(*rootfs, "diff_ids")) {
    if (!IsValidDigest(d)) {
      *error = "image config: unsupported diff_id \"" + d + "\"";
      return false;
    }
    diff_ids->push_back(d);
  }
  *out = c;
  return true;
}

}  // namespace kubit::runtime::image
