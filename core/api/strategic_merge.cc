#include "core/api/strategic_merge.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "core/api/schema.h"

namespace kubit::api {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kDirective = "$patch";
constexpr std::string_view kRetainKeys = "$retainKeys";
constexpr std::string_view kDeleteFromPrimitiveList = "$deleteFromPrimitiveList";
constexpr std::string_view kSetElementOrder = "$setElementOrder";

// Upstream's error texts.
constexpr const char* kErrPrimitiveList = "invalid patch format of primitive list";
constexpr const char* kErrRetainKeys = "invalid patch format of retainKeys";
constexpr const char* kErrSetElementOrder = "invalid patch format of setElementOrder list";
constexpr const char* kErrListOfLists = "lists of lists are not supported";

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// --- JSON values as upstream's decoded Go values see them ----------------

// The dynamic type of a decoded value: the patch's integers are int64 and
// its other numbers float64, as the apiserver decodes them.
enum class Type { kNil, kMap, kSlice, kString, kInt, kFloat, kBool };

Type TypeOf(const Json& v) {
  switch (v.type()) {
    case Json::value_t::object:
      return Type::kMap;
    case Json::value_t::array:
      return Type::kSlice;
    case Json::value_t::string:
      return Type::kString;
    case Json::value_t::boolean:
      return Type::kBool;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return Type::kInt;
    case Json::value_t::number_float:
      return Type::kFloat;
    default:
      return Type::kNil;
  }
}

// Go's == over two decoded values (same type and value).
bool Equal(const Json& a, const Json& b) { return TypeOf(a) == TypeOf(b) && a == b; }

// A float64 as Go's %v prints it (shortest; an exponent below 1e-4 and from 1e6).
std::string GoFloat(double d) {
  char buf[64];
  auto sci = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string s(buf, sci.ptr);
  size_t e = s.find('e');
  int exp = e == std::string::npos ? 0 : std::atoi(s.c_str() + e + 1);
  if (exp < -4 || exp >= 6) return s;
  auto fixed = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::fixed);
  return std::string(buf, fixed.ptr);
}

// A value as Go's %v prints it: map[a:1 b:[x y]].
std::string GoString(const Json& v) {
  switch (TypeOf(v)) {
    case Type::kNil:
      return "<nil>";
    case Type::kString:
      return v.get<std::string>();
    case Type::kBool:
      return v.get<bool>() ? "true" : "false";
    case Type::kInt:
      return v.dump();
    case Type::kFloat:
      return GoFloat(v.get<double>());
    case Type::kSlice: {
      std::string s = "[";
      for (size_t i = 0; i < v.size(); i++) s += (i ? " " : "") + GoString(v[i]);
      return s + "]";
    }
    case Type::kMap: {
      std::string s = "map[";
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        s += (first ? "" : " ") + it.key() + ":" + GoString(it.value());
        first = false;
      }
      return s + "]";
    }
  }
  return "";
}

// The Go type name of a decoded value, as %s of its reflect.Type prints it.
std::string GoTypeName(const Json& v) {
  switch (TypeOf(v)) {
    case Type::kNil:
      return "%!s(<nil>)";
    case Type::kMap:
      return "map[string]interface {}";
    case Type::kSlice:
      return "[]interface {}";
    case Type::kString:
      return "string";
    case Type::kInt:
      return "int64";
    case Type::kFloat:
      return "float64";
    case Type::kBool:
      return "bool";
  }
  return "";
}

// A value as %s prints it: strings as they are, others marked as not strings.
std::string GoPercentS(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "%!s(<nil>)";
  return "%!s(" + GoTypeName(v) + "=" + GoString(v) + ")";
}

bool ErrBadArgType(const char* expected, const Json& actual, std::string* error) {
  *error = std::string("expected a ") + expected + ", but received a " + GoTypeName(actual);
  return false;
}
constexpr const char* kMapType = "map[string]interface {}";
constexpr const char* kSliceType = "[]interface {}";

bool ErrNoMergeKey(const Json& m, const std::string& key, std::string* error) {
  *error = "map: " + GoString(m) + " does not contain declared merge key: " + key;
  return false;
}

bool ErrBadPatchType(const Json& t, const Json& m, std::string* error) {
  *error = "unknown patch type: " + GoPercentS(t) + " in map: " + GoString(m);
  return false;
}

// --- Patch metadata ----------------------------------------------------------

// A field's patch strategy without retainKeys, which only tells clients to
// send $retainKeys: "merge", "replace" or "".
struct PatchMeta {
  std::string strategy;
  std::string merge_key;
};

// The merge keys and strategies of kinds without a schema, guessed from the
// field names and where they sit (`path`: the field names from the root).
PatchMeta GuessedMeta(const std::string& kind, const std::vector<std::string>& path) {
  const std::string& f = path.back();
  std::string parent = path.size() >= 2 ? path[path.size() - 2] : "";
  auto merge = [](std::string key) { return PatchMeta{"merge", std::move(key)}; };
  if (f == "containers" || f == "initContainers" || f == "ephemeralContainers" || f == "volumes" ||
      f == "imagePullSecrets" || f == "env" || f == "resourceClaims" || f == "schedulingGates" ||
      f == "secrets")
    return merge("name");
  if (f == "volumeMounts") return merge("mountPath");
  if (f == "volumeDevices") return merge("devicePath");
  if (f == "hostAliases") return merge("ip");
  if (f == "ownerReferences") return merge("uid");
  if (f == "topologySpreadConstraints") return merge("topologyKey");
  if (f == "conditions" || (f == "addresses" && kind == "Node")) return merge("type");
  if (f == "finalizers") return merge("");
  if (f == "ports") {
    if (kind == "Service" && path.size() == 2 && parent == "spec") return merge("port");
    if (parent == "containers" || parent == "initContainers" || parent == "ephemeralContainers")
      return merge("containerPort");
  }
  return {};
}

// What is known of the value being merged (upstream's LookupPatchMeta):
// its message in the built-in schema, or the path used to guess.
struct Lookup {
  enum Mode {
    kNone,       // nothing: lists are replaced, maps merged
    kMessage,    // an object of `message`
    kMapValues,  // a map whose values are objects of `message`
    kGuess,      // a kind without a schema, at `path`
  };
  Mode mode = kNone;
  const schema::Message* message = nullptr;
  const std::string* kind = nullptr;
  std::vector<std::string> path;

  // The metadata of field `key` and what is known of its value (of its
  // elements when `elements`).
  void Field(const std::string& key, bool elements, Lookup* sub, PatchMeta* meta) const {
    *sub = Lookup();
    *meta = PatchMeta();
    switch (mode) {
      case kNone:
        return;
      case kGuess:
        sub->mode = kGuess;
        sub->kind = kind;
        sub->path = path;
        sub->path.push_back(key);
        *meta = GuessedMeta(*kind, sub->path);
        return;
      case kMapValues:
        // The value under a map key: an object of the map's message.
        if (!elements && message) {
          sub->mode = kMessage;
          sub->message = message;
        }
        return;
      case kMessage:
        break;
    }
    const schema::Field* f = message ? message->FieldByName(key) : nullptr;
    // Fields the schema does not know are merged without metadata, where
    // upstream, which never stores them, fails.
    if (!f) return;
    if (f->patch_merge) meta->strategy = "merge";
    else if (f->patch_replace) meta->strategy = "replace";
    meta->merge_key = std::string(f->patch_merge_key);
    if (!f->message || f->message->shape != schema::Shape::kObject) return;
    if (f->is_map()) {
      sub->mode = elements ? kNone : kMapValues;
    } else {
      // A message's value, or the elements of a repeated one.
      sub->mode = kMessage;
    }
    sub->message = f->message;
  }
};

// --- Lists ---------------------------------------------------------------------

// The type of the elements of the lists: an error when they differ, are
// lists, or there are none.
bool SliceElementType(std::initializer_list<const Json*> lists, Type* type, std::string* error) {
  bool have = false;
  Type prev = Type::kNil;
  for (const Json* l : lists) {
    if (!l) continue;
    for (const Json& v : *l) {
      Type t = TypeOf(v);
      if (!have || prev == Type::kNil) {
        prev = t;
        have = t != Type::kNil;
        if (t == Type::kSlice) {
          *error = kErrListOfLists;
          return false;
        }
      } else if (t != prev) {
        std::string all = "[";
        bool first = true;
        for (const Json* x : lists) {
          all += (first ? "" : " ") + (x ? GoString(*x) : std::string("[]"));
          first = false;
        }
        *error = "list element types are not identical: " + all + "]";
        return false;
      }
    }
  }
  if (!have) {
    *error = "no elements in any of the given slices";
    return false;
  }
  *type = prev;
  return true;
}

// The merge key's value of a list element (null when not an object or not there).
Json KeyOf(const Json& item, const std::string& merge_key, bool maps) {
  if (!maps) return item;
  if (!item.is_object()) return nullptr;
  auto it = item.find(merge_key);
  return it == item.end() ? Json() : *it;
}

// The position of `v` in `l`, by merge key for lists of objects; -1 if none.
long IndexOf(const Json& l, const Json& v, const std::string& merge_key, bool maps) {
  Json key = KeyOf(v, merge_key, maps);
  for (size_t i = 0; i < l.size(); i++)
    if (Equal(KeyOf(l[i], merge_key, maps), key)) return long(i);
  return -1;
}

// The element of `l` whose `key` equals `value`: its index, or -1.
bool FindByKey(const Json& l, const std::string& key, const Json& value, long* index,
               std::string* error) {
  *index = -1;
  for (size_t i = 0; i < l.size(); i++) {
    if (!l[i].is_object()) {
      *error = "value for key " + std::to_string(i) + " is not a map";
      return false;
    }
    auto it = l[i].find(key);
    if (it != l[i].end() && Equal(*it, value)) {
      *index = long(i);
      return true;
    }
  }
  return true;
}

bool ValidateMergeKeys(const std::string& merge_key, std::initializer_list<const Json*> lists,
                       std::string* error) {
  for (const Json* l : lists)
    for (const Json& item : *l) {
      if (!item.is_object()) return ErrBadArgType(kMapType, item, error);
      if (!item.contains(merge_key)) return ErrNoMergeKey(item, merge_key, error);
    }
  return true;
}

// Sorts `items` stably by their positions in `order` (items not in it last)
// and, for lists of objects, moves `$patch: delete` items to the end.
bool SortByOrder(Json* items, const Json& order, const std::string& merge_key, bool maps,
                 std::string* error) {
  Json to_delete = Json::array();
  if (maps) {
    if (!ValidateMergeKeys(merge_key, {items, &order}, error)) return false;
    Json kept = Json::array();
    for (Json& v : *items) {
      auto it = v.find(kDirective);
      if (it != v.end() && *it == "delete") to_delete.push_back(std::move(v));
      else kept.push_back(std::move(v));
    }
    *items = std::move(kept);
  }
  std::vector<std::pair<long, Json*>> keyed;
  for (Json& v : *items) {
    long i = IndexOf(order, v, merge_key, maps);
    keyed.push_back({i < 0 ? long(order.size()) : i, &v});
  }
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  Json sorted = Json::array();
  for (auto& [i, v] : keyed) sorted.push_back(std::move(*v));
  for (Json& v : to_delete) sorted.push_back(std::move(v));
  *items = std::move(sorted);
  return true;
}

// Interleaves the server-only items (`left`) with the patch's (`right`):
// both keep their order, and a server-only item goes before a patch item
// that comes after it in the live list.
Json MergeSorted(Json& left, Json& right, const Json& server_order, const std::string& merge_key,
                 bool maps) {
  Json out = Json::array();
  size_t i = 0, j = 0;
  while (i < left.size() || j < right.size()) {
    if (i >= left.size()) {
      out.push_back(std::move(right[j++]));
    } else if (j >= right.size()) {
      out.push_back(std::move(left[i++]));
    } else {
      long li = IndexOf(server_order, left[i], merge_key, maps);
      long ri = IndexOf(server_order, right[j], merge_key, maps);
      if (li >= 0 && ri >= 0 && li < ri) out.push_back(std::move(left[i++]));
      else out.push_back(std::move(right[j++]));
    }
  }
  return out;
}

// The patch's items in the order of `patch_order`, the server-only ones in
// that of `server_order`, merged.
bool NormalizeOrder(Json patch_items, Json server_only, const Json& patch_order,
                    const Json& server_order, const std::string& merge_key, bool maps, Json* out,
                    std::string* error) {
  if (!SortByOrder(&patch_items, patch_order, merge_key, maps, error) ||
      !SortByOrder(&server_only, server_order, merge_key, maps, error))
    return false;
  *out = MergeSorted(server_only, patch_items, server_order, merge_key, maps);
  return true;
}

// Splits `list` into the items found in `by` and the others.
bool Partition(const Json& list, const Json& by, const std::string& merge_key, Json* in,
               Json* out, std::string* error) {
  *in = Json::array();
  *out = Json::array();
  for (const Json& v : list) {
    bool found = false;
    if (merge_key.empty()) {
      for (const Json& b : by) found = found || Equal(b, v);
    } else {
      if (!v.is_object()) return ErrBadArgType(kMapType, v, error);
      auto key = v.find(merge_key);
      if (key == v.end()) return ErrNoMergeKey(v, merge_key, error);
      long index;
      if (!FindByKey(by, merge_key, *key, &index, error)) return false;
      found = index >= 0;
    }
    (found ? in : out)->push_back(v);
  }
  return true;
}

// Removes duplicates the way upstream does (the last item takes the place
// of a duplicate).
Json DeduplicateScalars(Json s) {
  size_t length = s.size();
  if (length == 0) return s;
  length--;
  for (size_t i = 0; i < length; i++) {
    for (size_t j = i + 1; j <= length; j++) {
      if (Equal(s[i], s[j])) {
        s[j] = s[length];
        s.erase(s.begin() + long(length));
        length--;
        j--;
      }
    }
  }
  return s;
}

// Drops `$patch` objects (and the fields holding them) from a value taken
// from the patch. False when `v` itself is one.
bool RemoveDirectives(Json* v) {
  if (v->is_object()) {
    if (v->contains(kDirective)) return false;
    for (auto it = v->begin(); it != v->end();) {
      if (!RemoveDirectives(&it.value())) it = v->erase(it);
      else ++it;
    }
  } else if (v->is_array()) {
    Json kept = Json::array();
    for (Json& e : *v)
      if (RemoveDirectives(&e)) kept.push_back(std::move(e));
    *v = std::move(kept);
  }
  return true;
}

void DiscardNulls(Json* v) {
  if (v->is_object()) {
    for (auto it = v->begin(); it != v->end();) {
      if (it.value().is_null()) {
        it = v->erase(it);
      } else {
        DiscardNulls(&it.value());
        ++it;
      }
    }
  } else if (v->is_array()) {
    for (Json& e : *v) DiscardNulls(&e);
  }
}

// The list field under "<prefix>/<field>".
bool ExtractKey(const std::string& s, std::string_view prefix, std::string* key) {
  size_t slash = s.find('/');
  if (slash == std::string::npos || std::string_view(s).substr(0, slash) != prefix) return false;
  *key = s.substr(slash + 1);
  return true;
}

bool MergeMap(Json& original, Json& patch, const Lookup& schema, std::string* error);

bool MergeSlice(Json original, Json patch, const Lookup& schema, const std::string& merge_key,
                bool delete_list, Json* out, std::string* error);

// A list field's value: merged for the merge strategy and delete lists,
// else the patch's list.
bool MergeSliceField(const Json& original, const Json& patch, const Lookup& schema,
                     const PatchMeta& meta, bool delete_list, Json* out, std::string* error) {
  if (meta.strategy == "merge" || delete_list)
    return MergeSlice(original, patch, schema, meta.merge_key, delete_list, out, error);
  *out = patch;
  return true;
}

// Applies the `$patch: delete` and `$patch: replace` items of a list of
// objects to `original` and takes them out of `patch`.
bool ApplySpecialElements(Json* original, Json* patch, const std::string& merge_key,
                          std::string* error) {
  Json plain = Json::array();
  bool replace = false;
  for (Json& v : *patch) {
    auto d = v.find(kDirective);
    if (d == v.end()) {
      plain.push_back(v);
    } else if (*d == "delete") {
      auto key = v.find(merge_key);
      if (key == v.end()) return ErrNoMergeKey(v, merge_key, error);
      for (;;) {
        long index;
        if (!FindByKey(*original, merge_key, *key, &index, error)) return false;
        if (index < 0) break;
        original->erase(original->begin() + index);
      }
    } else if (*d == "replace") {
      replace = true;  // the other directives are still dropped
    } else if (*d == "merge") {
      *error = "merging lists cannot yet be specified in the patch";
      return false;
    } else {
      return ErrBadPatchType(*d, v, error);
    }
  }
  if (replace) {
    *original = std::move(plain);
    *patch = Json::array();
  } else {
    *patch = std::move(plain);
  }
  return true;
}

bool MergeSlice(Json original, Json patch, const Lookup& schema, const std::string& merge_key,
                bool delete_list, Json* out, std::string* error) {
  if (original.empty() && patch.empty()) {
    *out = std::move(original);
    return true;
  }
  Type type;
  if (!SliceElementType({&original, &patch}, &type, error)) return false;
  bool maps = type == Type::kMap;
  Json merged;
  if (!maps) {
    if (delete_list) {
      Json kept = Json::array();
      for (const Json& v : original) {
        bool del = false;
        for (const Json& d : patch) del = del || Equal(d, v);
        if (!del) kept.push_back(v);
      }
      *out = std::move(kept);
      return true;
    }
    Json both = original;
    for (const Json& v : patch) both.push_back(v);
    merged = DeduplicateScalars(std::move(both));
  } else {
    if (merge_key.empty()) {
      *error = "cannot merge lists without merge key for struct";
      return false;
    }
    if (!ApplySpecialElements(&original, &patch, merge_key, error)) return false;
    merged = original;
    for (Json& v : patch) {
      auto key = v.find(merge_key);
      if (key == v.end()) return ErrNoMergeKey(v, merge_key, error);
      long index;
      if (!FindByKey(merged, merge_key, *key, &index, error)) return false;
      if (index >= 0) {
        Json item = v;
        if (!MergeMap(merged[size_t(index)], item, schema, error)) return false;
      } else {
        merged.push_back(v);
      }
    }
  }
  Json patch_items, server_only;
  if (!Partition(merged, patch, merge_key, &patch_items, &server_only, error)) return false;
  return NormalizeOrder(std::move(patch_items), std::move(server_only), patch, original, merge_key,
                        maps, out, error);
}

// Checks that the patch's list names its items in the order of the
// $setElementOrder list (deletions and directives aside).
bool ValidateSetOrder(const Json& patch_list, const Json& order, const std::string& merge_key,
                      std::string* error) {
  if (order.empty() || patch_list.empty()) return true;
  Json items = Json::array();
  for (const Json& v : patch_list) {
    if (merge_key.empty()) {
      items.push_back(v);
      continue;
    }
    if (!v.is_object()) return ErrBadArgType(kMapType, v, error);
    auto d = v.find(kDirective);
    if (d == v.end() || *d != "delete") items.push_back(v);
  }
  size_t p = 0, o = 0;
  while (p < items.size() && o < order.size()) {
    if (items[p].is_object() && items[p].contains(kDirective)) {
      p++;
      continue;
    }
    bool equal;
    if (merge_key.empty()) {
      equal = Equal(items[p], order[o]);
    } else {
      if (!items[p].is_object()) return ErrBadArgType(kMapType, items[p], error);
      if (!order[o].is_object()) return ErrBadArgType(kMapType, order[o], error);
      const Json& left = items[p];
      const Json& right = order[o];
      auto l = left.find(merge_key);
      auto r = right.find(merge_key);
      if (l == left.end()) return ErrNoMergeKey(left, merge_key, error);
      if (r == right.end()) return ErrNoMergeKey(right, merge_key, error);
      equal = Equal(*l, *r);
    }
    if (equal) p++;
    o++;
  }
  if (p < items.size() && o >= order.size()) {
    *error = "The order in patch list:\n" + GoString(patch_list) +
             "\n doesn't match $setElementOrder list:\n" + GoString(order) + "\n";
    return false;
  }
  return true;
}

// The live list as upstream's ordering sees it once the patch's list was
// merged into it (its merge works on the live list's storage): a deletion
// moves the items after it one place forward, leaving the last place to the
// items the merge appends. Used as the live order of a $setElementOrder list.
Json MergedInPlace(const Json& original, const Json& patch, const std::string& merge_key) {
  Json view = original;
  size_t n = view.size(), len = n;
  auto find = [&](const Json& key) -> long {
    for (size_t i = 0; i < len && i < n; i++)
      if (view[i].is_object()) {
        auto it = view[i].find(merge_key);
        if (it != view[i].end() && Equal(*it, key)) return long(i);
      }
    return -1;
  };
  std::vector<const Json*> plain;
  bool replace = false;
  for (const Json& v : patch) {
    if (!v.is_object()) return original;
    auto d = v.find(kDirective);
    if (d == v.end()) {
      plain.push_back(&v);
      continue;
    }
    if (*d == "replace") replace = true;
    if (*d != "delete" || !v.contains(merge_key)) continue;
    for (long i; (i = find(v[merge_key])) >= 0;) {
      for (size_t j = size_t(i); j + 1 < len; j++) view[j] = view[j + 1];
      len--;
    }
  }
  if (replace) return view;
  for (const Json* v : plain) {
    auto key = v->find(merge_key);
    if (key == v->end()) break;
    if (find(*key) >= 0) continue;
    if (len < n) view[len] = *v;
    len++;
  }
  return view;
}

// Merges the lists named by $setElementOrder directives and puts their
// items in that order; the lists leave the patch.
bool ApplySetElementOrder(Json& original, Json& patch, const Lookup& schema, std::string* error) {
  std::vector<std::string> keys;
  for (auto it = patch.begin(); it != patch.end(); ++it)
    if (StartsWith(it.key(), kSetElementOrder)) keys.push_back(it.key());
  for (const std::string& key : keys) {
    Json order = std::move(patch[key]);
    patch.erase(key);
    if (!order.is_array()) return ErrBadArgType(kSliceType, order, error);
    std::string field;
    if (!ExtractKey(key, kSetElementOrder, &field)) {
      *error = kErrSetElementOrder;
      return false;
    }
    auto o = original.find(field);
    auto p = patch.find(field);
    bool in_original = o != original.end(), in_patch = p != patch.end();
    Json original_list = Json::array(), patch_list = Json::array();
    if (in_original) {
      if (!o->is_array()) return ErrBadArgType(kSliceType, *o, error);
      original_list = *o;
    }
    if (in_patch) {
      if (!p->is_array()) return ErrBadArgType(kSliceType, *p, error);
      patch_list = *p;
    }
    Lookup sub;
    PatchMeta meta;
    schema.Field(field, true, &sub, &meta);
    if (!ValidateSetOrder(patch_list, order, meta.merge_key, error)) return false;
    Json merged;
    Json live = original_list;
    if (in_original && !in_patch) {
      merged = original_list;
    } else if (!in_original && in_patch) {
      merged = patch_list;
      RemoveDirectives(&merged);
    } else if (in_original && in_patch) {
      if (!MergeSliceField(original_list, patch_list, sub, meta, false, &merged, error))
        return false;
      if (meta.strategy == "merge" && !meta.merge_key.empty())
        live = MergedInPlace(original_list, patch_list, meta.merge_key);
    } else {
      continue;
    }
    Json patch_items, server_only;
    if (!Partition(merged, order, meta.merge_key, &patch_items, &server_only, error)) return false;
    Type type;
    if (!SliceElementType({&live, &patch_list}, &type, error)) return false;
    Json both;
    if (!NormalizeOrder(std::move(patch_items), std::move(server_only), order, live,
                        meta.merge_key, type == Type::kMap, &both, error))
      return false;
    original[field] = std::move(both);
    patch.erase(field);
  }
  return true;
}

// $retainKeys: the fields of `original` not in the list go; every field the
// patch sets must be in it.
bool ApplyRetainKeys(Json& original, Json& patch, std::string* error) {
  auto it = patch.find(kRetainKeys);
  if (it == patch.end()) return true;
  Json keys = std::move(*it);
  patch.erase(it);
  if (!keys.is_array()) {
    *error = kErrRetainKeys;
    return false;
  }
  auto listed = [&](const std::string& k) {
    for (const Json& v : keys)
      if (v.is_string() && v.get_ref<const std::string&>() == k) return true;
    return false;
  };
  for (auto p = patch.begin(); p != patch.end(); ++p) {
    if (p.value().is_null() || StartsWith(p.key(), kDeleteFromPrimitiveList) ||
        StartsWith(p.key(), kSetElementOrder))
      continue;
    if (!listed(p.key())) {
      *error = kErrRetainKeys;
      return false;
    }
  }
  for (auto o = original.begin(); o != original.end();) {
    if (!listed(o.key())) o = original.erase(o);
    else ++o;
  }
  return true;
}

// Merges `patch` into `original` (an object or null); the result is left in
// `original`. Both are changed.
bool MergeMap(Json& original, Json& patch, const Lookup& schema, std::string* error) {
  auto directive = patch.find(kDirective);
  if (directive != patch.end()) {
    if (*directive == "replace") {
      patch.erase(directive);
      original = std::move(patch);
      return true;
    }
    if (*directive == "delete") {
      original = Json::object();
      return true;
    }
    return ErrBadPatchType(*directive, patch, error);
  }
  if (!original.is_object()) original = Json::object();
  if (!ApplyRetainKeys(original, patch, error)) return false;
  if (!ApplySetElementOrder(original, patch, schema, error)) return false;

  for (auto it = patch.begin(); it != patch.end(); ++it) {
    std::string key = it.key();
    Json& value = it.value();
    bool delete_list = false;
    if (StartsWith(key, kDeleteFromPrimitiveList)) {
      if (!ExtractKey(it.key(), kDeleteFromPrimitiveList, &key)) {
        *error = kErrPrimitiveList;
        return false;
      }
      delete_list = true;
    }
    if (value.is_null()) {
      original.erase(key);
      continue;
    }
    auto o = original.find(key);
    if (o == original.end() || TypeOf(*o) != TypeOf(value)) {
      // Not in the original, or of another type: the patch's value.
      if (delete_list) continue;
      Json v = value;
      DiscardNulls(&v);
      if (RemoveDirectives(&v)) original[key] = std::move(v);
      else original.erase(key);
      continue;
    }
    Lookup sub;
    PatchMeta meta;
    switch (TypeOf(value)) {
      case Type::kMap:
        schema.Field(key, false, &sub, &meta);
        if (meta.strategy == "replace") {
          *o = value;
        } else if (!MergeMap(*o, value, sub, error)) {
          return false;
        }
        break;
      case Type::kSlice: {
        schema.Field(key, true, &sub, &meta);
        Json merged;
        if (!MergeSliceField(*o, value, sub, meta, delete_list, &merged, error)) return false;
        *o = std::move(merged);
        break;
      }
      default: {
        Json v = value;
        if (RemoveDirectives(&v)) *o = std::move(v);
        else original.erase(o);
      }
    }
  }
  return true;
}

}  // namespace

bool StrategicMerge(const schema::Message* message, const std::string& kind, const Json& original,
                    const Json& patch, Json* out, std::string* error) {
  if (!patch.is_object()) {
    *error = "strategic merge patch must be a JSON object";
    return false;
  }
  Lookup root;
  if (message) {
    root.mode = Lookup::kMessage;
    root.message = message;
  } else {
    root.mode = Lookup::kGuess;
    root.kind = &kind;
  }
  Json result = original.is_object() ? original : Json::object();
  Json p = patch;
  if (!MergeMap(result, p, root, error)) return false;
  *out = std::move(result);
  return true;
}

bool StrategicMerge(const std::string& api_version, const std::string& kind, const Json& original,
                    const Json& patch, Json* out, std::string* error) {
  return StrategicMerge(schema::MessageForKind(api_version, kind), kind, original, patch, out,
                        error);
}

bool StrategicMerge(const std::string& kind, const Json& original, const Json& patch, Json* out,
                    std::string* error) {
  std::string api_version;
  for (const Json* o : {&original, &patch})
    if (api_version.empty() && o->is_object()) {
      auto it = o->find("apiVersion");
      if (it != o->end() && it->is_string()) api_version = it->get<std::string>();
    }
  return StrategicMerge(api_version, kind, original, patch, out, error);
}

}  // namespace kubit::api
