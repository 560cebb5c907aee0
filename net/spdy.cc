#include "net/spdy.h"

#include <cstring>

namespace kubit::net {

namespace {

constexpr uint16_t kVersion = 3;

void Put32(std::string* out, uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  out->append(b, 4);
}

uint32_t Get32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint32_t>(u[0]) << 24 | static_cast<uint32_t>(u[1]) << 16 |
         static_cast<uint32_t>(u[2]) << 8 | u[3];
}

}  // namespace

std::string SpdyFrame::Header(const std::string& lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name) return v;
  return "";
}

// SPDY/3's dictionary (draft 3.1, section 2.6.10.1): the common header
// names, each after its 32-bit length as in a header block, then a run of
// frequent values.
const std::string& SpdyDictionary() {
  static const std::string dict = [] {
    static const char* const kNames[] = {
        "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset",
        "accept-encoding", "accept-language", "accept-ranges", "age", "allow", "authorization",
        "cache-control", "connection", "content-base", "content-encoding", "content-language",
        "content-length", "content-location", "content-md5", "content-range", "content-type",
        "date", "etag", "expect", "expires", "from", "host", "if-match", "if-modified-since",
        "if-none-match", "if-range", "if-unmodified-since", "last-modified", "location",
        "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer",
        "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent",
        "vary", "via", "warning", "www-authenticate", "method", "get", "status", "200 OK",
        "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive", "origin"};
    std::string d;
    for (const char* n : kNames) {
      Put32(&d, static_cast<uint32_t>(strlen(n)));
      d += n;
    }
    d += "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
         "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request"
         "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented"
         "503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, "
         "Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
         "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
         "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";
    return d;
  }();
  return dict;
}

SpdyHeaderCompressor::SpdyHeaderCompressor() {
  deflateInit(&z_, Z_DEFAULT_COMPRESSION);
  const std::string& d = SpdyDictionary();
  deflateSetDictionary(&z_, reinterpret_cast<const Bytef*>(d.data()), static_cast<uInt>(d.size()));
}

SpdyHeaderCompressor::~SpdyHeaderCompressor() { deflateEnd(&z_); }

std::string SpdyHeaderCompressor::Compress(const SpdyHeaders& headers) {
  std::string plain;
  Put32(&plain, static_cast<uint32_t>(headers.size()));
  for (const auto& [k, v] : headers) {
    Put32(&plain, static_cast<uint32_t>(k.size()));
    plain += k;
    Put32(&plain, static_cast<uint32_t>(v.size()));
    plain += v;
  }
  std::string out;
  z_.next_in = reinterpret_cast<Bytef*>(plain.data());
  z_.avail_in = static_cast<uInt>(plain.size());
  char buf[4096];
  // A sync flush ends the block on a byte boundary: the peer can inflate
  // it whole without the next frame's bytes.
  do {
    z_.next_out = reinterpret_cast<Bytef*>(buf);
    z_.avail_out = sizeof(buf);
    deflate(&z_, Z_SYNC_FLUSH);
    out.append(buf, sizeof(buf) - z_.avail_out);
  } while (z_.avail_out == 0);
  return out;
}

SpdyHeaderDecompressor::SpdyHeaderDecompressor() { inflateInit(&z_); }

SpdyHeaderDecompressor::~SpdyHeaderDecompressor() { inflateEnd(&z_); }

bool SpdyHeaderDecompressor::Decompress(const std::string& block, SpdyHeaders* out,
                                        std::string* error) {
  std::string plain;
  z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(block.data()));
  z_.avail_in = static_cast<uInt>(block.size());
  char buf[4096];
  for (;;) {
    z_.next_out = reinterpret_cast<Bytef*>(buf);
    z_.avail_out = sizeof(buf);
    int rc = inflate(&z_, Z_SYNC_FLUSH);
    if (rc == Z_NEED_DICT) {
      const std::string& d = SpdyDictionary();
      rc = inflateSetDictionary(&z_, reinterpret_cast<const Bytef*>(d.data()),
                                static_cast<uInt>(d.size()));
      if (rc != Z_OK) {
        *error = "spdy: header block wants another dictionary";
        return false;
      }
      continue;
    }
    plain.append(buf, sizeof(buf) - z_.avail_out);
    if (rc == Z_BUF_ERROR && z_.avail_in == 0) break;  // all input used
    if (rc != Z_OK) {
      *error = std::string("spdy: header block does not inflate: ") + (z_.msg ? z_.msg : "zlib error");
      return false;
    }
    if (z_.avail_in == 0 && z_.avail_out != 0) break;
    if (plain.size() > (1 << 20)) {
      *error = "spdy: header block over 1 MiB";
      return false;
    }
  }
  out->clear();
  size_t pos = 0;
  auto take32 = [&](uint32_t* v) {
    if (plain.size() - pos < 4) return false;
    *v = Get32(plain.data() + pos);
    pos += 4;
    return true;
  };
  uint32_t count;
  if (!take32(&count)) {
    *error = "spdy: header block without a count";
    return false;
  }
  for (uint32_t i = 0; i < count; i++) {
    uint32_t n;
    std::string kv[2];
    for (auto& s : kv) {
      if (!take32(&n) || plain.size() - pos < n) {
        *error = "spdy: header block shorter than its lengths";
        return false;
      }
      s = plain.substr(pos, n);
      pos += n;
    }
    // Zero-length names are ignored, as the spec asks of receivers.
    if (!kv[0].empty()) out->emplace_back(std::move(kv[0]), std::move(kv[1]));
  }
  return true;
}

std::string SpdyEncoder::Control(SpdyType type, uint8_t flags, const std::string& payload) {
  std::string out;
  out.reserve(8 + payload.size());
  out += static_cast<char>(0x80 | (kVersion >> 8));
  out += static_cast<char>(kVersion & 0xff);
  out += static_cast<char>(static_cast<uint16_t>(type) >> 8);
  out += static_cast<char>(static_cast<uint16_t>(type) & 0xff);
  Put32(&out, static_cast<uint32_t>(flags) << 24 | static_cast<uint32_t>(payload.size()));
  out += payload;
  return out;
}

std::string SpdyEncoder::SynStream(uint32_t stream_id, const SpdyHeaders& headers, uint8_t flags) {
  std::string p;
  Put32(&p, stream_id & 0x7fffffff);
  Put32(&p, 0);       // associated stream
  p += '\0';          // priority 0
  p += '\0';          // slot
  return Control(SpdyType::kSynStream, flags, p + compressor_.Compress(headers));
}

std::string SpdyEncoder::SynReply(uint32_t stream_id, const SpdyHeaders& headers, uint8_t flags) {
  std::string p;
  Put32(&p, stream_id & 0x7fffffff);
  return Control(SpdyType::kSynReply, flags, p + compressor_.Compress(headers));
}

std::string SpdyEncoder::RstStream(uint32_t stream_id, uint32_t status) {
  std::string p;
  Put32(&p, stream_id & 0x7fffffff);
  Put32(&p, status);
  return Control(SpdyType::kRstStream, 0, p);
}

std::string SpdyEncoder::Ping(uint32_t id) {
  std::string p;
  Put32(&p, id);
  return Control(SpdyType::kPing, 0, p);
}

std::string SpdyEncoder::GoAway(uint32_t last_stream_id, uint32_t status) {
  std::string p;
  Put32(&p, last_stream_id & 0x7fffffff);
  Put32(&p, status);
  return Control(SpdyType::kGoAway, 0, p);
}

std::string SpdyEncoder::Data(uint32_t stream_id, const std::string& data, uint8_t flags) {
  std::string out;
  out.reserve(8 + data.size());
  Put32(&out, stream_id & 0x7fffffff);
  Put32(&out, static_cast<uint32_t>(flags) << 24 | static_cast<uint32_t>(data.size()));
  out += data;
  return out;
}

int SpdyDecoder::Next(SpdyFrame* out, std::string* error) {
  // Consumed bytes are dropped in batches, not per frame.
  if (pos_ > (1 << 16) && pos_ * 2 > buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  if (buf_.size() - pos_ < 8) return 0;
  const char* h = buf_.data() + pos_;
  const uint32_t word0 = Get32(h), word1 = Get32(h + 4);
  const size_t length = word1 & 0xffffff;
  if (length > max_frame_) {
    *error = "spdy: frame of " + std::to_string(length) + " bytes is over the limit";
    return -1;
  }
  if (buf_.size() - pos_ < 8 + length) return 0;
  *out = SpdyFrame{};
  out->flags = static_cast<uint8_t>(word1 >> 24);
  std::string payload = buf_.substr(pos_ + 8, length);
  pos_ += 8 + length;
  if (!(word0 & 0x80000000)) {
    out->type = SpdyType::kData;
    out->stream_id = word0 & 0x7fffffff;
    out->data = std::move(payload);
    return 1;
  }
  const uint16_t version = (word0 >> 16) & 0x7fff;
  if (version != kVersion) {
    *error = "spdy: version " + std::to_string(version) + " is not 3";
    return -1;
  }
  out->type = static_cast<SpdyType>(word0 & 0xffff);
  auto need = [&](size_t n) {
    if (payload.size() >= n) return true;
    *error = "spdy: control frame of type " + std::to_string(word0 & 0xffff) + " is too short";
    return false;
  };
  switch (out->type) {
    case SpdyType::kSynStream:
      if (!need(10)) return -1;
      out->stream_id = Get32(payload.data()) & 0x7fffffff;
      return decompressor_.Decompress(payload.substr(10), &out->headers, error) ? 1 : -1;
    case SpdyType::kSynReply:
    case SpdyType::kHeaders:
      if (!need(4)) return -1;
      out->stream_id = Get32(payload.data()) & 0x7fffffff;
      return decompressor_.Decompress(payload.substr(4), &out->headers, error) ? 1 : -1;
    case SpdyType::kRstStream:
    case SpdyType::kWindowUpdate:
      if (!need(8)) return -1;
      out->stream_id = Get32(payload.data()) & 0x7fffffff;
      out->value = Get32(payload.data() + 4) & (out->type == SpdyType::kWindowUpdate ? 0x7fffffff : ~0u);
      return 1;
    case SpdyType::kPing:
      if (!need(4)) return -1;
      out->value = Get32(payload.data());
      return 1;
    case SpdyType::kGoAway:
      if (!need(4)) return -1;
      out->stream_id = Get32(payload.data()) & 0x7fffffff;
      if (payload.size() >= 8) out->value = Get32(payload.data() + 4);
      return 1;
    default:
      out->data = std::move(payload);
      return 1;
  }
}

}  // namespace kubit::net
