#include "runtime/kubelet/log_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <thread>

#include "runtime/container/cri_log.h"

namespace kubit::kubelet {

namespace rc = runtime::container;

bool ParseRfc3339(const std::string& s, int64_t* ns) {
  int y, mo, d, h, mi, sec;
  int used = 0;
  if (sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6)
    return false;
  size_t i = static_cast<size_t>(used);
  int64_t frac = 0;
  if (i < s.size() && s[i] == '.') {
    int digits = 0;
    for (i++; i < s.size() && isdigit(static_cast<unsigned char>(s[i])); i++)
      if (digits++ < 9) frac = frac * 10 + (s[i] - '0');
    for (; digits < 9; digits++) frac *= 10;
  }
  int64_t offset = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (sscanf(s.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2) return false;
    offset = (s[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  } else if (i >= s.size() || (s[i] != 'Z' && s[i] != 'z')) {
    return false;
  }
  tm t{};
  t.tm_year = y - 1900;
  t.tm_mon = mo - 1;
  t.tm_mday = d;
  t.tm_hour = h;
  t.tm_min = mi;
  t.tm_sec = sec;
  *ns = (static_cast<int64_t>(timegm(&t)) - offset) * 1000000000 + frac;
  return true;
}

namespace {

// Upstream prints timestamps with a fixed nine-digit fraction
// (RFC3339NanoFixed), whatever the file holds.
std::string FixedTimestamp(int64_t ns) {
  time_t secs = static_cast<time_t>(ns / 1000000000);
  tm t;
  gmtime_r(&secs, &t);
  char buf[48];
  snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", t.tm_year + 1900,
           t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
           static_cast<long long>(ns % 1000000000));
  return buf;
}

class LogReader {
 public:
  LogReader(const LogOptions& o, const LogSink& sink) : o_(o), sink_(sink) {}

  // Feeds file bytes; false once the output is finished (limit reached or
  // the sink gone).
  bool Feed(const char* data, size_t n) {
    pending_.append(data, n);
    size_t start = 0, nl;
    while ((nl = pending_.find('\n', start)) != std::string::npos) {
      bool ok = Record(pending_.substr(start, nl - start));
      start = nl + 1;
      if (!ok) return false;
    }
    pending_.erase(0, start);
    return true;
  }

  // The existing content has been read: the tail is due now.
  bool EndOfBacklog() {
    backlog_ = false;
    for (const auto& line : tail_)
      if (!Emit(line)) return false;
    tail_.clear();
    return true;
  }

 private:
  bool Record(const std::string& text) {
    rc::CriRecord r;
    if (!rc::ParseCriLine(text, &r)) return true;  // upstream skips what it cannot parse
    int s = static_cast<int>(r.stream);
    if (partial_[s].empty() && !started_[s]) {
      started_[s] = true;
      if (!ParseRfc3339(r.time, &time_[s])) time_[s] = 0;
    }
    partial_[s] += r.content;
    if (r.partial) return true;
    std::string line = std::move(partial_[s]);
    partial_[s].clear();
    started_[s] = false;
    if (o_.since_ns > 0 && time_[s] < o_.since_ns) return true;
    if (o_.timestamps) line = FixedTimestamp(time_[s]) + " " + line;
    line += '\n';
    if (backlog_ && o_.tail_lines >= 0) {
      tail_.push_back(std::move(line));
      if (static_cast<int64_t>(tail_.size()) > o_.tail_lines) tail_.pop_front();
      return true;
    }
    return Emit(line);
  }

  bool Emit(const std::string& line) {
    if (o_.limit_bytes >= 0) {
      int64_t left = o_.limit_bytes - written_;
      if (left <= 0) return false;
      if (static_cast<int64_t>(line.size()) >= left) {
        written_ = o_.limit_bytes;
        sink_.write(line.substr(0, static_cast<size_t>(left)));
        return false;
      }
    }
    written_ += static_cast<int64_t>(line.size());
    return sink_.write(line);
  }

  const LogOptions& o_;
  const LogSink& sink_;
  std::string pending_;
  std::string partial_[2];
  bool started_[2] = {false, false};
  int64_t time_[2] = {0, 0};
  bool backlog_ = true;
  std::deque<std::string> tail_;
  int64_t written_ = 0;
};

// Reads fd to its current end; false when the reader is finished.
bool ReadToEnd(int fd, LogReader* r, bool* got) {
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
    *got = true;
    if (!r->Feed(buf, static_cast<size_t>(n))) return false;
  }
}

}  // namespace

bool ReadContainerLog(const std::string& path, const LogOptions& o, const LogSink& sink,
                      std::string* error) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = "open " + path + ": " + strerror(errno);
    return false;
  }
  LogReader reader(o, sink);
  bool got = false;
  if (!ReadToEnd(fd, &reader, &got) || !reader.EndOfBacklog() || !o.follow) {
    close(fd);
    return true;
  }
  // Follow: the shim appends, and rotates by renaming the file away and
  // starting a new one at the same path; the old one is read to its end
  // first. The container's exit is checked before the last read, so that
  // nothing written before the exit is missed.
  for (;;) {
    bool was_running = sink.running();
    got = false;
    if (!ReadToEnd(fd, &reader, &got)) break;
    struct stat now, at_path;
    if (fstat(fd, &now) == 0 && stat(path.c_str(), &at_path) == 0 &&
        (now.st_ino != at_path.st_ino || now.st_dev != at_path.st_dev)) {
      int next = open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (next >= 0) {
        bool more = ReadToEnd(fd, &reader, &got);
        close(fd);
        fd = next;
        if (!more) break;
        continue;
      }
    }
    if (got) continue;
    if (!was_running || sink.gone()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  close(fd);
  return true;
}

}  // namespace kubit::kubelet
