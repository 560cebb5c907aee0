#include "core/api/meta.h"

#include "core/api/validation.h"

#include <time.h>

#include <nlohmann/json.hpp>
#include <random>

namespace kubit::api {
namespace {

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return rng;
}

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// Qualified names (label keys): [prefix/]name, name 63 chars of
// [A-Za-z0-9] at the ends and [-A-Za-z0-9_.] inside.
std::vector<std::string> IsQualifiedName(const std::string& v) {
  std::vector<std::string> errs;
  std::string name = v, prefix;
  size_t slash = v.find('/');
  if (slash != std::string::npos) {
    prefix = v.substr(0, slash);
    name = v.substr(slash + 1);
    if (prefix.empty()) errs.push_back("prefix part must be non-empty");
    else
      for (const auto& e : IsDNS1123Subdomain(prefix)) errs.push_back("prefix part " + e);
  }
  auto ok_end = [](char c) { return isalnum(static_cast<unsigned char>(c)) != 0; };
  bool ok = !name.empty() && name.size() <= 63 && ok_end(name.front()) && ok_end(name.back());
  for (char c : name) ok = ok && (isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.');
  if (name.empty()) errs.push_back("name part must be non-empty");
  else if (name.size() > 63) errs.push_back("name part must be no more than 63 characters");
  if (!name.empty() && !ok)
    errs.push_back(
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
        "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
        "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
  return errs;
}

std::vector<std::string> IsLabelValue(const std::string& v) {
  std::vector<std::string> errs;
  if (v.empty()) return errs;
  auto ok_end = [](char c) { return isalnum(static_cast<unsigned char>(c)) != 0; };
  bool ok = ok_end(v.front()) && ok_end(v.back());
  for (char c : v) ok = ok && (isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.');
  if (v.size() > 63) errs.push_back("must be no more than 63 characters");
  if (!ok)
    errs.push_back(
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
        "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
        "'my_value',  or '12345', regex used for validation is "
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
  return errs;
}

}  // namespace

std::string FieldError::ToString() const {
  std::string s = field + ": " + type;
  if (!value.empty()) s += ": " + value;
  if (!detail.empty()) s += ": " + detail;
  return s;
}

std::vector<std::string> IsDNS1123Label(const std::string& v) {
  std::vector<std::string> errs;
  if (v.size() > 63) errs.push_back("must be no more than 63 characters");
  bool ok = !v.empty() && IsAlnum(v.front()) && IsAlnum(v.back());
  for (char c : v) ok = ok && (IsAlnum(c) || c == '-');
  if (!ok)
    errs.push_back(
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
        "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
        "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
  return errs;
}

std::vector<std::string> IsDNS1123Subdomain(const std::string& v) {
  std::vector<std::string> errs;
  if (v.size() > 253) errs.push_back("must be no more than 253 characters");
  bool ok = !v.empty();
  size_t start = 0;
  while (ok && start <= v.size()) {
    size_t dot = v.find('.', start);
    std::string part = v.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    ok = !part.empty() && IsAlnum(part.front()) && IsAlnum(part.back());
    for (char c : part) ok = ok && (IsAlnum(c) || c == '-');
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (!ok)
    errs.push_back(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
        "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
        "used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
  return errs;
}

void ValidateObjectMeta(const ResourceType& t, const Json& meta, bool is_create,
                        std::vector<FieldError>* errs) {
  (void)is_create;
  std::string name = meta.value("name", "");
  if (name.empty() && meta.value("generateName", "").empty()) {
    errs->push_back({"Required value", "metadata.name", "name or generateName is required", ""});
  } else if (!name.empty()) {
    auto e = ValidateNameForKind(t, name);
    for (const auto& m : e) errs->push_back({"Invalid value", "metadata.name", m, "\"" + name + "\""});
  }
  if (meta.contains("labels") && meta["labels"].is_object()) {
    for (const auto& [k, v] : meta["labels"].items()) {
      for (const auto& m : IsQualifiedName(k))
        errs->push_back({"Invalid value", "metadata.labels", m, "\"" + k + "\""});
      if (!v.is_string()) {
        errs->push_back({"Invalid value", "metadata.labels", "label values must be strings", ""});
        continue;
      }
      for (const auto& m : IsLabelValue(v.get<std::string>()))
        errs->push_back({"Invalid value", "metadata.labels", m, "\"" + v.get<std::string>() + "\""});
    }
  }
  if (meta.contains("annotations") && meta["annotations"].is_object()) {
    size_t total = 0;
    for (const auto& [k, v] : meta["annotations"].items()) {
      for (const auto& m : IsQualifiedName(k))
        errs->push_back({"Invalid value", "metadata.annotations", m, "\"" + k + "\""});
      total += k.size() + (v.is_string() ? v.get<std::string>().size() : 0);
    }
    if (total > 256 * 1024)
      errs->push_back({"Too long", "metadata.annotations",
                       "must have at most 262144 bytes", ""});
  }
}

std::string NewUID() {
  uint64_t a = Rng()(), b = Rng()();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant
  char buf[40];
  snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
           static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
           static_cast<unsigned>(b >> 48), static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

std::string Now() { return TimeAfter(0); }

std::string TimeAfter(int64_t seconds) {
  time_t t = time(nullptr) + seconds;
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string RandomSuffix(size_t n) {
  // Upstream's alphabet leaves out vowels and look-alikes.
  static const char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string s;
  for (size_t i = 0; i < n; i++) s += kAlphabet[Rng()() % (sizeof(kAlphabet) - 1)];
  return s;
}

}  // namespace kubit::api
