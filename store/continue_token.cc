#include "store/continue_token.h"

#include <cstdint>

namespace kubit::store {
namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Base64Url(const std::string& in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

bool FromBase64Url(const std::string& in, std::string* out) {
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const char* p = nullptr;
    for (const char* a = kAlphabet; *a; a++)
      if (*a == c) p = a;
    if (!p) return false;
    acc = (acc << 6) | static_cast<uint32_t>(p - kAlphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return true;
}

}  // namespace

std::string EncodeContinueToken(Revision revision, const std::string& last_key) {
  return Base64Url(std::to_string(revision) + "|" + last_key);
}

bool DecodeContinueToken(const std::string& token, Revision* revision, std::string* last_key) {
  std::string raw;
  if (!FromBase64Url(token, &raw)) return false;
  size_t bar = raw.find('|');
  if (bar == 0 || bar == std::string::npos || bar > 19) return false;
  Revision r = 0;
  for (size_t i = 0; i < bar; i++) {
    if (raw[i] < '0' || raw[i] > '9') return false;
    r = r * 10 + (raw[i] - '0');
  }
  if (r <= 0) return false;
  *revision = r;
  *last_key = raw.substr(bar + 1);
  return true;
}

}  // namespace kubit::store
