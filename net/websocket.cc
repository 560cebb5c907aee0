#include "net/websocket.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "net/base64.h"

namespace kubit::net {

std::string WebSocketAccept(const std::string& key) {
  std::string in = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(in.data()), in.size(), digest);
  return Base64Encode(std::string(reinterpret_cast<char*>(digest), sizeof(digest)));
}

std::string EncodeWsFrame(WsOpcode op, const std::string& payload, bool fin,
                          const uint8_t* mask) {
  std::string f;
  f.reserve(payload.size() + 14);
  f.push_back(static_cast<char>((fin ? 0x80 : 0) | static_cast<uint8_t>(op)));
  uint8_t mask_bit = mask ? 0x80 : 0;
  uint64_t n = payload.size();
  if (n < 126) {
    f.push_back(static_cast<char>(mask_bit | n));
  } else if (n <= 0xffff) {
    f.push_back(static_cast<char>(mask_bit | 126));
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n & 0xff));
  } else {
    f.push_back(static_cast<char>(mask_bit | 127));
    for (int i = 7; i >= 0; i--) f.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  }
  if (!mask) return f + payload;
  f.append(reinterpret_cast<const char*>(mask), 4);
  for (size_t i = 0; i < payload.size(); i++) f.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
  return f;
}

int WsFrameDecoder::Next(WsFrame* out, std::string* error) {
  const auto* b = reinterpret_cast<const uint8_t*>(buf_.data());
  size_t have = buf_.size();
  if (have < 2) return 0;
  if (b[0] & 0x70) {
    *error = "websocket: reserved bits set (no extension was negotiated)";
    return -1;
  }
  bool masked = b[1] & 0x80;
  if (masked != server_) {
    *error = server_ ? "websocket: client frame not masked" : "websocket: server frame masked";
    return -1;
  }
  uint64_t n = b[1] & 0x7f;
  size_t pos = 2;
  if (n == 126) {
    if (have < 4) return 0;
    n = (uint64_t{b[2]} << 8) | b[3];
    pos = 4;
  } else if (n == 127) {
    if (have < 10) return 0;
    n = 0;
    for (int i = 0; i < 8; i++) n = (n << 8) | b[2 + i];
    pos = 10;
  }
  auto op = static_cast<WsOpcode>(b[0] & 0x0f);
  bool control = (b[0] & 0x08) != 0;
  if (control && (n > 125 || !(b[0] & 0x80))) {
    *error = "websocket: control frame fragmented or longer than 125 bytes";
    return -1;
  }
  if (n > max_payload_) {
    *error = "websocket: frame of " + std::to_string(n) + " bytes is too large";
    return -1;
  }
  size_t mask_pos = pos;
  if (masked) pos += 4;
  if (have < pos + n) return 0;
  out->fin = (b[0] & 0x80) != 0;
  out->opcode = op;
  out->payload.assign(buf_, pos, n);
  if (masked)
    for (size_t i = 0; i < n; i++) out->payload[i] = static_cast<char>(out->payload[i] ^ b[mask_pos + i % 4]);
  buf_.erase(0, pos + n);
  return 1;
}

WebSocketConn::WebSocketConn(Conn* conn, bool server, std::string buffered)
    : conn_(conn), server_(server), decoder_(server) {
  decoder_.Feed(buffered.data(), buffered.size());
}

bool WebSocketConn::Send(WsOpcode op, const std::string& payload) {
  if (close_sent_) return false;
  if (server_) return conn_->Write(EncodeWsFrame(op, payload));
  uint8_t mask[4];
  RAND_bytes(mask, sizeof(mask));
  return conn_->Write(EncodeWsFrame(op, payload, true, mask));
}

bool WebSocketConn::SendClose(uint16_t code, const std::string& reason) {
  if (close_sent_) return true;
  std::string body{static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
  bool ok = Send(WsOpcode::kClose, body + reason);
  close_sent_ = true;
  return ok;
}

// Decodes what is buffered; false on a protocol error or after a close.
bool WebSocketConn::Drain(std::vector<std::string>* out, std::string* error) {
  WsFrame f;
  int r;
  while ((r = decoder_.Next(&f, error)) == 1) {
    switch (f.opcode) {
      case WsOpcode::kPing:
        Send(WsOpcode::kPong, f.payload);
        break;
      case WsOpcode::kPong:
        break;
      case WsOpcode::kClose:
        closed_ = true;
        // Echo the status code, as section 5.5.1 asks.
        SendClose(f.payload.size() >= 2
                      ? static_cast<uint16_t>((uint8_t(f.payload[0]) << 8) | uint8_t(f.payload[1]))
                      : 1000);
        return false;
      case WsOpcode::kText:
      case WsOpcode::kBinary:
        if (in_message_) {
          *error = "websocket: new message inside a fragmented one";
          return false;
        }
        if (f.fin) {
          out->push_back(std::move(f.payload));
        } else {
          in_message_ = true;
          message_ = std::move(f.payload);
        }
        break;
      case WsOpcode::kContinuation:
        if (!in_message_) {
          *error = "websocket: continuation without a message";
          return false;
        }
        message_ += f.payload;
        if (f.fin) {
          in_message_ = false;
          out->push_back(std::move(message_));
          message_.clear();
        }
        break;
      default:
        *error = "websocket: unknown opcode " + std::to_string(static_cast<int>(f.opcode));
        return false;
    }
  }
  return r == 0;
}

bool WebSocketConn::Pump(std::vector<std::string>* out, std::string* error) {
  if (closed_) return false;
  size_t before = out->size();
  if (!Drain(out, error)) return false;
  if (out->size() > before) return true;
  // Larger than a TLS record, so that one read takes a whole record and
  // nothing stays hidden in the TLS layer from the caller's poll.
  char buf[65536];
  long n = conn_->Read(buf, sizeof(buf));
  if (n <= 0) {
    if (n < 0) *error = "websocket: read failed";
    closed_ = true;
    return false;
  }
  decoder_.Feed(buf, static_cast<size_t>(n));
  return Drain(out, error);
}

bool WebSocketConn::ReadMessage(std::string* out, std::string* error) {
  while (ready_.empty())
    if (!Pump(&ready_, error)) return false;
  *out = std::move(ready_.front());
  ready_.erase(ready_.begin());
  return true;
}

}  // namespace kubit::net
