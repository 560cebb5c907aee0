// Pulling an image from OCI distribution (v2) registries into the content
// store: the manifest (with an index or manifest list resolved to this
// machine's platform), the config and the layers, every blob checked
// against its digest. Endpoints come from the registry configuration and
// are tried in order; the first that serves the manifest serves the blobs.
// Layers download a few at a time, each resumable: a dropped connection
// continues with a Range request from the bytes already on disk.
#pragma once

#include <string>

#include "runtime/image/content_store.h"
#include "runtime/image/image_store.h"
#include "runtime/image/reference.h"
#include "runtime/image/registry_config.h"

namespace kubit::runtime::image {

struct PullResult {
  std::string digest;           // what the reference resolved to (index or manifest)
  std::string media_type;       // of `digest`
  std::string manifest_digest;  // the manifest for this platform
};

struct PullOptions {
  int parallel_layers = 3;
  int attempts_per_blob = 3;  // a dropped or failed transfer is retried (resuming) this often
};

bool PullFromRegistry(const Reference& ref, const RegistryConfig& config, ContentStore* content,
                      const ProgressFn& progress, PullResult* out, std::string* error,
                      const PullOptions& options = {});

}  // namespace kubit::runtime::image
