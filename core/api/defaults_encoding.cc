// The shape an object takes through upstream's Go types: decoding into the
// typed struct drops unknown fields and turns null into a zero value,
// encoding leaves out the empty values of omitempty fields and always
// writes structs and the fields without omitempty. Driven by the schema
// table (core/api/schema.h), which records each field's JSON flags.
#include <string_view>

#include "core/api/defaults_internal.h"
#include "core/api/defaults_quantity.h"
#include "core/api/schema.h"

namespace kubit::api::defaults {
namespace {

using schema::Field;
using schema::Kind;
using schema::Message;
using schema::Shape;

bool IsTypeMeta(const Message* m) {
  return m && m->full_name == "k8s.io.apimachinery.pkg.apis.meta.v1.TypeMeta";
}

bool IsZeroScalar(const Json& v, Kind k) {
  switch (k) {
    case Kind::kString:
    case Kind::kBytes: return v.is_string() && v.get_ref<const std::string&>().empty();
    case Kind::kBool: return v.is_boolean() && !v.get<bool>();
    default:
      if (v.is_number_integer()) return v.get<int64_t>() == 0;
      if (v.is_number_float()) return v.get<double>() == 0.0;
      return false;
  }
}

Json ZeroScalar(Kind k) {
  switch (k) {
    case Kind::kString: return "";
    case Kind::kBytes: return nullptr;
    case Kind::kBool: return false;
    case Kind::kFloat:
    case Kind::kDouble: return 0.0;
    default: return 0;
  }
}

void CanonicalQuantity(Json* v, bool resource_list) {
  auto q = QuantityFromJson(*v);
  if (!q) return;  // malformed: left for decoding errors
  if (resource_list) q->RoundUp(-3);
  *v = q->String();
}

void Walk(const Message& m, Json* obj, bool fill, bool top);
void Fill(const Message& m, Json* obj);

// The zero value of a struct-typed (non-pointer) field.
Json ZeroStruct(const Message& m, bool fill) {
  switch (m.shape) {
    case Shape::kTime:
    case Shape::kMicroTime:
    case Shape::kRawExtension:
    case Shape::kFieldsV1:
    case Shape::kStringList: return nullptr;
    case Shape::kDuration: return "0s";
    case Shape::kQuantity: return "0";
    case Shape::kIntOrString: return 0;
    case Shape::kObject: break;
  }
  Json o = Json::object();
  if (fill) Fill(m, &o);
  return o;
}

// Canonical form of one element (of a list or map, or a single value) whose
// type is a message.
void Element(const Message& m, Json* v, bool fill, bool resource_list) {
  if (v->is_null()) {
    *v = ZeroStruct(m, fill);
    return;
  }
  if (m.shape == Shape::kQuantity) return CanonicalQuantity(v, resource_list);
  if (m.shape == Shape::kObject && v->is_object()) Walk(m, v, fill, false);
}

// Canonical form of obj[f]; false when the field is to be left out.
bool Value(const Field& f, Json* v, bool fill) {
  if (f.is_map()) {
    if (v->is_null()) return !f.omit_empty;
    if (!v->is_object()) return true;
    if (v->empty()) return !f.omit_empty;
    for (auto it = v->begin(); it != v->end(); ++it) {
      if (f.map_value == Kind::kMessage && f.message)
        Element(*f.message, &it.value(), fill, f.message->shape == Shape::kQuantity);
      else if (it.value().is_null() && f.map_value == Kind::kString)
        it.value() = "";
    }
    return true;
  }
  if (f.repeated) {
    if (v->is_null()) return !f.omit_empty;
    if (!v->is_array()) return true;
    if (v->empty()) return !f.omit_empty;
    for (Json& e : *v) {
      if (f.kind == Kind::kMessage && f.message) Element(*f.message, &e, fill, false);
      else if (e.is_null()) e = ZeroScalar(f.kind);
    }
    return true;
  }
  if (f.kind == Kind::kMessage && f.message) {
    if (v->is_null()) {
      if (f.pointer) return !f.omit_empty;
      *v = ZeroStruct(*f.message, fill);
      return true;
    }
    Element(*f.message, v, fill, false);
    return true;
  }
  if (v->is_null()) {
    if (f.pointer || f.omit_empty) return !f.omit_empty;
    *v = ZeroScalar(f.kind);
    return true;
  }
  return !(f.omit_empty && !f.pointer && IsZeroScalar(*v, f.kind));
}

void Walk(const Message& m, Json* obj, bool fill, bool top) {
  for (auto it = obj->begin(); it != obj->end();) {
    const std::string& key = it.key();
    if ((top || m.is_kind) && (key == "apiVersion" || key == "kind")) {
      ++it;
      continue;
    }
    const Field* f = m.FieldByName(key);
    if (!f || !Value(*f, &it.value(), fill)) {
      it = obj->erase(it);
      continue;
    }
    ++it;
  }
  if (fill) Fill(m, obj);
}

// Adds the zero values Go writes for the fields `obj` lacks.
void Fill(const Message& m, Json* obj) {
  for (const Field& f : m.fields) {
    if (f.inlined) {
      if (f.message && !IsTypeMeta(f.message)) Fill(*f.message, obj);
      continue;
    }
    std::string name(f.name);
    if (obj->contains(name)) continue;
    if (f.pointer || f.repeated || f.is_map()) {
      if (!f.omit_empty) (*obj)[name] = nullptr;
    } else if (f.kind == Kind::kMessage) {
      if (f.message) (*obj)[name] = ZeroStruct(*f.message, true);
    } else if (!f.omit_empty) {
      (*obj)[name] = ZeroScalar(f.kind);
    }
  }
}

}  // namespace

void Canonicalize(const ResourceType& type, Json* obj, bool fill_zeros) {
  if (!obj->is_object()) return;
  const Message* m = schema::MessageForKind(type.api_version(), type.kind);
  if (!m || m->shape != Shape::kObject) return;
  Walk(*m, obj, fill_zeros, true);
}

}  // namespace kubit::api::defaults
