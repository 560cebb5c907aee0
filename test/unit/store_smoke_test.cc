#include <doctest/doctest.h>
#include <unistd.h>

#include "store/store.h"

TEST_CASE("store opens, writes and reads back") {
  char dir[] = "/tmp/kubit-smoke-XXXXXX";
  REQUIRE(mkdtemp(dir));
  kubit::store::Options o;
  o.path = std::string(dir) + "/state.db";
  std::unique_ptr<kubit::store::Store> st;
  REQUIRE(kubit::store::Store::Open(o, &st).ok());
  kubit::store::KeyValue kv;
  REQUIRE(st->Create("/a", "1", {}, &kv).ok());
  CHECK(kv.mod_revision == 1);
  kubit::store::KeyValue got;
  REQUIRE(st->Get("/a", &got).ok());
  CHECK(got.value == "1");
  st.reset();
  system((std::string("rm -rf ") + dir).c_str());
}
