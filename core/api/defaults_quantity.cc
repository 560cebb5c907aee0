#include "core/api/defaults_quantity.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>

namespace kubit::api {

const char kQuantityFormatError[] =
    "quantities must match the regular expression "
    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Decimal digit strings as unsigned big integers.
std::string StripLeadingZeros(std::string s) {
  size_t i = 0;
  while (i + 1 < s.size() && s[i] == '0') i++;
  return s.substr(i);
}

std::string MulSmall(const std::string& a, uint32_t m) {
  std::string out(a.size() + 12, '0');
  uint64_t carry = 0;
  size_t pos = out.size();
  for (size_t i = a.size(); i-- > 0;) {
    uint64_t v = uint64_t(a[i] - '0') * m + carry;
    out[--pos] = char('0' + v % 10);
    carry = v / 10;
  }
  while (carry) {
    out[--pos] = char('0' + carry % 10);
    carry /= 10;
  }
  return StripLeadingZeros(out.substr(pos));
}

// a / d, returning the remainder.
std::string DivSmall(const std::string& a, uint32_t d, uint32_t* rem) {
  std::string out;
  uint64_t r = 0;
  for (char c : a) {
    r = r * 10 + uint64_t(c - '0');
    out += char('0' + r / d);
    r %= d;
  }
  *rem = uint32_t(r);
  return StripLeadingZeros(out);
}

std::string AddOne(std::string a) {
  for (size_t i = a.size(); i-- > 0;) {
    if (a[i] == '9') {
      a[i] = '0';
    } else {
      a[i]++;
      return a;
    }
  }
  return "1" + a;
}

// Compares unsigned digit strings without leading zeros.
int CmpDigits(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// Moves trailing zeros of the digits into the exponent.
void Normalize(Quantity* q) {
  q->digits = StripLeadingZeros(q->digits);
  if (q->digits == "0") {
    q->exp = 0;
    q->negative = false;
    return;
  }
  size_t n = q->digits.size();
  while (n > 1 && q->digits[n - 1] == '0') {
    n--;
    q->exp++;
  }
  q->digits.resize(n);
}

struct Suffix {
  const char* name;
  int base;  // 10 or 2
  int exp;
};
constexpr Suffix kSuffixes[] = {
    {"n", 10, -9},  {"u", 10, -6},  {"m", 10, -3},  {"", 10, 0},    {"k", 10, 3},
    {"M", 10, 6},   {"G", 10, 9},   {"T", 10, 12},  {"P", 10, 15},  {"E", 10, 18},
    {"Ki", 2, 10},  {"Mi", 2, 20},  {"Gi", 2, 30},  {"Ti", 2, 40},  {"Pi", 2, 50},
    {"Ei", 2, 60},
};

const char* DecimalSuffix(int e) {
  for (const Suffix& s : kSuffixes)
    if (s.base == 10 && s.exp == e) return s.name;
  return nullptr;
}

}  // namespace

std::optional<Quantity> ParseQuantity(const std::string& str) {
  if (str.empty()) return std::nullopt;
  size_t pos = 0, end = str.size();
  bool positive = true;
  if (str[0] == '-') {
    positive = false;
    pos++;
  } else if (str[0] == '+') {
    pos++;
  }
  while (pos < end && str[pos] == '0') pos++;
  std::string num, denom, suffix;
  size_t start = pos;
  while (pos < end && IsDigit(str[pos])) pos++;
  num = str.substr(start, pos - start);
  if (num.empty()) num = "0";
  if (pos < end && str[pos] == '.') {
    pos++;
    start = pos;
    while (pos < end && IsDigit(str[pos])) pos++;
    denom = str.substr(start, pos - start);
  }
  // The suffix: letters, then an optional sign and digits.
  size_t suffix_start = pos;
  while (pos < end && std::string_view("eEinumkKMGTP").find(str[pos]) != std::string_view::npos) pos++;
  if (pos < end && (str[pos] == '-' || str[pos] == '+')) pos++;
  while (pos < end && IsDigit(str[pos])) pos++;
  if (pos != end) return std::nullopt;
  suffix = str.substr(suffix_start);

  int base = 0, exponent = 0;
  Quantity::Format format = Quantity::Format::kDecimalSI;
  for (const Suffix& s : kSuffixes) {
    if (suffix == s.name) {
      base = s.base;
      exponent = s.exp;
      format = s.base == 2 ? Quantity::Format::kBinarySI : Quantity::Format::kDecimalSI;
    }
  }
  if (base == 0) {
    if (suffix.size() > 1 && (suffix[0] == 'e' || suffix[0] == 'E')) {
      std::string e = suffix.substr(1);
      size_t i = (e[0] == '-' || e[0] == '+') ? 1 : 0;
      // Exponents beyond any real quantity are not read (they would only
      // make digit strings of absurd length).
      if (i >= e.size() || e.size() - i > 4) return std::nullopt;
      for (size_t j = i; j < e.size(); j++)
        if (!IsDigit(e[j])) return std::nullopt;
      base = 10;
      exponent = std::stoi(e);
      format = Quantity::Format::kDecimalExponent;
    } else {
      return std::nullopt;
    }
  }

  Quantity q;
  q.negative = !positive;
  q.format = format;
  q.digits = StripLeadingZeros(num + denom);
  q.exp = -int32_t(denom.size());
  if (base == 10) {
    q.exp += exponent;
  } else {
    for (int i = 0; i < exponent / 10; i++) q.digits = MulSmall(q.digits, 1024);
  }
  Normalize(&q);
  if (q.digits.size() > 200) return std::nullopt;
  // No precision below nano.
  q.RoundUp(-9);
  if (q.format == Quantity::Format::kBinarySI && !q.IsZero()) {
    Quantity one;
    one.digits = "1";
    if (CompareQuantity(q, one) < 0 && q.Sign() > 0) q.format = Quantity::Format::kDecimalSI;
  }
  return q;
}

std::optional<Quantity> QuantityFromJson(const nlohmann::json& v) {
  if (v.is_string()) return ParseQuantity(v.get<std::string>());
  if (v.is_number()) return ParseQuantity(v.dump());
  return std::nullopt;
}

void Quantity::RoundUp(int32_t scale) {
  if (IsZero() || exp >= scale) return;
  size_t drop = size_t(scale - exp);
  if (digits.size() <= drop) {
    digits = "1";
  } else {
    std::string kept = digits.substr(0, digits.size() - drop);
    bool rest_nonzero = digits.find_first_not_of('0', digits.size() - drop) != std::string::npos;
    digits = rest_nonzero ? AddOne(kept) : kept;
  }
  exp = scale;
  Normalize(this);
}

int CompareQuantity(const Quantity& a, const Quantity& b) {
  if (a.Sign() != b.Sign()) return a.Sign() < b.Sign() ? -1 : 1;
  if (a.Sign() == 0) return 0;
  // Same sign: compare magnitudes at a common exponent.
  int32_t e = std::min(a.exp, b.exp);
  std::string da = a.digits + std::string(size_t(a.exp - e), '0');
  std::string db = b.digits + std::string(size_t(b.exp - e), '0');
  int c = CmpDigits(da, db);
  return a.negative ? -c : c;
}

std::string Quantity::String() const {
  if (IsZero()) return "0";
  Format f = format;
  if (f == Format::kBinarySI) {
    Quantity lim;
    lim.digits = "1024";
    Normalize(&lim);
    Quantity abs = *this;
    abs.negative = false;
    if (CompareQuantity(abs, lim) < 0 || !IsInteger()) f = Format::kDecimalSI;
  }
  std::string sign = negative ? "-" : "";
  if (f == Format::kBinarySI) {
    std::string n = digits + std::string(size_t(exp), '0');
    int k = 0;
    while (true) {
      uint32_t rem = 0;
      std::string d = DivSmall(n, 1024, &rem);
      if (rem != 0 || d == "0") break;
      n = d;
      k++;
    }
    static const char* kBin[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    return sign + n + (k <= 6 ? kBin[k] : "");
  }
  int32_t e = exp;
  std::string m = digits;
  int r = ((e % 3) + 3) % 3;
  m += std::string(size_t(r), '0');
  e -= r;
  if (f == Format::kDecimalExponent) return sign + m + (e == 0 ? "" : "e" + std::to_string(e));
  const char* s = DecimalSuffix(e);
  return sign + m + (s ? s : "");
}

bool Quantity::ToInt64(int64_t* out) const {
  if (exp > 19) return false;
  std::string n;
  if (exp >= 0) {
    n = digits + std::string(size_t(exp), '0');
  } else if (digits.size() > size_t(-exp)) {
    n = digits.substr(0, digits.size() - size_t(-exp));
  } else {
    n = "0";
  }
  if (CmpDigits(n, "9223372036854775807") > 0) return false;
  int64_t v = std::stoll(n);
  *out = negative ? -v : v;
  return true;
}

std::string Quantity::GoSyntax() const {
  int64_t value = 0;
  int32_t scale = 0;
  const char* fmt = format == Format::kBinarySI   ? "BinarySI"
                    : format == Format::kDecimalSI ? "DecimalSI"
                                                   : "DecimalExponent";
  if (format == Format::kBinarySI && IsInteger()) {
    ToInt64(&value);
  } else if (!IsZero()) {
    int32_t e = exp;
    std::string m = digits;
    int r = ((e % 3) + 3) % 3;
    m += std::string(size_t(r), '0');
    e -= r;
    if (CmpDigits(m, "9223372036854775807") <= 0) value = std::stoll(m) * (negative ? -1 : 1);
    scale = e;
  }
  return "resource.Quantity{i:resource.int64Amount{value:" + std::to_string(value) +
         ", scale:" + std::to_string(scale) +
         "}, d:resource.infDecAmount{Dec:(*inf.Dec)(nil)}, s:\"\", Format:\"" + fmt + "\"}";
}

}  // namespace kubit::api
