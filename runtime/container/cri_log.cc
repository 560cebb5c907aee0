#include "runtime/container/cri_log.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

namespace kubit::runtime::container {
namespace {

void Put2(char* p, int v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

// Writes all of buf; a full disk or a closed file drops the record rather
// than blocking the container (its pipe would fill and stall it).
void WriteAll(int fd, const char* buf, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, buf, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    buf += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

size_t FormatRfc3339Nano(const timespec& t, char* out) {
  struct tm tm;
  time_t secs = t.tv_sec;
  gmtime_r(&secs, &tm);
  int year = tm.tm_year + 1900;
  char* p = out;
  p[0] = static_cast<char>('0' + year / 1000 % 10);
  p[1] = static_cast<char>('0' + year / 100 % 10);
  Put2(p + 2, year % 100);
  p[4] = '-';
  Put2(p + 5, tm.tm_mon + 1);
  p[7] = '-';
  Put2(p + 8, tm.tm_mday);
  p[10] = 'T';
  Put2(p + 11, tm.tm_hour);
  p[13] = ':';
  Put2(p + 14, tm.tm_min);
  p[16] = ':';
  Put2(p + 17, tm.tm_sec);
  p += 19;
  long ns = t.tv_nsec;
  if (ns > 0) {
    char frac[9];
    for (int i = 8; i >= 0; i--, ns /= 10) frac[i] = static_cast<char>('0' + ns % 10);
    int len = 9;
    while (len > 0 && frac[len - 1] == '0') len--;
    *p++ = '.';
    memcpy(p, frac, len);
    p += len;
  }
  *p++ = 'Z';
  return static_cast<size_t>(p - out);
}

CriLogWriter::~CriLogWriter() {
  if (fd_ >= 0) close(fd_);
}

bool CriLogWriter::Open(const char* path, int64_t max_bytes, int max_files, std::string* error) {
  if (strlen(path) >= sizeof(path_) - 16) {
    *error = std::string("log path too long: ") + path;
    return false;
  }
  strcpy(path_, path);
  max_bytes_ = max_bytes;
  max_files_ = max_files < 1 ? 1 : max_files;
  fd_ = open(path_, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd_ < 0) {
    *error = std::string("open ") + path + ": " + strerror(errno);
    return false;
  }
  struct stat st;
  size_ = fstat(fd_, &st) == 0 ? st.st_size : 0;
  return true;
}

void CriLogWriter::Emit(LogStream stream, bool partial, const char* data, size_t n,
                        const timespec& now) {
  if (fd_ < 0) return;
  size_t len = FormatRfc3339Nano(now, record_);
  const char* tag = stream == LogStream::kStdout ? " stdout " : " stderr ";
  memcpy(record_ + len, tag, 8);
  len += 8;
  record_[len++] = partial ? 'P' : 'F';
  record_[len++] = ' ';
  memcpy(record_ + len, data, n);
  len += n;
  record_[len++] = '\n';
  WriteAll(fd_, record_, len);
  size_ += static_cast<int64_t>(len);
  if (size_ >= max_bytes_) Rotate();
}

void CriLogWriter::Write(LogStream stream, const char* data, size_t n, const timespec& now) {
  int s = static_cast<int>(stream);
  char* pending = pending_[s];
  size_t& plen = pending_len_[s];
  while (n > 0) {
    const char* nl = static_cast<const char*>(memchr(data, '\n', n));
    size_t line = nl ? static_cast<size_t>(nl - data) : n;
    if (plen + line > kCriMaxLine) {
      // Fill the pending buffer to the limit and write it as a part.
      size_t take = kCriMaxLine - plen;
      memcpy(pending + plen, data, take);
      Emit(stream, true, pending, kCriMaxLine, now);
      plen = 0;
      data += take;
      n -= take;
      continue;
    }
    if (!nl) {
      memcpy(pending + plen, data, n);
      plen += n;
      return;
    }
    memcpy(pending + plen, data, line);
    Emit(stream, false, pending, plen + line, now);
    plen = 0;
    data += line + 1;
    n -= line + 1;
  }
}

void CriLogWriter::Close(LogStream stream, const timespec& now) {
  int s = static_cast<int>(stream);
  if (pending_len_[s] > 0) Emit(stream, false, pending_[s], pending_len_[s], now);
  pending_len_[s] = 0;
}

void CriLogWriter::Rotate() {
  char from[sizeof(path_) + 16], to[sizeof(path_) + 16];
  for (int i = max_files_ - 1; i >= 2; i--) {
    snprintf(from, sizeof(from), "%s.%d", path_, i - 1);
    snprintf(to, sizeof(to), "%s.%d", path_, i);
    rename(from, to);
  }
  close(fd_);
  if (max_files_ > 1) {
    snprintf(to, sizeof(to), "%s.1", path_);
    rename(path_, to);
  }
  fd_ = open(path_, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
  size_ = 0;
}

bool ParseCriLine(const std::string& line, CriRecord* out) {
  size_t a = line.find(' ');
  if (a == std::string::npos || a == 0) return false;
  size_t b = line.find(' ', a + 1);
  if (b == std::string::npos) return false;
  std::string stream = line.substr(a + 1, b - a - 1);
  if (stream != "stdout" && stream != "stderr") return false;
  // The tag field ends at the next space, or the line (an empty F line).
  size_t c = line.find(' ', b + 1);
  std::string tag = line.substr(b + 1, c == std::string::npos ? std::string::npos : c - b - 1);
  if (tag != "F" && tag != "P") return false;
  out->time = line.substr(0, a);
  out->stream = stream == "stdout" ? LogStream::kStdout : LogStream::kStderr;
  out->partial = tag == "P";
  out->content = c == std::string::npos ? "" : line.substr(c + 1);
  return true;
}

std::vector<std::string> CriLogFiles(const std::string& path, int max_files) {
  std::vector<std::string> out;
  for (int i = max_files - 1; i >= 1; i--) {
    std::string p = path + "." + std::to_string(i);
    if (access(p.c_str(), F_OK) == 0) out.push_back(p);
  }
  if (access(path.c_str(), F_OK) == 0) out.push_back(path);
  return out;
}

}  // namespace kubit::runtime::container
