// Content digests as the OCI specs write them: "sha256:<64 lower-case hex>".
// sha256 is the only algorithm kubit stores; anything else is refused.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace kubit::runtime::image {

// "sha256:" followed by exactly 64 lower-case hex digits.
bool IsValidDigest(const std::string& digest);
// The hex part of a valid digest.
std::string DigestHex(const std::string& digest);

// Incremental sha256.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  void Update(const void* data, size_t n);
  // "sha256:<hex>" of everything so far; the hasher can go on afterwards.
  std::string Digest() const;

  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

std::string DigestOf(const std::string& data);

}  // namespace kubit::runtime::image
