#include "runtime/image/image_index.h"

#include <errno.h>
#include <string.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "runtime/image/content_store.h"

namespace kubit::runtime::image {

using nlohmann::json;

bool LoadImageIndex(const std::string& path, ImageIndex* out, std::string* error) {
  *out = ImageIndex{};
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    if (errno == ENOENT) return true;
    *error = "open " + path + ": " + strerror(errno);
    return false;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  json j = json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    *error = path + " is not valid JSON; move it away to start with an empty image list";
    return false;
  }
  try {
    // Named, not temporaries: items() refers into the object it iterates.
    const json images = j.value("images", json::object());
    const json imported = j.value("imported", json::object());
    for (const auto& [name, e] : images.items()) {
      ImageEntry x;
      x.name = name;
      x.digest = e.at("digest").get<std::string>();
      x.media_type = e.value("mediaType", "");
      x.manifest_digest = e.value("manifestDigest", x.digest);
      x.config_digest = e.at("configDigest").get<std::string>();
      x.platform = e.value("platform", "");
      x.size = e.value("size", int64_t{0});
      x.last_used_ms = e.value("lastUsedMs", int64_t{0});
      out->images[name] = x;
    }
    for (const auto& [file, e] : imported.items())
      out->imported[file] = {e.value("size", int64_t{0}), e.value("mtimeNs", int64_t{0})};
  } catch (const json::exception& ex) {
    *error = path + ": " + ex.what();
    return false;
  }
  return true;
}

bool SaveImageIndex(const std::string& path, const ImageIndex& index, std::string* error) {
  json images = json::object(), imported = json::object();
  for (const auto& [name, x] : index.images)
    images[name] = {{"digest", x.digest},           {"mediaType", x.media_type},
                    {"manifestDigest", x.manifest_digest}, {"configDigest", x.config_digest},
                    {"platform", x.platform},       {"size", x.size},
                    {"lastUsedMs", x.last_used_ms}};
  for (const auto& [file, f] : index.imported) imported[file] = {{"size", f.size}, {"mtimeNs", f.mtime_ns}};
  json j = {{"version", 1}, {"images", images}, {"imported", imported}};
  return WriteFileAtomic(path, j.dump(1) + "\n", error);
}

}  // namespace kubit::runtime::image
