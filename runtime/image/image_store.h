// ImageStore: the images of one data directory, the library behind
// `kubit ctr images` and the kubelet. Blobs live by digest in
// <data-dir>/agent/content, unpacked layers in <data-dir>/agent/snapshots,
// and the name -> manifest table in <data-dir>/agent/image-index.json.
// Several processes may open the same data directory (the agent and a
// `kubit ctr` beside it): every change takes an exclusive file lock and
// re-reads the table first, and every file appears under its final name
// only once complete, so a kill -9 at any moment leaves a state that opens.
// One ImageStore may be used from several threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "runtime/image/image.h"
#include "runtime/image/registry_config.h"

namespace kubit::runtime::image {

struct ImageStoreOptions {
  std::string data_dir = "/var/lib/kubit";
  // k3s's registries.yaml (mirrors, auth, tls); empty: none.
  std::string private_registry;
};

// One line of `kubit ctr images ls`.
struct ImageRecord {
  std::string name;           // normalised reference
  std::string digest;         // manifest digest
  std::string config_digest;  // image ID
  std::string media_type;     // of the manifest
  std::string platform;       // "linux/arm/v7"
  int64_t size = 0;           // compressed layer bytes
  int64_t last_used_ms = 0;   // unix milliseconds: pulled, imported or Get
};

// Pull progress of one blob; `done == total` once it is complete.
struct PullProgress {
  std::string digest;
  std::string what;  // "manifest", "config", "layer"
  int64_t done = 0, total = 0;
  bool finished = false;
  bool cached = false;  // already in the content store, nothing fetched
};
using ProgressFn = std::function<void(const PullProgress&)>;

// Which images may not be removed: an image counts as in use when its
// name, manifest digest or config digest is in the set.
using InUse = std::set<std::string>;

struct GcPolicy {
  int high_percent = 85;  // start collecting above this disk usage...
  int low_percent = 80;   // ...and stop once under this one
};

class ImageStore {
 public:
  static std::unique_ptr<ImageStore> Open(const ImageStoreOptions& options, std::string* error);
  static std::unique_ptr<ImageStore> Open(const std::string& data_dir, std::string* error);
  ~ImageStore();

  // The image `ref` names ("busybox", "host:5000/app:1", "...@sha256:..."),
  // with its layers unpacked (done once per layer, here if not yet) and
  // layer_dirs filled in. Local only: an image not in the store is an error
  // starting "image not found". Marks the image as used now (for GC).
  bool Get(const std::string& ref, Image* out, std::string* error);

  // Fetches `ref` from its registry (mirrors and auth from
  // private_registry), verifies every blob, unpacks the layers and records
  // the name. Blobs already present are not fetched again.
  // `auth`: credentials by registry host ("docker.io", "host:5000") that
  // take the place of registries.yaml's for this pull (the kubelet's
  // imagePullSecrets).
  bool Pull(const std::string& ref, const ProgressFn& progress, Image* out, std::string* error,
            const std::map<std::string, RegistryAuth>& auth = {});

  // Imports a `docker save` or OCI image-layout tarball (plain, gzip or
  // zstd); `names` gets the references it held.
  bool Import(const std::string& tar_path, std::vector<std::string>* names, std::string* error);

  // Imports every tarball in <data-dir>/agent/images (the air-gap drop
  // directory) not imported before with the same name, size and mtime.
  // Failures of single files are collected in *errors; the others go on.
  void ImportDirectory(std::vector<std::string>* imported, std::vector<std::string>* errors);

  std::vector<ImageRecord> List(std::string* error);

  // Removes the name `ref`; blobs and snapshots no other image uses go too.
  // Refuses an image in use.
  bool Remove(const std::string& ref, const InUse& in_use, std::string* error);

  // Removes every image not in use; `removed` gets their names.
  bool Prune(const InUse& in_use, std::vector<std::string>* removed, std::string* error);

  // When the filesystem holding agent/ is above policy.high_percent full,
  // removes unused images, least recently used first, until it is under
  // policy.low_percent (or no unused image is left).
  bool GarbageCollect(const GcPolicy& policy, const InUse& in_use,
                      std::vector<std::string>* removed, std::string* error);

  ImageStore(const ImageStore&) = delete;
  ImageStore& operator=(const ImageStore&) = delete;

 private:
  struct Impl;
  explicit ImageStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kubit::runtime::image
