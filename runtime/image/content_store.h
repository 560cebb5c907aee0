// ContentStore: blobs by digest under <root>/sha256/<hex>. A blob appears
// under its final name only after its bytes were hashed, matched the
// digest asked for, and were fsync'd; until then it lives in
// <root>/ingest/. A download into ingest/<hex>.partial survives a dropped
// connection or a kill, so the next try resumes where it stopped.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/image/digest.h"

namespace kubit::runtime::image {

class ContentStore {
 public:
  // `root` is made if missing. Stale temporary files of dead processes
  // are removed.
  static std::unique_ptr<ContentStore> Open(const std::string& root, std::string* error);

  std::string Path(const std::string& digest) const;
  bool Has(const std::string& digest, int64_t* size = nullptr) const;
  // Reads a blob of at most max_bytes and checks its digest again (used
  // for manifests and configs, which are small).
  bool ReadSmall(const std::string& digest, std::string* out, std::string* error,
                 int64_t max_bytes = 16 << 20) const;
  // Stores `data`; with `expected` set it must hash to it. *digest gets
  // the digest either way.
  bool Put(const std::string& data, const std::string& expected, std::string* digest, std::string* error);
  bool Delete(const std::string& digest, std::string* error);
  std::vector<std::string> List() const;

  // Writes one blob. With an expected digest the temporary file is
  // ingest/<hex>.partial, kept on failure for Resume, and locked so that
  // two processes never write it at once (the second waits).
  class Writer {
   public:
    ~Writer();
    bool Write(const char* data, size_t n, std::string* error);
    // Bytes already in the file (from an earlier, interrupted attempt).
    int64_t offset() const { return offset_; }
    // Throws away what was written (the partial file too).
    void Discard();
    // Hashes, checks `expected`, fsyncs and renames into place. A blob
    // that is already there (stored by someone else meanwhile) wins.
    bool Commit(std::string* digest, std::string* error);

   private:
    friend class ContentStore;
    Writer() = default;
    const ContentStore* store_ = nullptr;
    std::string expected_, temp_;
    int fd_ = -1;
    int64_t offset_ = 0;
    Sha256 hash_;
    bool done_ = false;
  };
  // `expected` empty: the digest is whatever the bytes hash to. With
  // `resume`, the bytes of an earlier partial file are kept (and hashed).
  std::unique_ptr<Writer> NewWriter(const std::string& expected, bool resume, std::string* error);

 private:
  explicit ContentStore(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

// Writes a file atomically: a temporary beside it, fsync, rename, fsync of
// the directory.
bool WriteFileAtomic(const std::string& path, const std::string& data, std::string* error);

}  // namespace kubit::runtime::image
