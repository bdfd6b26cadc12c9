// qmath/qparams.hpp - scales and zero points: symmetric and asymmetric, per tensor and per channel.
//
// The affine mapping is   real = scale * (q - zero_point),   q in [range.qmin, range.qmax].
// Every function here validates its input and throws qmath::error naming the problem (NaN/Inf, min > max,
// negative amax, an axis out of range) before it produces anything.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include <qmath/config.hpp>
#include <qmath/error.hpp>
#include <qmath/rounding.hpp>

namespace qmath {

// Quantization parameters of one tensor or one channel: real = scale * (q - zero_point).
struct QuantParams {
  float scale;
  std::int32_t zero_point;
};

// The smallest scale qmath produces: float32 epsilon, PyTorch's observer `eps`. A zero range (amax == 0 or
// min == max == 0) gets this scale instead of 0, so quantize never divides by zero.
inline constexpr float kMinScale = 1.1920928955078125e-07f;

// Which formula turns amax into a symmetric scale.
enum class SymmetricConvention {
  // scale = amax / qmax, zero_point = 0.  TensorRT (amax/127 on [-127, 127]), NVIDIA pytorch-quantization,
  // TFLite weights. For an unsigned range this is amax / 255 with zero point 0 (post-ReLU tensors).
  kTensorRT,
  // scale = amax / ((qmax - qmin) / 2), zero_point = 0 for signed and (qmin + qmax + 1) / 2 for unsigned types.
  // PyTorch's MinMaxObserver with qscheme = per_tensor_symmetric (amax / 127.5 for qint8, zp 128 for quint8).
  kPyTorch,
};

// Which formula turns (min, max) into an affine scale and zero point.
enum class AsymmetricConvention {
  // PyTorch observers: scale = max(eps, (max' - min') / (qmax - qmin)), zp = clamp(qmin - round_half_even(min' / scale)).
  kPyTorch,
  // ONNX DynamicQuantizeLinear (ONNX Runtime): scale = (max' - min') / (qmax - qmin), or 1 when max' == min';
  // zp = round_half_even(clamp(qmin - min' / scale, qmin, qmax)).
  kOnnx,
};

namespace detail {
inline void require_finite(float v, const char* where, const char* what) {
  require(!std::isnan(v), where, what, " is NaN");
  require(std::isfinite(v), where, what, " is infinite (", v, ")");
}
inline void require_valid_range(QuantRange r, const char* where) {
  require(r.qmin < r.qmax, where, "empty quantized range [", r.qmin, ", ", r.qmax, "]");
  require(r.qmin >= -65536 && r.qmax <= 65535, where, "quantized range [", r.qmin, ", ", r.qmax,
          "] wider than 16 bits is not supported");
}
}  // namespace detail

// Symmetric parameters from an absolute maximum. amax must be finite and >= 0; amax == 0 gives kMinScale.
inline QuantParams symmetric_params(float amax, QuantRange range,
                                    SymmetricConvention convention = SymmetricConvention::kTensorRT) {
  detail::require_finite(amax, "symmetric_params", "amax");
  detail::require(amax >= 0.0f, "symmetric_params", "amax is negative (", amax, ")");
  detail::require_valid_range(range, "symmetric_params");
  const bool is_signed = range.qmin < 0;
  float scale;
  std::int32_t zero_point = 0;
  if (convention == SymmetricConvention::kTensorRT) {
    scale = amax / static_cast<float>(range.qmax);
  } else {
    scale = amax / (static_cast<float>(range.qmax - range.qmin) / 2.0f);
    if (!is_signed) zero_point = (range.qmin + range.qmax + 1) / 2;
  }
  if (!(scale >= kMinScale)) scale = kMinScale;
  return {scale, zero_point};
}

// Affine parameters from an observed [min, max]. The range is first widened to include 0 (min' = min(min, 0),
// max' = max(max, 0)) so that real 0 is exactly representable. min > max, NaN or Inf throw.
inline QuantParams asymmetric_params(float min, float max, QuantRange range,
                                     AsymmetricConvention convention = AsymmetricConvention::kPyTorch) {
  detail::require_finite(min, "asymmetric_params", "min");
  detail::require_finite(max, "asymmetric_params", "max");
  detail::require(min <= max, "asymmetric_params", "min (", min, ") is greater than max (", max, ")");
  detail::require_valid_range(range, "asymmetric_params");
  const float lo = min < 0.0f ? min : 0.0f;
  const float hi = max > 0.0f ? max : 0.0f;
  const float levels = static_cast<float>(range.qmax - range.qmin);
  detail::require(hi - lo <= std::numeric_limits<float>::max(), "asymmetric_params", "max' - min' = ", hi, " - (",
                  lo, ") overflows float: the scale would be infinite");
  if (convention == AsymmetricConvention::kPyTorch) {
    float scale = (hi - lo) / levels;
    if (!(scale >= kMinScale)) scale = kMinScale;
    const float shifted = round_to_integral(lo / scale, Round::kHalfToEven);
    const std::int64_t zp = static_cast<std::int64_t>(range.qmin) - static_cast<std::int64_t>(shifted);
    return {scale, static_cast<std::int32_t>(clamp_i64(zp, range.qmin, range.qmax))};
  }
  const float scale = hi == lo ? 1.0f : (hi - lo) / levels;
  detail::require(scale > 0.0f, "asymmetric_params", "the ONNX scale (max' - min') / ", levels, " for [", lo, ", ",
                  hi, "] underflows to 0");
  float initial = static_cast<float>(range.qmin) - lo / scale;
  initial = initial < range.qmin ? static_cast<float>(range.qmin)
                                 : (initial > range.qmax ? static_cast<float>(range.qmax) : initial);
  return {scale, static_cast<std::int32_t>(round_to_integral(initial, Round::kHalfToEven))};
}

// ---- PyTorch observers: dtype, qscheme and reduce_range --------------------------------------------------------

// The quantized dtypes of PyTorch's 8-bit observers.
enum class TorchDtype { kQInt8, kQUInt8 };

// The qscheme of a PyTorch observer: affine (per_tensor_affine / per_channel_affine) or symmetric
// (per_tensor_symmetric / per_channel_symmetric); per tensor or per channel is the observer's (the calibrator's).
enum class TorchQScheme { kAffine, kSymmetric };

// PyTorch's default observer range for dtype: qint8 [-128, 127], quint8 [0, 255]; with reduce_range (one bit of
// headroom for FBGEMM's VPMADDUBSW, whose int16 pair sums saturate with full 8-bit operands) qint8 [-64, 63] and
// quint8 [0, 127]. (Observers built with explicit quant_min / quant_max are not modelled.)
inline QuantRange pytorch_observer_range(TorchDtype dtype, bool reduce_range) {
  if (dtype == TorchDtype::kQInt8) return reduce_range ? QuantRange{-64, 63} : QuantRange{-128, 127};
  return reduce_range ? QuantRange{0, 127} : QuantRange{0, 255};
}

// A PyTorch observer's settings: torch.ao.quantization.MinMaxObserver, MovingAverageMinMaxObserver and their
// per-channel forms, built with (dtype, qscheme, reduce_range). The constructor refuses what those observers'
// constructors refuse (NotImplementedError "Cannot reduce range for symmetric quantization for quint8"):
// reduce_range with a symmetric quint8 scheme. (PyTorch 1.13's HistogramObserver does not refuse it and returns
// zero point 128 outside [0, 127]; qmath has no counterpart of that.)
class PyTorchObserverSpec {
 public:
  PyTorchObserverSpec(TorchDtype dtype, TorchQScheme qscheme, bool reduce_range = false)
      : dtype_(dtype), qscheme_(qscheme), reduce_range_(reduce_range) {
    detail::require(!(reduce_range && qscheme == TorchQScheme::kSymmetric && dtype == TorchDtype::kQUInt8),
                    "PyTorchObserverSpec",
                    "cannot reduce range for symmetric quantization for quint8 (PyTorch's observers refuse it too)");
  }
  TorchDtype dtype() const { return dtype_; }
  TorchQScheme qscheme() const { return qscheme_; }
  bool reduce_range() const { return reduce_range_; }
  // The quantized range: pytorch_observer_range(dtype, reduce_range).
  QuantRange range() const { return pytorch_observer_range(dtype_, reduce_range_); }

 private:
  TorchDtype dtype_;
  TorchQScheme qscheme_;
  bool reduce_range_;
};

// PyTorch's calculate_qparams for an observed [min, max] under `spec`, in float32 as PyTorch computes it:
//   symmetric: scale = max(eps, amax / ((qmax - qmin) / 2)), amax = max(-min(min, 0), max(max, 0)); zero point 0
//              (qint8) or 128 (quint8, whose reduced range PyTorchObserverSpec refuses)
//   affine:    asymmetric_params(min, max, range, AsymmetricConvention::kPyTorch)
// with range = spec.range() ([-64, 63] / [0, 127] under reduce_range). Throws as symmetric_params /
// asymmetric_params do (NaN, infinities, min > max).
inline QuantParams pytorch_observer_params(float min, float max, const PyTorchObserverSpec& spec) {
  const QuantRange range = spec.range();
  if (spec.qscheme() == TorchQScheme::kAffine)
    return asymmetric_params(min, max, range, AsymmetricConvention::kPyTorch);
  detail::require_finite(min, "pytorch_observer_params", "min");
  detail::require_finite(max, "pytorch_observer_params", "max");
  detail::require(min <= max, "pytorch_observer_params", "min (", min, ") is greater than max (", max, ")");
  const float neg = min < 0.0f ? -min : 0.0f, pos = max > 0.0f ? max : 0.0f;
  return symmetric_params(neg > pos ? neg : pos, range, SymmetricConvention::kPyTorch);
}

// A row-major N-d tensor seen along one axis: element (o, c, i) sits at (o * channels + c) * inner + i.
struct ChannelLayout {
  std::size_t outer;
  std::size_t channels;
  std::size_t inner;
  std::size_t size() const { return outer * channels * inner; }
};

// The layout of `shape` along `axis`, with ONNX semantics: axis in [-rank, rank), negative counts from the end
// (ONNX QuantizeLinear's default is axis = 1). Throws on an axis out of range, a negative dimension or an element
// count (the product of all dimensions) that overflows size_t.
inline ChannelLayout channel_layout(const std::vector<std::int64_t>& shape, int axis) {
  const int rank = static_cast<int>(shape.size());
  detail::require(rank >= 1, "channel_layout", "a per-channel tensor needs rank >= 1");
  detail::require(axis >= -rank && axis < rank, "channel_layout", "axis ", axis, " out of range for rank ", rank);
  if (axis < 0) axis += rank;
  ChannelLayout l{1, 1, 1};
  std::size_t total = 1;
  for (int d = 0; d < rank; ++d) {
    const auto dim = static_cast<std::size_t>(shape[d] < 0 ? 0 : shape[d]);
    detail::require(dim == 0 || total <= std::numeric_limits<std::size_t>::max() / dim || shape[d] < 0,
                    "channel_layout", "the element count of the shape overflows size_t at dimension ", d);
    total *= dim;
  }
  for (int d = 0; d < rank; ++d) {
    detail::require(shape[d] >= 0, "channel_layout", "dimension ", d, " is negative (", shape[d], ")");
    const auto n = static_cast<std::size_t>(shape[d]);
    if (d < axis) l.outer *= n;
    else if (d == axis) l.channels = n;
    else l.inner *= n;
  }
  return l;
}

// Per-channel absolute maximum of a row-major tensor; throws on NaN or Inf, naming the channel and element index.
inline std::vector<float> channel_amax(const float* x, ChannelLayout layout) {
  std::vector<float> amax(layout.channels, 0.0f);
  for (std::size_t o = 0; o < layout.outer; ++o)
    for (std::size_t c = 0; c < layout.channels; ++c) {
      const float* row = x + (o * layout.channels + c) * layout.inner;
      float m = amax[c];
      for (std::size_t i = 0; i < layout.inner; ++i) {
        const float a = std::fabs(row[i]);
        if (!(a <= std::numeric_limits<float>::max()))
          detail::fail("channel_amax", "non-finite value ", row[i], " in channel ", c, " at element ",
                       (o * layout.channels + c) * layout.inner + i);
        m = a > m ? a : m;
      }
      amax[c] = m;
    }
  return amax;
}

// Symmetric per-channel parameters of a row-major tensor (typically weights, axis = output channels).
inline std::vector<QuantParams> per_channel_symmetric_params(
    const float* x, ChannelLayout layout, QuantRange range,
    SymmetricConvention convention = SymmetricConvention::kTensorRT) {
  const std::vector<float> amax = channel_amax(x, layout);
  std::vector<QuantParams> params;
  params.reserve(amax.size());
  for (float a : amax) params.push_back(symmetric_params(a, range, convention));
  return params;
}

}  // namespace qmath
