// SPDY/3.1 framing, as kubectl's port-forward speaks it (moby/spdystream
// over an HTTP upgrade, or tunnelled in WebSocket binary messages): frames
// encoded and split from a byte stream, and the name/value header blocks,
// compressed with one zlib stream per direction seeded with SPDY/3's
// dictionary and flushed (Z_SYNC_FLUSH) after each block.
//
// Only what a session needs: SYN_STREAM, SYN_REPLY, RST_STREAM, PING,
// GOAWAY, HEADERS and DATA are decoded; other control frames (SETTINGS,
// WINDOW_UPDATE: spdystream does no flow control) are returned with their
// type and raw payload for the caller to ignore.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace kubit::net {

enum class SpdyType : uint16_t {
  kData = 0,  // not a control type: a DATA frame
  kSynStream = 1,
  kSynReply = 2,
  kRstStream = 3,
  kSettings = 4,
  kPing = 6,
  kGoAway = 7,
  kHeaders = 8,
  kWindowUpdate = 9,
};

inline constexpr uint8_t kSpdyFlagFin = 0x01;
inline constexpr uint8_t kSpdyFlagUnidirectional = 0x02;
// RST_STREAM status codes used here.
inline constexpr uint32_t kSpdyProtocolError = 1;
inline constexpr uint32_t kSpdyInvalidStream = 2;
inline constexpr uint32_t kSpdyCancel = 5;

// Header names as sent (lower case); a name with several values carries
// them joined by NUL, as the spec says.
using SpdyHeaders = std::vector<std::pair<std::string, std::string>>;

struct SpdyFrame {
  SpdyType type = SpdyType::kData;
  uint8_t flags = 0;
  uint32_t stream_id = 0;  // DATA, SYN_*, RST_STREAM, HEADERS, WINDOW_UPDATE
  uint32_t value = 0;      // PING id, RST_STREAM/GOAWAY status, WINDOW_UPDATE delta
  SpdyHeaders headers;     // SYN_STREAM, SYN_REPLY, HEADERS
  std::string data;        // DATA payload; other types: raw payload
  bool fin() const { return flags & kSpdyFlagFin; }
  std::string Header(const std::string& lower_name) const;
};

// The 1423-byte dictionary both directions' zlib streams start from.
const std::string& SpdyDictionary();

// One direction's header compression (a session keeps one of each).
class SpdyHeaderCompressor {
 public:
  SpdyHeaderCompressor();
  ~SpdyHeaderCompressor();
  SpdyHeaderCompressor(const SpdyHeaderCompressor&) = delete;
  SpdyHeaderCompressor& operator=(const SpdyHeaderCompressor&) = delete;
  std::string Compress(const SpdyHeaders& headers);

 private:
  z_stream z_{};
};

class SpdyHeaderDecompressor {
 public:
  SpdyHeaderDecompressor();
  ~SpdyHeaderDecompressor();
  SpdyHeaderDecompressor(const SpdyHeaderDecompressor&) = delete;
  SpdyHeaderDecompressor& operator=(const SpdyHeaderDecompressor&) = delete;
  bool Decompress(const std::string& block, SpdyHeaders* out, std::string* error);

 private:
  z_stream z_{};
};

// Encodes frames of one direction of a session.
class SpdyEncoder {
 public:
  std::string SynStream(uint32_t stream_id, const SpdyHeaders& headers, uint8_t flags = 0);
  std::string SynReply(uint32_t stream_id, const SpdyHeaders& headers, uint8_t flags = 0);
  std::string RstStream(uint32_t stream_id, uint32_t status);
  std::string Ping(uint32_t id);
  std::string GoAway(uint32_t last_stream_id, uint32_t status);
  std::string Data(uint32_t stream_id, const std::string& data, uint8_t flags = 0);

 private:
  std::string Control(SpdyType type, uint8_t flags, const std::string& payload);
  SpdyHeaderCompressor compressor_;
};

// Splits the other direction's byte stream into frames.
class SpdyDecoder {
 public:
  explicit SpdyDecoder(size_t max_frame = 16 << 20) : max_frame_(max_frame) {}
  void Feed(const char* data, size_t n) { buf_.append(data, n); }
  // 1: *out holds a frame; 0: more bytes needed; -1: protocol error (the
  // session cannot go on: the header compression state is lost).
  int Next(SpdyFrame* out, std::string* error);
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  size_t max_frame_;
  std::string buf_;
  size_t pos_ = 0;
  SpdyHeaderDecompressor decompressor_;
};

}  // namespace kubit::net
