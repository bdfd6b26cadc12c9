// qmath/quant_range.hpp - QuantRange, the inclusive range [qmin, qmax] of a quantized integer type, and the ranges
// of the storage types (full, narrow, any bit width).
#pragma once

#include <cstdint>
#include <limits>
#include <type_traits>

#include <qmath/config.hpp>

namespace qmath {

// An inclusive range of quantized integers [qmin, qmax], e.g. [-128, 127] for int8, [-127, 127] for TensorRT's
// narrow int8, [0, 255] for uint8, [-8, 7] for int4 stored in int8.
struct QuantRange {
  std::int32_t qmin;
  std::int32_t qmax;
};

namespace detail {
// The limits of an integer storage type that int32 holds whole (int8, uint8, int16, uint16, int32), as int32
// constants (static data, so device code reads them as well).
template <class T>
struct int_limits {
  static_assert(std::is_integral<T>::value && !std::is_same<T, bool>::value &&
                    (sizeof(T) < sizeof(std::int32_t) || (sizeof(T) == sizeof(std::int32_t) && std::is_signed<T>::value)),
                "int_limits: an integer type whose whole range int32 holds");
  static constexpr std::int32_t min = static_cast<std::int32_t>(std::numeric_limits<T>::min());
  static constexpr std::int32_t max = static_cast<std::int32_t>(std::numeric_limits<T>::max());
};
}  // namespace detail

// The whole range of a storage type T (int8, uint8, int16, uint16).
template <class T>
QMATH_HOST_DEVICE constexpr QuantRange full_range() {
  return {detail::int_limits<T>::min, detail::int_limits<T>::max};
}

// The symmetric "narrow" range of a signed type: [-127, 127] for int8 (TensorRT, TFLite weights). For an unsigned
// type it is the full range.
template <class T>
QMATH_HOST_DEVICE constexpr QuantRange narrow_range() {
  return {detail::int_limits<T>::min < 0 ? detail::int_limits<T>::min + 1 : 0, detail::int_limits<T>::max};
}

// The range of a `bits`-wide integer (1 <= bits <= 16): signed [-2^(b-1), 2^(b-1)-1] (or +1 on the low end when
// narrow), unsigned [0, 2^b - 1]. For sub-byte formats stored in a wider type, e.g. int4 as int8.
QMATH_HOST_DEVICE constexpr QuantRange bit_range(int bits, bool is_signed, bool narrow = false) {
  return is_signed ? QuantRange{-(std::int32_t(1) << (bits - 1)) + (narrow ? 1 : 0), (std::int32_t(1) << (bits - 1)) - 1}
                   : QuantRange{0, (std::int32_t(1) << bits) - 1};
}

}  // namespace qmath
