// Image references as docker and containerd read them: `busybox` is
// docker.io/library/busybox:latest, `host:5000/team/app:1.2` names a
// registry by its first component (it holds a '.' or a ':' or is
// "localhost"), and `name@sha256:<hex>` pins a manifest digest.
#pragma once

#include <string>

namespace kubit::runtime::image {

struct Reference {
  std::string domain;  // "docker.io", "registry.example.com:5000"
  std::string path;    // "library/busybox"
  std::string tag;     // "latest"; empty when only a digest was given
  std::string digest;  // "sha256:..." or empty

  std::string Repository() const { return domain + "/" + path; }
  // The normalised form: domain/path[:tag][@digest].
  std::string String() const;
  // What to ask the registry's manifests endpoint for: the digest if
  // pinned, else the tag.
  std::string Object() const { return digest.empty() ? tag : digest; }
};

// Parses and normalises `ref`; false with *error naming what is wrong.
bool ParseReference(const std::string& ref, Reference* out, std::string* error);

}  // namespace kubit::runtime::image
