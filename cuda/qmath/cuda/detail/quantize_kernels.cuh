// qmath/cuda/detail/quantize_kernels.cuh - the element-wise kernel behind qmath/cuda/quantize.cuh.
//
// One grid-stride kernel serves every operation. The array [0, n) is split on the host into
//   head    [0, head)                         scalar, until the input is aligned to a 4-element vector
//   body    [head, head + 4 * vectors)        one 4-element vector load and one vector store per step
//   tail    [head + 4 * vectors, n)           scalar
// and each "unit" of the grid-stride loop is one body vector or one scalar element. The per-element arithmetic is an
// operation object whose call operator runs the host's QMATH_HOST_DEVICE scalar on `count` consecutive elements
// starting at flat index `first` (count is 4 in the body, 1 elsewhere), so the same code decides every output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <qmath/config.hpp>
#include <qmath/cuda/launch.cuh>
#include <qmath/cuda/platform.cuh>
#include <qmath/error.hpp>
#include <qmath/qparams.hpp>
#include <qmath/quantize.hpp>
#include <qmath/rounding.hpp>

namespace qmath {
namespace cuda {
namespace detail {

// ---- host-side checks -------------------------------------------------------------------------------------------

template <class... Parts>
void quantize_require(bool ok, const char* where, Parts&&... parts) {
  qmath::detail::require(ok, where, static_cast<Parts&&>(parts)...);
}

template <class In, class Out>
void quantize_check_pointers(const In* in, const Out* out, std::size_t n, const char* where) {
  if (n == 0) return;
  quantize_require(in != nullptr, where, "null input pointer with n = ", n);
  quantize_require(out != nullptr, where, "null output pointer with n = ", n);
  quantize_require(reinterpret_cast<std::uintptr_t>(in) % alignof(In) == 0, where,
                   "input pointer is not aligned to its element type");
  quantize_require(reinterpret_cast<std::uintptr_t>(out) % alignof(Out) == 0, where,
                   "output pointer is not aligned to its element type");
}

// Returns layout.size() after checking that it does not overflow and that the per-channel array `params` (QuantParams
// or FP8 scales) exists when it is not empty; `null_message` names that array in the error.
template <class Param>
std::size_t quantize_check_layout(ChannelLayout layout, const Param* params, const char* where,
                                  const char* null_message = "null per-channel parameter pointer") {
  const std::size_t max = ~std::size_t(0);
  const bool overflow = (layout.outer != 0 && layout.channels > max / layout.outer) ||
                        (layout.outer * layout.channels != 0 && layout.inner > max / (layout.outer * layout.channels));
  quantize_require(!overflow, where, "layout ", layout.outer, " x ", layout.channels, " x ", layout.inner,
                   " overflows size_t");
  const std::size_t n = layout.size();
  quantize_require(n == 0 || params != nullptr, where, null_message);
  return n;
}

// ---- vector access ----------------------------------------------------------------------------------------------

// 4-element vector access: float4 (16 bytes), char4 / uchar4 (4 bytes), and for 16-bit types one 8-byte uint2
// holding two elements per word, low half first (the little-endian memory order of the four elements).
template <class T>
struct QuantizeVec4;
template <>
struct QuantizeVec4<float> {
  using type = float4;
};
template <>
struct QuantizeVec4<std::int8_t> {
  using type = char4;
};
template <>
struct QuantizeVec4<std::uint8_t> {
  using type = uchar4;
};

// p must be aligned to 4 * sizeof(T).
template <class T>
QMATH_HOST_DEVICE void quantize_load4(const T* p, T (&v)[4]) {
  if constexpr (sizeof(T) == 2) {
    const uint2 t = *reinterpret_cast<const uint2*>(p);
    v[0] = static_cast<T>(t.x & 0xFFFFu);
    v[1] = static_cast<T>(t.x >> 16);
    v[2] = static_cast<T>(t.y & 0xFFFFu);
    v[3] = static_cast<T>(t.y >> 16);
  } else {
    using V = typename QuantizeVec4<T>::type;
    const V t = *reinterpret_cast<const V*>(p);
    v[0] = t.x;
    v[1] = t.y;
    v[2] = t.z;
    v[3] = t.w;
  }
}
template <class T>
QMATH_HOST_DEVICE void quantize_store4(T* p, const T (&v)[4]) {
  if constexpr (sizeof(T) == 2) {
    uint2 t;
    t.x = static_cast<unsigned>(static_cast<std::uint16_t>(v[0])) |
          (static_cast<unsigned>(static_cast<std::uint16_t>(v[1])) << 16);
    t.y = static_cast<unsigned>(static_cast<std::uint16_t>(v[2])) |
          (static_cast<unsigned>(static_cast<std::uint16_t>(v[3])) << 16);
    *reinterpret_cast<uint2*>(p) = t;
  } else {
    using V = typename QuantizeVec4<T>::type;
    V t;
    t.x = v[0];
    t.y = v[1];
    t.z = v[2];
    t.w = v[3];
    *reinterpret_cast<V*>(p) = t;
  }
}

// ---- per-element scalars (each one is the host function of the same name) ---------------------------------------
//
// An element operation names In, Out and Param (what one channel or the whole tensor supplies: QuantParams here, a
// float scale for FP8 in detail/fp8_kernels.cuh) and maps (In, Param) to Out.

// The rounding arguments shared by quantize_value and fake_quantize_value.
struct QuantizeRounding {
  QuantRange range;
  Round mode;
  QuantizeRule rule;
};

template <class T>
struct QuantizeElem {
  using In = float;
  using Out = T;
  using Param = QuantParams;
  QuantizeRounding r;
  QMATH_HOST_DEVICE T operator()(float v, QuantParams p) const {
    return static_cast<T>(quantize_value(v, p, r.range, r.mode, r.rule));
  }
};
template <class T>
struct DequantizeElem {
  using In = T;
  using Out = float;
  using Param = QuantParams;
  QMATH_HOST_DEVICE float operator()(T v, QuantParams p) const { return dequantize_value(v, p); }
};
struct FakeQuantizeElem {
  using In = float;
  using Out = float;
  using Param = QuantParams;
  QuantizeRounding r;
  QMATH_HOST_DEVICE float operator()(float v, QuantParams p) const {
    return fake_quantize_value(v, p, r.range, r.mode, r.rule);
  }
};

// ---- operations: which parameters each element uses -------------------------------------------------------------

// One Elem::Param for the whole array.
template <class Elem>
struct QuantizeTensorOp {
  using In = typename Elem::In;
  using Out = typename Elem::Out;
  typename Elem::Param p;
  Elem elem;
  QMATH_HOST_DEVICE void operator()(const In* in, Out* out, int count, std::size_t /*first*/) const {
    for (int k = 0; k < count; ++k) out[k] = elem(in[k], p);
  }
};

// params[c] for element (o, c, i) of a row-major [outer, channels, inner] tensor. The channel of the first element
// costs one division; the following elements of a vector step walk the layout incrementally.
template <class Elem>
struct QuantizeChannelOp {
  using In = typename Elem::In;
  using Out = typename Elem::Out;
  using Param = typename Elem::Param;
  const Param* params;  // device memory, `channels` entries
  std::size_t channels;
  std::size_t inner;
  Elem elem;
  QMATH_HOST_DEVICE void operator()(const In* in, Out* out, int count, std::size_t first) const {
    const std::size_t row = first / inner;
    std::size_t i = first - row * inner;
    std::size_t c = row % channels;
    Param p = params[c];
    for (int k = 0; k < count; ++k) {
      out[k] = elem(in[k], p);
      if (k + 1 < count && ++i == inner) {
        i = 0;
        c = c + 1 == channels ? 0 : c + 1;
        p = params[c];
      }
    }
  }
};

// ---- the kernel ---------------------------------------------------------------------------------------------------

struct QuantizeSplit {
  std::size_t n;        // total elements
  std::size_t head;     // scalar elements before the body
  std::size_t vectors;  // 4-element body steps
};

// Splits [0, n) so that the body's input and output accesses are both aligned to their 4-element vector types;
// when no such split exists the whole array is scalar (head = n).
template <class In, class Out>
QuantizeSplit quantize_split(const In* in, const Out* out, std::size_t n) {
  const std::uintptr_t in_vec = 4 * sizeof(In), out_vec = 4 * sizeof(Out);
  const std::uintptr_t a = reinterpret_cast<std::uintptr_t>(in), b = reinterpret_cast<std::uintptr_t>(out);
  std::size_t head = static_cast<std::size_t>(((in_vec - a % in_vec) % in_vec) / sizeof(In));
  if (head >= n || (b + head * sizeof(Out)) % out_vec != 0) return {n, n, 0};
  return {n, head, (n - head) / 4};
}

template <class Op>
__global__ void quantize_elementwise_kernel(const typename Op::In* in, typename Op::Out* out, QuantizeSplit s, Op op) {
  using In = typename Op::In;
  using Out = typename Op::Out;
  const std::size_t body = 4 * s.vectors;
  const std::size_t units = s.vectors + (s.n - body);
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t u = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; u < units; u += stride) {
    if (u < s.vectors) {
      const std::size_t first = s.head + 4 * u;
      In v[4];
      Out r[4];
      quantize_load4(in + first, v);
      op(v, r, 4, first);
      quantize_store4(out + first, r);
    } else {
      const std::size_t k = u - s.vectors;
      const std::size_t i = k < s.head ? k : k + body;
      op(in + i, out + i, 1, i);
    }
  }
}

inline constexpr unsigned kQuantizeBlock = 256;
// Grid cap: enough blocks to fill the largest GPUs (16 per SM on 132 SMs, 2 waves of them), grid-stride beyond.
inline constexpr std::size_t kQuantizeMaxBlocks = 4096;

template <class Op>
void quantize_run(const typename Op::In* in, typename Op::Out* out, std::size_t n, Op op, cudaStream_t stream,
                  const char* where) {
  if (n == 0) return;
  const QuantizeSplit s = quantize_split(in, out, n);
  const std::size_t units = s.vectors + (s.n - 4 * s.vectors);
  std::size_t blocks = (units + kQuantizeBlock - 1) / kQuantizeBlock;
  if (blocks > kQuantizeMaxBlocks) blocks = kQuantizeMaxBlocks;
  qmath::cuda::launch(where, &quantize_elementwise_kernel<Op>,
                      LaunchConfig{dim3(static_cast<unsigned>(blocks)), dim3(kQuantizeBlock), 0, stream}, in, out, s, op);
}

}  // namespace detail
}  // namespace cuda
}  // namespace qmath
