// Label and field selectors as the list and watch parameters spell them:
// labelSelector "a=b,c!=d,e in (x,y),f notin (z),g,!h" and fieldSelector
// "metadata.name=x,spec.nodeName!=y".
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace kubit::api {

struct Requirement {
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist };
  std::string key;
  Op op = Op::kEquals;
  std::vector<std::string> values;
};

class LabelSelector {
 public:
  // False with *error (upstream's wording) on a bad selector.
  static bool Parse(const std::string& text, LabelSelector* out, std::string* error);
  // A metav1.LabelSelector object (matchLabels, matchExpressions). An empty
  // object matches everything; callers decide what a null selector means.
  static bool FromJson(const nlohmann::json& selector, LabelSelector* out, std::string* error);
  bool Matches(const nlohmann::json& labels) const;  // labels: object or null
  bool empty() const { return reqs_.empty(); }

 private:
  std::vector<Requirement> reqs_;
};

class FieldSelector {
 public:
  static bool Parse(const std::string& text, FieldSelector* out, std::string* error);
  // Fields are dotted paths into the object (metadata.name, spec.nodeName,
  // involvedObject.kind, ...); a missing field reads as "".
  bool Matches(const nlohmann::json& object) const;
  bool empty() const { return reqs_.empty(); }
  size_t size() const { return reqs_.size(); }
  // The value required for `field` by an "=" term, if any.
  bool Exact(const std::string& field, std::string* value) const;

 private:
  std::vector<Requirement> reqs_;
};

}  // namespace kubit::api
