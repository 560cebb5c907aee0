#include "net/local_names.h"

#include <stdint.h>
#include <stdio.h>

#include <filesystem>

namespace kubit::net {

namespace {

uint64_t Hash(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

std::string CanonicalDataDir(const std::string& data_dir) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::weakly_canonical(std::filesystem::absolute(data_dir, ec), ec);
  std::string s = p.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

std::string HashHex(const std::string& s, int digits) {
  char buf[17];
  snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(Hash(s)));
  return std::string(buf + 16 - digits);
}

std::string LocalMac(const std::string& data_dir, const std::string& purpose) {
  // The bridge's seed was "mac\n<dir>" before other purposes existed; it
  // stays, so that a bridge keeps its MAC across an upgrade.
  uint64_t h = Hash((purpose == "bridge" ? std::string("mac") : purpose) + "\n" + CanonicalDataDir(data_dir));
  std::string mac(6, '\0');
  mac[0] = 0x02;
  for (int i = 1; i < 6; ++i) mac[i] = static_cast<char>(h >> (8 * i));
  return mac;
}

}  // namespace kubit::net
