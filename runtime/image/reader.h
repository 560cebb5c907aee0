// Reader: a pull stream of bytes, the one interface between files, the
// decompressors and the tar reader, so that a layer is read, decompressed,
// hashed and unpacked in one pass with a fixed amount of memory.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "runtime/image/digest.h"

namespace kubit::runtime::image {

class Reader {
 public:
  virtual ~Reader() = default;
  // Up to n bytes into buf; *got == 0 at the end of the stream. False with
  // *error when the stream is broken.
  virtual bool Read(char* buf, size_t n, size_t* got, std::string* error) = 0;
};

// Reads a file descriptor (owned: closed with the reader).
class FdReader : public Reader {
 public:
  explicit FdReader(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  ~FdReader() override;
  // Opens `path` read-only; nullptr with *error when it cannot.
  static std::unique_ptr<FdReader> Open(const std::string& path, std::string* error);
  bool Read(char* buf, size_t n, size_t* got, std::string* error) override;

 private:
  int fd_;
  std::string name_;
};

// Passes bytes through and hashes them, to check a digest once at the end.
class HashingReader : public Reader {
 public:
  explicit HashingReader(Reader* in) : in_(in) {}
  bool Read(char* buf, size_t n, size_t* got, std::string* error) override;
  std::string Digest() const { return hash_.Digest(); }
  int64_t bytes() const { return bytes_; }

 private:
  Reader* in_;
  Sha256 hash_;
  int64_t bytes_ = 0;
};

// Undoes gzip or zstd compression, chosen by the stream's magic bytes;
// any other stream passes as it is. A compressed stream that ends before
// its end marker is an error ("truncated").
class DecompressReader : public Reader {
 public:
  explicit DecompressReader(Reader* in);
  ~DecompressReader() override;
  bool Read(char* buf, size_t n, size_t* got, std::string* error) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads the whole stream, dropping the bytes.
bool Drain(Reader* in, std::string* error);

}  // namespace kubit::runtime::image
