// calibrate_tool.hpp - the qmath-calibrate tool: inputs -> calibration -> summary table, TensorRT cache, JSON, SVG.
//
// main.cpp only calls run(); the tests call the pieces directly as well as the executable.
//
// Data flow, per tensor (its files in the given order, one chunk of --chunk-elements at a time; calibrate_tensor
// describes the passes):
//   - a 2048-bin (--bins) absolute qmath::Histogram, --histogram-range fixed ([0, absmax] after a MinMax pass),
//     pow2 (power-of-two growth) or append (pytorch-quantization's); under fixed and pow2 its counts depend only on
//     the multiset of values, not on the batch order, the batch sizes or the chunk size, so percentile / MSE /
//     entropy results do too; under append they depend on the first batch, as in pytorch-quantization, but not on
//     the chunk size;
//   - --compat picks the entropy and percentile rules (TensorRT's, or pytorch-quantization's);
//   - a qmath::MinMaxCalibrator;
//   - with --per-channel-axis: one MinMaxCalibrator and one Histogram (same options) per channel. Chunks are routed
//     to channels element run by element run, so a chunk boundary may fall anywhere in the tensor; the results equal
//     the library's PerChannelMinMaxCalibrator / PerChannelPercentileCalibrator on the whole tensor.
// Non-finite values are always counted; under --nan-policy error the first file that holds any stops the run with
// the tensor, the file and the counts; under skip they are left out of every statistic and reported.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include <qmath/calibration/entropy.hpp>
#include <qmath/calibration/histogram.hpp>
#include <qmath/calibration/minmax.hpp>
#include <qmath/calibration/mse.hpp>
#include <qmath/calibration/percentile.hpp>
#include <qmath/calibration/tensorrt_cache.hpp>
#include <qmath/config.hpp>
#include <qmath/error.hpp>
#include <qmath/qparams.hpp>
#include <qmath/rounding.hpp>

#include "npy.hpp"
#include "options.hpp"
#include "output.hpp"
#include "svg_plot.hpp"

namespace qmath_calibrate {

inline std::string version_string() {
  return "qmath-calibrate " QMATH_STRINGIFY(QMATH_VERSION_MAJOR) "." QMATH_STRINGIFY(QMATH_VERSION_MINOR) "." QMATH_STRINGIFY(
      QMATH_VERSION_PATCH);
}

// The result of one method for one tensor. Per tensor: one entry in each vector; per channel: one per channel.
struct MethodResult {
  Method method;
  bool per_channel = false;
  std::vector<float> amax;
  std::vector<qmath::CalibrationRange> range;  // observed [min, max] (minmax only)
  std::vector<qmath::QuantParams> params;      // scale and zero point for the chosen quantized range
};

struct TensorResult {
  std::string name;
  std::vector<std::string> files;
  std::vector<std::int64_t> first_shape;
  std::uint64_t elements = 0;  // all elements read, non-finite included
  std::uint64_t nan = 0, posinf = 0, neginf = 0;
  float min = 0.0f, max = 0.0f, absmax = 0.0f;  // finite values
  // The per-tensor absolute histogram.
  std::vector<std::uint64_t> counts;
  float width = 0.0f;      // 0 when every value was zero
  std::uint64_t binned = 0;  // finite values in the histogram
  // Per channel (with --per-channel-axis).
  bool per_channel = false;
  int axis = 0;  // normalised, >= 0
  std::size_t channels = 0;
  std::vector<MethodResult> methods;

  std::uint64_t nonfinite() const { return nan + posinf + neginf; }
  const MethodResult* find(Method m) const {
    for (const auto& r : methods)
      if (r.method == m) return &r;
    return nullptr;
  }
};

// ---------------------------------------------------------------------------------------------------------------
// Progress on stderr: one line rewritten in place, at most every 100 ms.
class Progress {
 public:
  Progress(std::ostream& err, bool enabled, std::uint64_t total_bytes)
      : err_(err), enabled_(enabled), total_(total_bytes ? total_bytes : 1) {}
  void set_tensor(std::size_t index, std::size_t count, const std::string& name) {
    tensor_ = "[" + std::to_string(index + 1) + "/" + std::to_string(count) + "] " + name;
  }
  void advance(std::uint64_t bytes) {
    done_ += bytes;
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (shown_ && now - last_ < std::chrono::milliseconds(100)) return;
    shown_ = true;
    last_ = now;
    char buf[96];
    std::snprintf(buf, sizeof buf, "%5.1f%% (%.1f / %.1f MB)", 100.0 * static_cast<double>(done_) / total_,
                  done_ / 1e6, total_ / 1e6);
    err_ << "\rqmath-calibrate: " << buf << " " << tensor_ << "\x1b[K" << std::flush;
  }
  void finish() {
    if (enabled_ && shown_) err_ << "\r\x1b[K" << std::flush;
  }

 private:
  std::ostream& err_;
  bool enabled_;
  double total_;
  std::uint64_t done_ = 0;
  std::string tensor_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

// ---------------------------------------------------------------------------------------------------------------
inline qmath::QuantRange quant_range(const Options& o) {
  return o.is_signed ? qmath::narrow_range<std::int8_t>() : qmath::full_range<std::uint8_t>();
}

inline std::string channel_name(const std::string& tensor, std::size_t c) {
  return tensor + "[channel " + std::to_string(c) + "]";
}

// The tool's histogram: absolute, --bins bins; a fixed range [0, range_max] when range_max > 0 (two-pass mode),
// pytorch-quantization's appended bins under --histogram-range append (width from range_max = the first non-zero
// batch's absmax), power-of-two growth otherwise (--histogram-range
// pow2, or in fixed mode an all-zero tensor or absmax / bins below FLT_MIN).
inline qmath::HistogramOptions histogram_options(const Options& o, const std::string& name, float range_max) {
  qmath::HistogramOptions h;
  h.kind = qmath::HistogramKind::kAbsolute;
  h.bins = o.bins;
  h.growth = qmath::RangeGrowth::kPowerOfTwo;
  if (o.histogram_range == HistogramRangeMode::kAppend) {
    h.growth = qmath::RangeGrowth::kAppendBins;
    h.range_max = range_max;  // the first non-zero batch's absmax (first_batch_absmax), 0 if unknown
  } else if (o.histogram_range == HistogramRangeMode::kFixed &&
             range_max / static_cast<float>(o.bins) >= std::numeric_limits<float>::min()) {
    // (a range so small that its bin width would be subnormal or zero falls back to power-of-two growth)
    h.growth = qmath::RangeGrowth::kFixed;
    h.range_max = range_max;
  }
  h.non_finite = qmath::NonFinitePolicy::kSkip;  // counted here, the tool applies --nan-policy per file
  h.name = name;
  return h;
}

// The methods' thresholds from collected statistics (kept separate so that tests can call it on library objects).
inline float histogram_method_amax(Method m, const qmath::Histogram& h, const Options& o) {
  const bool pytorch = o.compat == Compat::kPyTorchQuantization;
  switch (m) {
    case Method::kPercentile:
      return qmath::percentile_amax(h, o.percentile,
                                    pytorch ? qmath::PercentileRule::kPyTorchQuantization
                                            : qmath::PercentileRule::kUpperEdge);
    case Method::kMse: {
      qmath::MseOptions mo;  // pytorch-quantization's rule (bin centres from bin 128) in both modes
      mo.is_unsigned = !o.is_signed;
      return qmath::mse_amax(h, mo);
    }
    case Method::kEntropy: {
      qmath::EntropyOptions eo;
      eo.mode = pytorch ? qmath::EntropyMode::kPyTorchQuantization : qmath::EntropyMode::kTensorRT;
      eo.is_unsigned = !o.is_signed;
      return qmath::entropy_amax(h, eo);
    }
    case Method::kMinMax: break;
  }
  return h.amax();
}

// Opens every file once (validating headers and sizes) and checks the per-channel axis; returns total data bytes.
inline std::uint64_t validate_inputs(const Options& o) {
  std::uint64_t bytes = 0;
  for (const TensorInput& t : o.tensors) {
    std::size_t channels = 0;
    std::string first;
    for (const std::string& f : t.files) {
      NpyReader r(f);
      bytes += r.header().count * r.header().item_size();
      if (!o.per_channel) continue;
      const int rank = static_cast<int>(r.header().shape.size());
      if (o.per_channel_axis < -rank || o.per_channel_axis >= rank)
        throw InputError("tensor '" + t.name + "': " + f + ": --per-channel-axis " +
                         std::to_string(o.per_channel_axis) + " is out of range for shape " +
                         shape_string(r.header().shape));
      const qmath::ChannelLayout l = qmath::channel_layout(r.header().shape, o.per_channel_axis);
      if (first.empty()) {
        first = f;
        channels = l.channels;
      } else if (l.channels != channels) {
        throw InputError("tensor '" + t.name + "': " + f + " has " + std::to_string(l.channels) +
                         " channels along axis " + std::to_string(o.per_channel_axis) + ", but " + first + " has " +
                         std::to_string(channels));
      }
    }
  }
  return bytes;
}

// Reads every file of a tensor chunk by chunk and calls visit(chunk, n, layout, flat index of chunk[0] in its file)
// for each chunk; checks the non-finite policy after each file (counts from `count_bad`).
struct NonFiniteCounts {
  std::uint64_t nan = 0, posinf = 0, neginf = 0;
};

template <class Visit>
NonFiniteCounts stream_tensor(const TensorInput& in, const Options& o, Progress& progress, std::vector<float>& buf,
                              Visit visit) {
  NonFiniteCounts total;
  for (std::size_t fi = 0; fi < in.files.size(); ++fi) {
    const std::string& path = in.files[fi];
    NpyReader reader(path);
    const NpyHeader& hd = reader.header();
    qmath::ChannelLayout layout{1, 1, static_cast<std::size_t>(hd.count)};
    if (o.per_channel) layout = qmath::channel_layout(hd.shape, o.per_channel_axis);
    std::uint64_t index = 0;
    std::uint64_t nan = 0, pinf = 0, ninf = 0;
    while (std::size_t n = reader.read(buf.data(), buf.size())) {
      for (std::size_t i = 0; i < n; ++i) {
        const float v = buf[i];
        if (!(v - v == 0.0f)) {  // NaN or +-inf
          if (v != v) ++nan;
          else if (v > 0.0f) ++pinf;
          else ++ninf;
        }
      }
      visit(buf.data(), n, layout, index, fi, hd);
      index += n;
      progress.advance(static_cast<std::uint64_t>(n) * hd.item_size());
    }
    const std::uint64_t bad = nan + pinf + ninf;
    if (bad != 0 && o.nan_policy == NanPolicy::kError)
      throw InputError("tensor '" + in.name + "': " + path + " contains " + std::to_string(bad) +
                       " non-finite value(s) (" + std::to_string(nan) + " NaN, " + std::to_string(pinf) + " +inf, " +
                       std::to_string(ninf) +
                       " -inf); --nan-policy skip leaves them out of the calibration and counts them");
    total.nan += nan;
    total.posinf += pinf;
    total.neginf += ninf;
  }
  return total;
}

// Splits a chunk starting at flat index `index` into per-channel runs appended to route[c].
inline void route_channels(const float* x, std::size_t n, const qmath::ChannelLayout& layout, std::uint64_t index,
                           std::vector<std::vector<float>>& route) {
  for (auto& r : route) r.clear();
  std::uint64_t pos = index;
  const std::uint64_t end = index + n;
  while (pos < end) {
    const std::uint64_t row = pos / layout.inner;
    const std::size_t c = static_cast<std::size_t>(row % layout.channels);
    const std::uint64_t run_end = std::min<std::uint64_t>(end, (row + 1) * layout.inner);
    route[c].insert(route[c].end(), x + (pos - index), x + (run_end - index));
    pos = run_end;
  }
}

// --histogram-range append: pytorch-quantization fixes the bin width from its first batch with a non-zero value
// (w = that batch's absmax / bins). The tool feeds a file in chunks, so it first finds that file's absmax - per
// tensor, and per channel with --per-channel-axis (each channel's first file in which it has a non-zero value) - by
// reading the leading files until every width is known, and seeds the histograms with it (HistogramOptions::
// range_max). Zero where no file has a non-zero value. Non-finite values are left out (under --nan-policy error the
// read stops at them with the usual error).
struct AppendSeeds {
  float tensor = 0.0f;
  std::vector<float> channel;
};
inline AppendSeeds first_batch_absmax(const TensorInput& in, const Options& o, std::vector<float>& buf) {
  AppendSeeds seeds;
  Progress silent(std::cerr, false, 1);  // disabled (writes nothing): a partial extra read, not in the progress total
  for (const std::string& file : in.files) {
    float file_max = 0.0f;
    std::vector<float> channel_max;
    stream_tensor(TensorInput{in.name, {file}}, o, silent, buf,
                  [&](const float* x, std::size_t n, const qmath::ChannelLayout& layout, std::uint64_t index,
                      std::size_t, const NpyHeader&) {
                    if (o.per_channel) channel_max.resize(layout.channels, 0.0f);
                    for (std::size_t i = 0; i < n; ++i) {
                      const float a = std::fabs(x[i]);
                      if (!(a <= std::numeric_limits<float>::max())) continue;  // NaN, inf
                      file_max = std::max(file_max, a);
                      if (o.per_channel) {
                        const std::size_t c =
                            static_cast<std::size_t>(((index + i) / layout.inner) % layout.channels);
                        channel_max[c] = std::max(channel_max[c], a);
                      }
                    }
                  });
    if (seeds.tensor == 0.0f) seeds.tensor = file_max;
    if (seeds.channel.size() < channel_max.size()) seeds.channel.resize(channel_max.size(), 0.0f);
    bool done = seeds.tensor > 0.0f;
    for (std::size_t c = 0; c < seeds.channel.size(); ++c) {
      if (seeds.channel[c] == 0.0f && c < channel_max.size()) seeds.channel[c] = channel_max[c];
      done = done && seeds.channel[c] > 0.0f;
    }
    if (done) break;
  }
  return seeds;
}

// Whether the run needs the histogram pass (any histogram method, or an output that shows the histogram).
inline bool needs_histogram(const Options& o) {
  for (Method m : o.methods)
    if (m != Method::kMinMax) return true;
  return !o.json_path.empty() || !o.plot_dir.empty();
}

// Streams one tensor's files through the statistics and computes every requested method.
//   --histogram-range fixed (default): pass 1 finds min / max (per channel too), pass 2 fills histograms with the
//       fixed range [0, absmax] (qmath::RangeGrowth::kFixed), TensorRT's layout: all bins cover the data;
//   --histogram-range pow2: one pass, power-of-two growth (qmath::RangeGrowth::kPowerOfTwo);
//   --histogram-range append: one pass, pytorch-quantization's growth (qmath::RangeGrowth::kAppendBins).
// fixed and pow2 are independent of batch order and batch size; append, like pytorch-quantization, depends on
// which batch comes first.
inline TensorResult calibrate_tensor(const TensorInput& in, const Options& o, Progress& progress) {
  TensorResult res;
  res.name = in.name;
  res.files = in.files;
  std::vector<float> buf(o.chunk_elements);
  std::vector<std::vector<float>> route;

  // Pass 1 (or the only pass): MinMax, per tensor and per channel; the histograms too under pow2.
  qmath::MinMaxCalibrator minmax(qmath::NonFinitePolicy::kSkip, in.name);
  std::vector<qmath::MinMaxCalibrator> ch_minmax;
  std::unique_ptr<qmath::Histogram> hist;
  std::vector<qmath::Histogram> ch_hist;
  const bool want_hist = needs_histogram(o);
  const bool one_pass = o.histogram_range != HistogramRangeMode::kFixed;
  AppendSeeds seeds;
  if (o.histogram_range == HistogramRangeMode::kAppend && want_hist) seeds = first_batch_absmax(in, o, buf);
  if (one_pass && want_hist) hist = std::make_unique<qmath::Histogram>(histogram_options(o, in.name, seeds.tensor));

  const NonFiniteCounts bad = stream_tensor(
      in, o, progress, buf,
                [&](const float* x, std::size_t n, const qmath::ChannelLayout& layout, std::uint64_t index,
                    std::size_t fi, const NpyHeader& hd) {
                  if (fi == 0 && index == 0) {
                    res.first_shape = hd.shape;
                    if (o.per_channel) {
                      res.per_channel = true;
                      res.axis = o.per_channel_axis < 0 ? o.per_channel_axis + static_cast<int>(hd.shape.size())
                                                        : o.per_channel_axis;
                      res.channels = layout.channels;
                      ch_minmax.assign(layout.channels,
                                       qmath::MinMaxCalibrator(qmath::NonFinitePolicy::kSkip, in.name));
                      route.assign(layout.channels, {});
                      if (one_pass && want_hist)
                        for (std::size_t c = 0; c < layout.channels; ++c)
                          ch_hist.emplace_back(histogram_options(o, channel_name(in.name, c),
                                                                 c < seeds.channel.size() ? seeds.channel[c] : 0.0f));
                    }
                  }
                  res.elements += n;
                  minmax.collect(x, n);
                  if (hist) hist->collect(x, n);
                  if (o.per_channel) {
                    route_channels(x, n, layout, index, route);
                    for (std::size_t c = 0; c < route.size(); ++c)
                      if (!route[c].empty()) {
                        ch_minmax[c].collect(route[c].data(), route[c].size());
                        if (one_pass && want_hist) ch_hist[c].collect(route[c].data(), route[c].size());
                      }
                  }
                });

  res.nan = bad.nan;
  res.posinf = bad.posinf;
  res.neginf = bad.neginf;
  const qmath::CalibrationRange mm = minmax.compute();
  res.min = mm.min;
  res.max = mm.max;
  res.absmax = mm.amax();
  if (minmax.skipped_count() == res.elements)
    throw InputError("tensor '" + in.name + "': no finite values to calibrate (" + std::to_string(res.elements) +
                     " elements, all NaN or infinite)");

  // Pass 2: fixed-range histograms.
  if (!one_pass && want_hist) {
    hist = std::make_unique<qmath::Histogram>(histogram_options(o, in.name, res.absmax));
    if (o.per_channel)
      for (std::size_t c = 0; c < res.channels; ++c)
        ch_hist.emplace_back(histogram_options(o, channel_name(in.name, c), ch_minmax[c].compute_amax()));
    stream_tensor(in, o, progress, buf,
                  [&](const float* x, std::size_t n, const qmath::ChannelLayout& layout, std::uint64_t index,
                      std::size_t, const NpyHeader&) {
                    hist->collect(x, n);
                    if (o.per_channel) {
                      route_channels(x, n, layout, index, route);
                      for (std::size_t c = 0; c < route.size(); ++c)
                        if (!route[c].empty()) ch_hist[c].collect(route[c].data(), route[c].size());
                    }
                  });
  }
  if (hist) {
    res.binned = hist->total();
    res.counts = hist->counts();
    res.width = hist->width();
  } else {
    res.binned = res.elements - minmax.skipped_count();
  }

  const qmath::QuantRange qr = quant_range(o);
  for (Method m : o.methods) {
    MethodResult r;
    r.method = m;
    const bool per_channel = o.per_channel && (m == Method::kMinMax || m == Method::kPercentile);
    r.per_channel = per_channel;
    if (per_channel) {
      for (std::size_t c = 0; c < res.channels; ++c) {
        if (m == Method::kMinMax) {
          r.range.push_back(ch_minmax[c].compute());
          r.amax.push_back(ch_minmax[c].compute_amax());
        } else {
          r.amax.push_back(histogram_method_amax(m, ch_hist[c], o));
        }
      }
    } else if (m == Method::kMinMax) {
      r.range.push_back(mm);
      r.amax.push_back(mm.amax());
    } else {
      r.amax.push_back(histogram_method_amax(m, *hist, o));
    }
    for (float a : r.amax) r.params.push_back(qmath::symmetric_params(a, qr));
    res.methods.push_back(std::move(r));
  }
  return res;
}

// ---------------------------------------------------------------------------------------------------------------
// Outputs.

// The TensorRT calibration cache: one line per tensor with scale = amax / 127 of --cache-method (qmath's writer).
inline std::string tensorrt_cache_text(const std::vector<TensorResult>& results, const Options& o) {
  qmath::TensorRTCache cache;
  if (!o.trt_version.empty()) cache.version = o.trt_version;
  cache.algorithm = o.cache_algorithm;
  for (const TensorResult& t : results) {
    const MethodResult* r = t.find(o.cache_method);
    if (r == nullptr || r->per_channel)
      throw InputError("tensor '" + t.name + "': no per-tensor " + method_name(o.cache_method) + " result for --cache");
    cache.add_amax(t.name, r->amax[0]);
  }
  return qmath::format_tensorrt_cache(cache);
}

inline nlohmann::ordered_json to_json(const std::vector<TensorResult>& results, const Options& o) {
  using nlohmann::ordered_json;
  const qmath::QuantRange qr = quant_range(o);
  ordered_json j;
  j["format"] = "qmath-calibration-table";
  j["format_version"] = 1;
  j["generator"] = version_string();
  ordered_json s;
  ordered_json methods = ordered_json::array();
  for (Method m : o.methods) methods.push_back(method_name(m));
  s["methods"] = methods;
  s["bins"] = o.bins;
  s["percentile"] = o.percentile;
  s["signed"] = o.is_signed;
  s["quantized_range"] = {qr.qmin, qr.qmax};
  s["scale_formula"] = o.is_signed ? "amax / 127" : "amax / 255";
  s["per_channel_axis"] = o.per_channel ? ordered_json(o.per_channel_axis) : ordered_json(nullptr);
  s["nan_policy"] = o.nan_policy == NanPolicy::kError ? "error" : "skip";
  s["histogram"] = {{"kind", "absolute"}, {"range", histogram_range_name(o.histogram_range)}};
  s["compat"] = compat_name(o.compat);
  j["settings"] = s;
  ordered_json tensors = ordered_json::object();
  for (const TensorResult& t : results) {
    ordered_json e;
    e["batches"] = t.files.size();
    e["files"] = t.files;
    e["shape"] = t.first_shape;
    e["elements"] = t.elements;
    e["min"] = t.min;
    e["max"] = t.max;
    e["absmax"] = t.absmax;
    e["nonfinite"] = {{"nan", t.nan}, {"posinf", t.posinf}, {"neginf", t.neginf}};
    std::size_t used = 0;
    for (std::size_t b = 0; b < t.counts.size(); ++b)
      if (t.counts[b]) used = b + 1;
    e["histogram"] = {{"kind", "absolute"},
                      {"bins", t.counts.size()},
                      {"width", t.width},
                      {"range", {0.0f, t.width * static_cast<float>(t.counts.size())}},
                      {"count", t.binned},
                      {"nonfinite", t.nonfinite()},
                      {"last_nonempty_bin", used ? ordered_json(used - 1) : ordered_json(nullptr)}};
    ordered_json ms = ordered_json::object();
    for (const MethodResult& r : t.methods) {
      ordered_json mj;
      if (r.per_channel) {
        mj["granularity"] = "per_channel";
        mj["axis"] = t.axis;
        mj["channels"] = t.channels;
        mj["amax"] = r.amax;
        if (!r.range.empty()) {
          ordered_json mn = ordered_json::array(), mx = ordered_json::array();
          for (const auto& c : r.range) {
            mn.push_back(c.min);
            mx.push_back(c.max);
          }
          mj["min"] = mn;
          mj["max"] = mx;
        }
        ordered_json sc = ordered_json::array(), zp = ordered_json::array();
        for (const auto& p : r.params) {
          sc.push_back(p.scale);
          zp.push_back(p.zero_point);
        }
        mj["scale"] = sc;
        mj["zero_point"] = zp;
      } else {
        mj["granularity"] = "per_tensor";
        mj["amax"] = r.amax[0];
        if (!r.range.empty()) {
          mj["min"] = r.range[0].min;
          mj["max"] = r.range[0].max;
        }
        mj["scale"] = r.params[0].scale;
        mj["zero_point"] = r.params[0].zero_point;
      }
      if (r.method == Method::kPercentile) mj["percentile"] = o.percentile;
      ms[method_name(r.method)] = mj;
    }
    e["methods"] = ms;
    tensors[t.name] = e;
  }
  j["tensors"] = tensors;
  return j;
}

// A file name for a tensor's plot: characters outside [A-Za-z0-9._-] become '_', duplicates get a suffix.
inline std::vector<std::string> plot_file_names(const std::vector<TensorResult>& results) {
  std::vector<std::string> names;
  std::set<std::string> used;
  for (const TensorResult& t : results) {
    std::string s;
    for (char c : t.name) s += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') ? c : '_';
    if (s.empty() || s[0] == '.') s = "_" + s;
    std::string candidate = s;
    for (int k = 2; used.count(candidate); ++k) candidate = s + "_" + std::to_string(k);
    used.insert(candidate);
    names.push_back(candidate + ".svg");
  }
  return names;
}

inline PlotData plot_data(const TensorResult& t, const Options& o) {
  PlotData d;
  d.title = t.name;
  char sub[256];
  std::snprintf(sub, sizeof sub, "%llu values in %zu batch%s, absmax %.6g, %zu bins of width %.4g, %llu non-finite%s",
                static_cast<unsigned long long>(t.binned), t.files.size(), t.files.size() == 1 ? "" : "es",
                static_cast<double>(t.absmax), t.counts.size(), static_cast<double>(t.width),
                static_cast<unsigned long long>(t.nonfinite()), o.is_signed ? "" : ", unsigned");
  d.subtitle = sub;
  // Show the populated part of the range (power-of-two growth leaves up to half the bins empty) and every marker.
  std::size_t used = 1;
  for (std::size_t b = 0; b < t.counts.size(); ++b)
    if (t.counts[b]) used = b + 1;
  double hi = static_cast<double>(t.width) * static_cast<double>(used);
  for (const MethodResult& r : t.methods) {
    if (r.per_channel) {
      const auto mm = std::minmax_element(r.amax.begin(), r.amax.end());
      d.markers.push_back({std::string(method_name(r.method)) + " (largest channel)", *mm.second, false});
      d.markers.push_back({std::string(method_name(r.method)) + " (smallest channel)", *mm.first, false});
    } else {
      d.markers.push_back({method_name(r.method), r.amax[0], false});
    }
  }
  for (const auto& m : d.markers) hi = std::max(hi, m.value);
  if (t.width > 0.0f) {
    std::size_t shown = static_cast<std::size_t>(std::ceil(hi * 1.04 / static_cast<double>(t.width)));
    shown = std::min(std::max<std::size_t>(shown, 1), t.counts.size());
    d.counts.assign(t.counts.begin(), t.counts.begin() + static_cast<std::ptrdiff_t>(shown));
    d.hi = static_cast<double>(t.width) * static_cast<double>(shown);
  } else {
    d.counts.assign(1, t.counts.empty() ? 0 : t.counts[0]);  // only zeros
    d.hi = 1.0;
  }
  d.lo = 0.0;
  return d;
}

inline std::string fmt_g(double v, int prec = 6) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", prec, v);
  return buf;
}

// The per-tensor summary table printed on stdout.
inline std::string summary_table(const std::vector<TensorResult>& results, const Options& o) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> head = {"tensor", "batches", "values", "non-finite", "min", "max"};
  for (Method m : o.methods) head.push_back(std::string(method_name(m)) + (o.compare_all ? "" : " amax"));
  if (!o.compare_all) head.push_back("scale");
  else head.push_back("scale (" + std::string(method_name(o.cache_method)) + ")");
  if (o.compare_all) head.push_back("entropy/minmax");
  rows.push_back(head);
  for (const TensorResult& t : results) {
    std::vector<std::string> r = {t.name, std::to_string(t.files.size()), std::to_string(t.binned),
                                  std::to_string(t.nonfinite()), fmt_g(t.min), fmt_g(t.max)};
    auto cell = [&](const MethodResult& m) {
      if (!m.per_channel) return fmt_g(m.amax[0]);
      const auto mm = std::minmax_element(m.amax.begin(), m.amax.end());
      return fmt_g(*mm.first, 4) + ".." + fmt_g(*mm.second, 4) + " (" + std::to_string(m.amax.size()) + " ch)";
    };
    for (const MethodResult& m : t.methods) r.push_back(cell(m));
    const MethodResult* s = t.find(o.compare_all ? o.cache_method : o.methods.front());
    if (s && !s->per_channel) r.push_back(fmt_g(s->params[0].scale));
    else if (s) r.push_back("per channel");
    else r.push_back("-");
    if (o.compare_all) {
      const MethodResult* e = t.find(Method::kEntropy);
      const MethodResult* mm = t.find(Method::kMinMax);
      r.push_back(e && mm && !mm->per_channel && mm->amax[0] > 0 ? fmt_g(e->amax[0] / mm->amax[0], 4) : "-");
    }
    rows.push_back(r);
  }
  std::vector<std::size_t> w(rows[0].size(), 0);
  for (const auto& r : rows)
    for (std::size_t c = 0; c < r.size(); ++c) w[c] = std::max(w[c], r[c].size());
  std::string out;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    for (std::size_t c = 0; c < rows[i].size(); ++c) {
      const std::string& cell = rows[i][c];
      const std::string pad(w[c] - cell.size(), ' ');
      out += c == 0 ? cell + pad : "  " + pad + cell;  // first column left-aligned, numbers right-aligned
    }
    out += '\n';
    if (i == 0) {
      std::size_t total = 0;
      for (std::size_t c = 0; c < w.size(); ++c) total += w[c] + (c ? 2 : 0);
      out += std::string(total, '-') + '\n';
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The whole tool. Returns the process exit code: 0 success, 1 bad input or failure, 2 bad command line.
inline int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, bool stderr_is_tty) {
  Options o;
  try {
    o = parse_args(args);
  } catch (const std::exception& e) {
    err << "qmath-calibrate: error: " << e.what() << "\n";
    return 2;
  }
  if (o.help) {
    out << usage_text();
    return 0;
  }
  if (o.version) {
    out << version_string() << "\n";
    return 0;
  }
  std::unique_ptr<Progress> progress_holder;
  try {
    const std::uint64_t bytes = validate_inputs(o);
    const int passes = o.histogram_range != HistogramRangeMode::kFixed || !needs_histogram(o) ? 1 : 2;
    progress_holder = std::make_unique<Progress>(err, o.progress == 1 || (o.progress == -1 && stderr_is_tty),
                                                 bytes * static_cast<std::uint64_t>(passes));
    Progress& progress = *progress_holder;
    std::vector<TensorResult> results;
    for (std::size_t i = 0; i < o.tensors.size(); ++i) {
      progress.set_tensor(i, o.tensors.size(), o.tensors[i].name);
      results.push_back(calibrate_tensor(o.tensors[i], o, progress));
    }
    progress.finish();
    if (!o.is_signed)
      for (const TensorResult& t : results)
        if (t.min < 0.0f)
          err << "qmath-calibrate: warning: tensor '" << t.name << "' is calibrated as unsigned (--unsigned) but has "
              << "negative values (min " << t.min << "); its histogram holds |x|\n";

    OutputTransaction tx;
    if (!o.cache_path.empty()) tx.stage(o.cache_path, tensorrt_cache_text(results, o));
    if (!o.json_path.empty()) tx.stage(o.json_path, to_json(results, o).dump(2) + "\n");
    if (!o.plot_dir.empty()) {
      tx.ensure_directory(o.plot_dir);
      const std::vector<std::string> names = plot_file_names(results);
      for (std::size_t i = 0; i < results.size(); ++i)
        tx.stage((std::filesystem::path(o.plot_dir) / names[i]).string(),
                 render_histogram_svg(plot_data(results[i], o)));
    }
    tx.commit();
    if (!o.quiet) out << summary_table(results, o);
    return 0;
  } catch (const std::exception& e) {
    if (progress_holder) progress_holder->finish();
    err << "qmath-calibrate: error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace qmath_calibrate
