#include "runtime/container/user.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

namespace kubit::runtime::container {
namespace {

struct Entry {
  std::vector<std::string> fields;
};

// Lines of name:x:...; comments and blank lines skipped.
std::vector<Entry> ParseColonFile(const std::string& text) {
  std::vector<Entry> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    if (line.empty() || line[0] == '#') continue;
    Entry e;
    size_t start = 0;
    while (true) {
      size_t c = line.find(':', start);
      e.fields.push_back(line.substr(start, c == std::string::npos ? std::string::npos : c - start));
      if (c == std::string::npos) break;
      start = c + 1;
    }
    out.push_back(std::move(e));
  }
  return out;
}

bool ParseId(const std::string& s, unsigned long* out) {
  if (s.empty() || s.size() > 10) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  *out = strtoul(s.c_str(), nullptr, 10);
  return *out <= 0xFFFFFFFEul;  // (uid_t)-1 means "unchanged" to the kernel
}

bool ReadSmallFile(const char* path, std::string* out) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0 && out->size() < (4 << 20)) out->append(buf, n);
  close(fd);
  return n >= 0;
}

}  // namespace

bool ResolveUser(const std::string& user, const std::string& passwd, const std::string& group,
                 ResolvedUser* out, std::string* error) {
  ResolvedUser r;
  std::string user_part = user, group_part;
  if (size_t c = user.find(':'); c != std::string::npos) {
    user_part = user.substr(0, c);
    group_part = user.substr(c + 1);
    if (group_part.empty()) {
      *error = "user \"" + user + "\": empty group";
      return false;
    }
  }
  if (user_part.empty()) user_part = "0";
  std::vector<Entry> users = ParseColonFile(passwd), groups = ParseColonFile(group);

  unsigned long id;
  std::string user_name;
  bool numeric_user = ParseId(user_part, &id);
  const Entry* pw = nullptr;
  for (const auto& e : users) {
    if (e.fields.size() < 4) continue;
    unsigned long uid;
    if (numeric_user ? (ParseId(e.fields[2], &uid) && uid == id) : e.fields[0] == user_part) {
      pw = &e;
      break;
    }
  }
  if (pw) {
    unsigned long uid, gid;
    if (!ParseId(pw->fields[2], &uid) || !ParseId(pw->fields[3], &gid)) {
      *error = "user \"" + user_part + "\": bad /etc/passwd entry";
      return false;
    }
    r.uid = uid;
    r.gid = gid;
    user_name = pw->fields[0];
    if (pw->fields.size() > 5 && !pw->fields[5].empty()) r.home = pw->fields[5];
  } else if (numeric_user) {
    r.uid = id;
    r.gid = 0;
  } else {
    *error = "unable to find user " + user_part + ": no matching entries in passwd file";
    return false;
  }

  if (!group_part.empty()) {
    bool numeric_group = ParseId(group_part, &id);
    bool found = false;
    for (const auto& e : groups) {
      unsigned long gid;
      if (e.fields.size() < 3 || !ParseId(e.fields[2], &gid)) continue;
      if (numeric_group ? gid == id : e.fields[0] == group_part) {
        r.gid = gid;
        found = true;
        break;
      }
    }
    if (!found && numeric_group) {
      r.gid = id;
    } else if (!found) {
      *error = "unable to find group " + group_part + ": no matching entries in group file";
      return false;
    }
  }

  // Supplementary groups come from membership lists, and only when the user
  // has a name to be listed under (and no explicit group overrides them, as
  // runc: an explicit group still keeps the memberships).
  if (!user_name.empty()) {
    for (const auto& e : groups) {
      unsigned long gid;
      if (e.fields.size() < 4 || !ParseId(e.fields[2], &gid) || gid == r.gid) continue;
      const std::string& members = e.fields[3];
      size_t start = 0;
      while (start <= members.size()) {
        size_t c = members.find(',', start);
        std::string m = members.substr(start, c == std::string::npos ? std::string::npos : c - start);
        if (m == user_name) {
          r.groups.push_back(gid);
          break;
        }
        if (c == std::string::npos) break;
        start = c + 1;
      }
    }
  }
  *out = std::move(r);
  return true;
}

bool ResolveUserInRoot(const std::string& user, ResolvedUser* out, std::string* error) {
  std::string passwd, group;
  ReadSmallFile("/etc/passwd", &passwd);
  ReadSmallFile("/etc/group", &group);
  return ResolveUser(user, passwd, group, out, error);
}

}  // namespace kubit::runtime::container
