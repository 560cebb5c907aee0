// resource.Quantity as the API server reads and writes it: "500m", "1Gi",
// "1e3". Parsing keeps the exact decimal value (a digit string and a power
// of ten), so canonical printing and comparisons match upstream for every
// value a manifest can hold. Defaulting rewrites every quantity to its
// canonical form ("0.5" -> "500m", "1.5Gi" -> "1536Mi", "1000" -> "1k");
// validation compares and prints quantities with it.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <cstdint>
#include <optional>
#include <string>

namespace kubit::api {

struct Quantity {
  enum class Format { kDecimalExponent, kBinarySI, kDecimalSI };
  bool negative = false;
  std::string digits = "0";  // no leading zeros, no trailing zeros ("0" for zero)
  int32_t exp = 0;           // value = digits * 10^exp
  Format format = Format::kDecimalSI;

  bool IsZero() const { return digits == "0"; }
  int Sign() const { return IsZero() ? 0 : (negative ? -1 : 1); }
  // True when the value has no fractional part.
  bool IsInteger() const { return IsZero() || exp >= 0; }
  // The canonical string, as Quantity.String() prints it.
  std::string String() const;
  // Rounds away from zero to a multiple of 10^scale (scale -3: milli).
  void RoundUp(int32_t scale);
  // The value as int64 (truncated toward zero); false when it does not fit.
  bool ToInt64(int64_t* out) const;
  // Go's %#v of the value, for the few errors that print a whole Quantity.
  std::string GoSyntax() const;
};

// Parses a quantity string ("100m", "1.5Gi", "1e3"); nullopt if malformed.
std::optional<Quantity> ParseQuantity(const std::string& s);
// A quantity from JSON: a string, or a number as Go's decoder accepts it.
std::optional<Quantity> QuantityFromJson(const nlohmann::json& v);
// -1, 0, 1.
int CompareQuantity(const Quantity& a, const Quantity& b);

// The regular expression upstream names when a quantity does not parse.
extern const char kQuantityFormatError[];

}  // namespace kubit::api
