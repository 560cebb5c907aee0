// Server-side apply and managedFields: the walks over values (field sets,
// merge, compare, removal, validation) and the field manager around them.
#include "core/api/managed_fields.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <initializer_list>
#include <map>
#include <set>

#include "core/api/managed_fields_internal.h"
#include "core/api/meta.h"
#include "core/api/schema.h"

namespace kubit::api {

using smd::Json;
using smd::Shape;
using smd::ShapeOf;
using Entry = FieldSet::Entry;
using Entries = std::vector<Entry>;

struct FieldSetBuilder {
  static Entries& Of(FieldSet& s) { return s.entries_; }
};

namespace {

bool Alive(const Entry& e) { return e.member || !e.children.empty(); }

const Json* Child(const Json* obj, const std::string& key) {
  if (!obj || !obj->is_object()) return nullptr;
  auto it = obj->find(key);
  return it == obj->end() ? nullptr : &*it;
}

bool EmptyOrNull(const Json& v) { return v.is_null() || (v.is_structured() && v.empty()); }

// ---------------------------------------------------------------------------
// Field sets of values (upstream's ToFieldSet).

void WalkSet(const SmdType& t, const Json& v, Entry* node) {
  Shape sh = ShapeOf(t, v);
  if (sh == Shape::kLeaf) {
    node->member = true;
    return;
  }
  if (sh == Shape::kMap) {
    if (!v.is_object()) return;
    for (auto it = v.begin(); it != v.end(); ++it) {
      bool declared = false;
      SmdType ft = t.FieldType(it.key(), &declared);
      Entry child{PathElement::Field(it.key()), false, {}};
      WalkSet(ft, it.value(), &child);
      const Json& val = it.value();
      if (val.is_null() || (val.is_object() && val.empty()) || !declared) child.member = true;
      if (Alive(child)) node->children.push_back(std::move(child));
    }
    return;
  }
  if (!v.is_array()) return;
  SmdType elem = t.ElementType();
  std::vector<std::pair<PathElement, size_t>> pes;
  pes.reserve(v.size());
  for (size_t i = 0; i < v.size(); i++) {
    PathElement pe;
    std::string err;
    if (smd::ItemPathElement(t, v[i], &pe, &err)) pes.emplace_back(std::move(pe), i);
  }
  std::stable_sort(pes.begin(), pes.end(),
                   [](const auto& a, const auto& b) { return a.first.Compare(b.first) < 0; });
  for (size_t i = 0; i < pes.size();) {
    size_t j = i + 1;
    while (j < pes.size() && pes[j].first.Compare(pes[i].first) == 0) j++;
    Entry child{pes[i].first, true, {}};
    if (j == i + 1) WalkSet(elem, v[pes[i].second], &child);  // duplicates are leaves
    child.member = true;
    node->children.push_back(std::move(child));
    i = j;
  }
}

FieldSet SetOf(const SmdType& t, const Json& v) {
  Entry root;
  WalkSet(t, v, &root);
  FieldSet s;
  FieldSetBuilder::Of(s) = std::move(root.children);
  return s;
}

// ---------------------------------------------------------------------------
// Validation (upstream's typed conversion of an object).

struct Validation {
  bool strict = true;            // fields a built-in struct does not declare are errors
  bool allow_duplicates = false;
  std::vector<std::string> errors;

  void Error(const std::string& path, const std::string& msg) {
    errors.push_back(path.empty() ? msg : path + ": " + msg);
  }

  void Walk(const SmdType& t, const Json& v, const std::string& path) {
    switch (t.kind()) {
      case SmdType::Kind::kDeduced:
      case SmdType::Kind::kScalar:
        return;
      case SmdType::Kind::kStruct:
      case SmdType::Kind::kMap: {
        if (v.is_null()) return;
        if (!v.is_object()) {
          Error(path, "expected map, got " + GoJson(v));
          return;
        }
        for (auto it = v.begin(); it != v.end(); ++it) {
          bool declared = false;
          SmdType ft = t.FieldType(it.key(), &declared);
          std::string p = path + "." + it.key();
          if (strict && t.closed() && !declared) {
            Error(p, "field not declared in schema");
            return;  // upstream stops at the first one of an object
          }
          Walk(ft, it.value(), p);
        }
        return;
      }
      case SmdType::Kind::kList: {
        if (v.is_null()) return;
        if (!v.is_array()) {
          Error(path, "expected list, got " + GoJson(v));
          return;
        }
        SmdType elem = t.ElementType();
        std::set<PathElement> seen;
        for (size_t i = 0; i < v.size(); i++) {
          if (t.list_kind() == SmdType::ListKind::kAtomic) {
            Walk(elem, v[i], path + "[" + std::to_string(i) + "]");
            continue;
          }
          PathElement pe;
          std::string err;
          if (!smd::ItemPathElement(t, v[i], &pe, &err)) {
            Error(path, "element " + std::to_string(i) + ": " + err);
            return;
          }
          bool dup = !seen.insert(pe).second;
          if (dup && !allow_duplicates) Error(path, "duplicate entries for key " + pe.ToString());
          Walk(elem, v[i], path + pe.ToString());
        }
        return;
      }
    }
  }

  std::string Message() const {
    if (errors.size() == 1) return errors[0];
    std::string s = "errors:";
    for (const std::string& e : errors) s += "\n  " + e;
    return s;
  }
};

// ---------------------------------------------------------------------------
// Merge (upstream's TypedValue.Merge: the applied configuration wins).

struct PeLess {
  bool operator()(const PathElement& a, const PathElement& b) const { return a.Compare(b) < 0; }
};

struct Merger {
  std::string error;

  bool Merge(const SmdType& t, const Json* l, const Json* r, Json* out) {
    if (!r) {
      *out = *l;
      return true;
    }
    if (!l) {
      *out = *r;
      return true;
    }
    Shape sl = ShapeOf(t, *l), sr = ShapeOf(t, *r);
    if (sl != sr || sr == Shape::kLeaf) {
      *out = *r;
      return true;
    }
    if (sr == Shape::kMap) {
      if (EmptyOrNull(*l) && EmptyOrNull(*r)) {
        *out = *r;
        return true;
      }
      Json m = Json::object();
      if (l->is_object()) {
        for (auto it = l->begin(); it != l->end(); ++it) {
          bool declared;
          SmdType ft = t.FieldType(it.key(), &declared);
          Json v;
          if (!Merge(ft, &it.value(), Child(r, it.key()), &v)) {
            if (!error.empty()) return false;
            continue;
          }
          m[it.key()] = std::move(v);
        }
      }
      if (r->is_object()) {
        for (auto it = r->begin(); it != r->end(); ++it) {
          if (Child(l, it.key())) continue;
          m[it.key()] = it.value();
        }
      }
      if (m.empty()) return false;
      *out = std::move(m);
      return true;
    }
    // A set or map-list.
    if (EmptyOrNull(*l) && EmptyOrNull(*r)) {
      *out = *r;
      return true;
    }
    return MergeList(t, l->is_array() ? l : nullptr, r->is_array() ? r : nullptr, out);
  }

  bool Index(const SmdType& t, const Json* list, bool allow_duplicates, std::vector<PathElement>* pes,
             std::map<PathElement, const Json*, PeLess>* observed) {
    static const Json kNull;
    if (!list) return true;
    for (size_t i = 0; i < list->size(); i++) {
      PathElement pe;
      std::string err;
      if (!smd::ItemPathElement(t, (*list)[i], &pe, &err)) {
        error = "element " + std::to_string(i) + ": " + err;
        return false;
      }
      auto it = observed->find(pe);
      if (it != observed->end()) {
        if (!allow_duplicates) {
          error = "duplicate entries for key " + pe.ToString();
          return false;
        }
        it->second = &kNull;  // duplicated items are not merged
      } else {
        observed->emplace(pe, &(*list)[i]);
      }
      pes->push_back(std::move(pe));
    }
    return true;
  }

  // Upstream's order: the live items stay where they are, the applied ones
  // keep their relative order, new applied items follow the applied item
  // before them.
  bool MergeList(const SmdType& t, const Json* l, const Json* r, Json* out) {
    std::vector<PathElement> lpes, rpes;
    std::map<PathElement, const Json*, PeLess> lobs, robs;
    if (!Index(t, r, false, &rpes, &robs) || !Index(t, l, true, &lpes, &lobs)) return false;
    SmdType elem = t.ElementType();
    std::vector<const PathElement*> shared;
    for (const PathElement& pe : rpes)
      if (lobs.count(pe)) shared.push_back(&pe);
    size_t next_shared_i = 0;
    const PathElement* next_shared = nullptr;
    auto advance = [&] {
      next_shared = next_shared_i < shared.size() ? shared[next_shared_i++] : nullptr;
    };
    advance();
    std::map<PathElement, bool, PeLess> merged_rhs;
    Json items = Json::array();
    auto emit = [&](const PathElement& pe, const Json* lc, const Json* rc) -> bool {
      Json v;
      if (Merge(elem, lc, rc, &v)) {
        items.push_back(std::move(v));
      } else if (!error.empty()) {
        return false;
      }
      (void)pe;
      return true;
    };
    size_t li = 0, ri = 0;
    while (li < lpes.size() || ri < rpes.size()) {
      if (li < lpes.size() && ri < rpes.size()) {
        const PathElement& pe = lpes[li];
        if (pe.Compare(rpes[ri]) == 0) {
          merged_rhs[pe] = true;
          if (!emit(pe, lobs[pe], robs[pe])) return false;
          li++;
          ri++;
          next_shared = nullptr;
          advance();
          continue;
        }
        if (robs.count(pe) && next_shared && next_shared->Compare(pe) != 0) {
          li++;  // a shared item, but not the one this round wants
          continue;
        }
      }
      if (li < lpes.size()) {
        const PathElement& pe = lpes[li];
        if (!robs.count(pe)) {
          if (!emit(pe, &(*l)[li], nullptr)) return false;
          li++;
          continue;
        }
        if (merged_rhs.count(pe)) li++;
      }
      if (ri < rpes.size()) {
        const PathElement& pe = rpes[ri];
        merged_rhs[pe] = true;
        auto lit = lobs.find(pe);
        if (!emit(pe, lit == lobs.end() ? nullptr : lit->second, robs[pe])) return false;
        ri++;
        if (next_shared && next_shared->Compare(pe) == 0) {
          next_shared = nullptr;
          advance();
        }
      }
    }
    if (items.empty()) return false;
    *out = std::move(items);
    return true;
  }
};

// ---------------------------------------------------------------------------
// Compare (upstream's TypedValue.Compare).

struct Comparison {
  FieldSet removed, modified, added;
  bool Same() const { return removed.Empty() && modified.Empty() && added.Empty(); }
};

struct Comparer {
  Comparison* c;
  FieldPath path;

  void Compare(const SmdType& t, const Json* l, const Json* r) {
    if (!l || !r) {
      OneSided(t, l ? l : r, l != nullptr);
      return;
    }
    Shape sl = ShapeOf(t, *l), sr = ShapeOf(t, *r);
    if (sl != sr) {
      c->modified.Insert(path);
      return;
    }
    if (sl == Shape::kLeaf || (EmptyOrNull(*l) && EmptyOrNull(*r))) {
      if (!smd::ValueEquals(*l, *r)) c->modified.Insert(path);
      return;
    }
    if (sl == Shape::kMap) {
      if (l->is_object())
        for (auto it = l->begin(); it != l->end(); ++it) Field(t, it.key(), &it.value(), Child(r, it.key()));
      if (r->is_object())
        for (auto it = r->begin(); it != r->end(); ++it)
          if (!Child(l, it.key())) Field(t, it.key(), nullptr, &it.value());
      return;
    }
    Items(t, l->is_array() ? l : nullptr, r->is_array() ? r : nullptr);
  }

  void Field(const SmdType& t, const std::string& key, const Json* l, const Json* r) {
    bool declared;
    SmdType ft = t.FieldType(key, &declared);
    path.push_back(PathElement::Field(key));
    Compare(ft, l, r);
    path.pop_back();
  }

  // A value only one side has: its leaves and itself were removed (or added).
  void OneSided(const SmdType& t, const Json* v, bool removed) {
    FieldSet& s = removed ? c->removed : c->added;
    Shape sh = ShapeOf(t, *v);
    if (sh == Shape::kLeaf || EmptyOrNull(*v)) {
      s.Insert(path);
      return;
    }
    if (sh == Shape::kMap) {
      for (auto it = v->begin(); it != v->end(); ++it)
        Field(t, it.key(), removed ? &it.value() : nullptr, removed ? nullptr : &it.value());
    } else {
      Items(t, removed ? v : nullptr, removed ? nullptr : v);
    }
    s.Insert(path);
  }

  void Items(const SmdType& t, const Json* l, const Json* r) {
    SmdType elem = t.ElementType();
    std::vector<PathElement> all;
    std::map<PathElement, std::vector<const Json*>, PeLess> lv, rv;
    auto index = [&](const Json* list, std::map<PathElement, std::vector<const Json*>, PeLess>* m,
                     bool left) {
      if (!list) return;
      for (const Json& item : *list) {
        PathElement pe;
        std::string err;
        if (!smd::ItemPathElement(t, item, &pe, &err)) continue;
        auto it = m->find(pe);
        if (it != m->end()) {
          it->second.push_back(&item);
          continue;
        }
        if (left || !lv.count(pe)) all.push_back(pe);
        (*m)[pe].push_back(&item);
      }
    };
    index(l, &lv, true);
    index(r, &rv, false);
    for (const PathElement& pe : all) {
      auto li = lv.find(pe);
      auto ri = rv.find(pe);
      std::vector<const Json*> empty;
      const std::vector<const Json*>& ll = li == lv.end() ? empty : li->second;
      const std::vector<const Json*>& rl = ri == rv.end() ? empty : ri->second;
      path.push_back(pe);
      if (ll.size() <= 1 && rl.size() <= 1) {
        Compare(elem, ll.empty() ? nullptr : ll[0], rl.empty() ? nullptr : rl[0]);
      } else if (ll.size() >= 2 && rl.size() >= 2) {
        bool equal = ll.size() == rl.size();
        for (size_t i = 0; equal && i < ll.size(); i++) equal = smd::ValueEquals(*ll[i], *rl[i]);
        if (!equal) c->modified.Insert(path);
      } else if (ll.size() >= 2) {
        if (!rl.empty()) Compare(elem, nullptr, rl[0]);
        c->removed.Insert(path);
      } else {
        if (!ll.empty()) Compare(elem, ll[0], nullptr);
        c->added.Insert(path);
      }
      path.pop_back();
    }
  }
};

Comparison CompareValues(const SmdType& t, const Json& l, const Json& r) {
  Comparison c;
  Comparer cmp{&c, {}};
  cmp.Compare(t, &l, &r);
  return c;
}

// ---------------------------------------------------------------------------
// Removal (upstream's TypedValue.RemoveItems). Values emptied by the removal
// are left out (upstream leaves nulls, which decoding drops).

const Entry* FindEntry(const Entries& es, const PathElement& pe) {
  auto it = std::lower_bound(es.begin(), es.end(), pe,
                             [](const Entry& e, const PathElement& p) { return e.pe.Compare(p) < 0; });
  return it != es.end() && it->pe.Compare(pe) == 0 ? &*it : nullptr;
}

bool RemoveItems(const SmdType& t, const Json& v, const Entries& remove, Json* out) {
  Shape sh = ShapeOf(t, v);
  if (sh == Shape::kLeaf) {
    if ((t.kind() == SmdType::Kind::kList || t.kind() == SmdType::Kind::kStruct ||
         t.kind() == SmdType::Kind::kMap) &&
        t.atomic())
      return false;
    *out = v;
    return true;
  }
  if (sh == Shape::kMap) {
    if (!v.is_object() || v.empty()) return false;
    Json m = Json::object();
    for (auto it = v.begin(); it != v.end(); ++it) {
      const Entry* e = FindEntry(remove, PathElement::Field(it.key()));
      if (e && e->member) continue;
      if (e && !e->children.empty()) {
        bool declared;
        SmdType ft = t.FieldType(it.key(), &declared);
        Json child;
        if (RemoveItems(ft, it.value(), e->children, &child)) m[it.key()] = std::move(child);
        continue;
      }
      m[it.key()] = it.value();
    }
    if (m.empty()) return false;
    *out = std::move(m);
    return true;
  }
  if (!v.is_array() || v.empty()) return false;
  SmdType elem = t.ElementType();
  Json items = Json::array();
  for (const Json& item : v) {
    PathElement pe;
    std::string err;
    if (!smd::ItemPathElement(t, item, &pe, &err)) {
      items.push_back(item);
      continue;
    }
    const Entry* e = FindEntry(remove, pe);
    if (e && e->member) continue;
    if (e && !e->children.empty()) {
      Json child;
      if (RemoveItems(elem, item, e->children, &child)) items.push_back(std::move(child));
      continue;
    }
    items.push_back(item);
  }
  if (items.empty()) return false;
  *out = std::move(items);
  return true;
}

Json RemoveFrom(const SmdType& t, const Json& v, const FieldSet& s) {
  Json out;
  if (!RemoveItems(t, v, s.entries(), &out)) return Json::object();
  return out;
}

// Nulls the applied configuration brought in are dropped from the merged
// object (decoding drops them upstream), unless the schema allows null or the
// live object had the null already.
void DropNewNulls(const SmdType& t, Json* v, const Json* live) {
  Shape sh = ShapeOf(t, *v);
  if (sh == Shape::kMap && v->is_object()) {
    for (auto it = v->begin(); it != v->end();) {
      bool declared;
      SmdType ft = t.FieldType(it.key(), &declared);
      const Json* lv = Child(live, it.key());
      if (it.value().is_null()) {
        if (!ft.nullable() && !(lv && lv->is_null())) {
          it = v->erase(it);
          continue;
        }
      } else if (it.value().is_structured()) {
        DropNewNulls(ft, &it.value(), lv);
      }
      ++it;
    }
  } else if (sh == Shape::kList && v->is_array() && t.list_kind() == SmdType::ListKind::kMap) {
    SmdType elem = t.ElementType();
    std::map<PathElement, const Json*, PeLess> old;
    if (live && live->is_array())
      for (const Json& item : *live) {
        PathElement pe;
        std::string err;
        if (smd::ItemPathElement(t, item, &pe, &err)) old.emplace(pe, &item);
      }
    for (Json& item : *v) {
      PathElement pe;
      std::string err;
      if (!smd::ItemPathElement(t, item, &pe, &err)) continue;
      auto it = old.find(pe);
      DropNewNulls(elem, &item, it == old.end() ? nullptr : it->second);
    }
  }
}

// ---------------------------------------------------------------------------
// Managers (upstream's fieldpath.ManagedFields with the entries' times).

struct ManagerEntry {
  std::string manager, operation, api_version, subresource;
  FieldSet set;
  std::string time;  // "" when none
  bool applied() const { return operation == "Apply"; }
};

// Keyed by upstream's manager identifier: the entry's JSON without fields
// and time (and, for appliers, without apiVersion).
using Managed = std::map<std::string, ManagerEntry>;

constexpr const char* kCurrentOperation = "current-operation";
constexpr const char* kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";
constexpr size_t kMaxUpdateManagers = 10;

std::string Identity(const std::string& manager, const std::string& operation,
                     const std::string& api_version, const std::string& subresource) {
  std::string s = "{";
  auto add = [&](const char* name, const std::string& v) {
    if (v.empty()) return;
    if (s.size() > 1) s += ",";
    s += "\"" + std::string(name) + "\":" + GoJson(v);
  };
  add("manager", manager);
  add("operation", operation);
  add("apiVersion", operation == "Apply" ? std::string() : api_version);
  add("subresource", subresource);
  return s + "}";
}

std::string IdentityOf(const ManagerEntry& e) {
  return Identity(e.manager, e.operation, e.api_version, e.subresource);
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// Seconds since the epoch of an RFC 3339 time; 0 when it is not one.
int64_t UnixSeconds(const std::string& s) {
  int y, mo, d, h, mi, sec;
  int n = 0;
  if (sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 &&
      sscanf(s.c_str(), "%4d-%2d-%2dt%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
    return 0;
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return 0;
  size_t i = n;
  if (i < s.size() && s[i] == '.')
    for (i++; i < s.size() && s[i] >= '0' && s[i] <= '9';) i++;
  int64_t offset = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh = 0, om = 0;
    if (sscanf(s.c_str() + i + 1, "%2d:%2d", &oh, &om) == 2) offset = (s[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  }
  return DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
}

std::string FormatTime(int64_t secs) {
  time_t t = static_cast<time_t>(secs);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

const Json* ManagedFieldsOf(const Json& obj) {
  const Json* meta = Child(&obj, "metadata");
  return Child(meta, "managedFields");
}

void EraseManagedFields(Json* obj) {
  if (!obj->is_object()) return;
  auto meta = obj->find("metadata");
  if (meta != obj->end() && meta->is_object()) meta->erase("managedFields");
}

// The object upstream compares a new object with: the kind's Go zero value
// as its typed view shows it. Non-pointer structs are always there (empty
// objects; Time null, Quantity "0", IntOrString 0, Duration "0s"), other
// fields only when they are not omitempty (zero scalars, null lists, maps
// and pointers). So filling them in does not make them new as a whole (no
// "." for f:spec or f:containers of a created Deployment), and a
// template's creationTimestamp: null is no one's. Custom resources start
// empty.
Json ZeroOf(const schema::Message* m, int depth) {
  Json o = Json::object();
  if (!m || depth > 64) return o;
  for (const schema::Field& f : m->fields) {
    std::string name(f.name);
    if (f.inlined && f.message) {
      Json in = ZeroOf(f.message, depth + 1);
      for (auto it = in.begin(); it != in.end(); ++it) o[it.key()] = it.value();
      continue;
    }
    if (f.is_map() || f.repeated) {
      if (!f.omit_empty) o[name] = nullptr;
      continue;
    }
    if (f.kind == schema::Kind::kMessage && f.message) {
      if (f.pointer) {
        if (!f.omit_empty) o[name] = nullptr;
        continue;
      }
      switch (f.message->shape) {
        case schema::Shape::kObject:
          o[name] = ZeroOf(f.message, depth + 1);
          break;
        case schema::Shape::kQuantity:
          o[name] = "0";
          break;
        case schema::Shape::kIntOrString:
          o[name] = 0;
          break;
        case schema::Shape::kDuration:
          o[name] = "0s";
          break;
        case schema::Shape::kStringList:
          if (!f.omit_empty) o[name] = nullptr;
          break;
        default:  // Time, MicroTime, RawExtension, FieldsV1
          o[name] = nullptr;
      }
      continue;
    }
    if (f.omit_empty) continue;
    if (f.pointer || f.kind == schema::Kind::kBytes)
      o[name] = nullptr;
    else if (f.kind == schema::Kind::kString)
      o[name] = "";
    else if (f.kind == schema::Kind::kBool)
      o[name] = false;
    else
      o[name] = 0;
  }
  return o;
}

Json ZeroObject(const ResourceType& t) {
  if (t.custom) return Json::object();
  return ZeroOf(schema::MessageForKind(t.api_version(), t.kind), 0);
}

// Takes the zero object's values back out of an object created by apply,
// where the applied configuration did not set them.
void StripPlaceholders(Json* v, const Json& zero, const Json* applied) {
  if (!v->is_object() || !zero.is_object()) return;
  for (auto z = zero.begin(); z != zero.end(); ++z) {
    auto it = v->find(z.key());
    if (it == v->end()) continue;
    const Json* a = Child(applied, z.key());
    if (a) {
      if (z.value().is_object() && it->is_object()) StripPlaceholders(&*it, z.value(), a);
      continue;
    }
    if (z.value().is_object() && it->is_object()) {
      StripPlaceholders(&*it, z.value(), nullptr);
      if (it->empty()) v->erase(it);
    } else if (smd::ValueEquals(*it, z.value())) {
      v->erase(it);
    }
  }
}

bool DecodeManaged(const Json* list, Managed* out, std::string* error) {
  out->clear();
  if (!list || list->is_null()) return true;
  if (!list->is_array()) {
    *error = "managedFields must be a list";
    return false;
  }
  for (size_t i = 0; i < list->size(); i++) {
    const Json& e = (*list)[i];
    if (!e.is_object()) {
      *error = "managed fields entry " + std::to_string(i) + " is not an object";
      return false;
    }
    auto str = [&](const char* name) {
      const Json* v = Child(&e, name);
      return v && v->is_string() ? v->get<std::string>() : std::string();
    };
    ManagerEntry m;
    m.manager = str("manager");
    m.operation = str("operation");
    m.api_version = str("apiVersion");
    m.subresource = str("subresource");
    m.time = str("time");
    if (m.operation != "Apply" && m.operation != "Update") {
      *error = "operation must be `Apply` or `Update`";
      return false;
    }
    if (m.api_version.empty()) {
      *error = "apiVersion must not be empty";
      return false;
    }
    std::string type = str("fieldsType");
    if (type.empty()) {
      *error = "missing fieldsType in managed fields entry " + std::to_string(i);
      return false;
    }
    if (type != "FieldsV1") {
      *error = "invalid fieldsType " + smd::GoQuote(type) + " in managed fields entry " + std::to_string(i);
      return false;
    }
    std::string err;
    const Json* fields = Child(&e, "fieldsV1");
    if (!FieldSet::FromFieldsV1(fields ? *fields : Json::object(), &m.set, &err)) {
      *error = "error decoding versioned set: error decoding set: " + err;
      return false;
    }
    if (!m.time.empty()) {
      int64_t secs = UnixSeconds(m.time);
      if (secs != 0) m.time = FormatTime(secs);
    }
    (*out)[IdentityOf(m)] = std::move(m);
  }
  return true;
}

// [] or [{}]: the request asks to clear managedFields.
bool IsReset(const Json* list) {
  if (!list || !list->is_array()) return false;
  if (list->empty()) return true;
  if (list->size() != 1 || !(*list)[0].is_object()) return false;
  for (const Json& v : (*list)[0])
    if (!(v.is_null() || (v.is_string() && v.get<std::string>().empty()))) return false;
  return true;
}

void EncodeManaged(const Managed& m, Json* obj) {
  if (!obj->is_object()) return;
  std::vector<const ManagerEntry*> es;
  for (const auto& [id, e] : m)
    if (!e.set.Empty()) es.push_back(&e);
  if (es.empty()) {
    EraseManagedFields(obj);
    return;
  }
  std::sort(es.begin(), es.end(), [](const ManagerEntry* p, const ManagerEntry* q) {
    if (p->operation != q->operation) return p->operation < q->operation;
    int64_t ps = p->time.empty() ? 0 : UnixSeconds(p->time);
    int64_t qs = q->time.empty() ? 0 : UnixSeconds(q->time);
    if (ps != qs) return ps < qs;
    if (p->manager != q->manager) return p->manager < q->manager;
    if (p->api_version != q->api_version) return p->api_version < q->api_version;
    return p->subresource < q->subresource;
  });
  Json list = Json::array();
  for (const ManagerEntry* e : es) {
    Json j = Json::object();
    if (!e->manager.empty()) j["manager"] = e->manager;
    j["operation"] = e->operation;
    j["apiVersion"] = e->api_version;
    if (!e->time.empty()) j["time"] = e->time;
    j["fieldsType"] = "FieldsV1";
    j["fieldsV1"] = e->set.ToFieldsV1();
    if (!e->subresource.empty()) j["subresource"] = e->subresource;
    list.push_back(std::move(j));
  }
  auto meta = obj->find("metadata");
  if (meta == obj->end()) meta = obj->emplace("metadata", Json::object()).first;
  if (!meta->is_object()) return;  // not an object: nothing to record in
  (*meta)["managedFields"] = std::move(list);
}

// ---------------------------------------------------------------------------
// The field manager.

FieldPath Path(std::initializer_list<const char*> names) {
  FieldPath p;
  for (const char* n : names) p.push_back(PathElement::Field(n));
  return p;
}

const FieldSet& StripSet() {
  static const FieldSet* s = [] {
    auto* set = new FieldSet();
    for (FieldPath p : {Path({"apiVersion"}), Path({"kind"}), Path({"metadata"}), Path({"metadata", "name"}),
                        Path({"metadata", "namespace"}), Path({"metadata", "creationTimestamp"}),
                        Path({"metadata", "selfLink"}), Path({"metadata", "uid"}),
                        Path({"metadata", "clusterName"}), Path({"metadata", "generation"}),
                        Path({"metadata", "managedFields"}), Path({"metadata", "resourceVersion"})})
      set->Insert(p);
    return set;
  }();
  return *s;
}

struct Conflict {
  std::string id;
  std::string manager_text;
  FieldPath path;
};

struct Context {
  const ResourceType& t;
  SmdType type;
  std::string version;
  std::string now;
  std::string subresource;
  FieldSet reset;
  Json zero;  // the kind's empty object

  Context(const ResourceType& rt, const std::string& sub, const ManagedFieldsOptions& o)
      : t(rt), type(SmdType::ForResource(rt)), version(rt.api_version()), subresource(sub), zero(ZeroObject(rt)) {
    now = o.now.empty() ? Now() : o.now;
    if (o.custom_reset_fields) {
      for (const FieldPath& p : o.reset_fields) reset.Insert(p);
    } else if (sub == "status") {
      reset.Insert(Path({"spec"}));
    } else if (sub.empty() && rt.has_status) {
      reset.Insert(Path({"status"}));
    }
  }

  FieldSet Filter(const FieldSet& s) const { return reset.Empty() ? s : s.RecursiveDifference(reset); }
};

std::string PrintManager(const ManagerEntry& e) {
  std::string s = smd::GoQuote(e.manager);
  if (!e.subresource.empty()) s += " with subresource " + smd::GoQuote(e.subresource);
  if (e.operation == "Update") s += " using " + e.api_version;
  return s;
}

// Upstream's Updater.update: compares the objects; the fields changed that
// other managers own are conflicts (unless forced, when they lose them), and
// removed fields are no one's any more.
bool SmdUpdate(const Context& ctx, const Json& old_obj, const Json& new_obj, Managed* m,
               const std::string& workflow, bool force, Comparison* cmp_out,
               std::vector<Conflict>* conflicts) {
  Comparison cmp = CompareValues(ctx.type, old_obj, new_obj);
  cmp.removed = ctx.Filter(cmp.removed);
  cmp.modified = ctx.Filter(cmp.modified);
  cmp.added = ctx.Filter(cmp.added);
  FieldSet changed = cmp.modified.Union(cmp.added);
  std::map<std::string, FieldSet> conflict_sets;
  for (auto& [id, e] : *m) {
    if (id == workflow) continue;
    FieldSet c = e.set.Intersection(changed);
    if (!c.Empty()) conflict_sets[id] = std::move(c);
  }
  if (!force && !conflict_sets.empty()) {
    for (auto& [id, set] : conflict_sets) {
      const ManagerEntry& e = m->at(id);
      for (FieldPath& p : set.Paths()) conflicts->push_back({id, PrintManager(e), std::move(p)});
    }
    return false;
  }
  for (auto& [id, set] : conflict_sets) (*m)[id].set = (*m)[id].set.Difference(set);
  if (!cmp.removed.Empty())
    for (auto& [id, e] : *m)
      if (id != workflow) e.set = e.set.Difference(cmp.removed);
  for (auto it = m->begin(); it != m->end();) {
    if (it->second.set.Empty())
      it = m->erase(it);
    else
      ++it;
  }
  if (cmp_out) *cmp_out = std::move(cmp);
  return true;
}

// An ordinary write by `id` (upstream's managedFieldsUpdater, stripMeta and
// Updater.Update).
void UpdateCore(const Context& ctx, const Json& live, const Json& obj, Managed* m, ManagerEntry id) {
  Comparison cmp;
  std::vector<Conflict> unused;
  SmdUpdate(ctx, live, obj, m, kCurrentOperation, true, &cmp, &unused);
  FieldSet set = cmp.modified.Union(cmp.added);
  set = ctx.Filter(set).Difference(StripSet());
  m->erase(kCurrentOperation);
  if (set.Empty()) return;
  std::string key = IdentityOf(id);
  auto prev = m->find(key);
  if (prev != m->end()) set = set.Union(prev->second.set);
  id.set = std::move(set);
  id.time = ctx.now;
  (*m)[key] = std::move(id);
}

// At most kMaxUpdateManagers Update entries: the oldest are merged into
// "ancient-changes" per apiVersion.
void CapManagers(Managed* m) {
  std::vector<std::string> updaters;
  for (const auto& [id, e] : *m)
    if (!e.applied()) updaters.push_back(id);
  if (updaters.size() <= kMaxUpdateManagers) return;
  std::sort(updaters.begin(), updaters.end(), [&](const std::string& a, const std::string& b) {
    const ManagerEntry& x = m->at(a);
    const ManagerEntry& y = m->at(b);
    int64_t xs = x.time.empty() ? 0 : UnixSeconds(x.time);
    int64_t ys = y.time.empty() ? 0 : UnixSeconds(y.time);
    if (xs != ys) return xs < ys;
    return a < b;
  });
  std::map<std::string, std::string> first_of_version;
  size_t length = updaters.size();
  for (size_t i = 0; i < updaters.size() && length > kMaxUpdateManagers; i++) {
    const std::string& id = updaters[i];
    auto it = m->find(id);
    if (it == m->end()) continue;
    ManagerEntry vs = it->second;
    ManagerEntry bucket_entry;
    bucket_entry.manager = "ancient-changes";
    bucket_entry.operation = "Update";
    bucket_entry.api_version = vs.api_version;
    std::string bucket = IdentityOf(bucket_entry);
    auto first = first_of_version.find(vs.api_version);
    if (first == first_of_version.end()) {
      first_of_version[vs.api_version] = id;
      continue;
    }
    if (!m->count(bucket)) {
      auto f = m->find(first->second);
      if (f != m->end()) {
        bucket_entry.set = f->second.set;
        m->erase(f);
      }
      (*m)[bucket] = bucket_entry;
    }
    ManagerEntry& b = (*m)[bucket];
    b.set = vs.set.Union(b.set);
    b.time = vs.time;
    m->erase(id);
    length--;
  }
}

// Upstream's Updater.prune: what the manager applied last time and no
// longer applies goes, unless another manager owns it.
Json Prune(const Context& ctx, const Json& merged, const Managed& m, const FieldSet& last) {
  if (last.Empty()) return merged;
  const SmdType& t = ctx.type;
  Json pruned = RemoveFrom(t, merged, last.EnsureNamedFieldsAreMembers(t));
  FieldSet owned;
  for (const auto& [id, e] : m) owned = owned.Union(e.set);
  FieldSet merged_set = SetOf(t, merged).EnsureNamedFieldsAreMembers(t);
  FieldSet pruned_set = SetOf(t, pruned).EnsureNamedFieldsAreMembers(t);
  pruned = RemoveFrom(
      t, merged, merged_set.Difference(pruned_set.Union(owned.EnsureNamedFieldsAreMembers(t))));
  pruned_set = SetOf(t, pruned).EnsureNamedFieldsAreMembers(t);
  return RemoveFrom(t, merged,
                    merged_set.Difference(pruned_set).Intersection(last.EnsureNamedFieldsAreMembers(t)));
}

struct ApplyOutcome {
  Json object;
  std::vector<Conflict> conflicts;
  std::string error;
};

// Upstream's structuredMergeManager.Apply with Updater.Apply, stripMeta and
// managedFieldsUpdater around it; `m` already has the live object's
// entries (with before-first-apply).
bool ApplyCore(const Context& ctx, const Json& live, const Json& applied, Managed* m,
               const ManagerEntry& id_parts, bool force, ApplyOutcome* out) {
  Merger merger;
  Json merged;
  if (!merger.Merge(ctx.type, &live, &applied, &merged)) {
    out->error = "failed to merge config: " + merger.error;
    return false;
  }
  std::string key = IdentityOf(id_parts);
  FieldSet last;
  std::string time;
  if (auto it = m->find(key); it != m->end()) {
    last = it->second.set;
    time = it->second.time;
  }
  ManagerEntry entry = id_parts;
  entry.set = ctx.Filter(SetOf(ctx.type, applied));
  entry.time = time;
  (*m)[key] = entry;
  merged = Prune(ctx, merged, *m, last);
  if (!SmdUpdate(ctx, live, merged, m, key, force, nullptr, &out->conflicts)) return false;
  if (auto it = m->find(key); it != m->end()) {
    it->second.set = it->second.set.Difference(StripSet());
    if (it->second.set.Empty()) m->erase(it);
  }
  if (!smd::ValueEquals(live, merged)) {
    if (auto it = m->find(key); it != m->end()) it->second.time = ctx.now;
    out->object = std::move(merged);
  } else {
    out->object = live;
  }
  return true;
}

// skipNonApplied + ApplyCore.
bool ApplyWithHistory(const Context& ctx, const Json& live, const Json& applied, Managed m,
                      const ManagerEntry& id_parts, bool force, ApplyOutcome* out, Managed* result) {
  if (m.empty()) {
    ManagerEntry before;
    before.manager = "before-first-apply";
    before.operation = "Update";
    before.api_version = ctx.version;
    before.subresource = ctx.subresource;
    UpdateCore(ctx, ctx.zero, live, &m, before);
    CapManagers(&m);
  }
  if (!ApplyCore(ctx, live, applied, &m, id_parts, force, out)) return false;
  *result = std::move(m);
  return true;
}

std::string GvkString(const Json& obj) {
  std::string api_version, kind;
  if (const Json* v = Child(&obj, "apiVersion"); v && v->is_string()) api_version = v->get<std::string>();
  if (const Json* v = Child(&obj, "kind"); v && v->is_string()) kind = v->get<std::string>();
  std::string group, version;
  size_t slash = api_version.find('/');
  if (slash == std::string::npos) {
    version = api_version;
  } else if (api_version.find('/', slash + 1) == std::string::npos) {
    group = api_version.substr(0, slash);
    version = api_version.substr(slash + 1);
  }
  return group + "/" + version + ", Kind=" + kind;
}

std::string ObjectGvkNN(const Json& obj) {
  std::string ns, name;
  const Json* meta = Child(&obj, "metadata");
  if (const Json* v = Child(meta, "namespace"); v && v->is_string()) ns = v->get<std::string>();
  if (const Json* v = Child(meta, "name"); v && v->is_string()) name = v->get<std::string>();
  return ns + "/" + name + "; " + GvkString(obj);
}

// The fields kubectl's client-side apply set and still has as applied:
// conflicts on them do not stop kubectl's first server-side apply.
bool AllowedFromLastApplied(const Context& ctx, const Json& live, FieldSet* allowed) {
  const Json* ann = Child(Child(Child(&live, "metadata"), "annotations"), kLastApplied);
  if (!ann || !ann->is_string() || ann->get<std::string>().empty()) return false;
  Json last = Json::parse(ann->get<std::string>(), nullptr, false);
  if (last.is_discarded() || !last.is_object() || smd::TooDeep(last)) return false;
  const Json* av = Child(&last, "apiVersion");
  if (!av || !av->is_string() || av->get<std::string>() != ctx.version) return false;
  Validation v;
  v.Walk(ctx.type, last, "");
  if (!v.errors.empty()) return false;
  FieldSet set = SetOf(ctx.type, last);
  Comparison cmp = CompareValues(ctx.type, last, live);
  *allowed = set.Difference(cmp.modified).Difference(cmp.added).Difference(cmp.removed);
  return true;
}

std::string BuildLastApplied(const Json& applied) {
  Json copy = applied;
  auto meta = copy.find("metadata");
  if (meta != copy.end() && meta->is_object()) {
    auto ann = meta->find("annotations");
    if (ann != meta->end()) {
      if (ann->is_object())
        ann->erase(kLastApplied);
      else
        meta->erase(ann);
    }
  }
  return GoJson(copy) + "\n";
}

std::string ConflictMessage(std::vector<Conflict>* conflicts) {
  std::stable_sort(conflicts->begin(), conflicts->end(),
                   [](const Conflict& a, const Conflict& b) { return a.id < b.id; });
  if (conflicts->size() == 1) {
    const Conflict& c = (*conflicts)[0];
    return "Apply failed with 1 conflict: conflict with " + c.manager_text + ": " + PathString(c.path);
  }
  std::string msg = "Apply failed with " + std::to_string(conflicts->size()) + " conflicts: ";
  std::string last_id;
  bool first = true;
  for (const Conflict& c : *conflicts) {
    if (first || c.id != last_id) {
      if (!first) msg += "\n";
      msg += "conflicts with " + c.manager_text + ":";
      last_id = c.id;
      first = false;
    }
    msg += "\n- " + PathString(c.path);
  }
  return msg;
}

}  // namespace

// ---------------------------------------------------------------------------
// Public API.

FieldSet::FieldSet(const ResourceType& t, const Json& obj) : FieldSet(SmdType::ForResource(t), obj) {}

FieldSet::FieldSet(const SmdType& type, const Json& value) {
  if (smd::TooDeep(value)) return;
  *this = SetOf(type, value);
}

bool ServerSideApply(const ResourceType& t, const Json& live, const Json& applied, const std::string& manager,
                     bool force, Json* result, ApplyError* error, const ManagedFieldsOptions& options) {
  *error = ApplyError();
  auto fail = [&](int code, const char* reason, std::string msg) {
    error->code = code;
    error->reason = reason;
    error->message = std::move(msg);
    return false;
  };
  if (!applied.is_object()) return fail(400, "BadRequest", "invalid object type: /, Kind=");
  const Json* av = Child(&applied, "apiVersion");
  const Json* kind = Child(&applied, "kind");
  if (!av || !av->is_string() || av->get<std::string>() != t.api_version() || !kind || !kind->is_string() ||
      kind->get<std::string>() != t.kind)
    return fail(400, "BadRequest", "invalid object type: " + GvkString(applied));
  if (const Json* mf = ManagedFieldsOf(applied); mf && !mf->is_null())
    return fail(400, "BadRequest", "metadata.managedFields must be nil");
  if (smd::TooDeep(applied))
    return fail(400, "BadRequest", "failed to create typed patch object (" + ObjectGvkNN(applied) +
                                       "): max depth exceeded");
  if (!live.is_null() && !live.is_object())
    return fail(500, "", "failed to create typed live object: not an object");
  if (smd::TooDeep(live)) return fail(500, "", "failed to create typed live object: max depth exceeded");

  Context ctx(t, options.subresource, options);
  Json live_obj = live.is_object() ? live : ctx.zero;
  Managed managed;
  std::string err;
  if (!DecodeManaged(ManagedFieldsOf(live_obj), &managed, &err))
    return fail(500, "", "failed to decode managed fields: " + err);
  EraseManagedFields(&live_obj);

  Validation v;
  v.Walk(ctx.type, applied, "");
  if (!v.errors.empty())
    return fail(500, "", "failed to create typed patch object (" + ObjectGvkNN(applied) + "): " + v.Message());
  Validation lv;
  lv.strict = false;
  lv.allow_duplicates = true;
  lv.Walk(ctx.type, live_obj, "");
  if (!lv.errors.empty())
    return fail(500, "", "failed to create typed live object (" + ObjectGvkNN(live_obj) + "): " + lv.Message());

  ManagerEntry id;
  id.manager = manager;
  id.operation = "Apply";
  id.api_version = ctx.version;
  id.subresource = ctx.subresource;

  ApplyOutcome out;
  Managed final_managed;
  bool ok = ApplyWithHistory(ctx, live_obj, applied, managed, id, force, &out, &final_managed);
  if (!ok && !out.conflicts.empty() && manager == "kubectl") {
    // Upgrading from client-side apply: conflicts on the fields of the
    // last-applied annotation are taken over.
    FieldSet allowed;
    if (AllowedFromLastApplied(ctx, live_obj, &allowed)) {
      std::vector<Conflict> rest;
      for (Conflict& c : out.conflicts)
        if (!allowed.Has(c.path)) rest.push_back(std::move(c));
      if (rest.empty()) {
        out = ApplyOutcome();
        ok = ApplyWithHistory(ctx, live_obj, applied, managed, id, true, &out, &final_managed);
      } else {
        out.conflicts = std::move(rest);
      }
    }
  }
  if (!ok) {
    if (!out.conflicts.empty()) {
      error->code = 409;
      error->reason = "Conflict";
      error->message = ConflictMessage(&out.conflicts);
      for (const Conflict& c : out.conflicts)
        error->causes.push_back({{"reason", "FieldManagerConflict"},
                                 {"message", "conflict with " + c.manager_text},
                                 {"field", PathString(c.path)}});
      return false;
    }
    return fail(500, "", out.error);
  }
  Json obj = std::move(out.object);
  DropNewNulls(ctx.type, &obj, &live_obj);
  if (!live.is_object()) StripPlaceholders(&obj, ctx.zero, &applied);
  if (manager == "kubectl") {
    const Json* ann = Child(Child(Child(&obj, "metadata"), "annotations"), kLastApplied);
    if (ann && ann->is_string() && !ann->get<std::string>().empty())
      obj["metadata"]["annotations"][kLastApplied] = BuildLastApplied(applied);
  }
  EncodeManaged(final_managed, &obj);
  *result = std::move(obj);
  return true;
}

bool ServerSideApply(const ResourceType& t, const Json& live, const Json& applied, const std::string& manager,
                     bool force, Json* result, std::string* conflict_message) {
  ApplyError err;
  if (ServerSideApply(t, live, applied, manager, force, result, &err)) return true;
  *conflict_message = err.message;
  return false;
}

void TrackUpdate(const ResourceType& t, const Json* old, Json* obj, const std::string& manager,
                 const std::string& subresource) {
  TrackUpdate(t, old, obj, manager, subresource, ManagedFieldsOptions());
}

void TrackUpdate(const ResourceType& t, const Json* old, Json* obj, const std::string& manager,
                 const std::string& subresource, const ManagedFieldsOptions& options) {
  if (!obj || !obj->is_object()) return;
  Context ctx(t, subresource, options);
  Json live_obj = old && old->is_object() ? *old : ctx.zero;
  const Json* live_mf = ManagedFieldsOf(live_obj);
  Managed managed;
  std::string err;
  auto decode_live = [&] {
    if (!DecodeManaged(live_mf, &managed, &err)) managed.clear();
  };
  if (!subresource.empty()) {
    decode_live();
  } else {
    const Json* mf = ManagedFieldsOf(*obj);
    if (IsReset(mf)) {
      managed.clear();
    } else if (!mf || !DecodeManaged(mf, &managed, &err) || managed.empty()) {
      decode_live();
    }
  }
  EraseManagedFields(obj);
  EraseManagedFields(&live_obj);
  const Json* uid = Child(Child(&live_obj, "metadata"), "uid");
  bool exists = old && uid && uid->is_string() && !uid->get<std::string>().empty();
  if (managed.empty() && exists) return;  // upstream leaves such objects untracked

  // Upstream (v1.32) clears managedFields when it cannot track a write.
  auto restore = [&] { EraseManagedFields(obj); };
  if (smd::TooDeep(live_obj) || smd::TooDeep(*obj)) return restore();
  for (const Json* v : {static_cast<const Json*>(&live_obj), static_cast<const Json*>(obj)}) {
    Validation val;
    val.strict = false;
    val.allow_duplicates = true;
    val.Walk(ctx.type, *v, "");
    if (!val.errors.empty()) return restore();
  }
  ManagerEntry id;
  id.manager = manager;
  id.operation = "Update";
  id.api_version = ctx.version;
  id.subresource = subresource;
  UpdateCore(ctx, live_obj, *obj, &managed, id);
  CapManagers(&managed);
  EncodeManaged(managed, obj);
}

std::string FieldManagerFromUserAgent(const std::string& user_agent) {
  std::string prefix = user_agent.substr(0, user_agent.find('/'));
  std::string out;
  for (size_t i = 0; i < prefix.size();) {
    unsigned char c = prefix[i];
    if (c < 0x80) {
      i++;
      if (c < 0x20 || c == 0x7f) continue;
      if (out.size() + 1 > 128) break;
      out += char(c);
      continue;
    }
    // A multi-byte sequence: kept when it is valid UTF-8 and printable.
    int len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 1;
    bool valid = len > 1 && i + len <= prefix.size();
    for (int k = 1; valid && k < len; k++) valid = (static_cast<unsigned char>(prefix[i + k]) & 0xc0) == 0x80;
    std::string rune = valid ? prefix.substr(i, len) : std::string("\xef\xbf\xbd");
    i += valid ? len : 1;
    std::string q = smd::GoQuote(rune);
    if (q.find('\\') != std::string::npos && valid) continue;  // unprintable
    if (out.size() + rune.size() > 128) break;
    out += rune;
  }
  return out;
}

std::string RequestFieldManager(const std::string& field_manager_param, const std::string& user_agent) {
  return field_manager_param.empty() ? FieldManagerFromUserAgent(user_agent) : field_manager_param;
}

}  // namespace kubit::api
