#include "net/base64.h"

#include "net/jwt.h"

namespace kubit::net {

// The two alphabets differ in two characters and padding only.
std::string Base64Encode(const std::string& in) {
  std::string s = Base64UrlEncode(in);
  for (char& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (s.size() % 4) s += '=';
  return s;
}

bool Base64Decode(const std::string& in, std::string* out) {
  std::string s = in;
  for (char& c : s) {
    if (c == '-' || c == '_') return false;
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  return Base64UrlDecode(s, out);
}

}  // namespace kubit::net
