// Builders for the image tests: tar archives written header by header (so
// that tests can make hostile ones no tar tool would), and gzip and zstd
// compression of them.
#pragma once

#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>

namespace kubit::test {

struct TarOpts {
  unsigned mode = 0644;
  int uid = 0, gid = 0;
  long mtime = 1700000000;
  unsigned devmajor = 0, devminor = 0;
};

class TarBuilder {
 public:
  using Opts = TarOpts;
  TarBuilder& File(const std::string& path, const std::string& data, Opts o = {}) {
    return Entry(path, '0', data, "", o);
  }
  TarBuilder& Dir(const std::string& path, Opts o = {0755}) { return Entry(path, '5', "", "", o); }
  TarBuilder& Symlink(const std::string& path, const std::string& target) {
    return Entry(path, '2', "", target, {0777});
  }
  TarBuilder& Hardlink(const std::string& path, const std::string& target) {
    return Entry(path, '1', "", target, {0644});
  }
  TarBuilder& Device(const std::string& path, char type, unsigned major, unsigned minor) {
    Opts o{0666};
    o.devmajor = major;
    o.devminor = minor;
    return Entry(path, type, "", "", o);
  }
  // A PAX 'x' header that applies to the next entry.
  TarBuilder& Pax(const std::map<std::string, std::string>& records) {
    std::string data;
    for (const auto& [k, v] : records) {
      std::string rec = " " + k + "=" + v + "\n";
      size_t len = rec.size() + 1;
      while (std::to_string(len).size() + rec.size() != len) len++;
      data += std::to_string(len) + rec;
    }
    return Entry("PaxHeaders/x", 'x', data, "", {});
  }
  // A GNU 'L' (long name) or 'K' (long link) header for the next entry.
  TarBuilder& GnuLong(char type, const std::string& name) {
    return Entry("././@LongLink", type, name + std::string(1, '\0'), "", {});
  }
  TarBuilder& Entry(const std::string& path, char type, const std::string& data, const std::string& link,
                    Opts o) {
    char h[512] = {};
    strncpy(h, path.c_str(), 100);
    snprintf(h + 100, 8, "%07o", o.mode);
    snprintf(h + 108, 8, "%07o", o.uid);
    snprintf(h + 116, 8, "%07o", o.gid);
    snprintf(h + 124, 12, "%011lo", static_cast<unsigned long>(data.size()));
    snprintf(h + 136, 12, "%011lo", static_cast<unsigned long>(o.mtime));
    h[156] = type;
    strncpy(h + 157, link.c_str(), 100);
    memcpy(h + 257, "ustar\0" "00", 8);
    snprintf(h + 329, 8, "%07o", o.devmajor);
    snprintf(h + 337, 8, "%07o", o.devminor);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    snprintf(h + 148, 8, "%06o", sum);
    out_.append(h, 512);
    out_ += data;
    out_.append((512 - data.size() % 512) % 512, '\0');
    return *this;
  }
  std::string Finish() const { return out_ + std::string(1024, '\0'); }

 private:
  std::string out_;
};

inline std::string Gzip(const std::string& in) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, in.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

inline std::string Zstd(const std::string& in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3));
  return out;
}

}  // namespace kubit::test
