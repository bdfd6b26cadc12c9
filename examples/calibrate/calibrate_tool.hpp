// calibrate_tool.hpp - the qmath-calibrate tool: inputs -> calibration -> summary table, TensorRT cache, JSON, SVG.
//
// main.cpp only calls run(). The calibration itself is the library's (qmath::calibrate_stream in
// qmath/calibration/streaming.hpp, settings in presets.hpp): this file feeds it the .npy files of each tensor
// (qmath::NpyTensorSource) and reports the results.
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
#include <numeric>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include <qmath/calibration/npy_source.hpp>
#include <qmath/calibration/streaming.hpp>
#include <qmath/calibration/tensorrt_cache.hpp>
#include <qmath/config.hpp>

#include "options.hpp"
#include "output.hpp"
#include "svg_plot.hpp"

namespace qmath_calibrate {

inline std::string version_string() {
  return "qmath-calibrate " QMATH_STRINGIFY(QMATH_VERSION_MAJOR) "." QMATH_STRINGIFY(QMATH_VERSION_MINOR) "." QMATH_STRINGIFY(
      QMATH_VERSION_PATCH);
}

using MethodResult = qmath::MethodCalibration;
using TensorResult = qmath::TensorCalibration;  // results[i] is the calibration of Options::tensors[i]

// ---------------------------------------------------------------------------------------------------------------
// Progress on stderr: one line rewritten in place, at most every 100 ms.
class Progress {
 public:
  Progress(std::ostream& err, bool enabled) : err_(err), enabled_(enabled) {}
  void set_total(std::uint64_t bytes) { total_ = bytes ? static_cast<double>(bytes) : 1.0; }
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
    shown_ = false;
  }

 private:
  std::ostream& err_;
  bool enabled_;
  double total_ = 1.0;
  std::uint64_t done_ = 0;
  std::string tensor_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

// ---------------------------------------------------------------------------------------------------------------
// Opens every file once (validating its header and size) and checks the declared shapes against the settings
// (per-channel axis, channel counts) and each tensor's calibration state against --max-memory, before any tensor is
// calibrated.
inline std::vector<qmath::NpyTensorSource> open_inputs(const Options& o) {
  std::vector<qmath::NpyTensorSource> sources;
  for (const TensorInput& t : o.tensors) {
    sources.emplace_back(t.files);
    const auto decl = qmath::declared_batches(sources.back(), t.name, o.settings);
    std::uint64_t largest = 0;
    for (const auto& d : decl) largest = std::max(largest, d.count);
    const std::uint64_t channels = decl[0].layout.channels;
    const std::uint64_t bytes = qmath::calibrate_stream_state_bytes(o.settings, channels, largest);
    if (bytes > (o.max_memory_mib << 20))
      throw InputError("tensor '" + t.name + "': its calibration would hold about " + std::to_string((bytes >> 20) + 1) +
                       " MiB (" + (o.settings.per_channel_axis ? std::to_string(channels) + " channels, " : "") +
                       "--bins " + std::to_string(o.settings.bins) + ", chunks of " +
                       std::to_string(qmath::chunk_buffer_elements(o.settings, largest)) +
                       " elements), more than --max-memory " + std::to_string(o.max_memory_mib) +
                       " (MiB); lower --bins or --chunk-elements, or raise --max-memory");
  }
  return sources;
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

// Bins up to and including the last non-empty one.
inline std::size_t used_bins(const std::vector<std::uint64_t>& counts) {
  std::size_t used = counts.size();
  while (used > 0 && counts[used - 1] == 0) --used;
  return used;
}

inline nlohmann::ordered_json to_json(const std::vector<TensorResult>& results, const Options& o) {
  using nlohmann::ordered_json;
  const qmath::QuantRange qr = qmath::calibration_quant_range(o.settings);
  ordered_json j;
  j["format"] = "qmath-calibration-table";
  j["format_version"] = 1;
  j["generator"] = version_string();
  ordered_json s;
  ordered_json methods = ordered_json::array();
  for (CalibrationMethod m : o.settings.methods) methods.push_back(method_name(m));
  s["methods"] = methods;
  s["bins"] = o.settings.bins;
  s["percentile"] = o.settings.percentile;
  s["signed"] = o.settings.is_signed;
  s["quantized_range"] = {qr.qmin, qr.qmax};
  s["scale_formula"] = o.settings.is_signed ? "amax / 127" : "amax / 255";
  const std::optional<int>& axis = o.settings.per_channel_axis;
  s["per_channel_axis"] = axis ? ordered_json(*axis) : ordered_json(nullptr);
  s["nan_policy"] = o.settings.non_finite == qmath::NonFinitePolicy::kError ? "error" : "skip";
  s["histogram"] = {{"kind", "absolute"}, {"range", qmath::to_string(qmath::effective_histogram_range(o.settings))}};
  s["compat"] = qmath::to_string(o.settings.compat);
  j["settings"] = s;
  ordered_json tensors = ordered_json::object();
  for (std::size_t i = 0; i < results.size(); ++i) {
    const TensorResult& t = results[i];
    ordered_json e;
    e["batches"] = t.batches;
    e["files"] = o.tensors[i].files;
    e["shape"] = t.first_shape;
    e["elements"] = t.elements;
    e["min"] = t.min;
    e["max"] = t.max;
    e["absmax"] = t.absmax;
    e["nonfinite"] = {{"nan", t.nan}, {"posinf", t.posinf}, {"neginf", t.neginf}};
    const std::size_t used = used_bins(t.counts);
    e["histogram"] = {{"kind", "absolute"},
                      {"bins", t.counts.size()},
                      {"width", t.width},
                      {"range", {0.0f, t.width * static_cast<float>(t.counts.size())}},
                      {"count", t.binned},
                      {"nonfinite", t.nonfinite()},
                      {"last_nonempty_bin", used ? ordered_json(used - 1) : ordered_json(nullptr)}};
    ordered_json ms = ordered_json::object();
    for (const MethodResult& r : t.methods) {
      auto per = [&](auto field) {  // an array per channel, a number per tensor
        ordered_json a = ordered_json::array();
        for (std::size_t c = 0; c < r.amax.size(); ++c) a.push_back(field(c));
        return r.per_channel ? a : a[0];
      };
      ordered_json mj;
      mj["granularity"] = r.per_channel ? "per_channel" : "per_tensor";
      if (r.per_channel) {
        mj["axis"] = t.axis;
        mj["channels"] = t.channels;
      }
      mj["amax"] = per([&](std::size_t c) { return r.amax[c]; });
      if (!r.range.empty()) {
        mj["min"] = per([&](std::size_t c) { return r.range[c].min; });
        mj["max"] = per([&](std::size_t c) { return r.range[c].max; });
      }
      mj["scale"] = per([&](std::size_t c) { return r.params[c].scale; });
      mj["zero_point"] = per([&](std::size_t c) { return r.params[c].zero_point; });
      if (r.method == CalibrationMethod::kPercentile) mj["percentile"] = o.settings.percentile;
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
                static_cast<unsigned long long>(t.binned), t.batches, t.batches == 1 ? "" : "es",
                static_cast<double>(t.absmax), t.counts.size(), static_cast<double>(t.width),
                static_cast<unsigned long long>(t.nonfinite()), o.settings.is_signed ? "" : ", unsigned");
  d.subtitle = sub;
  // Show the populated part of the range (power-of-two growth leaves up to half the bins empty) and every marker.
  double hi = static_cast<double>(t.width) * static_cast<double>(std::max<std::size_t>(used_bins(t.counts), 1));
  for (const MethodResult& r : t.methods) {
    if (r.per_channel) {
      const auto mm = std::minmax_element(r.amax.begin(), r.amax.end());
      d.markers.push_back({std::string(method_name(r.method)) + " (largest channel)", *mm.second});
      d.markers.push_back({std::string(method_name(r.method)) + " (smallest channel)", *mm.first});
    } else {
      d.markers.push_back({method_name(r.method), r.amax[0]});
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

inline std::string fmt_g(double v, int precision = 6) { return detail::fmt(precision == 6 ? "%.6g" : "%.4g", v); }

// The per-tensor summary table printed on stdout.
inline std::string summary_table(const std::vector<TensorResult>& results, const Options& o) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> head = {"tensor", "batches", "values", "non-finite", "min", "max"};
  for (CalibrationMethod m : o.settings.methods)
    head.push_back(std::string(method_name(m)) + (o.compare_all ? "" : " amax"));
  head.push_back(o.compare_all ? "scale (" + std::string(method_name(o.cache_method)) + ")" : "scale");
  if (o.compare_all) head.push_back("entropy/minmax");
  rows.push_back(head);
  for (const TensorResult& t : results) {
    std::vector<std::string> r = {t.name, std::to_string(t.batches), std::to_string(t.binned),
                                  std::to_string(t.nonfinite()), fmt_g(t.min), fmt_g(t.max)};
    auto cell = [&](const MethodResult& m) {
      if (!m.per_channel) return fmt_g(m.amax[0]);
      const auto mm = std::minmax_element(m.amax.begin(), m.amax.end());
      return fmt_g(*mm.first, 4) + ".." + fmt_g(*mm.second, 4) + " (" + std::to_string(m.amax.size()) + " ch)";
    };
    for (const MethodResult& m : t.methods) r.push_back(cell(m));
    const MethodResult* s = t.find(o.compare_all ? o.cache_method : o.settings.methods.front());
    r.push_back(!s ? "-" : s->per_channel ? "per channel" : fmt_g(s->params[0].scale));
    if (o.compare_all) {
      const MethodResult* e = t.find(CalibrationMethod::kEntropy);
      const MethodResult* mm = t.find(CalibrationMethod::kMax);
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
    if (i == 0) out += std::string(std::accumulate(w.begin(), w.end(), 2 * (w.size() - 1)), '-') + '\n';
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
  Progress progress(err, o.progress == 1 || (o.progress == -1 && stderr_is_tty));
  try {
    std::vector<qmath::NpyTensorSource> sources = open_inputs(o);
    auto bytes_of = [&](const qmath::NpyTensorSource& src, std::size_t b, std::uint64_t n) {
      return n * src.header(b).item_size();
    };
    std::uint64_t bytes = 0;
    for (const qmath::NpyTensorSource& src : sources)
      for (std::size_t b = 0; b < src.batch_count(); ++b) bytes += bytes_of(src, b, src.header(b).count);
    progress.set_total(bytes * qmath::reported_passes(o.settings));
    std::vector<TensorResult> results;
    for (std::size_t i = 0; i < o.tensors.size(); ++i) {
      progress.set_tensor(i, o.tensors.size(), o.tensors[i].name);
      const qmath::NpyTensorSource& src = sources[i];
      results.push_back(qmath::calibrate_stream(o.tensors[i].name, sources[i], o.settings,
                                                [&](std::size_t b, std::size_t n) { progress.advance(bytes_of(src, b, n)); }));
    }
    progress.finish();
    if (!o.settings.is_signed)
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
    progress.finish();
    err << "qmath-calibrate: error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace qmath_calibrate
