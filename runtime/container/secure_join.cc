#include "runtime/container/secure_join.h"

#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include <vector>

namespace kubit::runtime::container {

bool SecureJoin(const std::string& root, const std::string& path, std::string* out,
                std::string* error) {
  // `remaining` holds the components still to walk, last one first.
  std::vector<std::string> done, remaining;
  auto push_path = [&remaining](const std::string& p) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= p.size()) {
      size_t slash = p.find('/', start);
      if (slash == std::string::npos) slash = p.size();
      if (slash > start) parts.push_back(p.substr(start, slash - start));
      start = slash + 1;
    }
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) remaining.push_back(*it);
  };
  push_path(path);
  int links = 0;
  while (!remaining.empty()) {
    std::string part = remaining.back();
    remaining.pop_back();
    if (part == ".") continue;
    if (part == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    std::string current = root;
    for (const auto& d : done) current += "/" + d;
    current += "/" + part;
    char target[PATH_MAX];
    ssize_t n = readlink(current.c_str(), target, sizeof(target) - 1);
    if (n < 0) {
      // Not a link (or not there): keep the name.
      done.push_back(part);
      continue;
    }
    if (++links > 255) {
      *error = "too many levels of symbolic links in " + path + " under " + root;
      return false;
    }
    target[n] = 0;
    if (target[0] == '/') done.clear();
    push_path(target);
  }
  std::string result = root;
  for (const auto& d : done) result += "/" + d;
  *out = result;
  return true;
}

}  // namespace kubit::runtime::container
