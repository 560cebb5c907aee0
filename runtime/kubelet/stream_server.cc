#include "runtime/kubelet/stream_server.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

#include "net/http_server.h"
#include "runtime/kubelet/log_reader.h"
#include "runtime/kubelet/pod_naming.h"

namespace kubit::kubelet {

namespace rc = runtime::container;
using Json = nlohmann::json;

namespace {

void SendStatus(net::Conn* conn, int code, const std::string& reason, const std::string& message) {
  Json status = {{"kind", "Status"},     {"apiVersion", "v1"}, {"metadata", Json::object()},
                 {"status", "Failure"},  {"message", message}, {"reason", reason},
                 {"code", code}};
  std::string body = status.dump();
  conn->Write("HTTP/1.1 " + std::to_string(code) + " " + net::StatusText(code) +
              "\r\nContent-Type: application/json\r\nContent-Length: " +
              std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') out.push_back(e->d_name);
    closedir(d);
  }
  return out;
}

// The attempts of a container that have a log ("<n>.log"), ascending.
std::vector<int> Attempts(const std::string& dir) {
  std::vector<int> out;
  for (const auto& name : Entries(dir)) {
    size_t dot = name.find(".log");
    if (dot == std::string::npos || dot == 0 || dot + 4 != name.size() ||
        name.find_first_not_of("0123456789") != dot)
      continue;
    out.push_back(std::stoi(name.substr(0, dot)));
  }
  std::sort(out.begin(), out.end());
  return out;
}

int64_t MTime(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

// A container of a pod as the logs know it.
struct Located {
  std::string uid;
  std::vector<int> attempts;
  std::string dir;  // its log directory
};

// The pod's uid from the log directories "<ns>_<pod>_<uid>": with several
// (a pod deleted and made again under the same name), the one whose
// container wrote last.
bool Locate(const std::string& data_dir, const std::string& ns, const std::string& pod,
            const std::string& container, Located* out) {
  const std::string root = data_dir + "/agent/logs";
  const std::string prefix = ns + "_" + pod + "_";
  int64_t best = -1;
  for (const auto& name : Entries(root)) {
    if (name.rfind(prefix, 0) != 0 || name.find('_', prefix.size()) != std::string::npos) continue;
    std::string uid = name.substr(prefix.size());
    std::string dir = PodLogDir(data_dir, ns, pod, uid) + "/" + container;
    std::vector<int> attempts = Attempts(dir);
    int64_t t = attempts.empty() ? 0 : MTime(dir + "/" + std::to_string(attempts.back()) + ".log");
    if (t > best) {
      best = t;
      *out = {uid, attempts, dir};
    }
  }
  return best >= 0;
}

int64_t ParamInt(const net::HttpRequest& req, const std::string& name, int64_t fallback) {
  std::string v = req.Param(name);
  if (v.empty()) return fallback;
  try {
    return std::stoll(v);
  } catch (...) {
    return fallback;
  }
}

bool Truthy(const std::string& v) { return v == "true" || v == "1"; }

void ServeLogs(const std::string& data_dir, rc::Runtime* runtime, net::Conn* conn,
               const net::HttpRequest& req, const std::string& ns, const std::string& pod,
               const std::string& container) {
  Located where;
  bool previous = Truthy(req.Param("previous"));
  if (!Locate(data_dir, ns, pod, container, &where) || where.attempts.empty()) {
    if (previous)
      return SendStatus(conn, 400, "BadRequest",
                        "previous terminated container \"" + container + "\" in pod \"" + pod +
                            "\" not found");
    return SendStatus(conn, 400, "BadRequest",
                      "container \"" + container + "\" in pod \"" + pod +
                          "\" is waiting to start: ContainerCreating");
  }
  int attempt = where.attempts.back();
  if (previous) {
    if (where.attempts.size() < 2)
      return SendStatus(conn, 400, "BadRequest",
                        "previous terminated container \"" + container + "\" in pod \"" + pod +
                            "\" not found");
    attempt = where.attempts[where.attempts.size() - 2];
  }
  LogOptions o;
  o.follow = Truthy(req.Param("follow")) && !previous;
  o.timestamps = Truthy(req.Param("timestamps"));
  o.tail_lines = ParamInt(req, "tailLines", -1);
  o.limit_bytes = ParamInt(req, "limitBytes", -1);
  int64_t since_seconds = ParamInt(req, "sinceSeconds", 0);
  if (since_seconds > 0) o.since_ns = rc::NowNs() - since_seconds * 1000000000;
  if (!req.Param("sinceTime").empty() && !ParseRfc3339(req.Param("sinceTime"), &o.since_ns))
    return SendStatus(conn, 400, "BadRequest", "invalid sinceTime " + req.Param("sinceTime"));

  const std::string id = ContainerId(where.uid, container, attempt);
  LogSink sink;
  sink.write = [conn](const std::string& s) { return conn->Write(s); };
  // The API server sends nothing after its request: anything readable is its end.
  sink.gone = [conn] { return conn->PeerGone(); };
  sink.running = [runtime, id] {
    rc::ContainerInfo info;
    std::string error;
    return runtime->Get(id, &info, &error) && info.state.status == rc::ContainerStatus::kRunning;
  };
  conn->Write(
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n");
  std::string error;
  ReadContainerLog(where.dir + "/" + std::to_string(attempt) + ".log", o, sink, &error);
}

}  // namespace

StreamServer::StreamServer(const std::string& data_dir) : runtime_(data_dir) {}

void StreamServer::Serve(net::Conn* conn) {
  conn->SetReadTimeout(30000);
  std::string buf;
  char tmp[4096];
  size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (buf.size() > 64 * 1024) return SendStatus(conn, 431, "BadRequest", "request head too large");
    long n = conn->Read(tmp, sizeof(tmp));
    if (n <= 0) return;
    buf.append(tmp, static_cast<size_t>(n));
  }
  conn->SetReadTimeout(0);
  net::HttpRequest req;
  std::string version;
  if (!net::ParseRequestHead(buf.substr(0, end), &req, &version))
    return SendStatus(conn, 400, "BadRequest", "malformed request");
  req.conn = conn;
  // /<kind>/<ns>/<pod>/<container>
  std::vector<std::string> parts;
  for (size_t pos = 1; pos <= req.path.size();) {
    size_t slash = std::min(req.path.find('/', pos), req.path.size());
    parts.push_back(req.path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  if (parts.size() != 4 || parts[1].empty() || parts[2].empty() || parts[3].empty())
    return SendStatus(conn, 404, "NotFound", "the server could not find the requested resource");
  if (parts[0] == "containerLogs" && req.method == "GET")
    return ServeLogs(runtime_.data_dir(), &runtime_, conn, req, parts[1], parts[2], parts[3]);
  SendStatus(conn, 404, "NotFound", "the server could not find the requested resource");
}

}  // namespace kubit::kubelet
