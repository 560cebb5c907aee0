// Ipam: which address of a node's pod CIDR each sandbox holds. One record
// file per address (<dir>/<a.b.c.d>, the owner's sandbox id inside), put
// in place with link(2) from a fully written temporary file, so a record
// is either whole or absent and a name can never be given twice, even
// across a kill -9. What a crash can leave (a record whose sandbox never
// got its network, or whose sandbox is gone) is found by Reconcile.
// Not thread-safe: the pod network calls it under its own lock.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "net/ipam_ipv4.h"

namespace kubit::net {

class Ipam {
 public:
  // Reads the records in `dir` (made when missing) and removes temporary
  // files that a crash left. `range` must be a /30 or wider.
  static bool Open(const std::string& dir, const Ipv4Prefix& range, std::unique_ptr<Ipam>* out,
                   std::string* error);

  const Ipv4Prefix& range() const { return range_; }
  // The first address of the range: the node's bridge, never handed out
  // (nor are the network and broadcast addresses).
  uint32_t gateway() const { return range_.addr + 1; }

  // The owner's address; a new one, the next free after the last given
  // (so a released address is not reused at once), when it holds none.
  bool Allocate(const std::string& owner, uint32_t* ip, std::string* error);
  bool Lookup(const std::string& owner, uint32_t* ip) const;
  // Frees the owner's address; an owner without one is fine.
  bool Release(const std::string& owner, std::string* error);
  // Frees the addresses of owners that `alive` says are gone, and of
  // records outside the range (the node's podCIDR changed). *released
  // (may be null) gets their owners.
  bool Reconcile(const std::function<bool(const std::string& owner)>& alive,
                 std::vector<std::string>* released, std::string* error);
  // owner -> address.
  const std::map<std::string, uint32_t>& allocations() const { return by_owner_; }

 private:
  Ipam(std::string dir, Ipv4Prefix range) : dir_(std::move(dir)), range_(range) {}
  bool Claim(uint32_t ip, const std::string& owner, bool* taken, std::string* error);

  std::string dir_;
  Ipv4Prefix range_;
  std::map<std::string, uint32_t> by_owner_;
  std::map<uint32_t, std::string> by_ip_;
  uint32_t last_ = 0;
};

}  // namespace kubit::net
