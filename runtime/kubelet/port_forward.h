// Port forwarding as the kubelet serves it (protocol portforward.k8s.io):
// a SPDY/3.1 session (net/spdy.h) on a connection already upgraded, either
// raw (Upgrade: SPDY/3.1) or tunnelled in WebSocket binary messages
// (subprotocol SPDY/3.1+portforward.k8s.io, KEP-4006, what kubectl 1.31+
// tries first). For each forwarded connection the client opens two streams
// with the same headers `port` and `requestID`: streamType "error" (which
// it half-closes at once) and streamType "data". The data stream is joined
// to a TCP connection to that port inside the pod; when the pod's side
// ends, both streams are closed. A port that cannot be reached gets
// upstream's message on the error stream, then both streams close; the
// session and the other connections go on.
//
// spdystream does no flow control, so none is done here: the pod's side is
// read only while the session's writes go through, and the client's side
// is not read while more than 1 MiB waits for a pod.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "net/conn.h"

namespace kubit::kubelet {

// A connected TCP socket to `port` in the pod (the caller closes it), or
// -1 with *error worded as the runtime's message.
using PortDialer = std::function<int(uint16_t port, std::string* error)>;

struct PortForwardOptions {
  bool websocket = false;  // SPDY in WebSocket binary messages
  std::string buffered;    // bytes read past the upgrade's head
  std::string pod;         // for the error message: the pod's sandbox id
};

// Runs the session until the client goes away. The 101 answer is sent.
void ServePortForward(net::Conn* conn, const PortForwardOptions& options, const PortDialer& dial);

// Connects to 127.0.0.1:port (then [::1]:port) inside the network
// namespace at netns_path, from a thread that joins it for the connect
// only (the socket keeps its namespace).
int DialInNetns(const std::string& netns_path, const std::string& name, uint16_t port,
                std::string* error);

}  // namespace kubit::kubelet
