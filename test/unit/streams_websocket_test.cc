// Unit tests of net/websocket.h: the handshake key, frames of every length
// class, masking both ways, fragmented messages, control frames in between,
// and a message connection over a socketpair.
#include <doctest/doctest.h>
#include <sys/socket.h>

#include <string>
#include <vector>

#include "net/websocket.h"

using namespace kubit::net;

TEST_CASE("streams websocket: accept key as RFC 6455's example") {
  CHECK(WebSocketAccept("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("streams websocket: frames round trip, masked and not, every length encoding") {
  const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
  for (size_t n : {size_t{0}, size_t{5}, size_t{125}, size_t{126}, size_t{65535}, size_t{65536}, size_t{200000}}) {
    std::string payload(n, '\0');
    for (size_t i = 0; i < n; i++) payload[i] = static_cast<char>(i * 7);
    std::string masked = EncodeWsFrame(WsOpcode::kBinary, payload, true, mask);
    std::string plain = EncodeWsFrame(WsOpcode::kBinary, payload);
    CHECK(masked.size() == plain.size() + 4);
    WsFrameDecoder server(true), client(false);
    WsFrame f;
    std::string error;
    // Fed one byte short, then the rest: a frame is whole or not at all.
    server.Feed(masked.data(), masked.size() - 1);
    CHECK(server.Next(&f, &error) == 0);
    server.Feed(masked.data() + masked.size() - 1, 1);
    REQUIRE(server.Next(&f, &error) == 1);
    CHECK(f.fin);
    CHECK(f.opcode == WsOpcode::kBinary);
    CHECK(f.payload == payload);
    client.Feed(plain.data(), plain.size());
    REQUIRE(client.Next(&f, &error) == 1);
    CHECK(f.payload == payload);
  }
}

TEST_CASE("streams websocket: RFC 6455's masked Hello example") {
  const char bytes[] = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
  WsFrameDecoder d(true);
  d.Feed(bytes, 11);
  WsFrame f;
  std::string error;
  REQUIRE(d.Next(&f, &error) == 1);
  CHECK(f.opcode == WsOpcode::kText);
  CHECK(f.payload == "Hello");
}

TEST_CASE("streams websocket: masking is required of clients and refused from servers") {
  std::string error;
  WsFrame f;
  WsFrameDecoder server(true);
  std::string plain = EncodeWsFrame(WsOpcode::kText, "x");
  server.Feed(plain.data(), plain.size());
  CHECK(server.Next(&f, &error) == -1);
  CHECK(error.find("not masked") != std::string::npos);
  const uint8_t mask[4] = {1, 2, 3, 4};
  WsFrameDecoder client(false);
  std::string masked = EncodeWsFrame(WsOpcode::kText, "x", true, mask);
  client.Feed(masked.data(), masked.size());
  CHECK(client.Next(&f, &error) == -1);
}

TEST_CASE("streams websocket: a long control frame is a protocol error") {
  WsFrameDecoder d(false);
  std::string frame = EncodeWsFrame(WsOpcode::kPing, std::string(126, 'p'));
  d.Feed(frame.data(), frame.size());
  WsFrame f;
  std::string error;
  CHECK(d.Next(&f, &error) == -1);
  CHECK(error.find("control frame") != std::string::npos);
}

TEST_CASE("streams websocket: connection joins fragments, answers ping and close") {
  int sv[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  Conn server_side(sv[0], nullptr, "test"), client_side(sv[1], nullptr, "test");
  WebSocketConn server(&server_side, true), client(&client_side, false);
  const uint8_t m[4] = {9, 8, 7, 6};
  // A message in three fragments with a ping between them.
  std::string wire = EncodeWsFrame(WsOpcode::kBinary, "ab", false, m) +
                     EncodeWsFrame(WsOpcode::kPing, "are you there", true, m) +
                     EncodeWsFrame(WsOpcode::kContinuation, "cd", false, m) +
                     EncodeWsFrame(WsOpcode::kContinuation, "ef", true, m);
  REQUIRE(client_side.Write(wire));
  std::string msg, error;
  REQUIRE(server.ReadMessage(&msg, &error));
  CHECK(msg == "abcdef");
  // The pong went back: the client sees it and no data message.
  WsFrameDecoder d(false);
  char buf[256];
  long n = client_side.Read(buf, sizeof(buf));
  REQUIRE(n > 0);
  d.Feed(buf, static_cast<size_t>(n));
  WsFrame f;
  REQUIRE(d.Next(&f, &error) == 1);
  CHECK(f.opcode == WsOpcode::kPong);
  CHECK(f.payload == "are you there");

  REQUIRE(server.Send(WsOpcode::kBinary, "\x01hello"));
  REQUIRE(client.ReadMessage(&msg, &error));
  CHECK(msg == "\x01hello");

  // A close from the client: the server echoes it and its stream ends.
  REQUIRE(client.SendClose(1000));
  CHECK_FALSE(server.ReadMessage(&msg, &error));
  CHECK(server.closed());
  CHECK_FALSE(client.ReadMessage(&msg, &error));
  CHECK(client.closed());
}

TEST_CASE("streams websocket: a continuation without a message is refused") {
  int sv[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  Conn a(sv[0], nullptr, "test"), b(sv[1], nullptr, "test");
  WebSocketConn server(&a, true);
  const uint8_t m[4] = {1, 1, 1, 1};
  REQUIRE(b.Write(EncodeWsFrame(WsOpcode::kContinuation, "x", true, m)));
  std::string msg, error;
  CHECK_FALSE(server.ReadMessage(&msg, &error));
  CHECK(error.find("continuation") != std::string::npos);
}
