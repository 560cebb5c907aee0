#include "core/apiserver/stored_json.h"

#include <string.h>

namespace kubit::apiserver {

namespace {

// Past one JSON string starting at s[i] == '"'; npos if unterminated.
// memchr to each quote: a ConfigMap's data is long strings.
size_t SkipString(const std::string& s, size_t i) {
  const char* base = s.data();
  for (i++; i < s.size();) {
    const void* q = memchr(base + i, '"', s.size() - i);
    if (!q) return std::string::npos;
    size_t at = static_cast<const char*>(q) - base;
    // Escaped by an odd run of backslashes (which cannot reach back past
    // i: s[i - 1] is a quote).
    size_t run = at;
    while (run > i && base[run - 1] == '\\') run--;
    if ((at - run) % 2 == 0) return at + 1;
    i = at + 1;
  }
  return std::string::npos;
}

// Past one JSON value starting at s[i] (no leading whitespace: the stored
// form is compact); npos if malformed.
size_t SkipValue(const std::string& s, size_t i) {
  if (i >= s.size()) return std::string::npos;
  if (s[i] == '"') return SkipString(s, i);
  if (s[i] != '{' && s[i] != '[') {
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']') i++;
    return i;
  }
  int depth = 0;
  for (; i < s.size(); i++) {
    char c = s[i];
    if (c == '"') {
      i = SkipString(s, i);
      if (i == std::string::npos) return i;
      i--;
    } else if (c == '{' || c == '[') {
      depth++;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string::npos;
}

}  // namespace

bool SpliceResourceVersion(const std::string& stored, int64_t revision, std::string* out, bool list_item) {
  if (stored.empty() || stored[0] != '{') return false;
  static const std::string kMetadata = "\"metadata\"", kApiVersion = "\"apiVersion\"", kKind = "\"kind\"";
  std::string result = "{";
  result.reserve(stored.size() + 32);
  bool found = false, first = true;
  int dropped = 0;  // of apiVersion and kind, for a list item
  size_t i = 1;
  while (i < stored.size() && stored[i] == '"') {
    size_t key_end = SkipString(stored, i);
    if (key_end == std::string::npos || key_end >= stored.size() || stored[key_end] != ':') return false;
    size_t value = key_end + 1;
    size_t end = SkipValue(stored, value);
    if (end == std::string::npos || end >= stored.size()) return false;
    auto key_is = [&](const std::string& k) { return stored.compare(i, key_end - i, k) == 0; };
    if (list_item && (key_is(kApiVersion) || key_is(kKind))) {
      dropped++;
    } else {
      if (!first) result.push_back(',');
      first = false;
      if (key_is(kMetadata)) {
        if (stored[value] != '{') return false;
        found = true;
        result.append(stored, i, value + 1 - i);
        result.append("\"resourceVersion\":\"" + std::to_string(revision) + "\"");
        if (stored[value + 1] != '}') result.push_back(',');
        result.append(stored, value + 1, end - value - 1);
        // Nothing after it to drop: the rest as it is (the stored form is
        // the server's own compact JSON), unscanned.
        if ((!list_item || dropped == 2) && stored.back() == '}') {
          result.append(stored, end, std::string::npos);
          *out = std::move(result);
          return true;
        }
      } else {
        result.append(stored, i, end - i);
      }
    }
    i = end;
    if (stored[i] == ',') i++;
  }
  if (!found || i >= stored.size() || stored[i] != '}') return false;
  result.push_back('}');
  *out = std::move(result);
  return true;
}

}  // namespace kubit::apiserver
