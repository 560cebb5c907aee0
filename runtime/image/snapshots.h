// Snapshots: each layer unpacked once, into <root>/<diff_id hex>, shared by
// every image that has the layer. A layer is unpacked into a temporary
// directory, its uncompressed digest checked against the diff_id, synced,
// and only then renamed to its final name; the temporaries of dead
// processes are removed at Open.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace kubit::runtime::image {

class Snapshots {
 public:
  static std::unique_ptr<Snapshots> Open(const std::string& root, std::string* error);

  std::string Dir(const std::string& diff_id) const;
  bool Has(const std::string& diff_id) const;
  // Unpacks the layer blob at `blob_path` unless its snapshot exists.
  bool Ensure(const std::string& diff_id, const std::string& blob_path, std::string* error);
  bool Remove(const std::string& diff_id, std::string* error);
  std::vector<std::string> List() const;  // diff_ids

 private:
  explicit Snapshots(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

}  // namespace kubit::runtime::image
