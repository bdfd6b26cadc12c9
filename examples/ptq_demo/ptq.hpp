// ptq.hpp - the post-training quantization demo as a small library: Fashion-MNIST loading (zlib), the demo MLP,
// FP32 inference (Eigen), activation calibration (qmath::calibration), and true INT8 inference (int8 GEMM, int32
// accumulation, the fused qmath::Epilogue requantizing to int8 between layers).
//
// The demo's main (main.cpp) and its CI test (tests/ptq_demo/ptq_demo_test.cpp) both call these functions.
// Everything that rejects input throws qmath::error with a message naming the file or the problem.
//
// The quantization scheme is TensorRT's: every activation tensor (the input of every fully connected layer) is
// symmetric int8 on the narrow range [-127, 127] with scale s = amax / 127 from a calibrator; weights are symmetric
// per output channel, s_w[n] = max_k |W[n][k]| / 127; a layer computes, in integers only,
//
//   acc[m][n] = sum_k x_q[m][k] * w_q[n][k]                         (int32 accumulation)
//   y_q[m][n] = clamp(round(M[n] * (acc + bias_q[n])), lo, 127)     (a float multiplier, or the Q31 fixed-point one)
//   M[n]      = s_in * s_w[n] / s_out,   bias_q[n] = round(b[n] / (s_in * s_w[n]))
//
// with lo = 0 for ReLU (the clamp is the activation) and -127 otherwise. The last layer outputs float logits,
// (acc + bias_q[n]) * s_in * s_w[n], whose argmax is the prediction. qmath::make_linear_requantization
// (qmath/linear.hpp) builds bias_q, M[n] and the epilogue, and states how bias_q saturates.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <iomanip>
#include <limits>
#include <ostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>
#include <zlib.h>

#include <nlohmann/json.hpp>

#include <qmath/calibration/calibration.hpp>
#include <qmath/cpu/gemm.hpp>
#include <qmath/detail/atomic_file.hpp>
#include <qmath/epilogue.hpp>
#include <qmath/error.hpp>
#include <qmath/fixed_point.hpp>
#include <qmath/gemm_reference.hpp>
#include <qmath/linear.hpp>
#include <qmath/qparams.hpp>
#include <qmath/quantize_array.hpp>
#include <qmath/rounding.hpp>

namespace ptq {

// Throws qmath::error("ptq::<where>: <parts...>").
template <class... Parts>
[[noreturn]] void fail(const char* where, Parts&&... parts) {
  qmath::detail::fail_in("ptq", where, std::forward<Parts>(parts)...);
}

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// ---- data --------------------------------------------------------------------------------------------------------

// The default location of the Debian package dataset-fashion-mnist.
inline constexpr const char* kDefaultDataDir = "/usr/share/datasets/fashion-mnist";

// Reads a whole gzip file (a plain file is read as is, as zlib's gzread does). Throws on a missing file, a corrupt or
// truncated stream (zlib's CRC and length checks), or more than max_bytes of data.
inline std::vector<std::uint8_t> read_gzip_file(const std::string& path, std::size_t max_bytes = std::size_t(1) << 30) {
  {
    std::ifstream probe(path, std::ios::binary);
    if (!probe)
      fail("read_gzip_file", "cannot open '", path, "' (is the Debian package dataset-fashion-mnist installed?)");
  }
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) fail("read_gzip_file", "zlib cannot open '", path, "'");
  std::vector<std::uint8_t> out;
  std::array<std::uint8_t, 1 << 16> buf;
  for (;;) {
    const int n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()));
    if (n < 0) {
      int code = 0;
      const std::string msg = gzerror(f, &code);
      gzclose(f);
      fail("read_gzip_file", "'", path, "' is corrupt: ", msg);
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
      gzclose(f);
      fail("read_gzip_file", "'", path, "' decompresses to more than ", max_bytes, " bytes");
    }
    out.insert(out.end(), buf.begin(), buf.begin() + n);
  }
  const int rc = gzclose(f);
  if (rc != Z_OK) fail("read_gzip_file", "'", path, "' is corrupt or truncated (zlib error ", rc, ")");
  return out;
}

// A parsed IDX file (the MNIST container format): big-endian magic 0x00000800 | (type << 8) | rank, rank big-endian
// uint32 dimensions, then the unsigned-byte payload. Only type 0x08 (unsigned byte) is accepted.
struct IdxArray {
  std::vector<std::uint32_t> dims;
  std::vector<std::uint8_t> data;
};

inline IdxArray parse_idx(const std::vector<std::uint8_t>& bytes, const std::string& name) {
  auto be32 = [&](std::size_t at) {
    return (std::uint32_t(bytes[at]) << 24) | (std::uint32_t(bytes[at + 1]) << 16) |
           (std::uint32_t(bytes[at + 2]) << 8) | std::uint32_t(bytes[at + 3]);
  };
  if (bytes.size() < 4) fail("parse_idx", "'", name, "' is too short for an IDX header (", bytes.size(), " bytes)");
  const std::uint32_t magic = be32(0);
  if ((magic >> 16) != 0 || ((magic >> 8) & 0xFF) != 0x08)
    fail("parse_idx", "'", name, "' is not an unsigned-byte IDX file (magic 0x", std::hex, magic, ")");
  const std::uint32_t rank = magic & 0xFF;
  if (rank < 1 || rank > 4) fail("parse_idx", "'", name, "' has unsupported rank ", rank);
  const std::size_t header = 4 + 4 * std::size_t(rank);
  if (bytes.size() < header) fail("parse_idx", "'", name, "' is truncated inside its header");
  IdxArray a;
  std::uint64_t count = 1;
  for (std::uint32_t d = 0; d < rank; ++d) {
    a.dims.push_back(be32(4 + 4 * d));
    count *= a.dims.back();
  }
  if (bytes.size() - header != count)
    fail("parse_idx", "'", name, "' holds ", bytes.size() - header, " data bytes, its header promises ", count);
  a.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return a;
}

// Images as float pixel / 255, one flattened row-major image per row, and their labels 0..9.
struct Dataset {
  int count = 0;
  int pixels = 0;             // 784 for 28 x 28
  std::vector<float> images;  // count x pixels
  std::vector<std::uint8_t> labels;
  const float* image(int i) const { return images.data() + std::size_t(i) * pixels; }
};

// Loads split "train" (60 000 images) or "t10k" (10 000) from `dir`, keeping the first max_count images
// (max_count <= 0: all).
inline Dataset load_fashion_mnist(const std::string& dir, const std::string& split, int max_count = 0) {
  if (split != "train" && split != "t10k") fail("load_fashion_mnist", "unknown split '", split, "' (train or t10k)");
  const std::string img_path = dir + "/" + split + "-images-idx3-ubyte.gz";
  const std::string lbl_path = dir + "/" + split + "-labels-idx1-ubyte.gz";
  const IdxArray img = parse_idx(read_gzip_file(img_path), img_path);
  const IdxArray lbl = parse_idx(read_gzip_file(lbl_path), lbl_path);
  if (img.dims.size() != 3) fail("load_fashion_mnist", "'", img_path, "' is not a rank-3 image array");
  if (lbl.dims.size() != 1) fail("load_fashion_mnist", "'", lbl_path, "' is not a rank-1 label array");
  if (img.dims[0] != lbl.dims[0])
    fail("load_fashion_mnist", img.dims[0], " images but ", lbl.dims[0], " labels in '", dir, "'");
  for (std::uint8_t l : lbl.data)
    if (l > 9) fail("load_fashion_mnist", "label ", int(l), " out of range 0..9 in '", lbl_path, "'");
  Dataset d;
  d.count = static_cast<int>(img.dims[0]);
  if (max_count > 0 && max_count < d.count) d.count = max_count;
  d.pixels = static_cast<int>(img.dims[1] * img.dims[2]);
  d.images.resize(std::size_t(d.count) * d.pixels);
  for (std::size_t i = 0; i < d.images.size(); ++i) d.images[i] = static_cast<float>(img.data[i]) / 255.0f;
  d.labels.assign(lbl.data.begin(), lbl.data.begin() + d.count);
  return d;
}

// ---- the FP32 model ------------------------------------------------------------------------------------------------

// A fully connected layer y = x W^T + b (PyTorch's nn.Linear), W row-major out x in.
struct DenseLayer {
  int out = 0, in = 0;
  std::vector<float> weight;  // out x in
  std::vector<float> bias;    // out
};

// Every layer but the last is followed by ReLU.
struct Model {
  std::vector<DenseLayer> layers;
  int inputs() const { return layers.front().in; }
  int outputs() const { return layers.back().out; }
};

// Parses the bytes of a .qmw file written by train.py (format documented there: "QMATHW01", layer count, per layer
// out, in, float32 weights and bias, then a CRC-32 of everything before it; little-endian). `name` names it in
// messages. Throws on a truncated or corrupt file, a CRC mismatch, non-finite parameters, layers that do not chain,
// or layer data that would run into the CRC bytes (the layers must end exactly where the CRC starts).
inline Model parse_model(const std::vector<char>& raw, const std::string& name) {
  if (raw.size() < 16 || std::memcmp(raw.data(), "QMATHW01", 8) != 0)
    fail("load_model", "'", name, "' is not a qmath weights file (magic QMATHW01)");
  const std::size_t end = raw.size() - 4;  // the CRC-32
  std::uint32_t stored = 0;
  for (int i = 0; i < 4; ++i) stored |= std::uint32_t(static_cast<unsigned char>(raw[end + i])) << (8 * i);
  const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(raw.data()), static_cast<uInt>(end));
  if (stored != static_cast<std::uint32_t>(crc)) fail("load_model", "'", name, "' is corrupt (CRC-32 mismatch)");
  std::size_t pos = 8;
  auto need = [&](std::size_t n) {  // the layers live in [8, end)
    if (end - pos < n)
      fail("load_model", "'", name, "' is truncated: ", n, " bytes needed at byte ", pos, ", the data ends at byte ",
           end);
  };
  auto u32 = [&]() {
    need(4);
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= std::uint32_t(static_cast<unsigned char>(raw[pos + i])) << (8 * i);
    pos += 4;
    return v;
  };
  auto f32s = [&](std::vector<float>& v, std::size_t n) {
    need(4 * n);
    v.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      std::uint32_t bits = 0;
      for (int b = 0; b < 4; ++b) bits |= std::uint32_t(static_cast<unsigned char>(raw[pos + 4 * i + b])) << (8 * b);
      std::memcpy(&v[i], &bits, 4);
      if (!std::isfinite(v[i])) fail("load_model", "'", name, "' holds a non-finite parameter at byte ", pos + 4 * i);
    }
    pos += 4 * n;
  };
  const std::uint32_t count = u32();
  if (count < 1 || count > 64) fail("load_model", "'", name, "' has an implausible layer count ", count);
  Model m;
  for (std::uint32_t l = 0; l < count; ++l) {
    DenseLayer d;
    d.out = static_cast<int>(u32());
    d.in = static_cast<int>(u32());
    if (d.out < 1 || d.in < 1 || d.out > (1 << 16) || d.in > (1 << 16))
      fail("load_model", "'", name, "' layer ", l, " has implausible shape ", d.out, " x ", d.in);
    if (l > 0 && d.in != m.layers.back().out)
      fail("load_model", "'", name, "' layer ", l, " takes ", d.in, " inputs but layer ", l - 1, " gives ",
           m.layers.back().out);
    f32s(d.weight, std::size_t(d.out) * std::size_t(d.in));
    f32s(d.bias, std::size_t(d.out));
    m.layers.push_back(std::move(d));
  }
  if (pos != end) fail("load_model", "'", name, "' has ", end - pos, " unexpected trailing bytes before the CRC");
  return m;
}

// Reads and parses a .qmw file (parse_model); throws on a missing or unreadable file too.
inline Model load_model(const std::string& path) {
  std::vector<char> raw;
  try {
    std::ifstream f(path, std::ios::binary);
    if (!f) fail("load_model", "cannot open model file '", path, "'");
    raw.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    if (f.bad()) fail("load_model", "error reading model file '", path, "'");
  } catch (const std::ios_base::failure& e) {
    fail("load_model", "cannot read model file '", path, "' (a directory?): ", e.what());
  }
  return parse_model(raw, path);
}

// FP32 forward pass of `rows` images (row-major rows x model.inputs()). When `layer_inputs` is not null it receives
// the input of every layer (the tensors an engine calibrates): (*layer_inputs)[l] is rows x layers[l].in.
inline RowMatrix forward_fp32(const Model& model, const float* x, int rows,
                              std::vector<RowMatrix>* layer_inputs = nullptr) {
  using ConstMap = Eigen::Map<const RowMatrix>;
  RowMatrix act = ConstMap(x, rows, model.inputs());
  if (layer_inputs) layer_inputs->clear();
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    const DenseLayer& d = model.layers[l];
    if (layer_inputs) layer_inputs->push_back(act);
    const ConstMap w(d.weight.data(), d.out, d.in);
    const Eigen::Map<const Eigen::RowVectorXf> b(d.bias.data(), d.out);
    RowMatrix y = act * w.transpose();
    y.rowwise() += b;
    if (l + 1 < model.layers.size()) y = y.cwiseMax(0.0f);
    act = std::move(y);
  }
  return act;
}

// The index of the largest value of each row (first wins on ties).
inline std::vector<int> argmax_rows(const float* logits, int rows, int cols) {
  std::vector<int> out(rows);
  for (int r = 0; r < rows; ++r) {
    const float* p = logits + std::size_t(r) * cols;
    out[r] = static_cast<int>(std::max_element(p, p + cols) - p);
  }
  return out;
}

// FP32 predictions for a whole data set, in batches of `batch` images.
inline std::vector<int> predict_fp32(const Model& model, const Dataset& data, int batch) {
  std::vector<int> pred;
  pred.reserve(data.count);
  for (int i = 0; i < data.count; i += batch) {
    const int rows = std::min(batch, data.count - i);
    const RowMatrix logits = forward_fp32(model, data.image(i), rows);
    const std::vector<int> p = argmax_rows(logits.data(), rows, model.outputs());
    pred.insert(pred.end(), p.begin(), p.end());
  }
  return pred;
}

// ---- the INT8 model ------------------------------------------------------------------------------------------------

// TensorRT's activation and weight range: symmetric int8 without -128.
inline constexpr qmath::QuantRange kRange = qmath::narrow_range<std::int8_t>();

// One quantized layer: int8 weights (N x K, the "TN" layout kNxK) and its requantization (qmath/linear.hpp: int32
// bias, per-channel multipliers, ReLU clamp).
struct QuantizedLayer {
  int n = 0, k = 0;
  bool relu = false;  // int8 output clamped at 0 (ReLU) - otherwise the last layer: float output
  qmath::QuantParams in{};                  // input activation parameters
  qmath::QuantParams out{};                 // output activation parameters (hidden layers)
  std::vector<std::int8_t> weight;          // n x k
  qmath::cpu::PackedB<std::int8_t> packed;  // the same weights packed once for qmath::cpu::gemm
  std::vector<qmath::QuantParams> w_params; // per output channel
  qmath::LinearRequantization requant;      // bias_q, multipliers, clamp

  // The fused output stage of this layer's GEMM: it points into `requant`.
  qmath::Epilogue epilogue() const { return requant.epilogue(); }
};

struct QuantizedModel {
  std::vector<QuantizedLayer> layers;
  int inputs() const { return layers.front().k; }
  int outputs() const { return layers.back().n; }
};

// Quantizes `model` given the calibrated amax of every layer input (activation_amax[l] for layer l's input).
// `mode` picks the hidden layers' requantization multiplier: kFloatMultiplier (ONNX QLinearMatMul style) or kFixedPointMultiplier
// (integer-only, gemmlowp double rounding).
inline QuantizedModel quantize_model(const Model& model, const std::vector<float>& activation_amax,
                                     qmath::Scaling mode = qmath::Scaling::kFloatMultiplier) {
  if (activation_amax.size() != model.layers.size())
    fail("quantize_model", activation_amax.size(), " activation amax values for ", model.layers.size(), " layers");
  if (mode == qmath::Scaling::kNone) fail("quantize_model", "Scaling::kNone cannot requantize");
  QuantizedModel q;
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    const DenseLayer& d = model.layers[l];
    QuantizedLayer ql;
    ql.n = d.out;
    ql.k = d.in;
    ql.relu = l + 1 < model.layers.size();
    ql.in = qmath::symmetric_params(activation_amax[l], kRange);
    // Weights: per output channel (axis 0 of the out x in matrix), narrow int8.
    const qmath::ChannelLayout wl = qmath::channel_layout({d.out, d.in}, 0);
    ql.w_params = qmath::per_channel_symmetric_params(d.weight.data(), wl, kRange);
    ql.weight.resize(d.weight.size());
    qmath::quantize_per_channel(d.weight.data(), wl, ql.w_params.data(), ql.weight.data(), kRange);
    ql.packed = qmath::cpu::pack_b(qmath::col_major(ql.weight.data(), d.in, d.out), 0);
    qmath::LinearLayerArgs args;
    args.n = d.out;
    args.input = ql.in;
    args.weight = ql.w_params;
    args.bias = d.bias;
    args.float_output = !ql.relu;  // the last layer: float logits
    if (ql.relu) {
      ql.out = qmath::symmetric_params(activation_amax[l + 1], kRange);
      args.output = ql.out;
      args.clamp = qmath::activation_clamp(0.0f, std::numeric_limits<float>::infinity(), ql.out, kRange);
      args.mode = mode;
    }
    ql.requant = qmath::make_linear_requantization(args);
    q.layers.push_back(std::move(ql));
  }
  return q;
}

// Which integer GEMM runs the INT8 layers. Both give bit-identical results (qmath::cpu::gemm is tested bit-exactly
// against qmath::gemm_reference), so the choice changes speed only.
enum class GemmKind {
  kFast,       // qmath::cpu::gemm, weights pre-packed once; AVX-512 VNNI / AVX-VNNI / AVX2 / scalar chosen at run time
  kReference,  // qmath::gemm_reference, the normative scalar loop
};

inline GemmKind parse_gemm_kind(const std::string& s) {
  if (s == "fast") return GemmKind::kFast;
  if (s == "reference") return GemmKind::kReference;
  fail("parse_gemm_kind", "unknown GEMM '", s, "' (fast or reference)");
}

inline const char* gemm_name(GemmKind g) {
  return g == GemmKind::kFast ? "qmath::cpu::gemm" : "qmath::gemm_reference";
}

inline qmath::Scaling parse_scaling(const std::string& s) {
  if (s == "fixed") return qmath::Scaling::kFixedPointMultiplier;
  if (s == "float") return qmath::Scaling::kFloatMultiplier;
  fail("parse_scaling", "unknown epilogue '", s, "' (fixed or float)");
}

// C (rows x l.n) = epilogue(A (rows x l.k, int8) * W^T), W the layer's n x k int8 weights.
template <class TC>
void layer_gemm(const QuantizedLayer& l, int rows, const std::int8_t* a, TC* c, GemmKind kind) {
  const auto a_view = qmath::row_major(a, rows, l.k);
  const auto c_view = qmath::row_major(c, rows, l.n);
  if (kind == GemmKind::kFast)
    qmath::cpu::gemm(qmath::cpu::PackedGemmArgs{a_view, &l.packed, c_view, 0, l.epilogue()});
  else  // W is n x k row-major: a column-major k x n view
    qmath::gemm_reference(qmath::GemmArgs{a_view, qmath::col_major(l.weight.data(), l.k, l.n), c_view, 0, 0, l.epilogue()});
}

// Integer inference of `rows` images: quantize the float input, then one int8 GEMM + fused epilogue per layer
// (int8 activations between layers). Returns the float logits (rows x outputs).
inline std::vector<float> forward_int8(const QuantizedModel& q, const float* x, int rows, GemmKind kind) {
  std::vector<std::int8_t> act(std::size_t(rows) * q.inputs()), next;
  qmath::quantize_array(x, act.size(), act.data(), q.layers.front().in, kRange);
  std::vector<float> logits;
  for (const QuantizedLayer& l : q.layers) {
    if (l.relu) {
      next.resize(std::size_t(rows) * l.n);
      layer_gemm(l, rows, act.data(), next.data(), kind);
      act.swap(next);
    } else {
      logits.resize(std::size_t(rows) * l.n);
      layer_gemm(l, rows, act.data(), logits.data(), kind);
    }
  }
  return logits;
}

inline std::vector<int> predict_int8(const QuantizedModel& q, const Dataset& data, int batch, GemmKind kind) {
  std::vector<int> pred;
  pred.reserve(data.count);
  for (int i = 0; i < data.count; i += batch) {
    const int rows = std::min(batch, data.count - i);
    const std::vector<float> logits = forward_int8(q, data.image(i), rows, kind);
    const std::vector<int> p = argmax_rows(logits.data(), rows, q.outputs());
    pred.insert(pred.end(), p.begin(), p.end());
  }
  return pred;
}

// Top-1 accuracy of predictions against labels, in [0, 1].
inline double accuracy(const std::vector<int>& pred, const Dataset& data) {
  std::size_t hit = 0;
  for (std::size_t i = 0; i < pred.size(); ++i) hit += pred[i] == data.labels[i];
  return pred.empty() ? 0.0 : double(hit) / double(pred.size());
}

// Fraction of positions where two prediction vectors agree.
inline double agreement(const std::vector<int>& a, const std::vector<int>& b) {
  std::size_t same = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) same += a[i] == b[i];
  return a.empty() ? 0.0 : double(same) / double(a.size());
}

// Wall time of f() in seconds.
template <class F>
double time_seconds(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// ---- calibration ---------------------------------------------------------------------------------------------------

// What an engine gathers for one activation tensor in one pass over the calibration set: a 2048-bin |x| histogram
// with power-of-two range growth, whose counts do not depend on batch order or batch size, and which also keeps the
// exact largest |x| (MinMax). Every calibrator then derives its amax from it.
struct TensorStats {
  std::string name;
  qmath::Histogram histogram;
  explicit TensorStats(const std::string& tensor_name)
      : name(tensor_name), histogram([&] {
          qmath::HistogramOptions o;  // kAbsolute, 2048 bins, RangeGrowth::kPowerOfTwo, NaN/Inf are errors
          o.name = tensor_name;
          return o;
        }()) {}
};

// The name of layer l's input tensor: "input" for the image, "relu<l>" for hidden activations.
inline std::string tensor_name(std::size_t layer) {
  return layer == 0 ? std::string("input") : "relu" + std::to_string(layer);
}

// Runs the FP32 model over the calibration images and collects the statistics of every layer input.
inline std::vector<TensorStats> collect_statistics(const Model& model, const Dataset& calib, int batch) {
  std::vector<TensorStats> stats;
  for (std::size_t l = 0; l < model.layers.size(); ++l) stats.emplace_back(tensor_name(l));
  std::vector<RowMatrix> inputs;
  for (int i = 0; i < calib.count; i += batch) {
    const int rows = std::min(batch, calib.count - i);
    forward_fp32(model, calib.image(i), rows, &inputs);
    for (std::size_t l = 0; l < inputs.size(); ++l)
      stats[l].histogram.collect(inputs[l].data(), static_cast<std::size_t>(inputs[l].size()));
  }
  return stats;
}

// A calibration method of the demo: its name in the table and qmath's method and options.
struct Method {
  std::string name;
  qmath::CalibrationMethod method;
  qmath::CalibrationOptions options;
  float amax(const TensorStats& t) const { return qmath::calibrate_amax(t.histogram, method, options); }
};

// The methods of the demo, in table order, with qmath's defaults: MinMax (exact max |x|), percentile 99.99 (right
// edge of the bin holding the 99.99th percentile), MSE (pytorch-quantization's bin-centre search) and entropy
// (TensorRT-style KL divergence, 128 levels, threshold (i + 0.5) * width).
inline std::vector<Method> default_methods() {
  return {{"minmax", qmath::CalibrationMethod::kMax, {}},
          {"percentile", qmath::CalibrationMethod::kPercentile, {}},
          {"mse", qmath::CalibrationMethod::kMse, {}},
          {"entropy", qmath::CalibrationMethod::kEntropy, {}}};
}

// ---- the demo ------------------------------------------------------------------------------------------------------

struct DemoConfig {
  std::string data_dir = kDefaultDataDir;
#ifdef QMATH_PTQ_DEMO_MODEL
  std::string model_path = QMATH_PTQ_DEMO_MODEL;
#else
  std::string model_path = "fashion_mlp.qmw";
#endif
  int calib_count = 1000;  // the first N training images
  int test_count = 10000;  // the first N test images
  int batch = 256;         // inference batch size, FP32 and INT8 alike
  // The hidden layers' requantization: kFloatMultiplier (per-channel float multiplier, ONNX QLinearMatMul style; vectorised
  // in qmath::cpu::gemm's epilogue) or kFixedPointMultiplier (Q31 multiplier + shift, integer only, as TFLite / gemmlowp;
  // qmath::cpu::gemm runs it in a scalar epilogue today, so it is slower there).
  qmath::Scaling mode = qmath::Scaling::kFloatMultiplier;
  GemmKind gemm = GemmKind::kFast;
  int timing_repeats = 3;  // FP32 and INT8 (entropy model) timed this many times each, interleaved; best kept
};

struct MethodResult {
  std::string method;
  std::vector<float> amax;  // per tensor, in DemoResult::tensors order
  double accuracy = 0;      // top-1 on the test images, [0, 1]
  double agreement = 0;     // fraction of test images where INT8 and FP32 predict the same class
  double seconds = 0;       // INT8 time of the evaluation run over the test images (input quantization included)
};

struct DemoResult {
  DemoConfig config;
  std::vector<std::string> tensors;      // the calibrated activation tensors (layer inputs)
  std::vector<TensorStats> stats;        // their calibration statistics
  double fp32_accuracy = 0;
  double fp32_seconds = 0;               // FP32 inference time over the test images (best of timing_repeats)
  double int8_seconds = 0;               // INT8 (entropy model) inference time, the same images (best of repeats)
  std::vector<MethodResult> methods;
  std::string gemm_path;                 // e.g. "qmath::cpu::gemm (avx512vnni)"
  const MethodResult& method(const std::string& name) const {
    for (const MethodResult& m : methods)
      if (m.method == name) return m;
    fail("DemoResult::method", "no method named '", name, "'");
  }
  const TensorStats& tensor(const std::string& name) const {
    for (const TensorStats& t : stats)
      if (t.name == name) return t;
    fail("DemoResult::tensor", "no tensor named '", name, "'");
  }
  double images_per_second_fp32() const { return config.test_count / fp32_seconds; }
  double images_per_second_int8() const { return config.test_count / int8_seconds; }
};

// Loads data and model, runs FP32 inference, calibrates with every method and evaluates the INT8 model of each.
// Progress lines go to `log`.
inline DemoResult run_demo(const DemoConfig& cfg, std::ostream& log) {
  if (cfg.batch < 1) fail("run_demo", "batch size must be >= 1, got ", cfg.batch);
  DemoResult r;
  r.config = cfg;
  const Model model = load_model(cfg.model_path);
  const Dataset calib = load_fashion_mnist(cfg.data_dir, "train", cfg.calib_count);
  const Dataset test = load_fashion_mnist(cfg.data_dir, "t10k", cfg.test_count);
  r.config.calib_count = calib.count;
  r.config.test_count = test.count;
  if (model.inputs() != test.pixels)
    fail("run_demo", "the model takes ", model.inputs(), " inputs, the images have ", test.pixels, " pixels");
  log << "model " << cfg.model_path << ": ";
  for (const DenseLayer& d : model.layers) log << d.in << "-";
  log << model.outputs() << " MLP; " << calib.count << " calibration images, " << test.count << " test images, batch "
      << cfg.batch << "\n";
  r.gemm_path = gemm_name(cfg.gemm);
  if (cfg.gemm == GemmKind::kFast)
    r.gemm_path += std::string(" (") + qmath::isa_name(qmath::cpu::resolved_isa_for_gemm()) + ")";

  std::vector<int> fp32_pred;
  r.fp32_seconds = time_seconds([&] { fp32_pred = predict_fp32(model, test, cfg.batch); });
  r.fp32_accuracy = accuracy(fp32_pred, test);

  r.stats = collect_statistics(model, calib, cfg.batch);
  for (const TensorStats& t : r.stats) r.tensors.push_back(t.name);

  for (const Method& m : default_methods()) {
    MethodResult mr;
    mr.method = m.name;
    for (const TensorStats& t : r.stats) mr.amax.push_back(m.amax(t));
    const QuantizedModel q = quantize_model(model, mr.amax, cfg.mode);
    std::vector<int> pred;
    mr.seconds = time_seconds([&] { pred = predict_int8(q, test, cfg.batch, cfg.gemm); });
    mr.accuracy = accuracy(pred, test);
    mr.agreement = agreement(pred, fp32_pred);
    r.methods.push_back(std::move(mr));
  }

  // Speed: FP32 and the INT8 model of the entropy calibrator on the same images and batch size, interleaved so
  // that load from other processes hits both alike; the best run of each counts.
  const QuantizedModel q = quantize_model(model, r.method("entropy").amax, cfg.mode);
  r.int8_seconds = r.method("entropy").seconds;
  for (int rep = 0; rep < cfg.timing_repeats; ++rep) {
    r.fp32_seconds = std::min(r.fp32_seconds, time_seconds([&] { predict_fp32(model, test, cfg.batch); }));
    r.int8_seconds = std::min(r.int8_seconds, time_seconds([&] { predict_int8(q, test, cfg.batch, cfg.gemm); }));
  }
  return r;
}

// The accuracy table and the speed line.
inline void print_table(const DemoResult& r, std::ostream& os) {
  const auto flags = os.flags();
  const auto prec = os.precision();
  os << "\n" << std::left << std::setw(17) << "method" << std::right << std::setw(8) << "top-1" << std::setw(11)
     << "vs FP32" << std::setw(11) << "agree" << "   amax";
  for (const std::string& t : r.tensors) os << " " << std::setw(9) << t;
  os << "\n";
  os << std::fixed << std::setprecision(2);
  os << std::left << std::setw(17) << "FP32" << std::right << std::setw(7) << 100 * r.fp32_accuracy << "%"
     << std::setw(11) << "-" << std::setw(11) << "-" << "\n";
  for (const MethodResult& m : r.methods) {
    const double drop = 100 * (m.accuracy - r.fp32_accuracy);
    std::ostringstream d;
    d << std::fixed << std::setprecision(2) << std::showpos << drop << " pp";
    os << std::left << std::setw(17) << ("INT8 " + m.method) << std::right << std::setw(7) << 100 * m.accuracy << "%"
       << std::setw(11) << d.str() << std::setw(10) << 100 * m.agreement << "%" << "      ";
    for (float a : m.amax) os << " " << std::setw(9) << std::setprecision(4) << a;
    os << std::setprecision(2) << "\n";
  }
  const std::string fp32_label = "FP32  Eigen";
  const std::string int8_label = "INT8  " + r.gemm_path + ", " +
                                 (r.config.mode == qmath::Scaling::kFixedPointMultiplier ? "fixed-point" : "float") +
                                 " epilogue";
  const int w = static_cast<int>(std::max(fp32_label.size(), int8_label.size()));
  os << "\nspeed over " << r.config.test_count << " test images, batch " << r.config.batch
     << ", one thread, best of " << r.config.timing_repeats + 1 << " runs:\n"
     << "  " << std::left << std::setw(w) << fp32_label << std::right << std::setw(9) << std::setprecision(0)
     << r.images_per_second_fp32() << " images/s\n"
     << "  " << std::left << std::setw(w) << int8_label << std::right << std::setw(9) << r.images_per_second_int8()
     << " images/s  (" << std::setprecision(2) << r.images_per_second_int8() / r.images_per_second_fp32()
     << "x FP32)\n";
  os.flags(flags);
  os.precision(prec);
}

// Writes `text` to `path` whole (qmath/detail/atomic_file.hpp: temporary file and rename, symbolic links followed,
// devices and FIFOs written through), so a failure leaves no half-written file.
inline void write_file_atomically(const std::string& path, const std::string& text) {
  qmath::detail::write_file_atomically(path, text, "ptq::write_file_atomically");
}

// The results as JSON: configuration, FP32 accuracy, and per method accuracy, drop, agreement, amax per tensor and
// the TensorRT scale (amax / 127) per tensor; plus the speed figures.
inline nlohmann::json to_json(const DemoResult& r) {
  nlohmann::json j;
  j["model"] = r.config.model_path;
  j["data"] = r.config.data_dir;
  j["calibration_images"] = r.config.calib_count;
  j["test_images"] = r.config.test_count;
  j["batch"] = r.config.batch;
  j["epilogue"] = r.config.mode == qmath::Scaling::kFixedPointMultiplier ? "fixed_point" : "float";
  j["gemm"] = r.gemm_path;
  j["tensors"] = r.tensors;
  j["fp32"] = {{"accuracy", r.fp32_accuracy}, {"images_per_second", r.images_per_second_fp32()}};
  j["int8_images_per_second"] = r.images_per_second_int8();  // the entropy model, best of the timing runs
  nlohmann::json methods = nlohmann::json::array();
  for (const MethodResult& m : r.methods) {
    nlohmann::json amax = nlohmann::json::object(), scale = nlohmann::json::object();
    for (std::size_t t = 0; t < r.tensors.size(); ++t) {
      amax[r.tensors[t]] = m.amax[t];
      scale[r.tensors[t]] = qmath::symmetric_params(m.amax[t], kRange).scale;
    }
    methods.push_back({{"method", m.method},
                       {"accuracy", m.accuracy},
                       {"drop_pp", 100 * (m.accuracy - r.fp32_accuracy)},
                       {"agreement", m.agreement},
                       {"amax", amax},
                       {"scale", scale}});
  }
  j["int8"] = methods;
  return j;
}

// The TensorRT calibration cache of one method's activation scales (scale = amax / 127 per tensor), as TensorRT
// 8.6 writes it: "TRT-8600-EntropyCalibration2" for entropy, "TRT-8600-MinMaxCalibration" for minmax. Other
// methods are written under the entropy header (TensorRT only reads the scales).
inline qmath::TensorRTCache make_cache(const DemoResult& r, const std::string& method) {
  const MethodResult& m = r.method(method);
  qmath::TensorRTCache cache;
  cache.version = "8600";
  cache.algorithm = method == "minmax" ? "MinMaxCalibration" : "EntropyCalibration2";
  for (std::size_t t = 0; t < r.tensors.size(); ++t) cache.add_amax(r.tensors[t], m.amax[t]);
  return cache;
}

inline void write_cache(const DemoResult& r, const std::string& method, const std::string& path) {
  qmath::write_tensorrt_cache(path, make_cache(r, method));
}

inline void write_json(const DemoResult& r, const std::string& path) {
  write_file_atomically(path, to_json(r).dump(2) + "\n");
}

// One tensor's calibration histogram (bin edges and counts) and the threshold every method chose, as JSON, for
// docs/plot_histogram.py. Trailing empty bins are dropped.
inline void write_histogram_json(const DemoResult& r, const std::string& tensor, const std::string& path) {
  const TensorStats& t = r.tensor(tensor);
  std::size_t t_index = 0;
  while (r.tensors[t_index] != tensor) ++t_index;
  const std::vector<std::uint64_t>& c = t.histogram.counts();
  std::size_t used = c.size();
  while (used > 0 && c[used - 1] == 0) --used;
  nlohmann::json j;
  j["tensor"] = tensor;
  j["bin_width"] = t.histogram.width();
  j["counts"] = std::vector<std::uint64_t>(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(used));
  j["total"] = t.histogram.total();
  nlohmann::json th = nlohmann::json::object();
  for (const MethodResult& m : r.methods) th[m.method] = m.amax[t_index];
  j["thresholds"] = th;
  write_file_atomically(path, j.dump() + "\n");
}

}  // namespace ptq
