#include "net/ipam.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace kubit::net {

namespace {

constexpr const char* kTempPrefix = ".tmp-";

bool SyncDir(const std::string& dir, std::string* error) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) != 0) {
    *error = "fsync " + dir + ": " + strerror(errno);
    if (fd >= 0) close(fd);
    return false;
  }
  close(fd);
  return true;
}

}  // namespace

bool Ipam::Open(const std::string& dir, const Ipv4Prefix& range, std::unique_ptr<Ipam>* out,
                std::string* error) {
  if (range.len > 30) {
    *error = "pod CIDR " + range.String() + " is too small (want /30 or wider)";
    return false;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    *error = "mkdir " + dir + ": " + ec.message();
    return false;
  }
  std::unique_ptr<Ipam> ipam(new Ipam(dir, range));
  ipam->last_ = range.addr + 1;
  DIR* d = opendir(dir.c_str());
  if (!d) {
    *error = "opendir " + dir + ": " + strerror(errno);
    return false;
  }
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string path = dir + "/" + name;
    if (name.rfind(kTempPrefix, 0) == 0) {
      unlink(path.c_str());  // a claim a crash interrupted before link(2)
      continue;
    }
    uint32_t ip;
    if (!ParseIpv4(name, &ip)) continue;
    std::ifstream in(path);
    std::string owner;
    std::getline(in, owner);
    if (owner.empty()) continue;
    ipam->by_owner_[owner] = ip;
    ipam->by_ip_[ip] = owner;
  }
  closedir(d);
  *out = std::move(ipam);
  return true;
}

bool Ipam::Lookup(const std::string& owner, uint32_t* ip) const {
  auto it = by_owner_.find(owner);
  if (it == by_owner_.end()) return false;
  *ip = it->second;
  return true;
}

bool Ipam::Claim(uint32_t ip, const std::string& owner, bool* taken, std::string* error) {
  *taken = false;
  std::string final_path = dir_ + "/" + FormatIpv4(ip);
  std::string tmp = dir_ + "/" + kTempPrefix + FormatIpv4(ip) + "-" + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "open " + tmp + ": " + strerror(errno);
    return false;
  }
  std::string body = owner + "\n";
  bool ok = write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size()) && fsync(fd) == 0;
  int saved = errno;
  close(fd);
  if (!ok) {
    unlink(tmp.c_str());
    *error = "write " + tmp + ": " + strerror(saved);
    return false;
  }
  // link(2) fails when the name exists: the claim is exclusive and whole.
  int rc = link(tmp.c_str(), final_path.c_str());
  saved = errno;
  unlink(tmp.c_str());
  if (rc != 0) {
    if (saved == EEXIST) {
      *taken = true;
      return true;
    }
    *error = "link " + final_path + ": " + strerror(saved);
    return false;
  }
  return SyncDir(dir_, error);
}

bool Ipam::Allocate(const std::string& owner, uint32_t* ip, std::string* error) {
  if (owner.empty() || owner.find('\n') != std::string::npos) {
    *error = "invalid address owner \"" + owner + "\"";
    return false;
  }
  if (Lookup(owner, ip)) return true;
  uint32_t first = range_.addr + 2, last = range_.addr + static_cast<uint32_t>(range_.size()) - 2;
  uint32_t n = last - first + 1;
  uint32_t start = (last_ >= first && last_ <= last) ? last_ - first + 1 : 0;
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t candidate = first + (start + i) % n;
    if (by_ip_.count(candidate)) continue;
    bool taken;
    if (!Claim(candidate, owner, &taken, error)) return false;
    if (taken) continue;  // a record this process did not load: leave it be
    by_owner_[owner] = candidate;
    by_ip_[candidate] = owner;
    last_ = candidate;
    *ip = candidate;
    return true;
  }
  *error = "no free address in pod CIDR " + range_.String() + " (" + std::to_string(by_ip_.size()) +
           " in use)";
  return false;
}

bool Ipam::Release(const std::string& owner, std::string* error) {
  auto it = by_owner_.find(owner);
  if (it == by_owner_.end()) return true;
  std::string path = dir_ + "/" + FormatIpv4(it->second);
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    *error = "unlink " + path + ": " + strerror(errno);
    return false;
  }
  by_ip_.erase(it->second);
  by_owner_.erase(it);
  return true;
}

bool Ipam::Reconcile(const std::function<bool(const std::string&)>& alive, std::vector<std::string>* released,
                     std::string* error) {
  std::vector<std::string> gone;
  for (const auto& [owner, ip] : by_owner_)
    if (!range_.Contains(ip) || !alive(owner)) gone.push_back(owner);
  for (const std::string& owner : gone) {
    if (!Release(owner, error)) return false;
    if (released) released->push_back(owner);
  }
  return true;
}

}  // namespace kubit::net
