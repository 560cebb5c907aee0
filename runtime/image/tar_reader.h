// TarReader: the entries of a tar stream, in the formats image layers and
// image archives use: ustar (with its name prefix), old v7, GNU long
// names and link names ('L', 'K'), and PAX extended headers ('x' per
// entry, 'g' for all that follow) with path, linkpath, size, uid, gid,
// mtime and SCHILY.xattr.* records. Names come back as stored; making them
// safe to write is the unpacker's job.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "runtime/image/reader.h"

namespace kubit::runtime::image {

struct TarEntry {
  enum Type : char {
    kRegular = '0',
    kHardlink = '1',
    kSymlink = '2',
    kCharDevice = '3',
    kBlockDevice = '4',
    kDirectory = '5',
    kFifo = '6',
  };
  std::string path;
  std::string linkname;  // hardlink or symlink target
  Type type = kRegular;
  int64_t size = 0;      // data bytes (regular files only)
  uint32_t mode = 0;     // permission bits with setuid/setgid/sticky
  int64_t uid = 0, gid = 0;
  int64_t mtime = 0;     // seconds
  int32_t mtime_nsec = 0;
  uint32_t devmajor = 0, devminor = 0;
  std::map<std::string, std::string> xattrs;
};

class TarReader {
 public:
  explicit TarReader(Reader* in) : in_(in) {}

  // The next entry. False at the end of the archive with *error empty, or
  // on a malformed or truncated archive with *error set.
  bool Next(TarEntry* entry, std::string* error);
  // The data of the entry Next returned last; *got == 0 once all is read.
  bool ReadData(char* buf, size_t n, size_t* got, std::string* error);

 private:
  bool ReadFull(char* buf, size_t n, std::string* error);
  bool Skip(int64_t n, std::string* error);
  bool ReadSmallData(int64_t size, std::string* out, std::string* error);

  Reader* in_;
  int64_t remaining_ = 0;  // unread data bytes of the current entry
  int64_t padding_ = 0;    // and the padding after them
  bool ended_ = false;
  std::map<std::string, std::string> global_pax_;
};

}  // namespace kubit::runtime::image
