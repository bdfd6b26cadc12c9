// options.hpp - qmath-calibrate's command line: parsing, usage text and the input layout.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "npy.hpp"

namespace qmath_calibrate {

enum class Method { kMinMax, kPercentile, kMse, kEntropy };

inline const char* method_name(Method m) {
  switch (m) {
    case Method::kMinMax: return "minmax";
    case Method::kPercentile: return "percentile";
    case Method::kMse: return "mse";
    case Method::kEntropy: return "entropy";
  }
  return "?";
}

enum class NanPolicy { kError, kSkip };

// --histogram-range: kFixed two passes, [0, absmax] (TensorRT's layout); kPow2 one pass, power-of-two growth;
// kAppend one pass, pytorch-quantization's growth (the first batch fixes the width, later ones append bins).
enum class HistogramRangeMode { kFixed, kPow2, kAppend };

inline const char* histogram_range_name(HistogramRangeMode r) {
  switch (r) {
    case HistogramRangeMode::kFixed: return "fixed";
    case HistogramRangeMode::kPow2: return "pow2";
    case HistogramRangeMode::kAppend: return "append";
  }
  return "?";
}

// --compat: whose threshold rules the histogram methods follow.
//   kTensorRT (default): entropy as TensorRT's EntropyCalibration2, percentile = upper edge of the bin that reaches
//       the rank, MSE from bin 128;
//   kPyTorchQuantization: NVIDIA pytorch-quantization's HistogramCalibrator - its entropy search to the float32 bit
//       (EntropyMode::kPyTorchQuantization), its percentile rule (left edge, PercentileRule::kPyTorchQuantization),
//       the same MSE, and by default its histogram growth (--histogram-range append).
enum class Compat { kTensorRT, kPyTorchQuantization };

inline const char* compat_name(Compat c) {
  return c == Compat::kPyTorchQuantization ? "pytorch-quantization" : "tensorrt";
}

struct TensorInput {
  std::string name;
  std::vector<std::string> files;  // batches, in processing order
};

struct Options {
  std::vector<TensorInput> tensors;
  std::vector<Method> methods{Method::kEntropy};  // --method; "all" lists every method
  bool compare_all = false;
  int bins = 2048;
  HistogramRangeMode histogram_range = HistogramRangeMode::kFixed;
  bool histogram_range_given = false;
  Compat compat = Compat::kTensorRT;
  double percentile = 99.99;
  bool is_signed = true;
  bool per_channel = false;
  int per_channel_axis = 0;
  std::string cache_path;
  Method cache_method = Method::kEntropy;
  bool cache_method_given = false;
  std::string cache_algorithm;  // empty: derived from cache_method
  std::string trt_version;  // empty: qmath::TensorRTCache's default
  std::string json_path;
  std::string plot_dir;
  NanPolicy nan_policy = NanPolicy::kError;
  int progress = -1;  // -1: only when stderr is a terminal; 0: never; 1: always
  bool quiet = false;
  std::size_t chunk_elements = std::size_t(1) << 20;
  bool help = false;
  bool version = false;
};

inline const char* usage_text() {
  return R"(usage: qmath-calibrate [options] INPUT...

Computes INT8 calibration ranges for activation tensors dumped as NumPy .npy files (float32 or float16, any shape,
C order). Every file of a tensor is one batch; batches are streamed chunk by chunk, never held in memory together.

inputs:
  NAME=FILE.npy[,FILE.npy...]  the batches of tensor NAME (repeat NAME=... to append more batches)
  --dir DIR                    every subdirectory DIR/NAME/ is a tensor whose *.npy files are its batches, in
                               sorted file-name order; a file DIR/NAME.npy is a single-batch tensor

methods:
  --method M                   minmax | percentile | mse | entropy | all     (default: entropy)
                               'all' computes every method and compares them in the summary
  --bins N                     histogram bins for percentile, mse and entropy, even (default: 2048)
  --histogram-range R          fixed (default): two passes over the files, the first finds each tensor's absmax,
                               the second fills bins covering exactly [0, absmax] (TensorRT's layout);
                               pow2: one pass, bin width a power of two that grows with the data (half the bins
                               may stay empty). Both are independent of batch order and batch size.
                               append: one pass, pytorch-quantization's growth: the first batch fixes the width
                               (its absmax / bins), later batches append bins; depends on which batch comes first
  --compat C                   tensorrt (default) | pytorch-quantization: whose entropy, percentile and histogram
                               rules to follow; pytorch-quantization reproduces its HistogramCalibrator's amax
                               (entropy to the float32 bit, percentile at the bin's left edge) and implies
                               --histogram-range append unless that option is given
  --percentile P               percentile in [0, 100] for --method percentile   (default: 99.99)
  --signed                     signed int8 tensor, scale = amax / 127           (default)
  --unsigned                   post-ReLU tensor, uint8 [0, 255], scale = amax / 255
  --per-channel-axis A         minmax and percentile per channel along axis A (negative counts from the end);
                               mse and entropy stay per tensor
  --nan-policy error|skip      error (default): any NaN or infinity is an error naming the tensor and the count;
                               skip: non-finite values are counted, reported and left out of the calibration

outputs (each written to a temporary file and moved into place only when the whole run succeeded):
  --cache FILE                 TensorRT calibration cache (per-tensor scale = amax / 127)
  --cache-method M             the method whose amax goes into the cache (default: entropy, or the single --method)
  --cache-algorithm NAME       header algorithm (default: EntropyCalibration2 for entropy, MinMaxCalibration for
                               minmax, percentile and mse)
  --trt-version N              header version number, e.g. 8601 = TensorRT 8.6.1, 101303 = 10.13.3 (default: 8600)
  --json FILE                  JSON table: per tensor and method amax, scale, zero point, histogram summary
  --plot DIR                   one SVG per tensor: the histogram (log counts) with every method's threshold
  --progress / --no-progress   progress on stderr (default: only when stderr is a terminal)
  --quiet                      no summary table on stdout
  --chunk-elements N           elements read per chunk (default: 1048576)
  -h, --help                   this text
  --version                    the version
)";
}

namespace detail {

inline Method parse_method(const std::string& s, const std::string& flag) {
  if (s == "minmax") return Method::kMinMax;
  if (s == "percentile") return Method::kPercentile;
  if (s == "mse") return Method::kMse;
  if (s == "entropy") return Method::kEntropy;
  throw InputError(flag + ": unknown method '" + s + "' (minmax, percentile, mse, entropy" +
                   (flag == "--method" ? ", all)" : ")"));
}

inline long long parse_int(const std::string& s, const std::string& flag, long long lo, long long hi) {
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno == ERANGE)
    throw InputError(flag + ": '" + s + "' is not an integer");
  if (v < lo || v > hi)
    throw InputError(flag + ": " + s + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return v;
}

inline double parse_double(const std::string& s, const std::string& flag) {
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v))
    throw InputError(flag + ": '" + s + "' is not a finite number");
  return v;
}

inline std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t c = s.find(',', start);
    out.push_back(s.substr(start, c == std::string::npos ? std::string::npos : c - start));
    if (c == std::string::npos) return out;
    start = c + 1;
  }
}

// DIR/NAME/*.npy (sorted) and DIR/NAME.npy, tensors in sorted name order.
inline std::vector<TensorInput> scan_directory(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw InputError("--dir " + dir + ": not a directory");
  std::map<std::string, std::vector<std::string>> found;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const fs::path p = entry.path();
    if (entry.is_directory()) {
      std::vector<std::string> files;
      for (const auto& f : fs::directory_iterator(p)) {
        if (f.path().extension() == ".npy" && !f.is_directory()) files.push_back(f.path().string());
      }
      if (files.empty()) throw InputError("--dir: tensor directory " + p.string() + " contains no .npy files");
      std::sort(files.begin(), files.end());
      found[p.filename().string()] = files;
    } else if (p.extension() == ".npy") {
      const std::string name = p.stem().string();
      if (found.count(name))
        throw InputError("--dir: tensor '" + name + "' is both a directory and a file in " + dir);
      found[name] = {p.string()};
    }
  }
  if (ec) throw InputError("--dir " + dir + ": cannot read (" + ec.message() + ")");
  // A directory and a file of the same name: the loop above catches file-after-directory; check the other order.
  for (const auto& entry : fs::directory_iterator(dir)) {
    const fs::path p = entry.path();
    if (p.extension() == ".npy" && !entry.is_directory() && fs::is_directory(fs::path(dir) / p.stem()))
      throw InputError("--dir: tensor '" + p.stem().string() + "' is both a directory and a file in " + dir);
  }
  if (found.empty()) throw InputError("--dir " + dir + ": no tensors found (expected DIR/NAME/*.npy or DIR/NAME.npy)");
  std::vector<TensorInput> out;
  for (auto& kv : found) out.push_back({kv.first, kv.second});
  return out;
}

}  // namespace detail

// Parses argv[1..argc). Throws InputError with a message naming the option on any mistake.
inline Options parse_args(const std::vector<std::string>& args) {
  Options o;
  std::vector<std::string> method_args;
  auto need = [&](std::size_t& i, const std::string& flag) -> const std::string& {
    if (i + 1 >= args.size()) throw InputError(flag + ": missing value");
    return args[++i];
  };
  std::vector<TensorInput> named, from_dirs;
  bool sign_given = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      o.help = true;
    } else if (a == "--version") {
      o.version = true;
    } else if (a == "--method") {
      const std::string& m = need(i, a);
      if (m == "all") {
        o.compare_all = true;
        o.methods = {Method::kMinMax, Method::kPercentile, Method::kMse, Method::kEntropy};
      } else {
        o.compare_all = false;
        o.methods = {detail::parse_method(m, a)};
      }
    } else if (a == "--bins") {
      o.bins = static_cast<int>(detail::parse_int(need(i, a), a, 2, 1 << 24));
      if (o.bins % 2 != 0) throw InputError("--bins: " + args[i] + " is odd (the histograms need an even bin count)");
    } else if (a == "--histogram-range") {
      const std::string& r = need(i, a);
      if (r == "fixed") o.histogram_range = HistogramRangeMode::kFixed;
      else if (r == "pow2") o.histogram_range = HistogramRangeMode::kPow2;
      else if (r == "append") o.histogram_range = HistogramRangeMode::kAppend;
      else throw InputError("--histogram-range: unknown value '" + r + "' (fixed, pow2, append)");
      o.histogram_range_given = true;
    } else if (a == "--compat") {
      const std::string& c = need(i, a);
      if (c == "tensorrt") o.compat = Compat::kTensorRT;
      else if (c == "pytorch-quantization") o.compat = Compat::kPyTorchQuantization;
      else throw InputError("--compat: unknown value '" + c + "' (tensorrt, pytorch-quantization)");
    } else if (a == "--percentile") {
      o.percentile = detail::parse_double(need(i, a), a);
      if (o.percentile < 0.0 || o.percentile > 100.0)
        throw InputError("--percentile: " + args[i] + " is outside [0, 100]");
    } else if (a == "--signed" || a == "--unsigned") {
      const bool s = a == "--signed";
      if (sign_given && s != o.is_signed) throw InputError("--signed and --unsigned are mutually exclusive");
      sign_given = true;
      o.is_signed = s;
    } else if (a == "--per-channel-axis") {
      o.per_channel = true;
      o.per_channel_axis = static_cast<int>(detail::parse_int(need(i, a), a, -64, 63));
    } else if (a == "--cache") {
      o.cache_path = need(i, a);
    } else if (a == "--cache-method") {
      o.cache_method = detail::parse_method(need(i, a), a);
      o.cache_method_given = true;
    } else if (a == "--cache-algorithm") {
      o.cache_algorithm = need(i, a);
      if (o.cache_algorithm.empty() || o.cache_algorithm.find_first_of(" \t\r\n:") != std::string::npos)
        throw InputError("--cache-algorithm: '" + o.cache_algorithm + "' must be a single word");
    } else if (a == "--trt-version") {
      o.trt_version = need(i, a);
      if (o.trt_version.empty() || o.trt_version.find_first_not_of("0123456789") != std::string::npos)
        throw InputError("--trt-version: '" + o.trt_version + "' is not a decimal number (e.g. 8601, 101303)");
    } else if (a == "--json") {
      o.json_path = need(i, a);
    } else if (a == "--plot") {
      o.plot_dir = need(i, a);
    } else if (a == "--nan-policy") {
      const std::string& p = need(i, a);
      if (p == "error") o.nan_policy = NanPolicy::kError;
      else if (p == "skip") o.nan_policy = NanPolicy::kSkip;
      else throw InputError("--nan-policy: unknown policy '" + p + "' (error, skip)");
    } else if (a == "--progress") {
      o.progress = 1;
    } else if (a == "--no-progress") {
      o.progress = 0;
    } else if (a == "--quiet" || a == "-q") {
      o.quiet = true;
    } else if (a == "--chunk-elements") {
      o.chunk_elements = static_cast<std::size_t>(detail::parse_int(need(i, a), a, 1, 1LL << 30));
    } else if (a == "--dir") {
      for (auto& t : detail::scan_directory(need(i, a))) from_dirs.push_back(std::move(t));
    } else if (a.size() > 1 && a[0] == '-' && a.find('=') == std::string::npos) {
      throw InputError("unknown option '" + a + "' (see --help)");
    } else {
      const std::size_t eq = a.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == a.size())
        throw InputError("input '" + a + "': expected NAME=FILE.npy[,FILE.npy...]");
      const std::string name = a.substr(0, eq);
      std::vector<std::string> files = detail::split_commas(a.substr(eq + 1));
      for (const auto& f : files)
        if (f.empty()) throw InputError("input '" + a + "': empty file name in the list");
      auto it = std::find_if(named.begin(), named.end(), [&](const TensorInput& t) { return t.name == name; });
      if (it == named.end()) named.push_back({name, files});
      else it->files.insert(it->files.end(), files.begin(), files.end());
    }
  }
  if (o.help || o.version) return o;
  for (auto& t : from_dirs) {
    if (std::any_of(named.begin(), named.end(), [&](const TensorInput& n) { return n.name == t.name; }) ||
        std::any_of(o.tensors.begin(), o.tensors.end(), [&](const TensorInput& n) { return n.name == t.name; }))
      throw InputError("tensor '" + t.name + "' is given twice (by --dir and another input)");
    o.tensors.push_back(std::move(t));
  }
  for (auto& t : named) o.tensors.push_back(std::move(t));
  if (o.tensors.empty()) throw InputError("no input tensors (give NAME=FILE.npy or --dir DIR; see --help)");
  for (const auto& t : o.tensors)
    if (t.name.find_first_of("\r\n") != std::string::npos || t.name.find(": ") != std::string::npos)
      throw InputError("tensor name '" + t.name + "' cannot be written to a calibration table (newline or ': ')");

  if (o.compat == Compat::kPyTorchQuantization && !o.histogram_range_given)
    o.histogram_range = HistogramRangeMode::kAppend;
  if (!o.cache_method_given && !o.compare_all) o.cache_method = o.methods.front();
  if (!o.cache_path.empty() &&
      std::find(o.methods.begin(), o.methods.end(), o.cache_method) == o.methods.end())
    throw InputError(std::string("--cache-method ") + method_name(o.cache_method) +
                     " is not among the computed methods (--method)");
  if (o.per_channel) {
    for (Method m : o.methods)
      if (!o.compare_all && (m == Method::kMse || m == Method::kEntropy))
        throw InputError(std::string("--per-channel-axis: method ") + method_name(m) +
                         " is per tensor only (per channel: minmax, percentile)");
    if (!o.cache_path.empty() && (o.cache_method == Method::kMinMax || o.cache_method == Method::kPercentile))
      throw InputError("--cache: a TensorRT calibration cache holds one scale per tensor; per-channel " +
                       std::string(method_name(o.cache_method)) + " cannot be written to it");
  }
  // Outputs must not overwrite each other or an input (the run would destroy its own data or results).
  {
    namespace fs = std::filesystem;
    auto key = [](const std::string& p) {
      std::error_code ec;
      const fs::path abs = fs::absolute(fs::path(p), ec).lexically_normal();
      const fs::path c = fs::weakly_canonical(abs, ec);
      return ec ? abs.string() : c.string();
    };
    std::map<std::string, std::string> seen;
    for (const auto& t : o.tensors)
      for (const auto& f : t.files) seen[key(f)] = "input " + f;
    const std::pair<const char*, const std::string*> outs[] = {
        {"--cache", &o.cache_path}, {"--json", &o.json_path}, {"--plot", &o.plot_dir}};
    for (const auto& out : outs) {
      if (out.second->empty()) continue;
      const auto it = seen.find(key(*out.second));
      if (it != seen.end())
        throw InputError(std::string(out.first) + " " + *out.second + ": the same path as " + it->second);
      seen[key(*out.second)] = std::string(out.first) + " " + *out.second;
    }
  }
  if (o.cache_algorithm.empty())
    o.cache_algorithm = o.cache_method == Method::kEntropy ? "EntropyCalibration2" : "MinMaxCalibration";
  return o;
}

}  // namespace qmath_calibrate
