// options.hpp - qmath-calibrate's command line (parsed with CLI11): usage text, options, the input layout.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <qmath/calibration/presets.hpp>
#include <qmath/calibration/tensorrt_cache.hpp>
#include <qmath/detail/utf8.hpp>

namespace qmath_calibrate {

// Bad input (a file, an argument): the message names the file or tensor and the problem.
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& what) : std::runtime_error(what) {}
};

using qmath::CalibrationMethod;

// The tool's method names (its --method choices, JSON keys and table headers).
inline const char* method_name(CalibrationMethod m) {
  return m == CalibrationMethod::kMax ? "minmax" : qmath::to_string(m);
}

struct TensorInput {
  std::string name;
  std::vector<std::string> files;  // batches, in processing order
};

struct Options {
  std::vector<TensorInput> tensors;
  qmath::CalibrationSettings settings;  // --method, --bins, --histogram-range, --compat, --percentile, ...
  bool compare_all = false;             // --method all
  std::string cache_path;
  CalibrationMethod cache_method = CalibrationMethod::kEntropy;
  std::string cache_algorithm;  // empty: derived from cache_method
  std::string trt_version;      // empty: qmath::TensorRTCache's default
  std::string json_path;
  std::string plot_dir;
  std::uint64_t max_memory_mib = 4096;  // --max-memory: refuse a tensor whose calibration state would exceed it
  int progress = -1;  // -1: only when stderr is a terminal; 0: never; 1: always
  bool quiet = false;
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
  --chunk-elements N           elements read per chunk (default: 1048576, at most the largest input)
  --max-memory MIB             refuse, before reading, a tensor whose calibration state (chunk buffers, histograms,
                               per-channel state) would exceed MIB mebibytes (default: 4096)
  -h, --help                   this text
  --version                    the version
)";
}

namespace detail {

// Each value parser throws CLI::ValidationError, which CLI11 reports as "--flag: message".
inline CalibrationMethod parse_method(const std::string& s, const std::string& flag) {
  for (CalibrationMethod m : qmath::all_calibration_methods())
    if (s == method_name(m)) return m;
  throw CLI::ValidationError(flag, "unknown method '" + s + "' (minmax, percentile, mse, entropy" +
                                       (flag == "--method" ? ", all)" : ")"));
}

inline long long parse_int(const std::string& s, const std::string& flag, long long lo, long long hi) {
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno == ERANGE) throw CLI::ValidationError(flag, "'" + s + "' is not an integer");
  if (v < lo || v > hi)
    throw CLI::ValidationError(flag, s + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return v;
}

// One of `choices` (value, result) or an error listing them.
template <class T>
T parse_choice(const std::string& s, const std::string& flag, const char* what,
               const std::vector<std::pair<std::string, T>>& choices) {
  std::string list;
  for (const auto& c : choices) {
    if (s == c.first) return c.second;
    list += (list.empty() ? "" : ", ") + c.first;
  }
  throw CLI::ValidationError(flag, std::string("unknown ") + what + " '" + s + "' (" + list + ")");
}

// DIR/NAME/*.npy (sorted) and DIR/NAME.npy, tensors in sorted name order.
inline std::vector<TensorInput> scan_directory(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw InputError("--dir " + dir + ": not a directory");
  std::map<std::string, std::vector<std::string>> found, single;  // DIR/NAME/*.npy, DIR/NAME.npy
  try {
    for (const auto& entry : fs::directory_iterator(dir)) {
      const fs::path p = entry.path();
      if (entry.is_directory()) {
        std::vector<std::string>& files = found[p.filename().string()];
        for (const auto& f : fs::directory_iterator(p))
          if (f.path().extension() == ".npy" && !f.is_directory()) files.push_back(f.path().string());
        if (files.empty()) throw InputError("--dir: tensor directory " + p.string() + " contains no .npy files");
        std::sort(files.begin(), files.end());
      } else if (p.extension() == ".npy") {
        single[p.stem().string()] = {p.string()};
      }
    }
  } catch (const fs::filesystem_error& e) {
    throw InputError("--dir " + dir + ": " + e.path1().string() + ": cannot read (" + e.code().message() + ")");
  }
  for (auto& kv : single)
    if (!found.insert(kv).second)
      throw InputError("--dir: tensor '" + kv.first + "' is both a directory and a file in " + dir);
  if (found.empty()) throw InputError("--dir " + dir + ": no tensors found (expected DIR/NAME/*.npy or DIR/NAME.npy)");
  std::vector<TensorInput> out;
  for (auto& kv : found) out.push_back({kv.first, kv.second});
  return out;
}

// Every tensor name must survive the outputs: UTF-8 for JSON, the TensorRT cache's name rules, no ': '.
inline void check_tensor_name(const std::string& name) {
  std::string problem = qmath::detail::utf8_problem(name, "tensor name");
  if (problem.empty()) problem = qmath::detail::cache_name_problem(name);
  if (problem.empty() && name.find(": ") != std::string::npos)
    problem = "tensor name '" + name + "' contains ': ', which a calibration table cannot keep";
  if (!problem.empty()) throw InputError(problem);
}

// NAME=FILE.npy[,FILE.npy...] appended to `named` (a repeated NAME appends batches).
inline void add_input(const std::string& a, std::vector<TensorInput>& named) {
  const std::size_t eq = a.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == a.size())
    throw InputError("input '" + a + "': expected NAME=FILE.npy[,FILE.npy...]");
  std::vector<std::string> files;
  for (std::size_t start = eq + 1;;) {
    const std::size_t c = a.find(',', start);
    files.push_back(a.substr(start, c == std::string::npos ? std::string::npos : c - start));
    if (files.back().empty()) throw InputError("input '" + a + "': empty file name in the list");
    if (c == std::string::npos) break;
    start = c + 1;
  }
  const std::string name = a.substr(0, eq);
  auto it = std::find_if(named.begin(), named.end(), [&](const TensorInput& t) { return t.name == name; });
  if (it == named.end()) named.push_back({name, files});
  else it->files.insert(it->files.end(), files.begin(), files.end());
}

// Outputs must not overwrite each other or an input (the run would destroy its own data or results).
inline void check_output_paths(const Options& o) {
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

}  // namespace detail

// Parses argv[1..argc) without reading any .npy file (--dir only lists directories). Throws InputError, with a
// message naming the option or input, on any mistake.
inline Options parse_args(const std::vector<std::string>& args) {
  using qmath::CalibrationCompat;
  using qmath::HistogramRangeMode;
  Options o;
  qmath::CalibrationSettings& s = o.settings;
  CLI::App app("qmath-calibrate", "qmath-calibrate");
  app.set_help_flag();  // --help prints usage_text()
  app.allow_extras();   // inputs (NAME=FILE.npy) arrive in remaining(), in order
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);  // a repeated option: the last wins
  auto value = [&app](const std::string& flag, auto parse) {
    return app.add_option_function<std::string>(flag, [flag, parse](const std::string& v) { parse(v, flag); });
  };
  std::vector<std::string> dirs;
  bool is_signed = false, is_unsigned = false, progress = false;
  app.add_flag("-h,--help", o.help);
  app.add_flag("--version", o.version);
  value("--method", [&](const std::string& v, const std::string& f) {
    o.compare_all = v == "all";
    s.methods = o.compare_all ? qmath::all_calibration_methods() : std::vector{detail::parse_method(v, f)};
  });
  value("--bins", [&](const std::string& v, const std::string& f) {
    s.bins = static_cast<std::int32_t>(detail::parse_int(v, f, 2, 1 << 24));
    if (s.bins % 2 != 0) throw CLI::ValidationError(f, v + " is odd (the histograms need an even bin count)");
  });
  value("--histogram-range", [&](const std::string& v, const std::string& f) {
    s.histogram_range = detail::parse_choice<HistogramRangeMode>(
        v, f, "value", {{"fixed", HistogramRangeMode::kFixed}, {"pow2", HistogramRangeMode::kPow2},
                        {"append", HistogramRangeMode::kAppend}});
  });
  value("--compat", [&](const std::string& v, const std::string& f) {
    using C = CalibrationCompat;
    s.compat = detail::parse_choice<C>(v, f, "value",
                                       {{"tensorrt", C::kTensorRT}, {"pytorch-quantization", C::kPyTorchQuantization}});
  });
  value("--percentile", [&](const std::string& v, const std::string& f) {
    errno = 0;
    char* end = nullptr;
    s.percentile = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(s.percentile))
      throw CLI::ValidationError(f, "'" + v + "' is not a finite number");
    if (s.percentile < 0.0 || s.percentile > 100.0) throw CLI::ValidationError(f, v + " is outside [0, 100]");
  });
  app.add_flag("--signed", is_signed);
  app.add_flag("--unsigned", is_unsigned);
  value("--per-channel-axis", [&](const std::string& v, const std::string& f) {
    s.per_channel_axis = static_cast<int>(detail::parse_int(v, f, -64, 63));
  });
  app.add_option("--cache", o.cache_path);
  bool cache_method_given = false;
  value("--cache-method", [&](const std::string& v, const std::string& f) {
    o.cache_method = detail::parse_method(v, f);
    cache_method_given = true;
  });
  value("--cache-algorithm", [&](const std::string& v, const std::string& f) {
    if (v.empty() || v.find_first_of(" \t\r\n:") != std::string::npos)
      throw CLI::ValidationError(f, "'" + v + "' must be a single word");
    o.cache_algorithm = v;
  });
  value("--trt-version", [&](const std::string& v, const std::string& f) {
    if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos)
      throw CLI::ValidationError(f, "'" + v + "' is not a decimal number (e.g. 8601, 101303)");
    o.trt_version = v;
  });
  app.add_option("--json", o.json_path);
  app.add_option("--plot", o.plot_dir);
  value("--nan-policy", [&](const std::string& v, const std::string& f) {
    s.non_finite = detail::parse_choice<qmath::NonFinitePolicy>(
        v, f, "policy", {{"error", qmath::NonFinitePolicy::kError}, {"skip", qmath::NonFinitePolicy::kSkip}});
  });
  CLI::Option* progress_flag = app.add_flag("--progress,!--no-progress", progress);
  app.add_flag("-q,--quiet", o.quiet);
  value("--chunk-elements", [&](const std::string& v, const std::string& f) {
    s.chunk_elements = static_cast<std::size_t>(detail::parse_int(v, f, 1, 1LL << 30));
  });
  value("--max-memory", [&](const std::string& v, const std::string& f) {
    o.max_memory_mib = static_cast<std::uint64_t>(detail::parse_int(v, f, 1, 1LL << 40));
  });
  app.add_option("--dir", dirs)->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);

  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes the arguments last first
  try {
    app.parse(reversed);
  } catch (const CLI::ArgumentMismatch& e) {  // an option without its value
    throw InputError(std::string(e.what()).substr(0, std::string(e.what()).find(':')) + ": missing value");
  } catch (const CLI::ParseError& e) {
    throw InputError(e.what());
  } catch (const std::logic_error& e) {  // CLI11's flag-value conversion (std::stoll) out of range or malformed
    throw InputError(std::string("a flag's value cannot be read (") + e.what() +
                     "): --progress, --no-progress, --quiet, --help and --version take no value");
  }
  if (o.help || o.version) return o;
  if (is_signed && is_unsigned) throw InputError("--signed and --unsigned are mutually exclusive");
  s.is_signed = !is_unsigned;
  if (progress_flag->count() != 0) o.progress = progress ? 1 : 0;
  std::vector<TensorInput> named;
  for (const std::string& a : app.remaining()) {
    if (a.size() > 1 && a[0] == '-' && a.find('=') == std::string::npos)
      throw InputError("unknown option '" + a + "' (see --help)");
    detail::add_input(a, named);
  }
  for (const std::string& dir : dirs)
    for (auto& t : detail::scan_directory(dir)) {
      auto same = [&](const TensorInput& n) { return n.name == t.name; };
      if (std::any_of(named.begin(), named.end(), same) || std::any_of(o.tensors.begin(), o.tensors.end(), same))
        throw InputError("tensor '" + t.name + "' is given twice (by --dir and another input)");
      o.tensors.push_back(std::move(t));
    }
  for (auto& t : named) o.tensors.push_back(std::move(t));
  if (o.tensors.empty()) throw InputError("no input tensors (give NAME=FILE.npy or --dir DIR; see --help)");
  for (const auto& t : o.tensors) detail::check_tensor_name(t.name);

  if (!cache_method_given && !o.compare_all) o.cache_method = s.methods.front();
  if (!o.cache_path.empty() && std::find(s.methods.begin(), s.methods.end(), o.cache_method) == s.methods.end())
    throw InputError(std::string("--cache-method ") + method_name(o.cache_method) +
                     " is not among the computed methods (--method)");
  if (s.per_channel_axis) {
    for (CalibrationMethod m : s.methods)
      if (!o.compare_all && !qmath::has_per_channel_form(m))
        throw InputError(std::string("--per-channel-axis: method ") + method_name(m) +
                         " is per tensor only (per channel: minmax, percentile)");
    if (!o.cache_path.empty() && qmath::has_per_channel_form(o.cache_method))
      throw InputError("--cache: a TensorRT calibration cache holds one scale per tensor; per-channel " +
                       std::string(method_name(o.cache_method)) + " cannot be written to it");
  }
  detail::check_output_paths(o);
  s.keep_histogram = !o.json_path.empty() || !o.plot_dir.empty();
  if (o.cache_algorithm.empty())
    o.cache_algorithm = o.cache_method == CalibrationMethod::kEntropy ? "EntropyCalibration2" : "MinMaxCalibration";
  return o;
}

}  // namespace qmath_calibrate
