#include "core/api/protobuf.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/api/schema.h"

namespace kubit::api {
namespace {

using Json = nlohmann::json;
using schema::Field;
using schema::Kind;
using schema::Message;
using schema::Shape;

// Messages nested deeper than this are refused.
constexpr int kMaxDepth = 100;

enum WireType : int { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

// One field as it is on the wire.
struct WireField {
  int number = 0;
  int wire_type = 0;
  uint64_t value = 0;     // varint, fixed64 and fixed32
  std::string_view data;  // length-delimited
  size_t offset = 0;      // of the tag, in the body
};

// --- JSON text helpers --------------------------------------------------

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = uint8_t(in[i]) << 16 | uint8_t(in[i + 1]) << 8 | uint8_t(in[i + 2]);
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16 | uint8_t(in[i + 1]) << 8;
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

// The string with each byte that is not part of valid UTF-8 replaced by
// U+FFFD, as Go's JSON encoder does (the JSON library refuses invalid UTF-8).
std::string ValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    uint8_t c = s[i];
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      out += char(c);
      i++;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07;
    }
    bool ok = n > 0 && i + n < s.size();
    if (ok) {
      for (size_t k = 1; k <= n; k++) {
        uint8_t cc = s[i + k];
        if ((cc & 0xC0) != 0x80) {
          ok = false;
          break;
        }
        cp = cp << 6 | (cc & 0x3F);
      }
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid.
    if (ok) {
      static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
      ok = cp >= kMin[n] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (ok) {
      out.append(s.substr(i, n + 1));
      i += n + 1;
    } else {
      out += "\xEF\xBF\xBD";
      i++;
    }
  }
  return out;
}

// Days since 1970-01-01 to a civil date (proleptic Gregorian).
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = unsigned(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = int64_t(yoe) + era * 400 + (*m <= 2);
}

// "2006-01-02T15:04:05Z", or with microseconds "2006-01-02T15:04:05.000000Z".
std::string FormatTime(int64_t seconds, int64_t nanos, bool micro) {
  // Normalize nanos into [0, 1e9) as Go's time.Unix does.
  seconds += nanos / 1000000000;
  nanos %= 1000000000;
  if (nanos < 0) {
    nanos += 1000000000;
    seconds--;
  }
  int64_t days = seconds / 86400, rem = seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    days--;
  }
  int64_t y;
  unsigned mo, d;
  CivilFromDays(days, &y, &mo, &d);
  char buf[80];
  int n = snprintf(buf, sizeof buf, "%s%04lld-%02u-%02uT%02d:%02d:%02d", y < 0 ? "-" : "",
                   static_cast<long long>(y < 0 ? -y : y), mo, d, int(rem / 3600),
                   int(rem / 60 % 60), int(rem % 60));
  std::string s(buf, n);
  if (micro) {
    snprintf(buf, sizeof buf, ".%06d", int(nanos / 1000));
    s += buf;
  }
  return s + "Z";
}

// Go's time.Duration.String: "1h0m0s", "30s", "1.5s", "2ms", "0s".
std::string FormatDuration(int64_t d) {
  if (d == 0) return "0s";
  bool neg = d < 0;
  uint64_t u = neg ? uint64_t(0) - uint64_t(d) : uint64_t(d);
  // The integer and fractional part of u / 10^prec, without trailing zeros.
  auto fixed = [](uint64_t v, int prec) {
    uint64_t scale = 1;
    for (int i = 0; i < prec; i++) scale *= 10;
    std::string s = std::to_string(v / scale);
    uint64_t frac = v % scale;
    if (frac != 0) {
      std::string f = std::to_string(frac);
      f.insert(0, prec - f.size(), '0');
      while (!f.empty() && f.back() == '0') f.pop_back();
      s += "." + f;
    }
    return s;
  };
  std::string s;
  if (u < 1000) {
    s = std::to_string(u) + "ns";
  } else if (u < 1000000) {
    s = fixed(u, 3) + "\xC2\xB5s";  // µs
  } else if (u < 1000000000) {
    s = fixed(u, 6) + "ms";
  } else {
    uint64_t secs = u / 1000000000, frac = u % 1000000000;
    uint64_t h = secs / 3600, m = secs / 60 % 60;
    std::string sec = fixed((secs % 60) * 1000000000 + frac, 9) + "s";
    if (h > 0)
      s = std::to_string(h) + "h" + std::to_string(m) + "m" + sec;
    else if (m > 0)
      s = std::to_string(m) + "m" + sec;
    else
      s = sec;
  }
  return neg ? "-" + s : s;
}

bool IsZeroScalar(const Json& v) {
  if (v.is_string()) return v.get_ref<const std::string&>().empty();
  if (v.is_boolean()) return !v.get<bool>();
  if (v.is_number_integer()) return v.get<int64_t>() == 0;
  if (v.is_number_float()) return v.get<double>() == 0;
  return false;
}

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kString:
      return "string";
    case Kind::kBool:
      return "bool";
    case Kind::kInt32:
      return "int32";
    case Kind::kInt64:
      return "int64";
    case Kind::kUint32:
      return "uint32";
    case Kind::kUint64:
      return "uint64";
    case Kind::kFloat:
      return "float";
    case Kind::kDouble:
      return "double";
    case Kind::kBytes:
      return "bytes";
    case Kind::kMessage:
      return "message";
    case Kind::kMap:
      return "map";
  }
  return "?";
}

int WireTypeOf(Kind k) {
  switch (k) {
    case Kind::kBool:
    case Kind::kInt32:
    case Kind::kInt64:
    case Kind::kUint32:
    case Kind::kUint64:
      return kVarint;
    case Kind::kDouble:
      return kFixed64;
    case Kind::kFloat:
      return kFixed32;
    default:
      return kLengthDelimited;
  }
}

// --- the decoder ----------------------------------------------------------

class Decoder {
 public:
  Decoder(std::string_view body, std::string* error) : body_(body), error_(error) {}

  // The envelope: magic, then runtime.Unknown{typeMeta, raw, contentEncoding,
  // contentType}. `envelope` is a view into the body.
  bool DecodeObject(std::string_view envelope, int depth, Json* out) {
    if (envelope.substr(0, kProtobufMagic.size()) != kProtobufMagic)
      return Fail(envelope,
                  "the body does not start with the Kubernetes protobuf magic \"k8s\\x00\"");
    envelope.remove_prefix(kProtobufMagic.size());
    std::string api_version, kind, encoding, content_type;
    std::string_view raw;
    bool ok = ForEach(envelope, [&](const WireField& w) {
      if (w.number == 1 || w.number == 3 || w.number == 4 || w.number == 2) {
        if (w.wire_type != kLengthDelimited) return WrongWireType(w, "runtime.Unknown");
      }
      switch (w.number) {
        case 1:
          return ForEach(w.data, [&](const WireField& t) {
            if (t.number != 1 && t.number != 2) return true;
            if (t.wire_type != kLengthDelimited) return WrongWireType(t, "runtime.TypeMeta");
            (t.number == 1 ? api_version : kind) = std::string(t.data);
            return true;
          });
        case 2:
          raw = w.data;
          return true;
        case 3:
          encoding = std::string(w.data);
          return true;
        case 4:
          content_type = std::string(w.data);
          return true;
      }
      return true;
    });
    if (!ok) return false;
    if (!encoding.empty())
      return Fail(envelope, "unsupported content encoding \"" + encoding + "\"");
    if (!content_type.empty() && content_type != kProtobufContentType)
      return Fail(envelope, "unsupported content type \"" + content_type + "\" in the envelope");
    if (kind.empty()) return Fail(envelope, "the envelope names no kind");
    const Message* m = schema::MessageForKind(api_version, kind);
    if (!m || m->shape != Shape::kObject)
      return Fail(envelope, "no kind \"" + ValidUtf8(kind) + "\" is registered for version \"" +
                                ValidUtf8(api_version) + "\"");
    *out = Json::object();
    if (!DecodeFields(*m, raw, depth + 1, out)) return false;
    (*out)["apiVersion"] = api_version;
    (*out)["kind"] = kind;
    return true;
  }

  // The value of a message of type `m` as the API's JSON shows it.
  bool DecodeMessage(const Message& m, std::string_view data, int depth, Json* out) {
    if (depth > kMaxDepth)
      return Fail(data, "messages are nested deeper than " + std::to_string(kMaxDepth));
    switch (m.shape) {
      case Shape::kObject:
        *out = Json::object();
        return DecodeFields(m, data, depth, out);
      case Shape::kStringList: {
        *out = Json::array();
        return ForEach(data, [&](const WireField& w) {
          if (w.number != 1) return true;
          if (w.wire_type != kLengthDelimited) return WrongWireType(w, m.full_name);
          out->push_back(ValidUtf8(w.data));
          return true;
        });
      }
      case Shape::kTime:
      case Shape::kMicroTime: {
        // An empty message is Go's zero time, which the JSON shows as null.
        if (data.empty()) {
          *out = nullptr;
          return true;
        }
        int64_t seconds = 0, nanos = 0;
        if (!ForEach(data, [&](const WireField& w) {
              if (w.number != 1 && w.number != 2) return true;
              if (w.wire_type != kVarint) return WrongWireType(w, m.full_name);
              if (w.number == 1)
                seconds = int64_t(w.value);
              else
                nanos = int32_t(uint32_t(w.value));
              return true;
            }))
          return false;
        *out = FormatTime(seconds, nanos, m.shape == Shape::kMicroTime);
        return true;
      }
      case Shape::kDuration: {
        int64_t d = 0;
        if (!ForEach(data, [&](const WireField& w) {
              if (w.number != 1) return true;
              if (w.wire_type != kVarint) return WrongWireType(w, m.full_name);
              d = int64_t(w.value);
              return true;
            }))
          return false;
        *out = FormatDuration(d);
        return true;
      }
      case Shape::kQuantity: {
        std::string s = "0";
        if (!ForEach(data, [&](const WireField& w) {
              if (w.number != 1) return true;
              if (w.wire_type != kLengthDelimited) return WrongWireType(w, m.full_name);
              s = ValidUtf8(w.data);
              return true;
            }))
          return false;
        *out = s;
        return true;
      }
      case Shape::kIntOrString: {
        int64_t type = 0;
        int32_t int_val = 0;
        std::string str_val;
        if (!ForEach(data, [&](const WireField& w) {
              if (w.number < 1 || w.number > 3) return true;
              if (w.wire_type != (w.number == 3 ? kLengthDelimited : kVarint))
                return WrongWireType(w, m.full_name);
              if (w.number == 1) type = int64_t(w.value);
              if (w.number == 2) int_val = int32_t(uint32_t(w.value));
              if (w.number == 3) str_val = ValidUtf8(w.data);
              return true;
            }))
          return false;
        if (type == 1)
          *out = str_val;
        else
          *out = int_val;
        return true;
      }
      case Shape::kRawExtension:
      case Shape::kFieldsV1: {
        std::string_view raw;
        bool present = false;
        if (!ForEach(data, [&](const WireField& w) {
              if (w.number != 1) return true;
              if (w.wire_type != kLengthDelimited) return WrongWireType(w, m.full_name);
              raw = w.data;
              present = true;
              return true;
            }))
          return false;
        if (!present || raw.empty()) {
          *out = nullptr;
          return true;
        }
        // An object embedded by a protobuf client is itself in protobuf.
        if (m.shape == Shape::kRawExtension &&
            raw.substr(0, kProtobufMagic.size()) == kProtobufMagic)
          return DecodeObject(raw, depth, out);
        return ParseJson(raw, depth, m.full_name, out);
      }
    }
    return Fail(data, "unhandled message shape");
  }

 private:
  size_t Offset(std::string_view v) const {
    // Every view the decoder reads is a part of the body.
    return size_t(v.data() - body_.data());
  }

  bool Fail(std::string_view at, const std::string& msg) {
    if (error_->empty())
      *error_ = "protobuf: " + msg + " (at byte " + std::to_string(Offset(at)) + ")";
    return false;
  }
  bool FailAt(size_t offset, const std::string& msg) {
    if (error_->empty()) *error_ = "protobuf: " + msg + " (at byte " + std::to_string(offset) + ")";
    return false;
  }
  bool WrongWireType(const WireField& w, std::string_view where) {
    return FailAt(w.offset, "field " + std::to_string(w.number) + " of " + std::string(where) +
                                " has the wrong wire type " + std::to_string(w.wire_type));
  }

  bool ReadVarint(std::string_view* in, uint64_t* v) {
    uint64_t r = 0;
    for (int i = 0; i < 10; i++) {
      if (in->empty()) return Fail(*in, "truncated varint");
      uint8_t b = uint8_t((*in)[0]);
      in->remove_prefix(1);
      r |= uint64_t(b & 0x7F) << (7 * i);
      if (!(b & 0x80)) {
        *v = r;
        return true;
      }
    }
    return Fail(*in, "varint longer than 10 bytes");
  }

  // Reads one field (tag and value) from the front of `in`.
  bool ReadField(std::string_view* in, WireField* w) {
    w->offset = Offset(*in);
    uint64_t tag = 0;
    if (!ReadVarint(in, &tag)) return false;
    uint64_t number = tag >> 3;
    w->wire_type = int(tag & 7);
    if (number == 0 || number > 0x1FFFFFFF)
      return FailAt(w->offset, "invalid field number " + std::to_string(number));
    w->number = int(number);
    switch (w->wire_type) {
      case kVarint:
        return ReadVarint(in, &w->value);
      case kFixed64:
      case kFixed32: {
        size_t n = w->wire_type == kFixed64 ? 8 : 4;
        if (in->size() < n)
          return Fail(*in, "truncated " + std::to_string(n * 8) + "-bit value of field " +
                               std::to_string(number));
        uint64_t v = 0;
        for (size_t i = 0; i < n; i++) v |= uint64_t(uint8_t((*in)[i])) << (8 * i);
        w->value = v;
        in->remove_prefix(n);
        return true;
      }
      case kLengthDelimited: {
        uint64_t len = 0;
        if (!ReadVarint(in, &len)) return false;
        if (len > in->size())
          return Fail(*in, "length " + std::to_string(len) + " of field " + std::to_string(number) +
                               " is past the end (" + std::to_string(in->size()) + " bytes left)");
        w->data = in->substr(0, len);
        in->remove_prefix(len);
        return true;
      }
      case 3:
      case 4:
        return FailAt(w->offset, "groups are not supported (field " + std::to_string(number) + ")");
      default:
        return FailAt(w->offset, "invalid wire type " + std::to_string(w->wire_type) +
                                     " of field " + std::to_string(number));
    }
  }

  template <typename Fn>
  bool ForEach(std::string_view data, Fn&& fn) {
    while (!data.empty()) {
      WireField w;
      if (!ReadField(&data, &w)) return false;
      if (!fn(w)) return false;
    }
    return true;
  }

  bool ParseJson(std::string_view raw, int depth, std::string_view where, Json* out) {
    bool too_deep = false;
    int limit = kMaxDepth - depth;
    Json::parser_callback_t cb = [&](int d, Json::parse_event_t, Json&) {
      if (d > limit) too_deep = true;
      return true;
    };
    Json j = Json::parse(raw.begin(), raw.end(), cb, /*allow_exceptions=*/false);
    if (too_deep)
      return Fail(raw, "the JSON of " + std::string(where) + " is nested deeper than " +
                           std::to_string(kMaxDepth));
    if (j.is_discarded())
      return Fail(raw, "the raw bytes of " + std::string(where) + " are not JSON");
    *out = std::move(j);
    return true;
  }

  // A single (not repeated, not packed) value of a scalar kind or message.
  bool DecodeValue(Kind kind, const Message* m, const WireField& w, int depth,
                   std::string_view where, Json* out) {
    if (w.wire_type != WireTypeOf(kind))
      return FailAt(w.offset, "field " + std::to_string(w.number) + " of " + std::string(where) +
                                  " (" + KindName(kind) + ") has the wrong wire type " +
                                  std::to_string(w.wire_type));
    switch (kind) {
      case Kind::kString:
        *out = ValidUtf8(w.data);
        return true;
      case Kind::kBytes:
        *out = Base64(w.data);
        return true;
      case Kind::kBool:
        *out = w.value != 0;
        return true;
      case Kind::kInt32:
        *out = int32_t(uint32_t(w.value));
        return true;
      case Kind::kInt64:
        *out = int64_t(w.value);
        return true;
      case Kind::kUint32:
        *out = uint32_t(w.value);
        return true;
      case Kind::kUint64:
        *out = w.value;
        return true;
      case Kind::kDouble: {
        double d;
        memcpy(&d, &w.value, sizeof d);
        *out = d;
        return true;
      }
      case Kind::kFloat: {
        uint32_t bits = uint32_t(w.value);
        float f;
        memcpy(&f, &bits, sizeof f);
        *out = double(f);
        return true;
      }
      case Kind::kMessage:
        if (!m) return FailAt(w.offset, "schema error: no message for " + std::string(where));
        return DecodeMessage(*m, w.data, depth + 1, out);
      case Kind::kMap:
        break;
    }
    return FailAt(w.offset, "unexpected map value in " + std::string(where));
  }

  // The zero value of a kind, for map entries without a value.
  bool ZeroValue(Kind kind, const Message* m, int depth, Json* out) {
    switch (kind) {
      case Kind::kString:
      case Kind::kBytes:
        *out = "";
        return true;
      case Kind::kBool:
        *out = false;
        return true;
      case Kind::kFloat:
      case Kind::kDouble:
        *out = 0.0;
        return true;
      case Kind::kMessage:
        return m && DecodeMessage(*m, std::string_view(body_.data(), 0), depth + 1, out);
      default:
        *out = 0;
        return true;
    }
  }

  bool DecodeMapEntry(const Message& parent, const Field& f, const WireField& w, int depth,
                      Json* map) {
    std::string where = std::string(parent.name()) + "." + std::string(f.name);
    if (w.wire_type != kLengthDelimited) return WrongWireType(w, where);
    if (depth + 1 > kMaxDepth)
      return Fail(w.data, "messages are nested deeper than " + std::to_string(kMaxDepth));
    Json key = "", value;
    bool has_value = false;
    if (!ForEach(w.data, [&](const WireField& e) {
          if (e.number == 1)
            return DecodeValue(f.map_key, nullptr, e, depth + 1, where + " key", &key);
          if (e.number == 2) {
            has_value = true;
            return DecodeValue(f.map_value, f.message, e, depth + 1, where, &value);
          }
          return true;
        }))
      return false;
    if (!has_value && !ZeroValue(f.map_value, f.message, depth + 1, &value)) return false;
    // JSON object keys are strings; numeric and bool keys print as such.
    std::string k = key.is_string() ? key.get<std::string>() : key.dump();
    if (!map->is_object()) *map = Json::object();
    (*map)[k] = std::move(value);
    return true;
  }

  bool DecodeField(const Message& m, const Field& f, const WireField& w, int depth, Json* obj) {
    std::string name(f.name);
    if (f.is_map()) return DecodeMapEntry(m, f, w, depth, &(*obj)[name]);
    std::string where = std::string(m.name()) + "." + name;
    if (f.kind == Kind::kMessage && f.message && f.message->shape == Shape::kObject) {
      if (w.wire_type != kLengthDelimited) return WrongWireType(w, where);
      if (depth + 1 > kMaxDepth)
        return Fail(w.data, "messages are nested deeper than " + std::to_string(kMaxDepth));
      // An inlined message's fields are the parent's in the JSON.
      if (f.inlined) return DecodeFields(*f.message, w.data, depth + 1, obj);
      if (f.repeated) {
        Json item = Json::object();
        if (!DecodeFields(*f.message, w.data, depth + 1, &item)) return false;
        Json& list = (*obj)[name];
        if (!list.is_array()) list = Json::array();
        list.push_back(std::move(item));
        return true;
      }
      // A message that occurs again merges into the first.
      Json& target = (*obj)[name];
      if (!target.is_object()) target = Json::object();
      return DecodeFields(*f.message, w.data, depth + 1, &target);
    }
    if (f.repeated) {
      Json& list = (*obj)[name];
      if (!list.is_array()) list = Json::array();
      // Packed scalars: one length-delimited run of values.
      int wt = WireTypeOf(f.kind);
      if (w.wire_type == kLengthDelimited && wt != kLengthDelimited) {
        std::string_view run = w.data;
        while (!run.empty()) {
          WireField item;
          item.number = w.number;
          item.wire_type = wt;
          item.offset = Offset(run);
          if (wt == kVarint) {
            if (!ReadVarint(&run, &item.value)) return false;
          } else {
            size_t n = wt == kFixed64 ? 8 : 4;
            if (run.size() < n) return Fail(run, "truncated packed value of " + where);
            for (size_t i = 0; i < n; i++) item.value |= uint64_t(uint8_t(run[i])) << (8 * i);
            run.remove_prefix(n);
          }
          Json v;
          if (!DecodeValue(f.kind, nullptr, item, depth, where, &v)) return false;
          list.push_back(std::move(v));
        }
        return true;
      }
      Json v;
      if (!DecodeValue(f.kind, f.message, w, depth, where, &v)) return false;
      list.push_back(std::move(v));
      return true;
    }
    Json v;
    if (!DecodeValue(f.kind, f.message, w, depth, where, &v)) return false;
    // Go's JSON leaves out the zero value of a non-pointer omitempty scalar.
    if (f.kind != Kind::kMessage && f.omit_empty && !f.pointer && IsZeroScalar(v)) {
      obj->erase(name);
      return true;
    }
    (*obj)[name] = std::move(v);
    return true;
  }

  // The fields of a message of type `m` into the JSON object `obj`.
  bool DecodeFields(const Message& m, std::string_view data, int depth, Json* obj) {
    if (depth > kMaxDepth)
      return Fail(data, "messages are nested deeper than " + std::to_string(kMaxDepth));
    return ForEach(data, [&](const WireField& w) {
      const Field* f = m.FieldByNumber(w.number);
      if (!f) return true;  // unknown fields are skipped
      return DecodeField(m, *f, w, depth, obj);
    });
  }

  std::string_view body_;
  std::string* error_;
};

}  // namespace

bool DecodeProtobufObject(const std::string& body, nlohmann::json* out, std::string* error) {
  std::string err;
  Decoder d(body, &err);
  Json j;
  bool ok = false;
  try {
    ok = d.DecodeObject(body, 0, &j);
  } catch (const std::exception& e) {  // only allocation failures are expected here
    err = std::string("protobuf: ") + e.what();
  }
  if (!ok) {
    *error = err.empty() ? "protobuf: malformed body" : err;
    return false;
  }
  *out = std::move(j);
  return true;
}

bool DecodeProtobufMessage(const schema::Message& m, std::string_view data, nlohmann::json* out,
                           std::string* error) {
  std::string err;
  Decoder d(data, &err);
  Json j;
  bool ok = false;
  try {
    ok = d.DecodeMessage(m, data, 1, &j);
  } catch (const std::exception& e) {
    err = std::string("protobuf: ") + e.what();
  }
  if (!ok) {
    *error = err.empty() ? "protobuf: malformed message" : err;
    return false;
  }
  *out = std::move(j);
  return true;
}

}  // namespace kubit::api
