// qmath/calibration/streaming.hpp - calibration of a tensor that arrives as batches read chunk by chunk (activation
// dumps larger than memory): per tensor and, with CalibrationSettings::per_channel_axis, per channel.
//
//   InMemoryTensorSource src;  src.add(batch0.data(), {64, 128});  src.add(batch1.data(), {64, 128});
//   CalibrationSettings s;  s.methods = all_calibration_methods();
//   TensorCalibration t = calibrate_stream("fc1.input", src, s);   // t.find(CalibrationMethod::kEntropy)->amax[0]
//
// The caller supplies the data through a TensorSource: it declares every batch's shape up front, then yields each
// batch's elements (C order) in chunks, once per pass. Passes (settings in presets.hpp):
//   - kAppend only: a seed pass over the leading batches until the first non-zero batch of the tensor (and of every
//     channel) is known: its absmax fixes the appended histograms' width, as pytorch-quantization's first batch does;
//   - pass 1: MinMax per tensor (and per channel); under kPow2 / kAppend also the histograms;
//   - pass 2, kFixed only: histograms with the fixed range [0, absmax] (per channel [0, channel absmax]).
// Per channel, a chunk is routed to channels element run by element run, so a chunk boundary may fall anywhere; the
// results equal PerChannelMinMaxCalibrator / PerChannelPercentileCalibrator on the whole tensor.
// Non-finite values are counted per batch; under NonFinitePolicy::kError the first batch that holds any stops the run
// (after that batch) with the tensor, the batch and the counts; under kSkip they are left out of every statistic.
// Every batch a source opens must have its declared shape, and yield exactly that many elements: anything else
// (e.g. a file replaced between the declaration and the read) throws qmath::error naming the tensor and the batch
// before the offending chunk reaches any statistic.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <qmath/calibration/presets.hpp>
#include <qmath/error.hpp>
#include <qmath/qparams.hpp>

namespace qmath {

// Where a streamed tensor's data comes from. Batches are numbered [0, batch_count()); each may be opened any number
// of times (once per pass), each open restarting at its first element.
class TensorSource {
 public:
  virtual ~TensorSource() = default;
  virtual std::size_t batch_count() const = 0;
  // The shape of batch b as declared before any read (C order; {} is a 0-d scalar of one element).
  virtual std::vector<std::int64_t> batch_shape(std::size_t b) const = 0;
  // How messages name batch b (e.g. its file).
  virtual std::string batch_label(std::size_t b) const { return "batch " + std::to_string(b); }
  // Starts reading batch b; returns the shape of the data that read() will now yield.
  virtual std::vector<std::int64_t> open_batch(std::size_t b) = 0;
  // Copies up to max_count elements of the open batch to dst; returns how many, 0 at its end.
  virtual std::size_t read(float* dst, std::size_t max_count) = 0;
};

// Batches held in memory by the caller (pointers must outlive the source).
class InMemoryTensorSource : public TensorSource {
 public:
  void add(const float* data, std::vector<std::int64_t> shape) { batches_.push_back({data, std::move(shape)}); }
  std::size_t batch_count() const override { return batches_.size(); }
  std::vector<std::int64_t> batch_shape(std::size_t b) const override { return batches_.at(b).shape; }
  std::vector<std::int64_t> open_batch(std::size_t b) override {
    open_ = b;
    pos_ = 0;
    return batches_.at(b).shape;
  }
  std::size_t read(float* dst, std::size_t max_count) override {
    const Batch& bt = batches_.at(open_);
    std::size_t count = 1;
    for (std::int64_t d : bt.shape) count *= static_cast<std::size_t>(d);
    const std::size_t n = std::min(max_count, count - pos_);
    std::copy(bt.data + pos_, bt.data + pos_ + n, dst);
    pos_ += n;
    return n;
  }

 private:
  struct Batch {
    const float* data;
    std::vector<std::int64_t> shape;
  };
  std::vector<Batch> batches_;
  std::size_t open_ = 0, pos_ = 0;
};

// One method's result. Per tensor: one entry in each vector; per channel: one per channel.
struct MethodCalibration {
  CalibrationMethod method = CalibrationMethod::kMax;
  bool per_channel = false;
  std::vector<float> amax;
  std::vector<CalibrationRange> range;  // observed [min, max] (kMax only)
  std::vector<QuantParams> params;      // symmetric_params(amax, calibration_quant_range(settings))
};

struct TensorCalibration {
  std::string name;
  std::size_t batches = 0;
  std::vector<std::int64_t> first_shape;
  std::uint64_t elements = 0;  // all elements read, non-finite included
  std::uint64_t nan = 0, posinf = 0, neginf = 0;
  float min = 0.0f, max = 0.0f, absmax = 0.0f;  // finite values
  std::vector<std::uint64_t> counts;  // the per-tensor absolute histogram (empty when not collected)
  float width = 0.0f;                 // 0 when every value was zero
  std::uint64_t binned = 0;           // finite values in the statistics
  bool per_channel = false;
  int axis = 0;  // normalised, >= 0
  std::size_t channels = 0;
  std::vector<MethodCalibration> methods;  // in the order of CalibrationSettings::methods

  std::uint64_t nonfinite() const { return nan + posinf + neginf; }
  const MethodCalibration* find(CalibrationMethod m) const {
    for (const auto& r : methods)
      if (r.method == m) return &r;
    return nullptr;
  }
};

namespace detail {

inline std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

inline std::uint64_t shape_elements(const std::vector<std::int64_t>& shape, const std::string& name,
                                    const std::string& label) {
  std::uint64_t n = 1;
  for (std::int64_t d : shape) {
    require(d >= 0, "calibrate_stream", "tensor '", name, "': ", label, ": negative dimension in shape ",
            shape_text(shape));
    require(d == 0 || n <= std::numeric_limits<std::uint64_t>::max() / static_cast<std::uint64_t>(d),
            "calibrate_stream", "tensor '", name, "': ", label, ": shape ", shape_text(shape), " overflows");
    n *= static_cast<std::uint64_t>(d);
  }
  return n;
}

// One batch as declared: its shape, element count and channel layout ({1, 1, count} per tensor).
struct DeclaredBatch {
  std::vector<std::int64_t> shape;
  std::uint64_t count = 0;
  ChannelLayout layout{1, 1, 0};
};

// Splits a chunk starting at flat index `index` into per-channel runs appended to route[c] (cleared first).
inline void route_channels(const float* x, std::size_t n, const ChannelLayout& layout, std::uint64_t index,
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

struct NonFiniteCounts {
  std::uint64_t nan = 0, posinf = 0, neginf = 0;
};

// Reads batches [first, last) of `src` chunk by chunk, checking each against its declaration, and calls
// visit(chunk, n, batch, flat index of chunk[0] in its batch) for each chunk, then on_chunk(batch, n) if set.
// Applies the non-finite policy after each batch; returns the non-finite counts.
template <class Visit>
NonFiniteCounts stream_batches(TensorSource& src, const std::string& name, const std::vector<DeclaredBatch>& decl,
                               std::size_t first, std::size_t last, const CalibrationSettings& s,
                               std::vector<float>& buf, Visit visit,
                               const std::function<void(std::size_t, std::size_t)>& on_chunk) {
  NonFiniteCounts total;
  for (std::size_t b = first; b < last; ++b) {
    const std::string label = src.batch_label(b);
    const std::vector<std::int64_t> shape = src.open_batch(b);
    require(shape == decl[b].shape, "calibrate_stream", "tensor '", name, "': ", label, ": shape ", shape_text(shape),
            " differs from the declared ", shape_text(decl[b].shape), " (changed since it was declared?)");
    std::uint64_t index = 0;
    NonFiniteCounts bad;
    while (const std::size_t n = src.read(buf.data(), buf.size())) {
      require(n <= buf.size() && index + n <= decl[b].count, "calibrate_stream", "tensor '", name, "': ", label,
              ": yields more than the ", decl[b].count, " elements of its declared shape ",
              shape_text(decl[b].shape));
      for (std::size_t i = 0; i < n; ++i) {
        const float v = buf[i];
        if (!(v - v == 0.0f)) {  // NaN or +-inf
          if (v != v) ++bad.nan;
          else if (v > 0.0f) ++bad.posinf;
          else ++bad.neginf;
        }
      }
      visit(buf.data(), n, b, index);
      index += n;
      if (on_chunk) on_chunk(b, n);
    }
    require(index == decl[b].count, "calibrate_stream", "tensor '", name, "': ", label, ": yields ", index,
            " elements, its declared shape ", shape_text(decl[b].shape), " holds ", decl[b].count);
    const std::uint64_t n_bad = bad.nan + bad.posinf + bad.neginf;
    require(n_bad == 0 || s.non_finite == NonFinitePolicy::kSkip, "calibrate_stream", "tensor '", name, "': ", label,
            " contains ", n_bad, " non-finite value(s) (", bad.nan, " NaN, ", bad.posinf, " +inf, ", bad.neginf,
            " -inf); NonFinitePolicy::kSkip leaves them out of the calibration and counts them");
    total.nan += bad.nan;
    total.posinf += bad.posinf;
    total.neginf += bad.neginf;
  }
  return total;
}

}  // namespace detail

// The declared batches of `src` checked against the settings: every shape valid, and with a per-channel axis, the
// axis in range for every batch and the same channel count in all. Throws qmath::error naming the tensor and batch.
inline std::vector<detail::DeclaredBatch> declared_batches(const TensorSource& src, const std::string& name,
                                                           const CalibrationSettings& s) {
  const char* where = "calibrate_stream";
  detail::require(src.batch_count() >= 1, where, "tensor '", name, "': no batches");
  std::vector<detail::DeclaredBatch> decl(src.batch_count());
  for (std::size_t b = 0; b < decl.size(); ++b) {
    detail::DeclaredBatch& d = decl[b];
    d.shape = src.batch_shape(b);
    d.count = detail::shape_elements(d.shape, name, src.batch_label(b));
    d.layout = ChannelLayout{1, 1, static_cast<std::size_t>(d.count)};
    if (!s.per_channel_axis) continue;
    const int rank = static_cast<int>(d.shape.size()), axis = *s.per_channel_axis;
    detail::require(axis >= -rank && axis < rank, where, "tensor '", name, "': ", src.batch_label(b),
                    ": per-channel axis ", axis, " is out of range for shape ", detail::shape_text(d.shape));
    d.layout = channel_layout(d.shape, axis);
    detail::require(d.layout.channels == decl[0].layout.channels, where, "tensor '", name, "': ",
                    src.batch_label(b), " has ", d.layout.channels, " channels along axis ", axis, ", but ",
                    src.batch_label(0), " has ", decl[0].layout.channels);
  }
  return decl;
}

// Whether calibrate_stream collects histograms: for any method but kMax, or when keep_histogram asks.
inline bool collects_histogram(const CalibrationSettings& s) {
  bool any = s.keep_histogram;
  for (CalibrationMethod m : s.methods) any = any || m != CalibrationMethod::kMax;
  return any;
}

// Whether calibrate_stream keeps a histogram per channel: only for a per-channel method that needs one (kPercentile).
inline bool collects_channel_histograms(const CalibrationSettings& s) {
  bool any = false;
  for (CalibrationMethod m : s.methods) any = any || (has_per_channel_form(m) && m != CalibrationMethod::kMax);
  return s.per_channel_axis.has_value() && any;
}

// Elements per read: chunk_elements, but never more than the largest batch holds.
inline std::size_t chunk_buffer_elements(const CalibrationSettings& s, std::uint64_t largest_batch) {
  return static_cast<std::size_t>(std::min<std::uint64_t>(s.chunk_elements, std::max<std::uint64_t>(largest_batch, 1)));
}

// What calibrate_stream holds at its peak for a tensor of `channels` channels (1 per tensor) whose largest batch
// has `largest_batch` elements, in bytes (the formula in docs/reliability.md): the chunk buffer; with histograms,
// the per-tensor one (counts and staging, 16 bytes per bin), its copy in the result and the amax search (at most
// 48 bytes per bin); per channel, the routed copy of a chunk, each channel's run buffer, MinMax state and results,
// and (collects_channel_histograms) a histogram each. Under kAppend the histograms may grow beyond `bins`.
inline std::uint64_t calibrate_stream_state_bytes(const CalibrationSettings& s, std::uint64_t channels,
                                                  std::uint64_t largest_batch) {
  const std::uint64_t chunk = chunk_buffer_elements(s, largest_batch), bins = static_cast<std::uint64_t>(s.bins);
  const std::uint64_t histogram = sizeof(Histogram) + 2 * bins * sizeof(std::uint64_t);
  std::uint64_t bytes = chunk * sizeof(float) + (collects_histogram(s) ? histogram + bins * (8 + 48) : 0);
  if (s.per_channel_axis)
    bytes += chunk * sizeof(float) +
             channels * (sizeof(std::vector<float>) + sizeof(MinMaxCalibrator) +
                         s.methods.size() * (sizeof(float) + sizeof(CalibrationRange) + sizeof(QuantParams)));
  if (collects_channel_histograms(s)) bytes += channels * histogram;
  return bytes;
}

namespace detail {
// make(), with an allocation failure turned into qmath::error naming the tensor and `what` was being allocated.
template <class Make>
auto allocate(const std::string& name, const std::string& what, Make make) -> decltype(make()) {
  try {
    return make();
  } catch (const std::bad_alloc&) {
    fail("calibrate_stream", "tensor '", name, "': out of memory allocating ", what);
  }
}
}  // namespace detail

// How many times calibrate_stream reads every batch through on_chunk: 2 under kFixed with histograms, else 1.
inline int reported_passes(const CalibrationSettings& s) {
  return collects_histogram(s) && effective_histogram_range(s) == HistogramRangeMode::kFixed ? 2 : 1;
}

// Streams one tensor through the statistics (passes in the file comment) and computes every method of `s`.
// on_chunk(batch, elements), if set, is called after each chunk of pass 1 and pass 2 (not of the kAppend seed pass).
inline TensorCalibration calibrate_stream(const std::string& name, TensorSource& src, const CalibrationSettings& s,
                                          const std::function<void(std::size_t, std::size_t)>& on_chunk = {}) {
  validate(s);
  const std::vector<detail::DeclaredBatch> decl = declared_batches(src, name, s);
  const bool per_channel = s.per_channel_axis.has_value();
  const HistogramRangeMode mode = effective_histogram_range(s);
  const bool want_hist = collects_histogram(s);
  const bool one_pass = mode != HistogramRangeMode::kFixed;
  auto channel_name = [&](std::size_t c) { return name + "[channel " + std::to_string(c) + "]"; };

  TensorCalibration res;
  res.name = name;
  res.batches = decl.size();
  res.first_shape = decl[0].shape;
  res.per_channel = per_channel;
  if (per_channel) {
    const int rank = static_cast<int>(decl[0].shape.size());
    res.axis = *s.per_channel_axis < 0 ? *s.per_channel_axis + rank : *s.per_channel_axis;
    res.channels = decl[0].layout.channels;
  }
  std::uint64_t largest = 0;
  for (const detail::DeclaredBatch& d : decl) largest = std::max(largest, d.count);
  const std::size_t chunk = chunk_buffer_elements(s, largest);
  const bool channel_hist = want_hist && collects_channel_histograms(s);
  auto buf = detail::allocate(name, "the chunk buffer (" + std::to_string(chunk) + " elements)",
                              [&] { return std::vector<float>(chunk); });
  auto route = detail::allocate(name, "per-channel buffers (" + std::to_string(res.channels) + " channels)",
                                [&] { return std::vector<std::vector<float>>(per_channel ? res.channels : 0); });
  const std::string channel_hists = std::to_string(res.channels) + " per-channel histograms of " +
                                    std::to_string(s.bins) + " bins";

  // kAppend: the first non-zero batch's absmax, per tensor and per channel (0 where no batch has a non-zero value).
  float seed = 0.0f;
  std::vector<float> channel_seed(res.channels, 0.0f);
  if (mode == HistogramRangeMode::kAppend && want_hist) {
    for (std::size_t b = 0; b < decl.size(); ++b) {
      float batch_max = 0.0f;
      std::vector<float> channel_max(res.channels, 0.0f);
      detail::stream_batches(
          src, name, decl, b, b + 1, s, buf,
          [&](const float* x, std::size_t n, std::size_t batch, std::uint64_t index) {
            for (std::size_t i = 0; i < n; ++i) {
              const float a = std::fabs(x[i]);
              if (!(a <= std::numeric_limits<float>::max())) continue;  // NaN, inf
              batch_max = std::max(batch_max, a);
              if (per_channel) {
                const ChannelLayout& l = decl[batch].layout;
                const std::size_t c = static_cast<std::size_t>(((index + i) / l.inner) % l.channels);
                channel_max[c] = std::max(channel_max[c], a);
              }
            }
          },
          {});
      if (seed == 0.0f) seed = batch_max;
      bool done = seed > 0.0f;
      for (std::size_t c = 0; c < res.channels; ++c) {
        if (channel_seed[c] == 0.0f) channel_seed[c] = channel_max[c];
        done = done && channel_seed[c] > 0.0f;
      }
      if (done) break;
    }
  }

  // Pass 1 (or the only pass).
  MinMaxCalibrator minmax(NonFinitePolicy::kSkip, name);
  auto ch_minmax = detail::allocate(name, "per-channel MinMax state (" + std::to_string(res.channels) + " channels)", [&] {
    return std::vector<MinMaxCalibrator>(res.channels, MinMaxCalibrator(NonFinitePolicy::kSkip, name));
  });
  std::unique_ptr<Histogram> hist;
  std::vector<Histogram> ch_hist;
  if (one_pass && want_hist) {
    hist = detail::allocate(name, "its histogram", [&] {
      return std::make_unique<Histogram>(streaming_histogram_options(s, name, seed));
    });
    if (channel_hist)
      detail::allocate(name, channel_hists, [&] {
        for (std::size_t c = 0; c < res.channels; ++c)
          ch_hist.emplace_back(streaming_histogram_options(s, channel_name(c), channel_seed[c]));
      });
  }
  const detail::NonFiniteCounts bad = detail::stream_batches(
      src, name, decl, 0, decl.size(), s, buf,
      [&](const float* x, std::size_t n, std::size_t batch, std::uint64_t index) {
        res.elements += n;
        minmax.collect(x, n);
        if (hist) hist->collect(x, n);
        if (!per_channel) return;
        detail::route_channels(x, n, decl[batch].layout, index, route);
        for (std::size_t c = 0; c < route.size(); ++c) {
          if (route[c].empty()) continue;
          ch_minmax[c].collect(route[c].data(), route[c].size());
          if (!ch_hist.empty()) ch_hist[c].collect(route[c].data(), route[c].size());
        }
      },
      on_chunk);
  res.nan = bad.nan;
  res.posinf = bad.posinf;
  res.neginf = bad.neginf;
  const CalibrationRange mm = minmax.compute();
  res.min = mm.min;
  res.max = mm.max;
  res.absmax = mm.amax();
  detail::require(minmax.skipped_count() != res.elements, "calibrate_stream", "tensor '", name,
                  "': no finite values to calibrate (", res.elements, " elements, all NaN or infinite)");

  // Pass 2 (kFixed): histograms over [0, absmax].
  if (!one_pass && want_hist) {
    hist = detail::allocate(name, "its histogram", [&] {
      return std::make_unique<Histogram>(streaming_histogram_options(s, name, res.absmax));
    });
    if (channel_hist)
      detail::allocate(name, channel_hists, [&] {
        for (std::size_t c = 0; c < res.channels; ++c)
          ch_hist.emplace_back(streaming_histogram_options(s, channel_name(c), ch_minmax[c].compute_amax()));
      });
    detail::stream_batches(
        src, name, decl, 0, decl.size(), s, buf,
        [&](const float* x, std::size_t n, std::size_t batch, std::uint64_t index) {
          hist->collect(x, n);
          if (!channel_hist) return;
          detail::route_channels(x, n, decl[batch].layout, index, route);
          for (std::size_t c = 0; c < route.size(); ++c)
            if (!route[c].empty()) ch_hist[c].collect(route[c].data(), route[c].size());
        },
        on_chunk);
  }
  if (hist) {
    res.binned = hist->total();
    res.counts = hist->counts();
    res.width = hist->width();
  } else {
    res.binned = res.elements - minmax.skipped_count();
  }

  const QuantRange qr = calibration_quant_range(s);
  const CalibrationOptions copt = calibration_options(s);
  for (CalibrationMethod m : s.methods) {
    MethodCalibration r;
    r.method = m;
    r.per_channel = per_channel && has_per_channel_form(m);
    if (r.per_channel) {
      for (std::size_t c = 0; c < res.channels; ++c) {
        if (m == CalibrationMethod::kMax) r.range.push_back(ch_minmax[c].compute());
        r.amax.push_back(m == CalibrationMethod::kMax ? ch_minmax[c].compute_amax()
                                                      : calibrate_amax(ch_hist[c], m, copt));
      }
    } else if (m == CalibrationMethod::kMax) {
      r.range.push_back(mm);
      r.amax.push_back(mm.amax());
    } else {
      r.amax.push_back(calibrate_amax(*hist, m, copt));
    }
    for (float a : r.amax) r.params.push_back(symmetric_params(a, qr));
    res.methods.push_back(std::move(r));
  }
  return res;
}

}  // namespace qmath
