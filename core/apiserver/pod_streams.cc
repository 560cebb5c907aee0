#include "core/apiserver/pod_streams.h"

#include <poll.h>

#include <nlohmann/json.hpp>

#include "core/apiserver/api_error.h"
#include "core/apiserver/responses.h"
#include "net/http_server.h"

namespace kubit::apiserver {

using Json = nlohmann::json;

namespace {

std::vector<std::string> Names(const Json& list) {
  std::vector<std::string> out;
  if (list.is_array())
    for (const auto& c : list) out.push_back(c.value("name", ""));
  return out;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return "[" + out + "]";
}

// The container a request is for, defaulted and checked as upstream's pod
// registry does (kubectl applies kubectl.kubernetes.io/default-container
// itself before asking).
bool PickContainer(const Json& pod, const std::string& asked, std::string* out, ApiError* err) {
  const std::string name = pod["metadata"].value("name", "");
  const Json& spec = pod["spec"];
  std::vector<std::string> app = Names(spec.value("containers", Json::array()));
  std::vector<std::string> init = Names(spec.value("initContainers", Json::array()));
  std::vector<std::string> eph = Names(spec.value("ephemeralContainers", Json::array()));
  if (asked.empty()) {
    if (app.size() == 1) {
      *out = app[0];
      return true;
    }
    std::string msg = "a container name must be specified for pod " + name + ", choose one of: " + Join(app);
    if (!init.empty()) msg += " or one of the init containers: " + Join(init);
    if (!eph.empty()) msg += " or one of the ephemeral containers: " + Join(eph);
    *err = ApiError::BadRequest(msg);
    return false;
  }
  for (const auto* list : {&app, &init, &eph})
    for (const auto& c : *list)
      if (c == asked) {
        *out = asked;
        return true;
      }
  *err = ApiError::BadRequest("container " + asked + " is not valid for pod " + name);
  return false;
}

// Copies bytes both ways until either side ends. One thread does all the
// reads and writes, so neither TLS connection is ever used by two threads.
void Pump(net::Conn* a, net::Conn* b) {
  char buf[65536];  // more than a TLS record: nothing stays unseen by poll
  for (;;) {
    pollfd p[2] = {{a->fd(), POLLIN, 0}, {b->fd(), POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < 2; i++) {
      if (!p[i].revents) continue;
      net::Conn* from = i == 0 ? a : b;
      net::Conn* to = i == 0 ? b : a;
      long n = from->Read(buf, sizeof(buf));
      if (n <= 0 || !to->Write(buf, static_cast<size_t>(n))) return;
    }
  }
}

struct KubeletHead {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // as sent
  std::string rest;  // bytes after the head
  std::string Header(const std::string& lower) const {
    for (const auto& [k, v] : headers) {
      std::string l = k;
      for (auto& c : l) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
      if (l == lower) return v;
    }
    return "";
  }
};

bool ReadHead(net::Conn* conn, KubeletHead* out, std::string* error) {
  std::string buf;
  char tmp[65536];
  size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    long n = conn->Read(tmp, sizeof(tmp));
    if (n <= 0 || buf.size() > (1 << 20)) {
      *error = "the kubelet closed the stream without an answer";
      return false;
    }
    buf.append(tmp, static_cast<size_t>(n));
  }
  out->rest = buf.substr(end + 4);
  size_t line_end = buf.find("\r\n");
  std::string status_line = buf.substr(0, line_end);
  if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) {
    *error = "the kubelet answered " + status_line;
    return false;
  }
  out->status = std::atoi(status_line.c_str() + 9);
  for (size_t pos = line_end + 2; pos < end;) {
    size_t next = buf.find("\r\n", pos);
    std::string line = buf.substr(pos, next - pos);
    pos = next + 2;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t v = line.find_first_not_of(' ', colon + 1);
    out->headers.emplace_back(line.substr(0, colon), v == std::string::npos ? "" : line.substr(v));
  }
  return true;
}

}  // namespace

void PodStreams::Serve(const RequestInfo& info, net::HttpRequest& req, net::HttpResponse& resp) {
  store::KeyValue kv;
  store::Status s = state_->Get(info.type->storage_key(info.ns, info.name), &kv);
  if (s.IsNotFound()) return SendError(resp, ApiError::NotFound(*info.type, info.name));
  if (!s.ok()) return SendError(resp, ApiError::Internal(s.ToString()));
  Json pod = Json::parse(kv.value, nullptr, false);
  if (pod.is_discarded()) return SendError(resp, ApiError::Internal("stored pod is not JSON"));
  const bool exec = info.subresource == "exec";
  const bool attach = info.subresource == "attach";
  const bool portforward = info.subresource == "portforward";
  std::string container;
  ApiError err;
  if (!portforward && !PickContainer(pod, req.Param("container"), &container, &err))
    return SendError(resp, err);
  const std::string node = pod["spec"].value("nodeName", "");
  if (node.empty())
    return SendError(resp, ApiError::BadRequest("pod " + info.name + " does not have a host assigned"));
  if (info.subresource == "log" && req.Param("previous") != "true") {
    // A container that never ran has no log: say why, as the kubelet does.
    for (const auto& st : pod["status"].value("containerStatuses", Json::array()))
      if (st.value("name", "") == container && st.contains("state") &&
          st["state"].contains("waiting") && !st.value("lastState", Json::object()).contains("terminated"))
        return SendError(resp, ApiError::BadRequest(
                                   "container \"" + container + "\" in pod \"" + info.name +
                                   "\" is waiting to start: " +
                                   st["state"]["waiting"].value("reason", "ContainerCreating")));
  }

  std::unique_ptr<net::Conn> kubelet;
  std::string error;
  if (!tunnels_->Dial(node, &kubelet, &error))
    return SendError(resp, ApiError::Internal("error dialing backend: " + error));
  kubelet->SetReadTimeout(0);
  // Port forwarding names the pod's uid, as upstream's kubelet path does:
  // the kubelet finds the pod's sandbox by it.
  const std::string last =
      portforward ? pod["metadata"].value("uid", "") : container;
  const char* kind = exec ? "exec" : attach ? "attach" : portforward ? "portForward" : "containerLogs";
  std::string query = req.query;
  if (attach)  // the kubelet closes stdin after the first attach as the spec says
    for (const auto& c : pod["spec"].value("containers", Json::array()))
      if (c.value("name", "") == container && c.value("stdinOnce", false))
        query += std::string(query.empty() ? "" : "&") + "stdinOnce=true";
  std::string head = std::string(req.method == "POST" ? "POST" : "GET") + " /" + kind + "/" +
                     info.ns + "/" + info.name + "/" + last +
                     (query.empty() ? "" : "?" + query) + " HTTP/1.1\r\nHost: kubelet\r\n";
  if (exec || attach || portforward)
    for (const auto& [k, v] : req.headers)
      if (k == "upgrade" || k == "connection" || k.rfind("sec-websocket-", 0) == 0 ||
          k == "x-stream-protocol-version")
        head += k + ": " + v + "\r\n";
  head += "\r\n";
  KubeletHead answer;
  if (!kubelet->Write(head) || !ReadHead(kubelet.get(), &answer, &error))
    return SendError(resp, ApiError::Internal("error talking to the kubelet of node " + node + ": " + error));

  if (answer.status == 101) {
    for (const auto& [k, v] : answer.headers) resp.SetHeader(k, v);
    std::string from_client;
    std::unique_ptr<net::Conn> client = resp.Hijack(101, &from_client);
    if (!client) return;
    if ((!answer.rest.empty() && !client->Write(answer.rest)) ||
        (!from_client.empty() && !kubelet->Write(from_client)))
      return;
    Pump(client.get(), kubelet.get());
    return;
  }
  std::string type = answer.Header("content-type");
  if (!type.empty()) resp.SetHeader("Content-Type", type);
  char buf[65536];
  if (answer.status != 200) {
    std::string body = answer.rest;
    long n;
    while ((n = kubelet->Read(buf, sizeof(buf))) > 0) body.append(buf, static_cast<size_t>(n));
    resp.Send(answer.status, body);
    return;
  }
  // The log, streamed as it comes; a client that goes away (anything it
  // sends or its close) ends it, which closes the kubelet's side too.
  if (!resp.StartStream(200) || (!answer.rest.empty() && !resp.Write(answer.rest))) return;
  for (;;) {
    pollfd p[2] = {{kubelet->fd(), POLLIN, 0}, {resp.conn()->fd(), POLLIN | POLLRDHUP, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[1].revents) return;
    long n = kubelet->Read(buf, sizeof(buf));
    if (n <= 0) break;
    if (!resp.Write(std::string(buf, static_cast<size_t>(n)))) return;
  }
  resp.End();
}

}  // namespace kubit::apiserver
