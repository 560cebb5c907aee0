// Uint128: the unsigned 128-bit arithmetic the quantity printer needs
// (mantissas up to 2^110, powers of ten up to 10^38), in plain 64-bit
// halves: GCC's __int128 does not exist on 32-bit ARM boards.
#pragma once

#include <stdint.h>

namespace kubit::api {

class Uint128 {
 public:
  Uint128(uint64_t v = 0) : hi_(0), lo_(v) {}  // NOLINT: converts like an integer
  static Uint128 Pow2(int n) {
    Uint128 r;
    if (n < 64) r.lo_ = uint64_t(1) << n;
    else r.hi_ = uint64_t(1) << (n - 64);
    return r;
  }

  friend bool operator==(const Uint128& a, const Uint128& b) { return a.hi_ == b.hi_ && a.lo_ == b.lo_; }
  friend bool operator!=(const Uint128& a, const Uint128& b) { return !(a == b); }
  friend bool operator<(const Uint128& a, const Uint128& b) { return a.hi_ != b.hi_ ? a.hi_ < b.hi_ : a.lo_ < b.lo_; }
  friend bool operator>(const Uint128& a, const Uint128& b) { return b < a; }
  friend bool operator>=(const Uint128& a, const Uint128& b) { return !(a < b); }

  friend Uint128 operator+(const Uint128& a, const Uint128& b) {
    Uint128 r;
    r.lo_ = a.lo_ + b.lo_;
    r.hi_ = a.hi_ + b.hi_ + (r.lo_ < a.lo_);
    return r;
  }
  friend Uint128 operator-(const Uint128& a, const Uint128& b) {
    Uint128 r;
    r.lo_ = a.lo_ - b.lo_;
    r.hi_ = a.hi_ - b.hi_ - (a.lo_ < b.lo_);
    return r;
  }
  // Modulo 2^128, as unsigned arithmetic wraps.
  friend Uint128 operator*(const Uint128& a, const Uint128& b) {
    Uint128 r = MulFull(a.lo_, b.lo_);
    r.hi_ += a.hi_ * b.lo_ + a.lo_ * b.hi_;
    return r;
  }
  friend Uint128 operator/(const Uint128& a, const Uint128& b) {
    Uint128 q, r;
    DivMod(a, b, &q, &r);
    return q;
  }
  friend Uint128 operator%(const Uint128& a, const Uint128& b) {
    Uint128 q, r;
    DivMod(a, b, &q, &r);
    return r;
  }
  Uint128& operator*=(const Uint128& b) { return *this = *this * b; }
  Uint128& operator/=(const Uint128& b) { return *this = *this / b; }

  // The value when it fits 64 bits (the printer's digits and remainders).
  uint64_t low64() const { return lo_; }

 private:
  // 64 x 64 -> 128 from 32-bit halves.
  static Uint128 MulFull(uint64_t a, uint64_t b) {
    uint64_t a0 = a & 0xffffffffu, a1 = a >> 32, b0 = b & 0xffffffffu, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
    Uint128 r;
    r.lo_ = (mid << 32) | (p00 & 0xffffffffu);
    r.hi_ = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
    return r;
  }
  // Shift-and-subtract long division; b must not be zero.
  static void DivMod(const Uint128& a, const Uint128& b, Uint128* q, Uint128* r) {
    *q = Uint128();
    *r = Uint128();
    for (int i = 127; i >= 0; --i) {
      r->hi_ = (r->hi_ << 1) | (r->lo_ >> 63);
      r->lo_ = (r->lo_ << 1) | ((i >= 64 ? a.hi_ >> (i - 64) : a.lo_ >> i) & 1);
      if (*r >= b) {
        *r = *r - b;
        if (i >= 64) q->hi_ |= uint64_t(1) << (i - 64);
        else q->lo_ |= uint64_t(1) << i;
      }
    }
  }

  uint64_t hi_, lo_;
};

}  // namespace kubit::api
