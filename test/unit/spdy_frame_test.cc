// Unit tests of net/spdy.h: SPDY/3's header dictionary byte for byte (its
// zlib id), header blocks across one compression context per direction,
// every frame type both ways, and a stream split at every byte.
#include <doctest/doctest.h>
#include <zlib.h>

#include <string>

#include "net/spdy.h"

using namespace kubit::net;

TEST_CASE("spdy frame: the dictionary is SPDY/3's (length and zlib dictionary id)") {
  const std::string& d = SpdyDictionary();
  CHECK(d.size() == 1423);
  // 0xe3c6a7c2 is the DICTID a peer's zlib header carries for it.
  CHECK(adler32(1, reinterpret_cast<const Bytef*>(d.data()), static_cast<uInt>(d.size())) ==
        0xe3c6a7c2u);
}

TEST_CASE("spdy frame: header blocks share one context per direction and say the dictionary") {
  SpdyHeaderCompressor c;
  SpdyHeaderDecompressor d;
  SpdyHeaders h1 = {{"streamtype", "error"}, {"port", "80"}, {"requestid", "0"}};
  SpdyHeaders h2 = {{"streamtype", "data"}, {"port", "80"}, {"requestid", "0"}};
  std::string b1 = c.Compress(h1), b2 = c.Compress(h2), b3 = c.Compress({});
  // zlib header with FDICT set and the dictionary's id after it.
  REQUIRE(b1.size() > 6);
  CHECK((static_cast<uint8_t>(b1[1]) & 0x20) != 0);
  CHECK(b1.substr(2, 4) == std::string("\xe3\xc6\xa7\xc2", 4));
  // The second block repeats the first's words: the shared context makes it small.
  CHECK(b2.size() < b1.size());
  SpdyHeaders out;
  std::string error;
  REQUIRE(d.Decompress(b1, &out, &error));
  CHECK(out == h1);
  REQUIRE(d.Decompress(b2, &out, &error));
  CHECK(out == h2);
  REQUIRE(d.Decompress(b3, &out, &error));
  CHECK(out.empty());
  // A block from a fresh context cannot be read by one already in use.
  SpdyHeaderCompressor other;
  CHECK_FALSE(d.Decompress(other.Compress(h1), &out, &error));
  CHECK_FALSE(error.empty());
}

TEST_CASE("spdy frame: every frame type round trips, fed one byte at a time") {
  SpdyEncoder e;
  std::string big(100000, '\0');
  for (size_t i = 0; i < big.size(); i++) big[i] = static_cast<char>(i * 31);
  // One statement each: header blocks must be made in wire order.
  std::string wire = e.SynStream(1, {{"streamtype", "error"}, {"port", "8080"}}, kSpdyFlagFin);
  wire += e.SynReply(2, {{"a", std::string("x\0y", 3)}});
  wire += e.Data(3, big);
  wire += e.Data(3, "", kSpdyFlagFin);
  wire += e.RstStream(5, kSpdyCancel);
  wire += e.Ping(7);
  wire += e.GoAway(9, 0);
  // A WINDOW_UPDATE as another peer would send it: returned for the caller to ignore.
  const char window_update[] = "\x80\x03\x00\x09\x00\x00\x00\x08\x00\x00\x00\x03\x00\x01\x00\x00";
  wire.append(window_update, 16);
  SpdyDecoder d;
  std::vector<SpdyFrame> frames;
  std::string error;
  for (char ch : wire) {
    d.Feed(&ch, 1);
    SpdyFrame f;
    int r;
    while ((r = d.Next(&f, &error)) == 1) frames.push_back(f);
    REQUIRE_MESSAGE(r == 0, error);
  }
  REQUIRE(frames.size() == 8);
  CHECK(frames[0].type == SpdyType::kSynStream);
  CHECK(frames[0].stream_id == 1);
  CHECK(frames[0].fin());
  CHECK(frames[0].Header("streamtype") == "error");
  CHECK(frames[0].Header("port") == "8080");
  CHECK(frames[1].type == SpdyType::kSynReply);
  CHECK(frames[1].Header("a") == std::string("x\0y", 3));
  CHECK(frames[2].type == SpdyType::kData);
  CHECK(frames[2].stream_id == 3);
  CHECK(frames[2].data == big);
  CHECK_FALSE(frames[2].fin());
  CHECK(frames[3].data.empty());
  CHECK(frames[3].fin());
  CHECK(frames[4].type == SpdyType::kRstStream);
  CHECK(frames[4].stream_id == 5);
  CHECK(frames[4].value == kSpdyCancel);
  CHECK(frames[5].type == SpdyType::kPing);
  CHECK(frames[5].value == 7);
  CHECK(frames[6].type == SpdyType::kGoAway);
  CHECK(frames[6].stream_id == 9);
  CHECK(frames[7].type == SpdyType::kWindowUpdate);
  CHECK(frames[7].stream_id == 3);
  CHECK(frames[7].value == 0x10000);
  CHECK(d.buffered() == 0);
}

TEST_CASE("spdy frame: bad input is an error, not a crash") {
  std::string error;
  SpdyFrame f;
  {
    SpdyDecoder d;  // version 2
    const char v2[] = "\x80\x02\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01";
    d.Feed(v2, 12);
    CHECK(d.Next(&f, &error) == -1);
    CHECK(error.find("version 2") != std::string::npos);
  }
  {
    SpdyDecoder d(1024);  // over the size limit
    const char data[] = "\x00\x00\x00\x01\x00\x10\x00\x00";
    d.Feed(data, 8);
    CHECK(d.Next(&f, &error) == -1);
  }
  {
    SpdyDecoder d;  // SYN_STREAM whose header block is garbage
    const char syn[] = "\x80\x03\x00\x01\x00\x00\x00\x0e\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                       "abcd";
    d.Feed(syn, 22);
    CHECK(d.Next(&f, &error) == -1);
  }
  {
    SpdyDecoder d;  // PING too short
    const char ping[] = "\x80\x03\x00\x06\x00\x00\x00\x02\x00\x00";
    d.Feed(ping, 10);
    CHECK(d.Next(&f, &error) == -1);
  }
}
