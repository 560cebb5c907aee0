#include "core/api/limit_ranger.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/api/quota_usage.h"

namespace kubit::api {

using Json = nlohmann::json;

namespace {

constexpr int64_t kMaxMilliValue = INT64_MAX / 1000;

// Quantity.Value() (scale 0) and MilliValue() (scale 3): rounded up.
int64_t Scaled(Quantity q, int32_t scale) {
  if (q.IsZero()) return 0;
  q.exp += scale;
  q.RoundUp(0);
  int64_t v = 0;
  if (!q.ToInt64(&v)) return q.negative ? INT64_MIN : INT64_MAX;
  return v;
}

// requestLimitEnforcedValues: milli precision unless that would overflow.
void Comparable(const Quantity& req, const Quantity& lim, const Quantity& enforced, int64_t* r, int64_t* l,
                int64_t* e) {
  *r = Scaled(req, 0);
  *l = Scaled(lim, 0);
  *e = Scaled(enforced, 0);
  if (*r <= kMaxMilliValue && *l <= kMaxMilliValue && *e <= kMaxMilliValue) {
    *r = Scaled(req, 3);
    *l = Scaled(lim, 3);
    *e = Scaled(enforced, 3);
  }
}

const Quantity* Find(const ResourceList& list, const std::string& name) {
  auto it = list.find(name);
  return it == list.end() ? nullptr : &it->second;
}

std::string MinConstraint(const std::string& type, const std::string& name, const Quantity& enforced,
                          const ResourceList& requests, const ResourceList& limits) {
  const Quantity* req = Find(requests, name);
  const Quantity* lim = Find(limits, name);
  int64_t r, l, e;
  Comparable(req ? *req : Quantity(), lim ? *lim : Quantity(), enforced, &r, &l, &e);
  std::string head = "minimum " + name + " usage per " + type + " is " + enforced.String();
  if (!req) return head + ".  No request is specified";
  if (r < e) return head + ", but request is " + req->String();
  if (lim && l < e) return head + ", but limit is " + lim->String();
  return "";
}

std::string MaxConstraint(const std::string& type, const std::string& name, const Quantity& enforced,
                          const ResourceList& requests, const ResourceList& limits) {
  const Quantity* req = Find(requests, name);
  const Quantity* lim = Find(limits, name);
  int64_t r, l, e;
  Comparable(req ? *req : Quantity(), lim ? *lim : Quantity(), enforced, &r, &l, &e);
  std::string head = "maximum " + name + " usage per " + type + " is " + enforced.String();
  if (!lim) return head + ".  No limit is specified";
  if (l > e) return head + ", but limit is " + lim->String();
  if (req && r > e) return head + ", but request is " + req->String();
  return "";
}

// Claims: the max is held against what the user requested.
std::string MaxRequestConstraint(const std::string& type, const std::string& name, const Quantity& enforced,
                                 const ResourceList& requests) {
  const Quantity* req = Find(requests, name);
  int64_t r, l, e;
  Comparable(req ? *req : Quantity(), Quantity(), enforced, &r, &l, &e);
  std::string head = "maximum " + name + " usage per " + type + " is " + enforced.String();
  if (!req) return head + ".  No request is specified";
  if (r > e) return head + ", but request is " + req->String();
  return "";
}

std::string RatioConstraint(const std::string& type, const std::string& name, const Quantity& enforced,
                            const ResourceList& requests, const ResourceList& limits) {
  const Quantity* req = Find(requests, name);
  const Quantity* lim = Find(limits, name);
  int64_t r, l, e;
  Comparable(req ? *req : Quantity(), lim ? *lim : Quantity(), enforced, &r, &l, &e);
  std::string head = name + " max limit to request ratio per " + type + " is " + enforced.String();
  if (!req || r == 0) return head + ", but no request is specified or request is 0";
  if (!lim || l == 0) return head + ", but no limit is specified or limit is 0";
  double observed = double(l) / double(r), shown = observed;
  double allowed = double(Scaled(enforced, 0));
  if (Scaled(enforced, 0) <= kMaxMilliValue) {
    observed *= 1000;
    allowed = double(Scaled(enforced, 3));
  }
  if (observed <= allowed) return "";
  char buf[64];
  snprintf(buf, sizeof(buf), "%f", shown);
  return head + ", but provided ratio is " + buf;
}

const Json& Field(const Json& o, const char* key) {
  static const Json kNull;
  if (!o.is_object()) return kNull;
  auto it = o.find(key);
  return it == o.end() ? kNull : *it;
}

// min, max and maxLimitRequestRatio of one item against requests/limits.
void CheckItem(const Json& item, const std::string& type, const ResourceList& requests,
               const ResourceList& limits, std::vector<std::string>* errs) {
  auto add = [&](const std::string& e) {
    if (!e.empty()) errs->push_back(e);
  };
  for (const auto& [name, q] : ResourceListFromJson(Field(item, "min"))) add(MinConstraint(type, name, q, requests, limits));
  for (const auto& [name, q] : ResourceListFromJson(Field(item, "max"))) add(MaxConstraint(type, name, q, requests, limits));
  for (const auto& [name, q] : ResourceListFromJson(Field(item, "maxLimitRequestRatio")))
    add(RatioConstraint(type, name, q, requests, limits));
}

// mergeContainerResources: what it set, as the annotation words it.
void DefaultContainer(Json* c, const ResourceList& limits, const ResourceList& requests, const char* what,
                      std::vector<std::string>* notes) {
  Json& res = (*c)["resources"];
  if (!res.is_object()) res = Json::object();
  auto fill = [&](const char* which, const ResourceList& defaults, const char* word) {
    if (defaults.empty()) return;
    Json& have = res[which];
    if (!have.is_object()) have = Json::object();
    std::vector<std::string> set;
    for (const auto& [name, q] : defaults)
      if (!have.contains(name)) {
        have[name] = q.String();
        set.push_back(name);
      }
    if (set.empty()) return;
    std::string note;
    for (const auto& n : set) note += (note.empty() ? "" : ", ") + n;
    std::string name = c->value("name", "");
    notes->push_back(note + " " + word + " for " + what + " " + name);
  };
  // Upstream lists the requests it set before the limits.
  fill("requests", requests, "request");
  fill("limits", limits, "limit");
}

}  // namespace

void ApplyLimitRangeDefaults(const Json& range, Json* pod) {
  ResourceList limits, requests;
  const Json& items = Field(Field(range, "spec"), "limits");
  if (!items.is_array()) return;
  for (const auto& item : items) {
    if (Field(item, "type") != "Container") continue;
    for (const auto& [name, q] : ResourceListFromJson(Field(item, "default"))) limits[name] = q;
    for (const auto& [name, q] : ResourceListFromJson(Field(item, "defaultRequest"))) requests[name] = q;
  }
  if (limits.empty() && requests.empty()) return;
  std::vector<std::string> notes;
  Json& spec = (*pod)["spec"];
  for (const auto& [list, what] : {std::pair{"containers", "container"}, std::pair{"initContainers", "init container"}}) {
    if (!spec.is_object() || !spec.contains(list) || !spec[list].is_array()) continue;
    for (auto& c : spec[list])
      if (c.is_object()) DefaultContainer(&c, limits, requests, what, &notes);
  }
  if (notes.empty()) return;
  std::string val = "LimitRanger plugin set: ";
  for (size_t i = 0; i < notes.size(); i++) val += (i ? "; " : "") + notes[i];
  (*pod)["metadata"]["annotations"]["kubernetes.io/limit-ranger"] = val;
}

void CheckLimitRange(const Json& range, const std::string& kind, const Json& obj, std::vector<std::string>* errs) {
  const Json& items = Field(Field(range, "spec"), "limits");
  if (!items.is_array()) return;
  for (const auto& item : items) {
    const Json& t = Field(item, "type");
    std::string type = t.is_string() ? t.get<std::string>() : "";
    if (kind == "Pod" && type == "Container") {
      const Json& spec = Field(obj, "spec");
      for (const char* list : {"containers", "initContainers"}) {
        const Json& cs = Field(spec, list);
        if (!cs.is_array()) continue;
        for (const auto& c : cs) {
          const Json& res = Field(c, "resources");
          CheckItem(item, type, ResourceListFromJson(Field(res, "requests")),
                    ResourceListFromJson(Field(res, "limits")), errs);
        }
      }
    } else if (kind == "Pod" && type == "Pod") {
      CheckItem(item, type, PodRequests(obj), PodLimits(obj), errs);
    } else if (kind == "PersistentVolumeClaim" && type == "PersistentVolumeClaim") {
      ResourceList requests = ResourceListFromJson(Field(Field(Field(obj, "spec"), "resources"), "requests"));
      for (const auto& [name, q] : ResourceListFromJson(Field(item, "min"))) {
        std::string e = MinConstraint(type, name, q, requests, {});
        if (!e.empty()) errs->push_back(e);
      }
      for (const auto& [name, q] : ResourceListFromJson(Field(item, "max"))) {
        std::string e = MaxRequestConstraint(type, name, q, requests);
        if (!e.empty()) errs->push_back(e);
      }
    }
  }
}

std::string AggregateMessages(const std::vector<std::string>& errs) {
  std::vector<std::string> seen;
  for (const auto& e : errs)
    if (std::find(seen.begin(), seen.end(), e) == seen.end()) seen.push_back(e);
  if (seen.size() <= 1) return seen.empty() ? "" : seen[0];
  std::string out;
  for (size_t i = 0; i < seen.size(); i++) out += (i ? ", " : "") + seen[i];
  return "[" + out + "]";
}

}  // namespace kubit::api
