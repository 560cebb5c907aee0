// StreamServer: the kubelet's streaming endpoints, reached through the
// node tunnel (tunnel_client.h). Each connection carries ONE request,
// answered raw on it, and is closed after:
//
//   GET /containerLogs/<ns>/<pod>/<container>?follow=&previous=&tailLines=
//       &sinceSeconds=&sinceTime=&timestamps=&limitBytes=
//       200 text/plain, then the log as log_reader.h reads it
//   GET /exec/<ns>/<pod>/<container>?command=..&stdin=&stdout=&stderr=&tty=
//       WebSocket upgrade (v5.channel.k8s.io or v4.channel.k8s.io), then
//       the exec's streams as channels, as client-go's remotecommand
//   GET /attach/<ns>/<pod>/<container>?stdin=&stdout=&stderr=&tty=&stdinOnce=
//       the same WebSocket protocols, to the container's main process
//       through its shim
//   GET|POST /portForward/<ns>/<pod>/<uid>
//       upgrade to SPDY/3.1, or WebSocket with subprotocol
//       SPDY/3.1+portforward.k8s.io, then port_forward.h's session
//   GET /metrics/resource
//       200 text/plain, the node's and containers' usage (resource_metrics.h)
//
// Containers are found from the kubelet's names alone (pod_naming.h): the
// log directories give a pod's uid and its attempts, the runtime's records
// whether one still runs. Errors are worded as the kubelet's, with a JSON
// Status body.
#pragma once

#include <string>

#include "net/conn.h"
#include "runtime/container/runtime.h"

namespace kubit::kubelet {

class StreamServer {
 public:
  explicit StreamServer(const std::string& data_dir);
  void Serve(net::Conn* conn);

 private:
  runtime::container::Runtime runtime_;
};

}  // namespace kubit::kubelet
