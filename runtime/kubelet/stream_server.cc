#include "runtime/kubelet/stream_server.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "net/http_server.h"
#include "net/websocket.h"
#include "runtime/container/layout.h"
#include "runtime/container/sandbox.h"
#include "runtime/container/shim_client.h"
#include "runtime/kubelet/log_reader.h"
#include "runtime/kubelet/pod_naming.h"
#include "runtime/kubelet/port_forward.h"
#include "runtime/kubelet/resource_metrics.h"

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

// The channels of the Kubernetes WebSocket stream protocols (client-go
// remotecommand): one byte before each binary message.
enum Channel : uint8_t { kStdin = 0, kStdout = 1, kStderr = 2, kError = 3, kResize = 4, kClose = 255 };

// The protocol kubectl asked for that we speak, best first: v5 adds the
// close signal for stdin (channel 255); v4 carries the exit status as a
// Status on the error channel, as v5 does.
std::string PickProtocol(const std::string& offered) {
  std::vector<std::string> list;
  for (size_t pos = 0; pos <= offered.size();) {
    size_t comma = std::min(offered.find(',', pos), offered.size());
    std::string p = offered.substr(pos, comma - pos);
    p.erase(0, p.find_first_not_of(' '));
    p.erase(p.find_last_not_of(' ') + 1);
    list.push_back(p);
    pos = comma + 1;
  }
  for (const char* want : {"v5.channel.k8s.io", "v4.channel.k8s.io"})
    if (std::find(list.begin(), list.end(), want) != list.end()) return want;
  return "";
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return s;
}

// The Status sent on the error channel when the command is done, as the
// kubelet's: Success, NonZeroExitCode with the code as its cause, or the
// reason it could not run.
std::string ExitStatus(bool started, int exit_code, const std::string& error,
                       const std::vector<std::string>& command) {
  if (!started)
    return Json{{"metadata", Json::object()}, {"status", "Failure"}, {"message", error},
                {"reason", "InternalError"}, {"code", 500}}.dump();
  if (exit_code == 0) return Json{{"metadata", Json::object()}, {"status", "Success"}}.dump();
  std::string cmd;
  for (const auto& a : command) cmd += (cmd.empty() ? "" : " ") + a;
  return Json{{"metadata", Json::object()},
              {"status", "Failure"},
              {"message", "command terminated with non-zero exit code: error executing command [" +
                              cmd + "], exit code " + std::to_string(exit_code)},
              {"reason", "NonZeroExitCode"},
              {"details",
               {{"causes", {{{"reason", "ExitCode"}, {"message", std::to_string(exit_code)}}}}}}}
      .dump();
}

struct Pipe {
  int r = -1, w = -1;
  bool Open() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return false;
    r = fds[0];
    w = fds[1];
    return true;
  }
  static void Close(int* fd) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
  ~Pipe() {
    Close(&r);
    Close(&w);
  }
};

void ServeExec(const std::string& data_dir, rc::Runtime* runtime, net::Conn* conn,
               const net::HttpRequest& req, const std::string& buffered, const std::string& ns,
               const std::string& pod, const std::string& container) {
  std::vector<std::string> command;
  for (const auto& [k, v] : req.Params())
    if (k == "command") command.push_back(v);
  if (command.empty()) return SendStatus(conn, 400, "BadRequest", "you must specify at least 1 command");
  const bool want_stdin = Truthy(req.Param("stdin")), want_stdout = Truthy(req.Param("stdout")),
             want_stderr = Truthy(req.Param("stderr")), tty = Truthy(req.Param("tty"));
  std::string protocol = PickProtocol(req.Header("sec-websocket-protocol"));
  if (Lower(req.Header("upgrade")) != "websocket" || req.Header("sec-websocket-key").empty() ||
      protocol.empty())
    return SendStatus(conn, 400, "BadRequest",
                      "exec needs a WebSocket upgrade with protocol v5.channel.k8s.io or v4.channel.k8s.io");
  Located where;
  rc::ContainerInfo info;
  std::string error;
  if (!Locate(data_dir, ns, pod, container, &where) || where.attempts.empty() ||
      !runtime->Get(ContainerId(where.uid, container, where.attempts.back()), &info, &error) ||
      info.state.status != rc::ContainerStatus::kRunning)
    return SendStatus(conn, 404, "NotFound", "container not found (\"" + container + "\")");

  Pipe in, out, err;
  if (!in.Open() || !out.Open() || !err.Open())
    return SendStatus(conn, 500, "InternalError", std::string("pipe: ") + strerror(errno));
  if (!conn->Write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Accept: " + net::WebSocketAccept(req.Header("sec-websocket-key")) +
                   "\r\nSec-WebSocket-Protocol: " + protocol + "\r\n\r\n"))
    return;
  net::WebSocketConn ws(conn, true, buffered);
  if (!want_stdin) Pipe::Close(&in.w);
  // Stdin is written without blocking, from a buffer: a process busy
  // writing its output must not wait on us while we wait on it.
  if (in.w >= 0) fcntl(in.w, F_SETFL, fcntl(in.w, F_GETFL) | O_NONBLOCK);
  std::string stdin_buf;
  bool stdin_closing = false;  // close once the buffer is written
  auto flush_stdin = [&] {
    while (in.w >= 0 && !stdin_buf.empty()) {
      ssize_t n = write(in.w, stdin_buf.data(), stdin_buf.size());
      if (n < 0 && errno == EAGAIN) return;
      if (n <= 0) {  // the process closed its stdin
        Pipe::Close(&in.w);
        stdin_buf.clear();
        return;
      }
      stdin_buf.erase(0, static_cast<size_t>(n));
    }
    if (stdin_closing) Pipe::Close(&in.w);
  };

  // The command runs on its own thread (ExecInContainer blocks until it
  // ends); this thread alone uses the connection.
  std::mutex mu;
  int pty = -1;  // a dup of the pty master, for resizes
  winsize size{};
  bool have_size = false;
  auto resize = [&](int fd) {
    if (fd >= 0 && have_size) ioctl(fd, TIOCSWINSZ, &size);
  };
  rc::ExecOptions o;
  o.args = command;
  o.tty = tty;
  o.stdin_fd = in.r;
  o.stdout_fd = out.w;
  o.stderr_fd = err.w;
  o.on_pty = [&](int master) {
    std::lock_guard<std::mutex> l(mu);
    pty = fcntl(master, F_DUPFD_CLOEXEC, 0);
    resize(pty);
  };
  // What the client sends: stdin, terminal sizes, v5's close of stdin.
  auto handle = [&](const std::vector<std::string>& messages) {
    for (const auto& m : messages) {
      if (m.empty()) continue;
      uint8_t ch = static_cast<uint8_t>(m[0]);
      if (ch == kStdin && in.w >= 0) {
        stdin_buf.append(m, 1);
        flush_stdin();
      } else if (ch == kResize) {
        Json j = Json::parse(m.substr(1), nullptr, false);
        if (j.is_object()) {
          std::lock_guard<std::mutex> l(mu);
          size.ws_col = static_cast<unsigned short>(j.value("Width", 0));
          size.ws_row = static_cast<unsigned short>(j.value("Height", 0));
          have_size = true;
          resize(pty);
        }
      } else if (ch == kClose && m.size() > 1 && m[1] == kStdin && protocol[1] == '5') {
        stdin_closing = true;
        flush_stdin();
      }
    }
  };
  bool client_open = true;
  if (tty) {
    // kubectl sends its terminal's size first thing: waiting a moment for
    // it lets the command start with the right size (a program that asks
    // at once would otherwise see 0x0).
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (client_open && !have_size) {
      int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      deadline - std::chrono::steady_clock::now()).count());
      pollfd p = {conn->fd(), POLLIN, 0};
      if (left <= 0 || poll(&p, 1, left) <= 0) break;
      std::vector<std::string> messages;
      std::string werr;
      client_open = ws.Pump(&messages, &werr);
      handle(messages);
    }
  }
  const std::string id = info.id;
  int exit_code = 0;
  bool started = false;
  std::string exec_error;
  std::thread runner([&] {
    started = runtime->Exec(id, o, &exit_code, &exec_error);
    // The process and its copies are gone: the pipes end for the reader.
    Pipe::Close(&out.w);
    Pipe::Close(&err.w);
    Pipe::Close(&in.r);
  });

  if (!client_open) {
    Pipe::Close(&in.w);
    Pipe::Close(&out.r);
    Pipe::Close(&err.r);
  }
  while (out.r >= 0 || err.r >= 0) {
    // While stdin is backed up, the client is not read (its TCP window
    // holds it back).
    bool read_client = client_open && stdin_buf.size() < (1 << 20);
    pollfd p[4] = {{read_client ? conn->fd() : -1, POLLIN, 0},
                   {out.r, POLLIN, 0},
                   {err.r, POLLIN, 0},
                   {stdin_buf.empty() ? -1 : in.w, POLLOUT, 0}};
    if (poll(p, 4, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p[3].revents) flush_stdin();
    if (p[0].revents) {
      std::vector<std::string> messages;
      std::string werr;
      client_open = ws.Pump(&messages, &werr);
      handle(messages);
      // The client is gone: its stdin ends, and the output has nowhere to go.
      if (!client_open) {
        stdin_buf.clear();
        Pipe::Close(&in.w);
        Pipe::Close(&out.r);
        Pipe::Close(&err.r);
      }
    }
    for (int i = 1; i <= 2; i++) {
      int& fd = i == 1 ? out.r : err.r;
      if (fd < 0 || !p[i].revents) continue;
      char buf[32768];
      ssize_t n = read(fd, buf + 1, sizeof(buf) - 1);
      if (n <= 0) {
        Pipe::Close(&fd);
        continue;
      }
      if ((i == 1 ? want_stdout : want_stderr) && client_open) {
        buf[0] = static_cast<char>(i == 1 ? kStdout : kStderr);
        if (!ws.Send(net::WsOpcode::kBinary, std::string(buf, static_cast<size_t>(n) + 1))) {
          client_open = false;
          Pipe::Close(&in.w);
        }
      }
    }
  }
  Pipe::Close(&in.w);
  runner.join();
  if (pty >= 0) close(pty);
  if (client_open) {
    ws.Send(net::WsOpcode::kBinary,
            std::string(1, static_cast<char>(kError)) + ExitStatus(started, exit_code, exec_error, command));
    ws.SendClose(1000);
  }
}

// /attach: the container's main process through its shim (shim.h's
// "attach"): its output from now on as the stdout/stderr channels (one
// stream with a tty), the client's stdin to its stdin, resizes to its pty.
// The client leaving leaves the container running; with stdinOnce (the
// API server adds it from the pod's spec), the end of the client's stdin
// closes the container's, as upstream's runtimes do.
void ServeAttach(const std::string& data_dir, rc::Runtime* runtime, net::Conn* conn,
                 const net::HttpRequest& req, const std::string& buffered, const std::string& ns,
                 const std::string& pod, const std::string& container) {
  const bool want_stdin = Truthy(req.Param("stdin")), want_stdout = Truthy(req.Param("stdout")),
             want_stderr = Truthy(req.Param("stderr")), stdin_once = Truthy(req.Param("stdinOnce"));
  std::string protocol = PickProtocol(req.Header("sec-websocket-protocol"));
  if (Lower(req.Header("upgrade")) != "websocket" || req.Header("sec-websocket-key").empty() ||
      protocol.empty())
    return SendStatus(conn, 400, "BadRequest",
                      "attach needs a WebSocket upgrade with protocol v5.channel.k8s.io or v4.channel.k8s.io");
  Located where;
  rc::ContainerInfo info;
  std::string error;
  if (!Locate(data_dir, ns, pod, container, &where) || where.attempts.empty() ||
      !runtime->Get(ContainerId(where.uid, container, where.attempts.back()), &info, &error) ||
      info.state.status != rc::ContainerStatus::kRunning)
    return SendStatus(conn, 404, "NotFound", "container not found (\"" + container + "\")");
  const std::string dir = rc::ContainerDir(data_dir, info.id);
  int shim = rc::ShimAttach(dir, stdin_once && want_stdin, &error);
  if (shim < 0) return SendStatus(conn, 500, "InternalError", error);
  if (!conn->Write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Accept: " + net::WebSocketAccept(req.Header("sec-websocket-key")) +
                   "\r\nSec-WebSocket-Protocol: " + protocol + "\r\n\r\n")) {
    close(shim);
    return;
  }
  net::WebSocketConn ws(conn, true, buffered);
  bool stdin_open = want_stdin;
  auto end_stdin = [&] {
    if (!stdin_open) return;
    stdin_open = false;
    shutdown(shim, SHUT_WR);
  };
  if (!want_stdin) shutdown(shim, SHUT_WR);
  std::string from_shim;
  bool client_open = true, exited = false;
  while (client_open && !exited) {
    pollfd p[2] = {{conn->fd(), POLLIN, 0}, {shim, POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p[0].revents) {
      std::vector<std::string> messages;
      std::string werr;
      client_open = ws.Pump(&messages, &werr);
      for (const auto& m : messages) {
        if (m.empty()) continue;
        uint8_t ch = static_cast<uint8_t>(m[0]);
        if (ch == kStdin && stdin_open) {
          for (size_t off = 1; off < m.size();) {
            ssize_t n = write(shim, m.data() + off, m.size() - off);
            if (n <= 0) break;
            off += static_cast<size_t>(n);
          }
        } else if (ch == kResize) {
          Json j = Json::parse(m.substr(1), nullptr, false);
          std::string unused;
          if (j.is_object())
            rc::ShimRequest(dir, "resize " + std::to_string(j.value("Height", 0)) + " " +
                                     std::to_string(j.value("Width", 0)), &unused);
        } else if (ch == kClose && m.size() > 1 && m[1] == kStdin) {
          end_stdin();
        }
      }
    }
    if (p[1].revents) {
      char buf[32768];
      ssize_t n = read(shim, buf, sizeof(buf));
      if (n <= 0) {
        exited = true;  // the shim is gone: the container has exited
        break;
      }
      from_shim.append(buf, static_cast<size_t>(n));
      // [stream][32-bit length][bytes], as many as are whole.
      while (from_shim.size() >= 5) {
        const auto* h = reinterpret_cast<const unsigned char*>(from_shim.data());
        size_t len = static_cast<size_t>(h[1]) << 24 | static_cast<size_t>(h[2]) << 16 |
                     static_cast<size_t>(h[3]) << 8 | h[4];
        if (from_shim.size() < 5 + len) break;
        uint8_t ch = h[0] == 1 ? kStdout : kStderr;
        if ((ch == kStdout ? want_stdout : want_stderr) && client_open &&
            !ws.Send(net::WsOpcode::kBinary, static_cast<char>(ch) + from_shim.substr(5, len)))
          client_open = false;
        from_shim.erase(0, 5 + len);
      }
    }
  }
  close(shim);
  if (client_open) {
    ws.Send(net::WsOpcode::kBinary,
            std::string(1, static_cast<char>(kError)) + Json{{"metadata", Json::object()}, {"status", "Success"}}.dump());
    ws.SendClose(1000);
  }
}

// /portForward/<ns>/<pod>/<uid>: the pod's sandbox by the uid the API
// server read, the protocol by the upgrade kubectl asked for.
void ServePortForwardRequest(const std::string& data_dir, net::Conn* conn,
                             const net::HttpRequest& req, const std::string& buffered,
                             const std::string& pod, const std::string& uid) {
  constexpr char kProtocol[] = "portforward.k8s.io";
  const std::string tunnelled = std::string("SPDY/3.1+") + kProtocol;
  PortForwardOptions o;
  o.buffered = buffered;
  std::string answer;
  const std::string upgrade = Lower(req.Header("upgrade"));
  if (upgrade == "websocket") {
    std::string offered = req.Header("sec-websocket-protocol");
    bool found = false;
    for (size_t pos = 0; pos <= offered.size() && !found;) {
      size_t comma = std::min(offered.find(',', pos), offered.size());
      std::string p = offered.substr(pos, comma - pos);
      p.erase(0, p.find_first_not_of(' '));
      p.erase(p.find_last_not_of(' ') + 1);
      found = p == tunnelled;
      pos = comma + 1;
    }
    if (!found || req.Header("sec-websocket-key").empty())
      return SendStatus(conn, 400, "BadRequest",
                        "port forwarding over WebSocket needs the subprotocol " + tunnelled);
    o.websocket = true;
    answer = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Accept: " + net::WebSocketAccept(req.Header("sec-websocket-key")) +
             "\r\nSec-WebSocket-Protocol: " + tunnelled + "\r\n\r\n";
  } else if (upgrade == "spdy/3.1") {
    std::string versions = req.Header("x-stream-protocol-version");
    if (!versions.empty() && versions.find(kProtocol) == std::string::npos)
      return SendStatus(conn, 403, "Forbidden",
                        "unable to upgrade: unable to negotiate protocol: client supports " +
                            versions + ", server accepts [" + kProtocol + "]");
    answer = std::string("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n") +
             "X-Stream-Protocol-Version: " + kProtocol + "\r\n\r\n";
  } else {
    return SendStatus(conn, 400, "BadRequest", "Upgrade request required");
  }
  const std::string sandbox = SandboxId(uid);
  if (!rc::SandboxAlive(data_dir, sandbox))
    return SendStatus(conn, 404, "NotFound", "pod " + pod + " (uid " + uid + ") has no running sandbox on this node");
  if (!conn->Write(answer)) return;
  o.pod = sandbox;
  const std::string netns = rc::SandboxDir(data_dir, sandbox) + "/net";
  ServePortForward(conn, o, [&](uint16_t port, std::string* error) {
    return DialInNetns(netns, sandbox, port, error);
  });
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
  if (req.path == "/metrics/resource" && req.method == "GET") {
    std::string body = RenderResourceMetrics(CollectResourceUsage(&runtime_));
    conn->Write("HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
    return;
  }
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
  if (parts[0] == "portForward" && (req.method == "GET" || req.method == "POST"))
    return ServePortForwardRequest(runtime_.data_dir(), conn, req, buf.substr(end + 4), parts[2],
                                   parts[3]);
  if (parts[0] == "attach" && (req.method == "GET" || req.method == "POST"))
    return ServeAttach(runtime_.data_dir(), &runtime_, conn, req, buf.substr(end + 4), parts[1],
                       parts[2], parts[3]);
  if (parts[0] == "exec" && (req.method == "GET" || req.method == "POST"))
    return ServeExec(runtime_.data_dir(), &runtime_, conn, req, buf.substr(end + 4), parts[1],
                     parts[2], parts[3]);
  SendStatus(conn, 404, "NotFound", "the server could not find the requested resource");
}

}  // namespace kubit::kubelet
