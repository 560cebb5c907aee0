// Uint128 (the quantity printer's arithmetic on boards without __int128):
// 10^38 built by multiplication and taken apart again by division and
// remainder, products past 64 bits, borrows and carries.
#include <doctest/doctest.h>

#include <string>

#include "core/api/uint128.h"

namespace kubit::api {
namespace {

std::string Decimal(Uint128 v) {
  std::string s;
  do {
    s.insert(s.begin(), static_cast<char>('0' + (v % Uint128(10)).low64()));
    v /= Uint128(10);
  } while (v > Uint128(0));
  return s;
}

TEST_CASE("api uint128: powers of ten, products, quotients and remainders") {
  Uint128 p = 1;
  for (int i = 0; i < 38; i++) p *= Uint128(10);
  CHECK(Decimal(p) == "1" + std::string(38, '0'));
  Uint128 a = Uint128(123456789123456789ull) * Uint128(1000000007ull) + Uint128(77);
  CHECK(Decimal(a) == "123456789987654312864197600");  // 123456789123456789 * 1000000007 + 77
  CHECK(Decimal(a / Uint128(1000000007ull)) == "123456789123456789");
  CHECK((a % Uint128(1000000007ull)).low64() == 77);
  CHECK(Decimal(p / a) == "810000000891");
  CHECK(Decimal(Uint128::Pow2(100)) == "1267650600228229401496703205376");
  CHECK(Decimal(Uint128::Pow2(64) - Uint128(1)) == "18446744073709551615");
  CHECK(Uint128::Pow2(64) > Uint128(~0ull));
  CHECK(Uint128(5) - Uint128(7) + Uint128(2) == Uint128(0));  // wraps like unsigned
}

}  // namespace
}  // namespace kubit::api
