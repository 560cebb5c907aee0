#include "runtime/kubelet/probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "net/http_client.h"
#include "runtime/container/runtime.h"

namespace kubit::kubelet {

using Json = nlohmann::json;

const char* ProbeName(ProbeKind kind) {
  switch (kind) {
    case ProbeKind::kStartup: return "Startup";
    case ProbeKind::kLiveness: return "Liveness";
    case ProbeKind::kReadiness: return "Readiness";
  }
  return "";
}

ProbeTiming ProbeTiming::FromJson(const Json& p) {
  ProbeTiming t;
  auto get = [&](const char* f, int def, int min) {
    int v = p.contains(f) && p[f].is_number_integer() ? p[f].get<int>() : def;
    return std::max(v, min);
  };
  t.initial_delay_s = get("initialDelaySeconds", 0, 0);
  t.period_s = get("periodSeconds", 10, 1);
  t.timeout_s = get("timeoutSeconds", 1, 1);
  t.success_threshold = get("successThreshold", 1, 1);
  t.failure_threshold = get("failureThreshold", 3, 1);
  return t;
}

ProbeTracker::ProbeTracker(ProbeKind kind, ProbeTiming timing, Clock::time_point started)
    : kind_(kind), timing_(timing), result_(kind == ProbeKind::kLiveness),
      next_(started + std::chrono::seconds(timing.initial_delay_s)) {}

bool ProbeTracker::Record(bool success, Clock::time_point now) {
  next_ = now + std::chrono::seconds(timing_.period_s);
  streak_ = success == last_ ? streak_ + 1 : 1;
  last_ = success;
  if (success == result_) return false;
  int needed = success ? timing_.success_threshold : timing_.failure_threshold;
  if (streak_ < needed) return false;
  result_ = success;
  streak_ = 0;
  return true;
}

namespace {

// The port of an httpGet/tcpSocket probe: a number, or a container port's name.
int ProbePort(const Json& action, const Json& container) {
  const Json& port = action.contains("port") ? action["port"] : Json();
  if (port.is_number_integer()) return port.get<int>();
  if (port.is_string()) {
    std::string s = port.get<std::string>();
    for (const auto& p : container.value("ports", Json::array()))
      if (p.value("name", "") == s) return p.value("containerPort", 0);
    if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos) return atoi(s.c_str());
  }
  return 0;
}

bool ExecProbe(const Json& exec, const ProbeTarget& t, std::string* output) {
  runtime::container::ExecOptions o;
  for (const auto& a : exec.value("command", Json::array()))
    if (a.is_string()) o.args.push_back(a.get<std::string>());
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    *output = std::string("pipe: ") + strerror(errno);
    return false;
  }
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  o.stdin_fd = null;
  o.stdout_fd = o.stderr_fd = fds[1];
  int code = -1;
  std::string error;
  // The output is read after the process ends: a probe's output is small
  // and the pipe holds 64 KiB.
  bool ok = t.runtime->Exec(t.container_id, o, &code, &error);
  close(fds[1]);
  close(null);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0 && out.size() < 10240) out.append(buf, size_t(n));
  close(fds[0]);
  if (!ok) {
    *output = error;
    return false;
  }
  *output = out;
  if (code != 0 && out.empty()) *output = "command exited with " + std::to_string(code);
  return code == 0;
}

bool Dial(const std::string& host, int port, int timeout_ms, std::string* error) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) {
    *error = "invalid address " + host;
    return false;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + strerror(errno);
    return false;
  }
  std::string where = "dial tcp " + host + ":" + std::to_string(port) + ": ";
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    rc = poll(&p, 1, timeout_ms);
    if (rc == 0) {
      close(fd);
      *error = where + "i/o timeout";
      return false;
    }
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    rc = err ? -1 : 0;
    errno = err;
  }
  if (rc != 0) *error = where + "connect: " + strerror(errno);
  close(fd);
  return rc == 0;
}

}  // namespace

bool RunProbe(const Json& probe, const ProbeTarget& t, std::string* output) {
  int timeout_ms = ProbeTiming::FromJson(probe).timeout_s * 1000;
  if (probe.contains("exec")) return ExecProbe(probe["exec"], t, output);
  const char* kind = probe.contains("httpGet") ? "httpGet" : probe.contains("tcpSocket") ? "tcpSocket" : nullptr;
  if (!kind) {
    *output = "probe has no handler (exec, httpGet, tcpSocket)";
    return false;
  }
  const Json& action = probe[kind];
  std::string host = action.value("host", t.pod_ip);
  if (host.empty()) {
    *output = "pod has no IP address (no pod network on this node)";
    return false;
  }
  int port = ProbePort(action, t.container ? *t.container : Json::object());
  if (std::string(kind) == "tcpSocket") return Dial(host, port, timeout_ms, output);
  net::HttpClientOptions ho;
  ho.connect_timeout_ms = timeout_ms;
  ho.read_timeout_ms = timeout_ms;
  ho.user_agent = "kube-probe/1.32";
  ho.tls.insecure_skip_verify = true;  // upstream's prober does not verify either
  net::HttpClient http(ho);
  net::HttpClientRequest req;
  std::string scheme = action.value("scheme", "HTTP") == "HTTPS" ? "https" : "http";
  std::string path = action.value("path", "/");
  if (path.empty() || path[0] != '/') path = "/" + path;
  req.url = scheme + "://" + host + ":" + std::to_string(port) + path;
  for (const auto& h : action.value("httpHeaders", Json::array()))
    req.headers.emplace_back(h.value("name", ""), h.value("value", ""));
  req.headers.emplace_back("Accept", "*/*");
  net::HttpClientResponse resp;
  std::string error;
  if (!http.Do(req, &resp, &error)) {
    *output = "Get \"" + req.url + "\": " + error;
    return false;
  }
  if (resp.status >= 200 && resp.status < 400) {
    *output = "";
    return true;
  }
  *output = "HTTP probe failed with statuscode: " + std::to_string(resp.status);
  return false;
}

}  // namespace kubit::kubelet
