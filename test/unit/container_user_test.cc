// Unit tests of runtime/container/user.h: users and groups from a rootfs's
// /etc/passwd and /etc/group, as Docker and runc resolve them.
#include <doctest/doctest.h>

#include "runtime/container/user.h"

namespace {

using kubit::runtime::container::ResolvedUser;
using kubit::runtime::container::ResolveUser;

const char* kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "# a comment\n"
    "app:x:1000:1000:App:/home/app:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const char* kGroup =
    "root:x:0:\n"
    "app:x:1000:\n"
    "staff:x:50:app,other\n"
    "video:x:44:other,app\n"
    "nogroup:x:65534:\n";

}  // namespace

TEST_CASE("container user: empty means root with its home") {
  ResolvedUser u;
  std::string error;
  REQUIRE(ResolveUser("", kPasswd, kGroup, &u, &error));
  CHECK(u.uid == 0);
  CHECK(u.gid == 0);
  CHECK(u.home == "/root");
  CHECK(u.groups.empty());
}

TEST_CASE("container user: a name gives its ids, home and memberships") {
  ResolvedUser u;
  std::string error;
  REQUIRE(ResolveUser("app", kPasswd, kGroup, &u, &error));
  CHECK(u.uid == 1000);
  CHECK(u.gid == 1000);
  CHECK(u.home == "/home/app");
  CHECK(u.groups == std::vector<gid_t>{50, 44});
}

TEST_CASE("container user: numeric ids need no entry") {
  ResolvedUser u;
  std::string error;
  REQUIRE(ResolveUser("4242:4343", kPasswd, kGroup, &u, &error));
  CHECK(u.uid == 4242);
  CHECK(u.gid == 4343);
  CHECK(u.home == "/");
  REQUIRE(ResolveUser("4242", "", "", &u, &error));
  CHECK(u.gid == 0);
  // A known uid takes its passwd entry's gid and home.
  REQUIRE(ResolveUser("1000", kPasswd, kGroup, &u, &error));
  CHECK(u.gid == 1000);
  CHECK(u.home == "/home/app");
}

TEST_CASE("container user: a group by name or number overrides the primary group") {
  ResolvedUser u;
  std::string error;
  REQUIRE(ResolveUser("app:staff", kPasswd, kGroup, &u, &error));
  CHECK(u.uid == 1000);
  CHECK(u.gid == 50);
  CHECK(u.groups == std::vector<gid_t>{44});
  REQUIRE(ResolveUser("nobody:7", kPasswd, kGroup, &u, &error));
  CHECK(u.uid == 65534);
  CHECK(u.gid == 7);
}

TEST_CASE("container user: unknown names and bad forms are errors") {
  ResolvedUser u;
  std::string error;
  CHECK_FALSE(ResolveUser("ghost", kPasswd, kGroup, &u, &error));
  CHECK(error.find("unable to find user ghost") != std::string::npos);
  CHECK_FALSE(ResolveUser("app:ghosts", kPasswd, kGroup, &u, &error));
  CHECK(error.find("unable to find group ghosts") != std::string::npos);
  CHECK_FALSE(ResolveUser("app:", kPasswd, kGroup, &u, &error));
  // (uid_t)-1 means "leave unchanged" to setuid: refused.
  CHECK_FALSE(ResolveUser("4294967295", "", "", &u, &error));
}
