#include "runtime/image/reference.h"

#include "runtime/image/digest.h"

namespace kubit::runtime::image {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// One path component: lower-case alphanumerics joined by '.', '_', "__"
// or runs of '-', as the distribution spec's repository grammar says.
bool ValidComponent(const std::string& c) {
  if (c.empty() || !IsLowerAlnum(c.front()) || !IsLowerAlnum(c.back())) return false;
  for (size_t i = 0; i < c.size();) {
    if (IsLowerAlnum(c[i])) {
      i++;
      continue;
    }
    size_t j = i;
    if (c[i] == '.') {
      j = i + 1;
    } else if (c[i] == '_') {
      j = i + 1;
      if (j < c.size() && c[j] == '_') j++;
    } else if (c[i] == '-') {
      while (j < c.size() && c[j] == '-') j++;
    } else {
      return false;
    }
    if (j >= c.size() || !IsLowerAlnum(c[j])) return false;
    i = j;
  }
  return true;
}

bool ValidDomain(const std::string& d) {
  std::string host = d;
  size_t colon = d.rfind(':');
  if (!d.empty() && d[0] == '[') {  // [ipv6]:port
    size_t close = d.find(']');
    if (close == std::string::npos) return false;
    if (close + 1 < d.size() && d[close + 1] != ':') return false;
    colon = close + 1 < d.size() ? close + 1 : std::string::npos;
    host = d.substr(0, close + 1);
  } else if (colon != std::string::npos) {
    host = d.substr(0, colon);
  }
  if (colon != std::string::npos) {
    std::string port = d.substr(colon + 1);
    if (port.empty() || port.size() > 5) return false;
    for (char c : port)
      if (c < '0' || c > '9') return false;
  }
  if (host.empty()) return false;
  if (host[0] == '[') return true;
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.';
    if (!ok) return false;
  }
  // Dot-separated labels, none empty, none starting or ending with '-'.
  size_t start = 0;
  while (true) {
    size_t end = host.find('.', start);
    std::string label = host.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (label.empty() || label.front() == '-' || label.back() == '-') return false;
    if (end == std::string::npos) return true;
    start = end + 1;
  }
}

bool ValidTag(const std::string& t) {
  if (t.empty() || t.size() > 128) return false;
  for (size_t i = 0; i < t.size(); i++) {
    char c = t[i];
    bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!word && (i == 0 || (c != '.' && c != '-'))) return false;
  }
  return true;
}

}  // namespace

std::string Reference::String() const {
  std::string s = Repository();
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

bool ParseReference(const std::string& ref, Reference* out, std::string* error) {
  auto bad = [&](const std::string& why) {
    *error = "invalid image reference \"" + ref + "\": " + why;
    return false;
  };
  if (ref.empty()) return bad("empty");
  if (ref.size() > 1024) return bad("longer than 1024 characters");
  Reference r;
  std::string rest = ref;
  if (size_t at = rest.find('@'); at != std::string::npos) {
    r.digest = rest.substr(at + 1);
    rest.resize(at);
    if (!IsValidDigest(r.digest)) return bad("digest must be sha256: and 64 lower-case hex digits");
  }
  size_t slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    r.tag = rest.substr(colon + 1);
    rest.resize(colon);
    if (!ValidTag(r.tag)) return bad("invalid tag \"" + r.tag + "\"");
  }
  if (rest.empty()) return bad("no repository name");
  size_t first = rest.find('/');
  std::string head = rest.substr(0, first);
  if (first != std::string::npos &&
      (head.find('.') != std::string::npos || head.find(':') != std::string::npos ||
       head == "localhost")) {
    r.domain = head;
    r.path = rest.substr(first + 1);
    if (!ValidDomain(r.domain)) return bad("invalid registry host \"" + r.domain + "\"");
  } else {
    r.domain = "docker.io";
    r.path = rest;
  }
  if (r.domain == "index.docker.io") r.domain = "docker.io";
  if (r.domain == "docker.io" && r.path.find('/') == std::string::npos) r.path = "library/" + r.path;
  size_t start = 0;
  while (true) {
    size_t end = r.path.find('/', start);
    std::string c = r.path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!ValidComponent(c)) {
      for (char ch : c)
        if (ch >= 'A' && ch <= 'Z') return bad("repository name must be lower-case");
      return bad("invalid repository name component \"" + c + "\"");
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (r.Repository().size() > 255) return bad("repository name longer than 255 characters");
  if (r.tag.empty() && r.digest.empty()) r.tag = "latest";
  *out = r;
  return true;
}

}  // namespace kubit::runtime::image
