// WebSocket (RFC 6455), as kubectl's exec streams speak it: the opening
// handshake's accept key, frame encoding and decoding (masking, 7/16/64-bit
// lengths, fragmentation), and a message connection over net::Conn that
// joins fragments, answers pings and closes. Both roles: the kubelet's
// stream server is the server; tests play kubectl as the client.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "net/conn.h"

namespace kubit::net {

// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + GUID)).
std::string WebSocketAccept(const std::string& key);

enum class WsOpcode : uint8_t {
  kContinuation = 0,
  kText = 1,
  kBinary = 2,
  kClose = 8,
  kPing = 9,
  kPong = 10,
};

struct WsFrame {
  bool fin = true;
  WsOpcode opcode = WsOpcode::kBinary;
  std::string payload;  // unmasked
};

// One frame; `mask` (4 bytes) set: masked, as a client must send.
std::string EncodeWsFrame(WsOpcode op, const std::string& payload, bool fin = true,
                          const uint8_t* mask = nullptr);

// Splits a byte stream into frames. A server requires masked frames and a
// client unmasked ones (section 5.1); either violation is an error.
class WsFrameDecoder {
 public:
  explicit WsFrameDecoder(bool server, size_t max_payload = 16 << 20)
      : server_(server), max_payload_(max_payload) {}
  void Feed(const char* data, size_t n) { buf_.append(data, n); }
  // 1: *out holds a frame; 0: more bytes needed; -1: protocol error.
  int Next(WsFrame* out, std::string* error);

 private:
  bool server_;
  size_t max_payload_;
  std::string buf_;
};

// Messages over a connection whose upgrade is done. Not thread-safe: one
// thread reads and writes (the stream loops poll the fd and call Pump when
// it is readable, so a TLS connection is never used by two threads).
class WebSocketConn {
 public:
  // `buffered`: bytes already read past the handshake.
  WebSocketConn(Conn* conn, bool server, std::string buffered = {});

  // Reads once from the connection (after draining what is buffered) and
  // appends every data message completed to *out; pings are answered, a
  // close frame is answered and ends the stream. False once the stream has
  // ended or on a protocol error; messages completed before that are still
  // appended.
  bool Pump(std::vector<std::string>* out, std::string* error);
  // Blocks for the next data message; false at the end of the stream.
  bool ReadMessage(std::string* out, std::string* error);

  bool Send(WsOpcode op, const std::string& payload);
  // A close frame with a status code (1000: normal); no more sends after.
  bool SendClose(uint16_t code, const std::string& reason = {});

  bool closed() const { return closed_; }
  Conn* conn() const { return conn_; }

 private:
  bool Drain(std::vector<std::string>* out, std::string* error);
  Conn* conn_;
  bool server_;
  WsFrameDecoder decoder_;
  std::string message_;  // a fragmented message so far
  bool in_message_ = false;
  bool closed_ = false, close_sent_ = false;
  std::vector<std::string> ready_;
};

}  // namespace kubit::net
