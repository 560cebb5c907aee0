// Unit tests of runtime/kubelet/log_reader.h: CRI log files as the shim
// writes them (cri_log.h's writer), read back as `kubectl logs` shows them:
// joined partial lines, tail, since, timestamps, limitBytes, and following
// across a rotation until the container has exited.
#include <doctest/doctest.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

#include "runtime/container/cri_log.h"
#include "runtime/kubelet/log_reader.h"
#include "test/unit/temp_dir.h"

using namespace kubit::kubelet;
namespace rc = kubit::runtime::container;
using kubit::test::TempDir;

namespace {

std::string Read(const std::string& path, const LogOptions& o) {
  std::string out, error;
  LogSink sink;
  sink.write = [&out](const std::string& s) {
    out += s;
    return true;
  };
  sink.gone = [] { return false; };
  sink.running = [] { return false; };
  REQUIRE_MESSAGE(ReadContainerLog(path, o, sink, &error), error);
  return out;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

}  // namespace

TEST_CASE("streams logs: lines of both streams, partial records joined, bad lines skipped") {
  TempDir dir;
  std::string p = dir.File("0.log");
  WriteFile(p,
            "2024-05-01T12:00:00.1Z stdout F one\n"
            "2024-05-01T12:00:01Z stdout P tw\n"
            "2024-05-01T12:00:01.5Z stderr F err\n"
            "garbage\n"
            "2024-05-01T12:00:02Z stdout F o\n"
            "2024-05-01T12:00:03Z stdout F\n");
  CHECK(Read(p, {}) == "one\nerr\ntwo\n\n");
  LogOptions ts;
  ts.timestamps = true;
  // The time of a joined line is its first record's, with nine digits.
  CHECK(Read(p, ts) ==
        "2024-05-01T12:00:00.100000000Z one\n"
        "2024-05-01T12:00:01.500000000Z err\n"
        "2024-05-01T12:00:01.000000000Z two\n"
        "2024-05-01T12:00:03.000000000Z \n");
}

TEST_CASE("streams logs: tail, since and limitBytes") {
  TempDir dir;
  std::string p = dir.File("0.log");
  rc::CriLogWriter w;
  std::string error;
  REQUIRE(w.Open(p.c_str(), 1 << 20, 1, &error));
  for (int i = 0; i < 10; i++) {
    std::string line = "line" + std::to_string(i) + "\n";
    w.Write(rc::LogStream::kStdout, line.data(), line.size(), timespec{1714564800 + i, 0});
  }
  LogOptions tail;
  tail.tail_lines = 2;
  CHECK(Read(p, tail) == "line8\nline9\n");
  tail.tail_lines = 0;
  CHECK(Read(p, tail) == "");
  LogOptions since;
  since.since_ns = (1714564800LL + 7) * 1000000000LL;
  CHECK(Read(p, since) == "line7\nline8\nline9\n");
  LogOptions limit;
  limit.limit_bytes = 8;
  CHECK(Read(p, limit) == "line0\nli");
  limit.tail_lines = 1;
  limit.limit_bytes = 3;
  CHECK(Read(p, limit) == "lin");
}

TEST_CASE("streams logs: a line longer than a record comes back whole") {
  TempDir dir;
  std::string p = dir.File("0.log");
  rc::CriLogWriter w;
  std::string error;
  REQUIRE(w.Open(p.c_str(), 1 << 20, 1, &error));
  std::string big(40000, 'x');
  big += "\n";
  w.Write(rc::LogStream::kStdout, big.data(), big.size(), timespec{1714564800, 0});
  CHECK(Read(p, {}) == big);
}

TEST_CASE("streams logs: follow reads across a rotation until the container exits") {
  TempDir dir;
  std::string p = dir.File("0.log");
  rc::CriLogWriter w;
  std::string error;
  // Small files: the writer rotates every few lines.
  REQUIRE(w.Open(p.c_str(), 200, 3, &error));
  std::atomic<bool> running{true};
  std::mutex mu;
  std::string out;
  auto seen = [&](const std::string& s) {
    std::lock_guard<std::mutex> l(mu);
    return out.find(s) != std::string::npos;
  };
  std::thread writer([&] {
    for (int i = 0; i < 30; i++) {
      std::string line = "message " + std::to_string(i) + "\n";
      w.Write(rc::LogStream::kStdout, line.data(), line.size(), timespec{1714564800 + i, 0});
      // Leave the reader time to catch up, so that it never misses a whole file.
      while (i % 3 == 2 && !seen("message " + std::to_string(i)))
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    running = false;
  });
  LogOptions o;
  o.follow = true;
  LogSink sink;
  sink.write = [&](const std::string& s) {
    std::lock_guard<std::mutex> l(mu);
    out += s;
    return true;
  };
  sink.gone = [] { return false; };
  sink.running = [&] { return running.load(); };
  bool ok = ReadContainerLog(p, o, sink, &error);
  writer.join();
  REQUIRE(ok);
  std::string want;
  for (int i = 0; i < 30; i++) want += "message " + std::to_string(i) + "\n";
  CHECK(out == want);
  CHECK(rc::CriLogFiles(p, 3).size() == 3);  // it did rotate
}

TEST_CASE("streams logs: follow ends when the reader goes away") {
  TempDir dir;
  std::string p = dir.File("0.log");
  WriteFile(p, "2024-05-01T12:00:00Z stdout F one\n");
  LogOptions o;
  o.follow = true;
  LogSink sink;
  std::string out, error;
  sink.write = [&](const std::string& s) {
    out += s;
    return true;
  };
  sink.gone = [] { return true; };
  sink.running = [] { return true; };
  CHECK(ReadContainerLog(p, o, sink, &error));
  CHECK(out == "one\n");
  CHECK_FALSE(ReadContainerLog(dir.File("missing.log"), o, sink, &error));
  CHECK(error.find("missing.log") != std::string::npos);
}

TEST_CASE("streams logs: RFC 3339 times") {
  int64_t ns;
  REQUIRE(ParseRfc3339("2024-05-01T12:00:00.123456789Z", &ns));
  CHECK(ns == 1714564800123456789LL);
  REQUIRE(ParseRfc3339("2024-05-01T14:00:00+02:00", &ns));
  CHECK(ns == 1714564800000000000LL);
  CHECK_FALSE(ParseRfc3339("yesterday", &ns));
}
