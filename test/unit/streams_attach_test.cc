// Unit tests of the shim's attach (runtime/container/shim.h) through
// ShimAttach: a real shim (this binary re-executed as a child mode that
// forks a small "container" and runs RunShim over its pipes) streams the
// container's output live with its stream tags, feeds the client's bytes
// to its stdin, keeps answering other requests meanwhile, closes stdin at
// the end of a stdinonce client's input, and ends the stream when the
// container has exited.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "runtime/container/shim.h"
#include "runtime/container/shim_client.h"
#include "test/unit/child_modes.h"
#include "test/unit/temp_dir.h"

namespace rc = kubit::runtime::container;

namespace {

// unit_tests --child=shim-attach DIR: the container copies its stdin to
// stdout, says "bye" on stderr at EOF and exits 0; the shim holds its stdio.
int ShimAttachMain(int argc, char** argv) {
  if (argc < 1) return 2;
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) return 3;
  pid_t c = fork();
  if (c == 0) {
    // As exec would: the container keeps only its own ends.
    close(in[1]);
    close(out[0]);
    close(err[0]);
    char buf[4096];
    ssize_t n;
    while ((n = read(in[0], buf, sizeof(buf))) > 0)
      if (write(out[1], buf, static_cast<size_t>(n)) != n) _exit(4);
    if (write(err[1], "bye\n", 4) != 4) _exit(5);
    _exit(0);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  rc::ShimConfig cfg;
  cfg.id = "attach-test";
  cfg.dir = argv[0];
  cfg.pid = c;
  cfg.out_fd = out[0];
  cfg.err_fd = err[0];
  cfg.stdin_fd = in[1];
  cfg.log_path = std::string(argv[0]) + "/container.log";
  cfg.oom_file = std::string(argv[0]) + "/no-oom-file";
  return rc::RunShim(cfg);
}

kubit::test::ChildMode shim_attach_mode("shim-attach", ShimAttachMain);

// The next frame [stream][32-bit length][bytes] from the shim; false at EOF.
bool ReadFrame(int fd, int* stream, std::string* data) {
  auto read_n = [fd](char* p, size_t n) {
    for (size_t got = 0; got < n;) {
      pollfd pf{fd, POLLIN, 0};
      if (poll(&pf, 1, 10000) <= 0) return false;
      ssize_t r = read(fd, p + got, n - got);
      if (r <= 0) return false;
      got += static_cast<size_t>(r);
    }
    return true;
  };
  unsigned char h[5];
  if (!read_n(reinterpret_cast<char*>(h), 5)) return false;
  *stream = h[0];
  size_t len = static_cast<size_t>(h[1]) << 24 | static_cast<size_t>(h[2]) << 16 |
               static_cast<size_t>(h[3]) << 8 | h[4];
  data->assign(len, '\0');
  return read_n(data->data(), len);
}

}  // namespace

TEST_CASE("streams attach: the shim streams output, takes stdin, and stdinonce closes it") {
  kubit::test::TempDir dir("kubit-attach");
  std::string self = kubit::test::SelfPath(), mode = "--child=shim-attach", d = dir.path();
  pid_t shim = fork();
  if (shim == 0) {
    char* argv[] = {self.data(), mode.data(), d.data(), nullptr};
    execv(argv[0], argv);
    _exit(127);
  }
  REQUIRE(shim > 0);
  // A failed check must not leave the shim and its container behind.
  struct Reaper {
    pid_t pid;
    ~Reaper() {
      if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
      }
    }
  } reaper{shim};
  struct stat st;
  for (int i = 0; i < 500 && stat(dir.File("shim.sock").c_str(), &st) != 0; i++) usleep(10000);

  std::string error;
  int a = rc::ShimAttach(d, true, &error);
  REQUIRE_MESSAGE(a >= 0, error);
  // Another client, attached without stdin: it sees the same output.
  int b = rc::ShimAttach(d, false, &error);
  REQUIRE_MESSAGE(b >= 0, error);
  shutdown(b, SHUT_WR);

  REQUIRE(write(a, "hello\n", 6) == 6);
  int stream = 0;
  std::string data;
  REQUIRE(ReadFrame(a, &stream, &data));
  CHECK(stream == 1);
  CHECK(data == "hello\n");
  REQUIRE(ReadFrame(b, &stream, &data));
  CHECK(data == "hello\n");
  // Requests keep being answered while clients are attached.
  CHECK(rc::ShimRequest(d, "kill 0", &error));
  // The input ends: stdinonce closes the container's stdin, after what came.
  REQUIRE(write(a, "world\n", 6) == 6);
  shutdown(a, SHUT_WR);
  REQUIRE(ReadFrame(a, &stream, &data));
  CHECK(stream == 1);
  CHECK(data == "world\n");
  REQUIRE(ReadFrame(a, &stream, &data));
  CHECK(stream == 2);
  CHECK(data == "bye\n");
  // The container exited: the stream ends, and the shim with it.
  CHECK_FALSE(ReadFrame(a, &stream, &data));
  int status = 0;
  REQUIRE(waitpid(shim, &status, 0) == shim);
  reaper.pid = 0;
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  close(a);
  close(b);
  // What was attached was logged as ever.
  int log = open(dir.File("container.log").c_str(), O_RDONLY);
  REQUIRE(log >= 0);
  char buf[4096];
  ssize_t n = read(log, buf, sizeof(buf));
  close(log);
  std::string text(buf, n > 0 ? static_cast<size_t>(n) : 0);
  CHECK(text.find("stdout F hello") != std::string::npos);
  CHECK(text.find("stderr F bye") != std::string::npos);
}

namespace {

// unit_tests --child=shim-noread DIR: the container never reads its stdin
// and waits to be killed.
int ShimNoReadMain(int argc, char** argv) {
  if (argc < 1) return 2;
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) return 3;
  pid_t c = fork();
  if (c == 0) {
    close(in[1]);
    close(out[0]);
    for (;;) pause();
  }
  close(in[0]);
  close(out[1]);
  rc::ShimConfig cfg;
  cfg.id = "noread-test";
  cfg.dir = argv[0];
  cfg.pid = c;
  cfg.out_fd = out[0];
  cfg.stdin_fd = in[1];
  cfg.log_path = std::string(argv[0]) + "/container.log";
  cfg.oom_file = std::string(argv[0]) + "/no-oom-file";
  return rc::RunShim(cfg);
}

kubit::test::ChildMode shim_noread_mode("shim-noread", ShimNoReadMain);

}  // namespace

TEST_CASE("streams attach: input a container does not read never stalls its shim") {
  kubit::test::TempDir dir("kubit-attach");
  std::string self = kubit::test::SelfPath(), mode = "--child=shim-noread", d = dir.path();
  pid_t shim = fork();
  if (shim == 0) {
    char* argv[] = {self.data(), mode.data(), d.data(), nullptr};
    execv(argv[0], argv);
    _exit(127);
  }
  REQUIRE(shim > 0);
  struct Reaper {
    pid_t pid;
    ~Reaper() {
      if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
      }
    }
  } reaper{shim};
  struct stat st;
  for (int i = 0; i < 500 && stat(dir.File("shim.sock").c_str(), &st) != 0; i++) usleep(10000);
  std::string error;
  int a = rc::ShimAttach(d, false, &error);
  REQUIRE_MESSAGE(a >= 0, error);
  // Far more than a pipe holds, written from a thread: it blocks once the
  // shim stops reading, and ends when the client's socket closes.
  std::thread writer([a] {
    std::string chunk(65536, 'x');
    for (int i = 0; i < 16; i++)
      if (send(a, chunk.data(), chunk.size(), MSG_NOSIGNAL) <= 0) return;
  });
  usleep(200000);
  // The shim still answers and kills.
  CHECK(rc::ShimRequest(d, "kill 0", &error));
  CHECK(rc::ShimRequest(d, "kill 9", &error));
  int status = 0;
  REQUIRE(waitpid(shim, &status, 0) == shim);
  reaper.pid = 0;
  CHECK(WIFEXITED(status));
  shutdown(a, SHUT_RDWR);
  writer.join();
  close(a);
}
