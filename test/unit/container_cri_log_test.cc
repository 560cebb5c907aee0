// Unit tests of runtime/container/cri_log.h: the CRI log records the shim
// writes (full and partial lines, streams, timestamps), rotation by size,
// and the parser `kubit ctr logs` reads them back with.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/container/cri_log.h"
#include "test/unit/temp_dir.h"

using namespace kubit::runtime::container;
using kubit::test::TempDir;

namespace {

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

const timespec kT{1714564800, 123456789};  // 2024-05-01T12:00:00.123456789Z

}  // namespace

TEST_CASE("container cri log: timestamps as Go's RFC3339Nano") {
  char buf[64];
  CHECK(std::string(buf, FormatRfc3339Nano(kT, buf)) == "2024-05-01T12:00:00.123456789Z");
  CHECK(std::string(buf, FormatRfc3339Nano({1714564800, 120000000}, buf)) ==
        "2024-05-01T12:00:00.12Z");
  CHECK(std::string(buf, FormatRfc3339Nano({0, 0}, buf)) == "1970-01-01T00:00:00Z");
}

TEST_CASE("container cri log: lines, streams and a last line without newline") {
  TempDir dir;
  std::string path = dir.File("0.log"), error;
  {
    CriLogWriter w;
    REQUIRE(w.Open(path.c_str(), 1 << 20, 3, &error));
    std::string out = "one\ntw";
    w.Write(LogStream::kStdout, out.data(), out.size(), kT);
    w.Write(LogStream::kStderr, "oops\n", 5, kT);
    w.Write(LogStream::kStdout, "o\n\nthree", 8, kT);
    w.Close(LogStream::kStdout, kT);
    w.Close(LogStream::kStderr, kT);
  }
  std::vector<std::string> lines = Lines(path);
  REQUIRE(lines.size() == 5);
  CHECK(lines[0] == "2024-05-01T12:00:00.123456789Z stdout F one");
  CHECK(lines[1] == "2024-05-01T12:00:00.123456789Z stderr F oops");
  CHECK(lines[2] == "2024-05-01T12:00:00.123456789Z stdout F two");
  CHECK(lines[3] == "2024-05-01T12:00:00.123456789Z stdout F ");
  CHECK(lines[4] == "2024-05-01T12:00:00.123456789Z stdout F three");
}

TEST_CASE("container cri log: lines over 16 KiB are cut into P records") {
  TempDir dir;
  std::string path = dir.File("0.log"), error;
  std::string big(kCriMaxLine * 2 + 100, 'x');
  big += "\n";
  std::string exact(kCriMaxLine, 'y');
  exact += "\n";
  {
    CriLogWriter w;
    REQUIRE(w.Open(path.c_str(), 1 << 20, 1, &error));
    // Fed in small pieces, as a pipe delivers them.
    for (size_t i = 0; i < big.size(); i += 1000)
      w.Write(LogStream::kStdout, big.data() + i, std::min<size_t>(1000, big.size() - i), kT);
    w.Write(LogStream::kStdout, exact.data(), exact.size(), kT);
  }
  std::vector<std::string> lines = Lines(path);
  REQUIRE(lines.size() == 4);
  CriRecord r;
  REQUIRE(ParseCriLine(lines[0], &r));
  CHECK(r.partial);
  CHECK(r.content.size() == kCriMaxLine);
  REQUIRE(ParseCriLine(lines[1], &r));
  CHECK(r.partial);
  REQUIRE(ParseCriLine(lines[2], &r));
  CHECK_FALSE(r.partial);
  CHECK(r.content == std::string(100, 'x'));
  // Exactly 16 KiB is still one full line.
  REQUIRE(ParseCriLine(lines[3], &r));
  CHECK_FALSE(r.partial);
  CHECK(r.content.size() == kCriMaxLine);
}

TEST_CASE("container cri log: rotation keeps max_files files, newest first") {
  TempDir dir;
  std::string path = dir.File("c.log"), error;
  {
    CriLogWriter w;
    REQUIRE(w.Open(path.c_str(), 4096, 3, &error));
    std::string line(1000, 'a');
    line += "\n";
    for (int i = 0; i < 20; i++) {
      line[0] = static_cast<char>('a' + i);
      w.Write(LogStream::kStdout, line.data(), line.size(), kT);
    }
  }
  std::vector<std::string> files = CriLogFiles(path, 3);
  REQUIRE(files.size() == 3);
  CHECK(files[0] == path + ".2");
  CHECK(files[1] == path + ".1");
  CHECK(files[2] == path);
  std::ifstream gone(path + ".3");
  CHECK_FALSE(gone.good());
  // The records run in order across the files, the newest last.
  std::string firsts;
  for (const auto& f : files)
    for (const auto& l : Lines(f)) {
      CriRecord r;
      REQUIRE(ParseCriLine(l, &r));
      firsts += r.content[0];
    }
  CHECK(firsts.back() == 't');
  for (size_t i = 1; i < firsts.size(); i++) CHECK(firsts[i] == firsts[i - 1] + 1);
}

TEST_CASE("container cri log: the parser refuses what is not a record") {
  CriRecord r;
  REQUIRE(ParseCriLine("2024-05-01T12:00:00Z stderr P a b  c", &r));
  CHECK(r.stream == LogStream::kStderr);
  CHECK(r.partial);
  CHECK(r.content == "a b  c");
  REQUIRE(ParseCriLine("2024-05-01T12:00:00Z stdout F", &r));
  CHECK(r.content.empty());
  CHECK_FALSE(ParseCriLine("", &r));
  CHECK_FALSE(ParseCriLine("plain text", &r));
  CHECK_FALSE(ParseCriLine("2024-05-01T12:00:00Z stdin F x", &r));
  CHECK_FALSE(ParseCriLine("2024-05-01T12:00:00Z stdout X x", &r));
}
