// qmath/cpu/detail/pack.hpp - operand packing for the CPU INT8 GEMM.
//
// Every kernel computes raw dot products of an unsigned 8-bit A' with a signed 8-bit B' (the operand order of
// VPDPBUSD). The stored operands are moved into those ranges by a constant offset, folded into the zero points:
//   A' = a + off_a,  za' = za + off_a,  off_a = 128 for int8 A, 0 for uint8 A   (A' in [0, 255])
//   B' = b + off_b,  zb' = zb + off_b,  off_b = -128 for uint8 B, 0 for int8 B  (B' in [-128, 127])
// (a - za)(b - zb) = (A' - za')(B' - zb'), so with dot = sum_k A'B', rowsum = sum_k A', colsum = sum_k B':
//   acc = dot + row_comp[m] + col_comp[n],  row_comp = -zb' * rowsum,  col_comp = -za' * colsum + K * za' * zb'
// all in wrapping 32-bit arithmetic. The partial sums may wrap (K * 255 * 128 exceeds 2^31 for large K) but the
// result is exact modulo 2^32, hence exact whenever the true accumulator fits in int32, which
// qmath::validate (gemm_args.hpp) guarantees by bounding K.
//
// Packed B (kNr = 32 columns per panel, K in groups of kKGroup = 4): panel p, group g, column j, byte t holds
// B'[4g + t][32p + j] at offset (p * kgroups + g) * 128 + 4j + t. One 64-byte load is 16 columns x 4 k: exactly one
// 512-bit VPDPBUSD operand. Rows k >= K and columns n >= N are zero, so they add nothing.
// The AVX2 exact kernel takes B' widened to int16 once, here (BPackLayout::kInt16K2): panel p, k pair h (= 2g + t/2),
// column j, element t%2 holds B'[2h + t%2][32p + j] at int16 offset (p * kgroups * 2 + h) * 64 + 2j + t%2, so one
// 32-byte load is 8 columns x 2 k: exactly one VPMADDWD operand whose int32 lanes are whole columns. Both layouts
// hold the same values with the same zero padding; widen_packed_b / narrow_packed_b convert one into the other.
// Packed A (kMr = 12 rows per panel): group g, row r, element t holds A'[r][4g + t] at (g * 12 + r) * 4 + t; the
// AVX2 path stores int16 elements (widened once here rather than in the inner loop), the others uint8.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

#include <qmath/gemm_reference.hpp>

namespace qmath {
namespace cpu {
namespace detail {

// Storage of the B operand as packing reads it: a row-major K x N view (kKxN) or a column-major one (kNxK: N rows of
// K contiguous values).
enum class BLayout { kKxN, kNxK };

constexpr int kNr = 32;     // columns per packed B panel and per micro-tile
constexpr int kMr = 12;     // rows per packed A panel and per micro-tile
constexpr int kKGroup = 4;  // consecutive k per 32-bit group

template <class TA>
constexpr std::int32_t a_offset() {
  return std::is_same<TA, std::int8_t>::value ? 128 : 0;
}
template <class TB>
constexpr std::int32_t b_offset() {
  return std::is_same<TB, std::uint8_t>::value ? -128 : 0;
}

// A' byte for a stored A value (a + off_a as uint8: flipping the sign bit of an int8 adds 128).
template <class TA>
inline std::uint8_t a_prime(TA a) {
  return static_cast<std::uint8_t>(static_cast<std::uint8_t>(a) ^ static_cast<std::uint8_t>(a_offset<TA>()));
}
// B' byte for a stored B value (uint8 - 128 as int8).
template <class TB>
inline std::int8_t b_prime(TB b) {
  return static_cast<std::int8_t>(static_cast<std::int32_t>(b) + b_offset<TB>());
}

inline int ceil_div(int a, int b) { return (a + b - 1) / b; }

// A 64-byte aligned, uninitialised byte buffer.
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t bytes) : size_(bytes) {
    if (bytes) data_ = static_cast<unsigned char*>(::operator new(bytes, std::align_val_t(64)));
  }
  AlignedBuffer(const AlignedBuffer& o) : AlignedBuffer(o.size_) {
    if (size_) std::memcpy(data_, o.data_, size_);
  }
  AlignedBuffer(AlignedBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  AlignedBuffer& operator=(AlignedBuffer o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    return *this;
  }
  ~AlignedBuffer() {
    if (data_) ::operator delete(data_, std::align_val_t(64));
  }
  template <class T>
  T* as() const {
    return reinterpret_cast<T*>(data_);
  }
  std::size_t size() const { return size_; }

 private:
  unsigned char* data_ = nullptr;
  std::size_t size_ = 0;
};

// Packs B (K x N, either layout) into panels as described above and writes the column sums of B' (N entries, zero
// beyond N up to the padded width). dst holds ceil(N/32) * ceil(K/4) * 128 bytes.
template <class TB>
void pack_b(int k, int n, const TB* b, std::int64_t ldb, BLayout layout, std::int8_t* dst, std::int32_t* col_sum) {
  const int kgroups = ceil_div(k, kKGroup), panels = ceil_div(n, kNr);
  std::memset(dst, 0, std::size_t(panels) * kgroups * kNr * kKGroup);
  for (int p = 0; p < panels; ++p) {
    std::int8_t* panel = dst + std::size_t(p) * kgroups * kNr * kKGroup;
    const int j_end = n - p * kNr < kNr ? n - p * kNr : kNr;
    for (int j = 0; j < kNr; ++j) col_sum[p * kNr + j] = 0;
    if (layout == BLayout::kNxK) {
      // K-contiguous source: whole 4-byte groups; uint8 -> B' = b - 128 is a flip of the sign bit.
      constexpr std::uint32_t flip = b_offset<TB>() ? 0x80808080u : 0u;
      const int kfull = k / kKGroup;
      for (int j = 0; j < j_end; ++j) {
        const TB* src = b + std::int64_t(p * kNr + j) * ldb;
        std::int32_t sum = 0;
        for (int kk = 0; kk < k; ++kk) sum += src[kk];
        col_sum[p * kNr + j] = sum + b_offset<TB>() * k;
        std::int8_t* out = panel + j * kKGroup;
        for (int g = 0; g < kfull; ++g) {
          std::uint32_t v;
          std::memcpy(&v, src + g * kKGroup, sizeof(v));
          v ^= flip;
          std::memcpy(out + g * (kNr * kKGroup), &v, sizeof(v));
        }
        for (int kk = kfull * kKGroup; kk < k; ++kk) out[kfull * (kNr * kKGroup) + kk % kKGroup] = b_prime(src[kk]);
      }
    } else {
      for (int kk = 0; kk < k; ++kk) {
        const TB* src = b + std::int64_t(kk) * ldb + p * kNr;
        std::int8_t* row = panel + (kk / kKGroup) * (kNr * kKGroup) + kk % kKGroup;
        for (int j = 0; j < j_end; ++j) {
          const std::int8_t v = b_prime(src[j]);
          row[j * kKGroup] = v;
          col_sum[p * kNr + j] += v;
        }
      }
    }
  }
}

// Layout of a packed B (see above). Every path runs on kInt8K4; the AVX2 path runs kInt16K2 too, the AArch64 I8MM
// path kInt8K8 only.
enum class BPackLayout {
  kInt8K4,   // int8, 4 consecutive k per column (VPDPBUSD / VPMADDUBSW / SDOT operand)
  kInt8K8,   // int8, 8 consecutive k per column, pairs of groups interleaved (SMMLA / USMMLA operand, see below)
  kInt16K2,  // int16, 2 consecutive k per column (VPMADDWD operand)
};

// The 8-k form (kInt8K8 for B, the I8MM path's A panels): in each pair of groups (2h, 2h + 1) of a panel, lane w
// (a column of B, a row of A) holds its 8 values k = 8h .. 8h + 7 contiguously, at byte (2h * width + 8w + t) of the
// panel for width lanes per group; an odd last group stays in the 4-k form. So 16 bytes hold 2 lanes x 8 k: one
// SMMLA / USMMLA operand (2 rows of A or 2 columns of B). Same size, same zero padding as the 4-k form; the two
// functions below convert the `groups` groups of `width` lanes of one panel in place.
inline void groups_k4_to_k8(int width, int groups, void* panel) {
  unsigned char* p = static_cast<unsigned char*>(panel);
  unsigned char tmp[2 * kNr * kKGroup];
  const std::size_t pair_bytes = std::size_t(2) * width * kKGroup;
  for (int g = 0; g + 1 < groups; g += 2, p += pair_bytes) {
    std::memcpy(tmp, p, pair_bytes);
    for (int w = 0; w < width; ++w) {
      std::memcpy(p + 8 * w, tmp + kKGroup * w, kKGroup);
      std::memcpy(p + 8 * w + kKGroup, tmp + std::size_t(width) * kKGroup + kKGroup * w, kKGroup);
    }
  }
}
inline void groups_k8_to_k4(int width, int groups, void* panel) {
  unsigned char* p = static_cast<unsigned char*>(panel);
  unsigned char tmp[2 * kNr * kKGroup];
  const std::size_t pair_bytes = std::size_t(2) * width * kKGroup;
  for (int g = 0; g + 1 < groups; g += 2, p += pair_bytes) {
    std::memcpy(tmp, p, pair_bytes);
    for (int w = 0; w < width; ++w) {
      std::memcpy(p + kKGroup * w, tmp + 8 * w, kKGroup);
      std::memcpy(p + std::size_t(width) * kKGroup + kKGroup * w, tmp + 8 * w + kKGroup, kKGroup);
    }
  }
}

inline std::size_t packed_b_elements(int k, int n) {
  return std::size_t(ceil_div(n, kNr)) * ceil_div(k, kKGroup) * kNr * kKGroup;
}

// kInt8K4 -> kInt16K2 (sign extension, no loss) for a B packed with this k and n.
inline void widen_packed_b(int k, int n, const std::int8_t* src, std::int16_t* dst) {
  const std::size_t groups = std::size_t(ceil_div(n, kNr)) * ceil_div(k, kKGroup);  // over all panels
  for (std::size_t g = 0; g < groups; ++g) {
    const std::int8_t* s = src + g * (kNr * kKGroup);
    std::int16_t* d = dst + g * (kNr * kKGroup);
    for (int j = 0; j < kNr; ++j)
      for (int t = 0; t < kKGroup; ++t) d[(t / 2) * (2 * kNr) + 2 * j + t % 2] = s[j * kKGroup + t];
  }
}

// kInt16K2 -> kInt8K4 (every element is a B' value in [-128, 127]).
inline void narrow_packed_b(int k, int n, const std::int16_t* src, std::int8_t* dst) {
  const std::size_t groups = std::size_t(ceil_div(n, kNr)) * ceil_div(k, kKGroup);
  for (std::size_t g = 0; g < groups; ++g) {
    const std::int16_t* s = src + g * (kNr * kKGroup);
    std::int8_t* d = dst + g * (kNr * kKGroup);
    for (int j = 0; j < kNr; ++j)
      for (int t = 0; t < kKGroup; ++t)
        d[j * kKGroup + t] = static_cast<std::int8_t>(s[(t / 2) * (2 * kNr) + 2 * j + t % 2]);
  }
}

// kInt8K4 <-> kInt8K8, in place, for a B packed with this k and n.
inline void packed_b_k4_to_k8(int k, int n, std::int8_t* panels) {
  const int kgroups = ceil_div(k, kKGroup);
  for (int p = 0; p < ceil_div(n, kNr); ++p)
    groups_k4_to_k8(kNr, kgroups, panels + std::size_t(p) * kgroups * kNr * kKGroup);
}
inline void packed_b_k8_to_k4(int k, int n, std::int8_t* panels) {
  const int kgroups = ceil_div(k, kKGroup);
  for (int p = 0; p < ceil_div(n, kNr); ++p)
    groups_k8_to_k4(kNr, kgroups, panels + std::size_t(p) * kgroups * kNr * kKGroup);
}

// The packed B `src` (layout `from`) in layout `to`, in a new buffer (packed_b_elements(k, n) elements of `to`).
inline AlignedBuffer convert_packed_b(int k, int n, BPackLayout from, const std::int8_t* src, BPackLayout to) {
  const std::size_t elems = packed_b_elements(k, n);
  AlignedBuffer int8(elems);  // the kInt8K4 form
  if (from == BPackLayout::kInt16K2)
    narrow_packed_b(k, n, reinterpret_cast<const std::int16_t*>(src), int8.as<std::int8_t>());
  else
    std::memcpy(int8.as<std::int8_t>(), src, elems);
  if (from == BPackLayout::kInt8K8) packed_b_k8_to_k4(k, n, int8.as<std::int8_t>());
  if (to == BPackLayout::kInt16K2) {
    AlignedBuffer wide(elems * sizeof(std::int16_t));
    widen_packed_b(k, n, int8.as<std::int8_t>(), wide.as<std::int16_t>());
    return wide;
  }
  if (to == BPackLayout::kInt8K8) packed_b_k4_to_k8(k, n, int8.as<std::int8_t>());
  return int8;
}

// True when every pair of k that VPMADDUBSW adds (k = 2i, 2i + 1 of one column, as packed in kInt8K4) satisfies
// |B'[2i]| + |B'[2i + 1]| <= 128. Then for every A' in [0, 255] the pair sum A'0 B'0 + A'1 B'1 lies in
// [-255 * 128, 255 * 128] = [-32640, 32640], inside int16, so VPMADDUBSW never saturates and is exact.
inline bool pairs_fit_int16(int k, int n, const std::int8_t* packed) {
  const std::size_t pairs = packed_b_elements(k, n) / 2;
  bool fit = true;
  for (std::size_t i = 0; i < pairs; ++i) {
    const int w0 = packed[2 * i], w1 = packed[2 * i + 1];
    fit &= (w0 < 0 ? -w0 : w0) + (w1 < 0 ? -w1 : w1) <= 128;
  }
  return fit;
}

// Packs `rows` <= kMr rows of A (K columns) into one panel of element type AE (uint8 or int16), zero-padded to kMr
// rows and a multiple of 4 columns, and writes the row sums of A'. This runs on every GEMM call (O(M K) against the
// kernels' O(M N K)), so the uint8 form moves whole 4-byte groups (the sign flip of int8 is one XOR per group) and
// the row sum is a plain widening loop the compiler vectorises: sum A' = sum A + off_a * K.
template <class AE, class TA>
void pack_a_panel(int rows, int k, const TA* a, std::int64_t lda, AE* dst, std::int32_t* row_sum) {
  const int kgroups = ceil_div(k, kKGroup), kfull = k / kKGroup;
  std::memset(dst, 0, sizeof(AE) * std::size_t(kgroups) * kMr * kKGroup);
  constexpr std::uint32_t flip = a_offset<TA>() ? 0x80808080u : 0u;
  for (int r = 0; r < rows; ++r) {
    const TA* src = a + std::int64_t(r) * lda;
    std::int32_t sum = 0;
    for (int kk = 0; kk < k; ++kk) sum += src[kk];
    row_sum[r] = sum + a_offset<TA>() * k;
    AE* out = dst + r * kKGroup;
    if constexpr (sizeof(AE) == 1) {
      for (int g = 0; g < kfull; ++g) {
        std::uint32_t v;
        std::memcpy(&v, src + g * kKGroup, sizeof(v));
        v ^= flip;
        std::memcpy(out + g * (kMr * kKGroup), &v, sizeof(v));
      }
    } else {
      for (int g = 0; g < kfull; ++g)
        for (int t = 0; t < kKGroup; ++t) out[g * (kMr * kKGroup) + t] = static_cast<AE>(a_prime(src[g * kKGroup + t]));
    }
    for (int kk = kfull * kKGroup; kk < k; ++kk)
      out[kfull * (kMr * kKGroup) + kk - kfull * kKGroup] = static_cast<AE>(a_prime(src[kk]));
  }
  for (int r = rows; r < kMr; ++r) row_sum[r] = 0;
}

// The k tail of the SIMD uint8 A-panel packers (pack_a_panel's layout): zeroes the panel's groups from k0 / 4 on,
// stores A'[r][k0..k) of rows [0, rows) there, and writes row_sum[r] = sums[r] + the sum of those A' (0 for the
// padding rows up to kMr). k0: a multiple of kKGroup, the k the vector loop stopped at; sums: its row sums of A'.
template <class TA>
void pack_a_panel_u8_tail(int rows, int k, int k0, const TA* a, std::int64_t lda, std::uint8_t* dst,
                          const std::int64_t* sums, std::int32_t* row_sum) {
  constexpr int kGroupBytes = kMr * kKGroup;
  const int g0 = k0 / kKGroup;
  std::memset(dst + std::size_t(g0) * kGroupBytes, 0, std::size_t(ceil_div(k, kKGroup) - g0) * kGroupBytes);
  for (int r = 0; r < rows; ++r) {
    const TA* src = a + r * lda;
    std::int64_t sum = sums[r];
    for (int kk = k0; kk < k; ++kk) {
      const std::uint8_t v = a_prime(src[kk]);
      dst[std::size_t(kk / kKGroup) * kGroupBytes + r * kKGroup + kk % kKGroup] = v;
      sum += v;
    }
    row_sum[r] = static_cast<std::int32_t>(sum);
  }
  for (int r = rows; r < kMr; ++r) row_sum[r] = 0;
}

// The A panel of the AArch64 signed-operand kernels (SMULL, SDOT): pack_a_panel's uint8 A' with the sign bit
// flipped, i.e. A' - 128 as int8 (the kernels then compute sum (A' - 128) B', see PathOps::a_shift); row_sum is
// still that of A'.
template <class TA>
void pack_a_panel_s8(int rows, int k, const TA* a, std::int64_t lda, void* dst, std::int32_t* row_sum) {
  std::uint8_t* d = static_cast<std::uint8_t*>(dst);
  pack_a_panel<std::uint8_t>(rows, k, a, lda, d, row_sum);
  const std::size_t bytes = std::size_t(ceil_div(k, kKGroup)) * kMr * kKGroup;
  for (std::size_t i = 0; i < bytes; ++i) d[i] ^= 0x80u;
}

// The A panel of the AArch64 I8MM kernel: pack_a_panel's uint8 A' in the 8-k form (rows in pairs of 8 k).
template <class TA>
void pack_a_panel_k8(int rows, int k, const TA* a, std::int64_t lda, void* dst, std::int32_t* row_sum) {
  pack_a_panel<std::uint8_t>(rows, k, a, lda, static_cast<std::uint8_t*>(dst), row_sum);
  groups_k4_to_k8(kMr, ceil_div(k, kKGroup), dst);
}

}  // namespace detail
}  // namespace cpu
}  // namespace qmath
