#include "runtime/image/tar_reader.h"

#include <cstring>
#include <vector>

namespace kubit::runtime::image {
namespace {

constexpr size_t kBlock = 512;
// Long names and PAX headers are read into memory; a hostile archive must
// not make that unbounded.
constexpr int64_t kMaxMetaBytes = 1 << 20;

std::string Field(const char* p, size_t n) {
  size_t len = strnlen(p, n);
  return std::string(p, len);
}

// A numeric header field: octal text (space or NUL terminated), or GNU's
// base-256 form (high bit of the first byte set) for large values.
bool Number(const char* p, size_t n, int64_t* out) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  if (u[0] & 0x80) {
    if (u[0] & 0x40) return false;  // negative
    uint64_t v = u[0] & 0x3f;
    for (size_t i = 1; i < n; i++) {
      if (v >> 55) return false;
      v = (v << 8) | u[i];
    }
    *out = static_cast<int64_t>(v);
    return true;
  }
  size_t i = 0;
  while (i < n && (p[i] == ' ' || p[i] == 0)) i++;
  uint64_t v = 0;
  bool any = false;
  for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) {
    if (v >> 60) return false;
    v = v * 8 + static_cast<uint64_t>(p[i] - '0');
    any = true;
  }
  for (; i < n; i++)
    if (p[i] != ' ' && p[i] != 0) return false;
  *out = any ? static_cast<int64_t>(v) : 0;
  return true;
}

bool ValidChecksum(const char* h) {
  int64_t want = 0;
  if (!Number(h + 148, 8, &want)) return false;
  uint64_t sum = 0;
  for (size_t i = 0; i < kBlock; i++)
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
  return static_cast<int64_t>(sum) == want;
}

bool ParseDecimal(const std::string& s, int64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// "len key=value\n" records.
bool ParsePax(const std::string& data, std::map<std::string, std::string>* out, std::string* error) {
  size_t pos = 0;
  while (pos < data.size()) {
    size_t sp = data.find(' ', pos);
    int64_t len = 0;
    if (sp == std::string::npos || !ParseDecimal(data.substr(pos, sp - pos), &len) ||
        len <= static_cast<int64_t>(sp - pos) || pos + static_cast<size_t>(len) > data.size() ||
        data[pos + len - 1] != '\n') {
      *error = "tar: malformed PAX header";
      return false;
    }
    std::string rec = data.substr(sp + 1, pos + len - 1 - (sp + 1));
    size_t eq = rec.find('=');
    if (eq == std::string::npos) {
      *error = "tar: malformed PAX record";
      return false;
    }
    (*out)[rec.substr(0, eq)] = rec.substr(eq + 1);
    pos += static_cast<size_t>(len);
  }
  return true;
}

// Applies PAX records to an entry; false on a bad value.
bool ApplyPax(const std::map<std::string, std::string>& pax, TarEntry* e, std::string* error) {
  for (const auto& [k, v] : pax) {
    int64_t n = 0;
    if (k == "path") {
      e->path = v;
    } else if (k == "linkpath") {
      e->linkname = v;
    } else if (k == "size" || k == "uid" || k == "gid") {
      if (!ParseDecimal(v, &n)) {
        *error = "tar: bad PAX " + k + " \"" + v + "\"";
        return false;
      }
      (k == "size" ? e->size : k == "uid" ? e->uid : e->gid) = n;
    } else if (k == "mtime") {
      std::string sec = v, frac;
      if (size_t dot = v.find('.'); dot != std::string::npos) {
        sec = v.substr(0, dot);
        frac = v.substr(dot + 1);
      }
      bool neg = !sec.empty() && sec[0] == '-';
      if (!ParseDecimal(neg ? sec.substr(1) : sec, &n)) {
        *error = "tar: bad PAX mtime \"" + v + "\"";
        return false;
      }
      e->mtime = neg ? -n : n;
      frac = (frac + "000000000").substr(0, 9);
      int64_t ns = 0;
      e->mtime_nsec = !neg && ParseDecimal(frac, &ns) ? static_cast<int32_t>(ns) : 0;
    } else if (k.rfind("SCHILY.xattr.", 0) == 0) {
      e->xattrs[k.substr(13)] = v;
    }
  }
  return true;
}

}  // namespace

bool TarReader::ReadFull(char* buf, size_t n, std::string* error) {
  size_t done = 0;
  while (done < n) {
    size_t got = 0;
    if (!in_->Read(buf + done, n - done, &got, error)) return false;
    if (got == 0) {
      *error = "tar: unexpected end of archive (truncated)";
      return false;
    }
    done += got;
  }
  return true;
}

bool TarReader::Skip(int64_t n, std::string* error) {
  char buf[16 << 10];
  while (n > 0) {
    size_t k = static_cast<size_t>(std::min<int64_t>(n, sizeof buf));
    if (!ReadFull(buf, k, error)) return false;
    n -= static_cast<int64_t>(k);
  }
  return true;
}

bool TarReader::ReadSmallData(int64_t size, std::string* out, std::string* error) {
  if (size > kMaxMetaBytes) {
    *error = "tar: extended header of " + std::to_string(size) + " bytes is too large";
    return false;
  }
  out->resize(static_cast<size_t>(size));
  if (!ReadFull(out->data(), out->size(), error)) return false;
  return Skip((kBlock - size % kBlock) % kBlock, error);
}

bool TarReader::ReadData(char* buf, size_t n, size_t* got, std::string* error) {
  *got = 0;
  if (remaining_ == 0) return true;
  size_t want = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(n), remaining_));
  if (!in_->Read(buf, want, got, error)) return false;
  if (*got == 0) {
    *error = "tar: unexpected end of archive inside a file (truncated)";
    return false;
  }
  remaining_ -= static_cast<int64_t>(*got);
  return true;
}

bool TarReader::Next(TarEntry* entry, std::string* error) {
  error->clear();
  if (ended_) return false;
  if (!Skip(remaining_ + padding_, error)) return false;
  remaining_ = padding_ = 0;
  std::string long_name, long_link;
  bool have_long_name = false, have_long_link = false;
  std::map<std::string, std::string> pax;
  char h[kBlock];
  while (true) {
    // The end is a zero block; a stream that simply stops at a block
    // boundary is accepted too, as GNU tar does.
    size_t got = 0, done = 0;
    while (done < kBlock) {
      if (!in_->Read(h + done, kBlock - done, &got, error)) return false;
      if (got == 0) break;
      done += got;
    }
    if (done == 0 && !have_long_name && !have_long_link && pax.empty()) {
      ended_ = true;
      return false;
    }
    if (done < kBlock) {
      *error = "tar: unexpected end of archive (truncated header)";
      return false;
    }
    bool zero = true;
    for (char c : h)
      if (c != 0) {
        zero = false;
        break;
      }
    if (zero) {
      ended_ = true;
      return false;
    }
    if (!ValidChecksum(h)) {
      *error = "tar: header checksum mismatch (not a tar archive, or corrupt)";
      return false;
    }
    int64_t size = 0;
    if (!Number(h + 124, 12, &size)) {
      *error = "tar: bad size field";
      return false;
    }
    char type = h[156];
    if (type == 'L' || type == 'K') {
      std::string data;
      if (!ReadSmallData(size, &data, error)) return false;
      data.resize(strnlen(data.data(), data.size()));
      (type == 'L' ? long_name : long_link) = data;
      (type == 'L' ? have_long_name : have_long_link) = true;
      continue;
    }
    if (type == 'x' || type == 'g') {
      std::string data;
      if (!ReadSmallData(size, &data, error)) return false;
      if (!ParsePax(data, type == 'x' ? &pax : &global_pax_, error)) return false;
      continue;
    }
    TarEntry e;
    std::string name = Field(h, 100);
    bool ustar = memcmp(h + 257, "ustar", 5) == 0;
    if (ustar && memcmp(h + 257, "ustar\0", 6) == 0) {  // POSIX ustar: name prefix
      std::string prefix = Field(h + 345, 155);
      if (!prefix.empty()) name = prefix + "/" + name;
    }
    e.path = name;
    e.linkname = Field(h + 157, 100);
    int64_t mode = 0;
    if (!Number(h + 100, 8, &mode) || !Number(h + 108, 8, &e.uid) || !Number(h + 116, 8, &e.gid) ||
        !Number(h + 136, 12, &e.mtime)) {
      *error = "tar: bad numeric field in the header of " + name;
      return false;
    }
    e.mode = static_cast<uint32_t>(mode & 07777);
    e.size = size;
    if (ustar) {
      int64_t ma = 0, mi = 0;
      if (!Number(h + 329, 8, &ma) || !Number(h + 337, 8, &mi)) {
        *error = "tar: bad device numbers for " + name;
        return false;
      }
      e.devmajor = static_cast<uint32_t>(ma);
      e.devminor = static_cast<uint32_t>(mi);
    }
    if (have_long_name) e.path = long_name;
    if (have_long_link) e.linkname = long_link;
    if (!ApplyPax(global_pax_, &e, error) || !ApplyPax(pax, &e, error)) return false;
    switch (type) {
      case '0': case '\0': case '7':
        // v7 archives mark directories only by the trailing slash.
        e.type = !e.path.empty() && e.path.back() == '/' ? TarEntry::kDirectory : TarEntry::kRegular;
        break;
      case '1': case '2': case '3': case '4': case '5': case '6':
        e.type = static_cast<TarEntry::Type>(type);
        break;
      default:
        *error = std::string("tar: unsupported entry type '") + (type >= 32 && type < 127 ? type : '?') +
                 "' for " + e.path;
        return false;
    }
    if (e.size < 0) {
      *error = "tar: negative size for " + e.path;
      return false;
    }
    // Only regular files carry data: for the header-only types the size
    // field is ignored, as Go's archive/tar (which wrote most layers) does.
    if (e.type != TarEntry::kRegular) e.size = 0;
    remaining_ = e.size;
    padding_ = static_cast<int64_t>((kBlock - static_cast<size_t>(remaining_ % kBlock)) % kBlock);
    *entry = std::move(e);
    return true;
  }
}

}  // namespace kubit::runtime::image
