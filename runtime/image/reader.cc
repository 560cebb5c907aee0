#include "runtime/image/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <vector>

namespace kubit::runtime::image {

FdReader::~FdReader() {
  if (fd_ >= 0) close(fd_);
}

std::unique_ptr<FdReader> FdReader::Open(const std::string& path, std::string* error) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = "open " + path + ": " + strerror(errno);
    return nullptr;
  }
  return std::make_unique<FdReader>(fd, path);
}

bool FdReader::Read(char* buf, size_t n, size_t* got, std::string* error) {
  while (true) {
    ssize_t r = read(fd_, buf, n);
    if (r >= 0) {
      *got = static_cast<size_t>(r);
      return true;
    }
    if (errno == EINTR) continue;
    *error = "read " + name_ + ": " + strerror(errno);
    return false;
  }
}

bool HashingReader::Read(char* buf, size_t n, size_t* got, std::string* error) {
  if (!in_->Read(buf, n, got, error)) return false;
  hash_.Update(buf, *got);
  bytes_ += static_cast<int64_t>(*got);
  return true;
}

bool Drain(Reader* in, std::string* error) {
  std::vector<char> buf(64 << 10);
  while (true) {
    size_t got = 0;
    if (!in->Read(buf.data(), buf.size(), &got, error)) return false;
    if (got == 0) return true;
  }
}

namespace {
enum class Format { kUnknown, kPlain, kGzip, kZstd };
constexpr size_t kInBuf = 64 << 10;
}  // namespace

struct DecompressReader::Impl {
  Reader* in;
  Format format = Format::kUnknown;
  std::vector<char> buf = std::vector<char>(kInBuf);
  size_t pos = 0, len = 0;  // unread input is buf[pos, len)
  bool in_eof = false;
  bool done = false;
  // gzip
  z_stream z{};
  bool z_init = false;
  bool z_member_open = false;  // inside a gzip member (not at its end)
  // zstd
  ZSTD_DStream* zs = nullptr;
  bool zs_frame_open = false;

  ~Impl() {
    if (z_init) inflateEnd(&z);
    if (zs) ZSTD_freeDStream(zs);
  }

  // Refills the input buffer when it is empty; false on a read error.
  bool Fill(std::string* error) {
    if (pos < len || in_eof) return true;
    size_t got = 0;
    if (!in->Read(buf.data(), buf.size(), &got, error)) return false;
    pos = 0;
    len = got;
    if (got == 0) in_eof = true;
    return true;
  }

  bool Detect(std::string* error) {
    // Enough bytes for the 4-byte zstd magic, even from a trickling source.
    while (len < 4 && !in_eof) {
      size_t got = 0;
      if (!in->Read(buf.data() + len, buf.size() - len, &got, error)) return false;
      if (got == 0) in_eof = true;
      len += got;
    }
    const auto* b = reinterpret_cast<const unsigned char*>(buf.data());
    if (len >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
      format = Format::kGzip;
      if (inflateInit2(&z, 15 + 16) != Z_OK) {
        *error = "gzip: cannot initialise zlib";
        return false;
      }
      z_init = true;
    } else if (len >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) {
      format = Format::kZstd;
      zs = ZSTD_createDStream();
      if (!zs || ZSTD_isError(ZSTD_initDStream(zs))) {
        *error = "zstd: cannot initialise the decoder";
        return false;
      }
    } else {
      format = Format::kPlain;
    }
    return true;
  }

  bool ReadPlain(char* out, size_t n, size_t* got, std::string* error) {
    if (pos < len) {
      size_t k = std::min(n, len - pos);
      memcpy(out, buf.data() + pos, k);
      pos += k;
      *got = k;
      return true;
    }
    if (in_eof) {
      *got = 0;
      return true;
    }
    return in->Read(out, n, got, error);
  }

  bool ReadGzip(char* out, size_t n, size_t* got, std::string* error) {
    *got = 0;
    while (*got == 0) {
      if (!Fill(error)) return false;
      if (pos == len) {  // input ended
        if (z_member_open) {
          *error = "gzip: unexpected end of stream (truncated)";
          return false;
        }
        done = true;
        return true;
      }
      if (!z_member_open) {
        // A new member starts (gzip allows several one after another).
        if (z.total_in != 0 && inflateReset(&z) != Z_OK) {
          *error = "gzip: reset failed";
          return false;
        }
        z_member_open = true;
      }
      z.next_in = reinterpret_cast<Bytef*>(buf.data() + pos);
      z.avail_in = static_cast<uInt>(len - pos);
      z.next_out = reinterpret_cast<Bytef*>(out);
      z.avail_out = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
      int rc = inflate(&z, Z_NO_FLUSH);
      pos = len - z.avail_in;
      *got = static_cast<size_t>(reinterpret_cast<char*>(z.next_out) - out);
      if (rc == Z_STREAM_END) {
        z_member_open = false;
        // Trailing zero bytes after the last member (padding some tools
        // write) are not another member.
        while (pos < len && buf[pos] == 0) pos++;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        *error = std::string("gzip: ") + (z.msg ? z.msg : "corrupt data");
        return false;
      }
    }
    return true;
  }

  bool ReadZstd(char* out, size_t n, size_t* got, std::string* error) {
    *got = 0;
    while (*got == 0) {
      if (!Fill(error)) return false;
      if (pos == len) {
        if (zs_frame_open) {
          *error = "zstd: unexpected end of stream (truncated)";
          return false;
        }
        done = true;
        return true;
      }
      ZSTD_inBuffer ib{buf.data(), len, pos};
      ZSTD_outBuffer ob{out, n, 0};
      size_t rc = ZSTD_decompressStream(zs, &ob, &ib);
      if (ZSTD_isError(rc)) {
        *error = std::string("zstd: ") + ZSTD_getErrorName(rc);
        return false;
      }
      pos = ib.pos;
      *got = ob.pos;
      zs_frame_open = rc != 0;
    }
    return true;
  }
};

DecompressReader::DecompressReader(Reader* in) : impl_(new Impl) { impl_->in = in; }
DecompressReader::~DecompressReader() = default;

bool DecompressReader::Read(char* buf, size_t n, size_t* got, std::string* error) {
  Impl& d = *impl_;
  if (d.format == Format::kUnknown && !d.Detect(error)) return false;
  if (d.done || n == 0) {
    *got = 0;
    return true;
  }
  switch (d.format) {
    case Format::kGzip: return d.ReadGzip(buf, n, got, error);
    case Format::kZstd: return d.ReadZstd(buf, n, got, error);
    default: return d.ReadPlain(buf, n, got, error);
  }
}

}  // namespace kubit::runtime::image
