// End-to-end tests of the qmath-calibrate executable (path in QMATH_CALIBRATE_EXE): .npy files are generated here,
// the tool is run through std::system, and its TensorRT cache and JSON table are compared with the qmath
// calibration library called directly on the same values. Every bad input must give a non-zero exit code, a
// message naming the file / tensor and the problem, and leave no output file (nor temporary file) behind.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <qmath/calibration/entropy.hpp>
#include <qmath/calibration/histogram.hpp>
#include <qmath/calibration/minmax.hpp>
#include <qmath/calibration/mse.hpp>
#include <qmath/calibration/percentile.hpp>
#include <qmath/calibration/streaming.hpp>
#include <qmath/calibration/tensorrt_cache.hpp>
#include <qmath/qparams.hpp>

#include "npy_writer.hpp"

#ifndef QMATH_CALIBRATE_EXE
#error "QMATH_CALIBRATE_EXE must name the qmath-calibrate executable"
#endif

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Result {
  int rc;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// A fresh directory per test case; the tool runs with it as working directory.
class Workspace {
 public:
  Workspace() {
    static int counter = 0;
    dir_ = fs::temp_directory_path() /
           ("qmath_cli_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~Workspace() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path path(const std::string& rel) const { return dir_ / rel; }
  std::string str(const std::string& rel) const { return path(rel).string(); }

  // `prefix` runs the tool through another command (e.g. prlimit); it is not quoted.
  Result run(const std::vector<std::string>& args, const std::string& prefix = "") const {
    std::string cmd = "cd " + quote(dir_.string()) + " && " + prefix + quote(QMATH_CALIBRATE_EXE);
    for (const auto& a : args) cmd += " " + quote(a);
    cmd += " > " + quote(str(".stdout")) + " 2> " + quote(str(".stderr"));
    const int status = std::system(cmd.c_str());
    Result r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(path(".stdout")), slurp(path(".stderr"))};
    fs::remove(path(".stdout"));
    fs::remove(path(".stderr"));
    return r;
  }

  // Every file below the workspace (relative paths), to prove that nothing was left behind.
  std::set<std::string> listing() const {
    std::set<std::string> s;
    for (const auto& e : fs::recursive_directory_iterator(dir_)) s.insert(fs::relative(e.path(), dir_).string());
    return s;
  }

 private:
  fs::path dir_;
};

std::vector<float> gaussian(std::size_t n, unsigned seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, sigma);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

std::uint32_t bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

float jfloat(const json& j) { return static_cast<float>(j.get<double>()); }

// The library's view of a tensor given as batches, computed the way the documentation of the tool says:
// pass 1 MinMax, pass 2 a fixed-range [0, absmax] absolute histogram (--histogram-range fixed, the default).
struct Reference {
  qmath::CalibrationRange range{0, 0};
  qmath::Histogram hist;
  explicit Reference(const std::vector<std::vector<float>>& batches, int bins = 2048, bool pow2 = false)
      : hist(qmath::HistogramOptions{}) {
    qmath::MinMaxCalibrator mm(qmath::NonFinitePolicy::kSkip);
    for (const auto& b : batches) mm.collect(b.data(), b.size());
    range = mm.compute();
    qmath::HistogramOptions o;
    o.bins = bins;
    o.non_finite = qmath::NonFinitePolicy::kSkip;
    if (!pow2 && range.amax() > 0.0f) o = qmath::fixed_range_options(range.amax(), qmath::HistogramKind::kAbsolute, bins);
    o.non_finite = qmath::NonFinitePolicy::kSkip;
    hist = qmath::Histogram(o);
    for (const auto& b : batches) hist.collect(b.data(), b.size());
  }
  float amax(const std::string& method, double percentile = 99.99, bool is_unsigned = false) const {
    if (method == "minmax") return range.amax();
    if (method == "percentile") return qmath::percentile_amax(hist, percentile);
    if (method == "mse") {
      qmath::MseOptions m;
      m.is_unsigned = is_unsigned;
      return qmath::mse_amax(hist, m);
    }
    qmath::EntropyOptions e;
    e.is_unsigned = is_unsigned;
    return qmath::entropy_amax(hist, e);
  }
};

void write_batches(const Workspace& ws, const std::string& dir, const std::vector<std::vector<float>>& batches,
                   const std::vector<std::vector<std::int64_t>>& shapes) {
  fs::create_directories(ws.path(dir));
  for (std::size_t i = 0; i < batches.size(); ++i)
    npy_test::write_f32(ws.str(dir + "/batch" + std::to_string(i) + ".npy"), batches[i], shapes[i],
                        1 + static_cast<int>(i % 3));
}

std::string file_list(const std::string& dir, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += (i ? "," : "") + dir + "/batch" + std::to_string(i) + ".npy";
  return s;
}

// A minimal XML well-formedness check: balanced tags, quoted attributes, one root element <svg>.
bool well_formed_svg(const std::string& s, std::string& why) {
  std::vector<std::string> stack;
  std::size_t pos = 0;
  int roots = 0;
  if (s.compare(0, 5, "<?xml") == 0) pos = s.find("?>") + 2;
  while ((pos = s.find('<', pos)) != std::string::npos) {
    const std::size_t end = s.find('>', pos);
    if (end == std::string::npos) return why = "unterminated tag", false;
    std::string tag = s.substr(pos + 1, end - pos - 1);
    // attributes must be name="value" pairs with balanced quotes
    if (std::count(tag.begin(), tag.end(), '"') % 2 != 0) return why = "unbalanced quotes in <" + tag + ">", false;
    if (!tag.empty() && tag[0] == '/') {
      const std::string name = tag.substr(1);
      if (stack.empty() || stack.back() != name) return why = "mismatched </" + name + ">", false;
      stack.pop_back();
    } else if (!tag.empty() && tag.back() == '/') {
      if (stack.empty()) ++roots;
    } else {
      const std::string name = tag.substr(0, tag.find_first_of(" \n\t"));
      if (stack.empty()) {
        ++roots;
        if (name != "svg") return why = "root element is <" + name + ">", false;
      }
      stack.push_back(name);
    }
    pos = end + 1;
  }
  // Text must not contain a raw '&' that does not start an entity.
  for (std::size_t a = s.find('&'); a != std::string::npos; a = s.find('&', a + 1)) {
    const std::size_t semi = s.find(';', a);
    if (semi == std::string::npos || semi - a > 6) return why = "bare '&'", false;
  }
  if (!stack.empty()) return why = "unclosed <" + stack.back() + ">", false;
  if (roots != 1) return why = "expected one root element", false;
  return true;
}

}  // namespace

TEST_CASE("entropy cache and JSON equal the library on multi-batch float32 input", "[cli]") {
  Workspace ws;
  // Three batches of different batch size; one large outlier in the middle batch.
  std::vector<std::vector<float>> b = {gaussian(2 * 8 * 16, 1), gaussian(3 * 8 * 16, 2), gaussian(1 * 8 * 16, 3)};
  b[1][17] = 18.43f;
  write_batches(ws, "conv1", b, {{2, 8, 16}, {3, 8, 16}, {1, 8, 16}});
  std::vector<std::vector<float>> r = {gaussian(1000, 4, 3.0f)};
  write_batches(ws, "fc", r, {{10, 100}});

  const Result res = ws.run({"conv1=" + file_list("conv1", 3), "fc=fc/batch0.npy", "--cache", "calib.cache",
                             "--json", "calib.json", "--chunk-elements", "100"});
  INFO(res.err);
  REQUIRE(res.rc == 0);

  const Reference ref_conv(b), ref_fc(r);
  qmath::TensorRTCache expected;
  expected.algorithm = "EntropyCalibration2";
  expected.add_amax("conv1", ref_conv.amax("entropy"));
  expected.add_amax("fc", ref_fc.amax("entropy"));
  CHECK(slurp(ws.path("calib.cache")) == qmath::format_tensorrt_cache(expected));
  const qmath::TensorRTCache back = qmath::read_tensorrt_cache(ws.str("calib.cache"));
  REQUIRE(back.entries.size() == 2);
  CHECK(back.algorithm == "EntropyCalibration2");
  CHECK(bits(back.entries[0].scale) == bits(ref_conv.amax("entropy") / 127.0f));

  const json j = json::parse(slurp(ws.path("calib.json")));
  CHECK(j["format"] == "qmath-calibration-table");
  const json& c = j["tensors"]["conv1"];
  CHECK(c["batches"] == 3);
  CHECK(c["elements"] == 6 * 8 * 16);
  CHECK(c["shape"] == json::array({2, 8, 16}));
  CHECK(bits(jfloat(c["absmax"])) == bits(18.43f));
  CHECK(bits(jfloat(c["min"])) == bits(ref_conv.range.min));
  const json& h = c["histogram"];
  CHECK(h["bins"] == 2048);
  CHECK(h["count"] == ref_conv.hist.total());
  CHECK(bits(jfloat(h["width"])) == bits(ref_conv.hist.width()));
  CHECK(h["nonfinite"] == 0);
  const json& e = c["methods"]["entropy"];
  CHECK(e["granularity"] == "per_tensor");
  CHECK(bits(jfloat(e["amax"])) == bits(ref_conv.amax("entropy")));
  const qmath::QuantParams qp = qmath::symmetric_params(ref_conv.amax("entropy"), qmath::narrow_range<std::int8_t>());
  CHECK(bits(jfloat(e["scale"])) == bits(qp.scale));
  CHECK(e["zero_point"] == 0);
  // The summary table names every tensor.
  CHECK(res.out.find("conv1") != std::string::npos);
  CHECK(res.out.find("fc") != std::string::npos);
}

TEST_CASE("results do not depend on batch order, batch split or chunk size", "[cli]") {
  Workspace ws;
  std::vector<float> all = gaussian(4800, 11);
  all[100] = -9.5f;
  // The same values as 3 batches, as 5 batches in another order, and as one.
  write_batches(ws, "a", {std::vector<float>(all.begin(), all.begin() + 1600),
                          std::vector<float>(all.begin() + 1600, all.begin() + 3200),
                          std::vector<float>(all.begin() + 3200, all.end())},
                {{1600}, {16, 100}, {4, 4, 100}});
  std::vector<std::vector<float>> parts;
  for (int k = 4; k >= 0; --k) parts.emplace_back(all.begin() + k * 960, all.begin() + (k + 1) * 960);
  write_batches(ws, "b", parts, {{960}, {960}, {960}, {960}, {960}});
  write_batches(ws, "c", {all}, {{4800}});
  for (const std::string range : {"fixed", "pow2"}) {
    const Result r1 = ws.run({"t=" + file_list("a", 3), "--method", "all", "--cache", "a.cache", "--json", "a.json",
                              "--histogram-range", range});
    const Result r2 = ws.run({"t=" + file_list("b", 5), "--method", "all", "--cache", "b.cache", "--json", "b.json",
                              "--histogram-range", range, "--chunk-elements", "7"});
    const Result r3 = ws.run({"t=c/batch0.npy", "--method", "all", "--cache", "c.cache", "--json", "c.json",
                              "--histogram-range", range, "--chunk-elements", "4800"});
    REQUIRE(r1.rc == 0);
    REQUIRE(r2.rc == 0);
    REQUIRE(r3.rc == 0);
    CHECK(slurp(ws.path("a.cache")) == slurp(ws.path("b.cache")));
    CHECK(slurp(ws.path("a.cache")) == slurp(ws.path("c.cache")));
    const json ja = json::parse(slurp(ws.path("a.json"))), jb = json::parse(slurp(ws.path("b.json"))),
               jc = json::parse(slurp(ws.path("c.json")));
    CHECK(ja["tensors"]["t"]["methods"] == jb["tensors"]["t"]["methods"]);
    CHECK(ja["tensors"]["t"]["methods"] == jc["tensors"]["t"]["methods"]);
    CHECK(ja["tensors"]["t"]["histogram"] == jc["tensors"]["t"]["histogram"]);
  }
}

TEST_CASE("--method all: every method equals the library, the cache holds --cache-method", "[cli]") {
  Workspace ws;
  std::vector<std::vector<float>> b = {gaussian(3000, 21), gaussian(3000, 22)};
  for (int k = 0; k < 20; ++k) b[0][static_cast<std::size_t>(k * 7)] = 6.0f + static_cast<float>(k) * 0.5f;
  write_batches(ws, "x", b, {{3000}, {30, 100}});
  for (const std::string range : {"fixed", "pow2"}) {
    const bool pow2 = range == "pow2";
    const Result res = ws.run({"act=" + file_list("x", 2), "--method", "all", "--percentile", "99.9", "--bins", "1024",
                               "--json", "t.json", "--cache", "t.cache", "--cache-method", "mse",
                               "--histogram-range", range});
    INFO(res.err);
    REQUIRE(res.rc == 0);
    const Reference ref(b, 1024, pow2);
    const json doc = json::parse(slurp(ws.path("t.json")));
    const json& m = doc["tensors"]["act"]["methods"];
    REQUIRE(m.size() == 4);
    CHECK(bits(jfloat(m["minmax"]["amax"])) == bits(ref.amax("minmax")));
    CHECK(bits(jfloat(m["minmax"]["min"])) == bits(ref.range.min));
    CHECK(bits(jfloat(m["minmax"]["max"])) == bits(ref.range.max));
    CHECK(bits(jfloat(m["percentile"]["amax"])) == bits(ref.amax("percentile", 99.9)));
    CHECK(m["percentile"]["percentile"] == 99.9);
    CHECK(bits(jfloat(m["mse"]["amax"])) == bits(ref.amax("mse")));
    CHECK(bits(jfloat(m["entropy"]["amax"])) == bits(ref.amax("entropy")));
    // With the fixed range the last entropy candidate is (bins + 0.5) * absmax / bins (TensorRT's 2048.5 / 2048).
    if (!pow2) CHECK(ref.amax("entropy") <= ref.amax("minmax") * (1024.5f / 1024.0f));
    CHECK(ref.amax("percentile", 99.9) <= ref.amax("minmax") * 1.001f);
    qmath::TensorRTCache expected;
    expected.algorithm = "MinMaxCalibration";
    expected.add_amax("act", ref.amax("mse"));
    CHECK(slurp(ws.path("t.cache")) == qmath::format_tensorrt_cache(expected));
    for (const char* name : {"minmax", "percentile", "mse", "entropy"}) CHECK(res.out.find(name) != std::string::npos);
  }
  // A single method defaults the cache to that method; the header algorithm and version can be set.
  const Result r2 = ws.run({"act=" + file_list("x", 2), "--method", "minmax", "--cache", "m.cache", "--trt-version",
                            "101303"});
  REQUIRE(r2.rc == 0);
  qmath::TensorRTCache expected;
  expected.version = "101303";
  expected.algorithm = "MinMaxCalibration";
  expected.add_amax("act", Reference(b).amax("minmax"));
  CHECK(slurp(ws.path("m.cache")) == qmath::format_tensorrt_cache(expected));
}

TEST_CASE("--compat pytorch-quantization: its histogram growth and rules, whatever the chunk size", "[cli]") {
  // pytorch-quantization's HistogramCalibrator: the first batch with a non-zero value fixes the width, later batches
  // append bins; entropy (EntropyMode::kPyTorchQuantization), percentile at the left edge of the bin
  // (PercentileRule::kPyTorchQuantization), the same MSE. The library called batch by batch is the reference; the
  // tool reads files in chunks, and a chunk smaller than the first file must not change the width.
  Workspace ws;
  std::vector<std::vector<float>> b = {std::vector<float>(500, 0.0f), gaussian(4000, 31), gaussian(3000, 32),
                                       gaussian(2000, 33)};
  b[2][17] = 9.25f;  // beyond the first non-zero batch's range: bins are appended
  b[3][5] = -12.5f;
  write_batches(ws, "x", b, {{500}, {40, 100}, {3000}, {2000}});
  qmath::HistogramOptions ho;
  ho.growth = qmath::RangeGrowth::kAppendBins;
  ho.non_finite = qmath::NonFinitePolicy::kSkip;
  qmath::Histogram ref(ho);
  for (const auto& v : b) ref.collect(v.data(), v.size());
  REQUIRE(ref.bins() > 2048);
  qmath::EntropyOptions eo;
  eo.mode = qmath::EntropyMode::kPyTorchQuantization;
  const float want_entropy = qmath::entropy_amax(ref, eo);
  const float want_pct = qmath::percentile_amax(ref, 99.9, qmath::PercentileRule::kPyTorchQuantization);
  const float want_mse = qmath::mse_amax(ref);
  for (const std::string chunk : {"1048576", "300"}) {
    const Result r = ws.run({"t=" + file_list("x", 4), "--compat", "pytorch-quantization", "--method", "all",
                             "--percentile", "99.9", "--json", "t.json", "--chunk-elements", chunk});
    INFO(r.err);
    REQUIRE(r.rc == 0);
    const json doc = json::parse(slurp(ws.path("t.json")));
    CHECK(doc["settings"]["compat"] == "pytorch-quantization");
    CHECK(doc["settings"]["histogram"]["range"] == "append");
    const json& m = doc["tensors"]["t"]["methods"];
    CHECK(bits(jfloat(m["entropy"]["amax"])) == bits(want_entropy));
    CHECK(bits(jfloat(m["percentile"]["amax"])) == bits(want_pct));
    CHECK(bits(jfloat(m["mse"]["amax"])) == bits(want_mse));
    CHECK(doc["tensors"]["t"]["histogram"]["bins"] == ref.bins());
  }
  // The TensorRT rules on the same append histogram differ (the threshold at the bin centre, not the left edge).
  const Result trt = ws.run({"t=" + file_list("x", 4), "--histogram-range", "append", "--method", "entropy",
                             "--json", "e.json"});
  REQUIRE(trt.rc == 0);
  const json e = json::parse(slurp(ws.path("e.json")));
  CHECK(e["settings"]["compat"] == "tensorrt");
  CHECK(bits(jfloat(e["tensors"]["t"]["methods"]["entropy"]["amax"])) == bits(qmath::entropy_amax(ref)));
}

TEST_CASE("float16 input converts exactly and calibrates like the same values in float32", "[cli]") {
  Workspace ws;
  // Finite halves of every exponent, subnormals included, plus +-0.
  std::vector<std::uint16_t> h;
  std::vector<float> v;
  std::mt19937 rng(5);
  for (int i = 0; i < 6000; ++i) {
    const std::uint16_t sign = (rng() & 1u) ? 0x8000u : 0u;
    const std::uint16_t e = static_cast<std::uint16_t>(i % 31 == 0 ? 0 : 1 + rng() % 16);  // up to 2^1
    const std::uint16_t mant = static_cast<std::uint16_t>(rng() & 0x3ffu);
    const std::uint16_t bits16 = static_cast<std::uint16_t>(sign | (e << 10) | mant);
    h.push_back(bits16);
    const double mag = e == 0 ? std::ldexp(static_cast<double>(mant), -24) : std::ldexp(1024.0 + mant, e - 25);
    v.push_back(static_cast<float>(sign ? -mag : mag));  // exact in float
  }
  fs::create_directories(ws.path("h"));
  npy_test::write_f16(ws.str("h/a.npy"), std::vector<std::uint16_t>(h.begin(), h.begin() + 2000), {20, 100}, 1);
  npy_test::write_f16(ws.str("h/b.npy"), std::vector<std::uint16_t>(h.begin() + 2000, h.end()), {40, 100}, 3);
  const Result res = ws.run({"--dir", "h", "--method", "all", "--json", "t.json"});
  INFO(res.err);
  REQUIRE(res.rc == 0);
  // --dir: DIR/NAME.npy files are single-batch tensors named after the file.
  const json j = json::parse(slurp(ws.path("t.json")));
  REQUIRE(j["tensors"].size() == 2);
  const Reference ra({std::vector<float>(v.begin(), v.begin() + 2000)}), rb({std::vector<float>(v.begin() + 2000, v.end())});
  for (const char* m : {"minmax", "percentile", "mse", "entropy"}) {
    CHECK(bits(jfloat(j["tensors"]["a"]["methods"][m]["amax"])) == bits(ra.amax(m)));
    CHECK(bits(jfloat(j["tensors"]["b"]["methods"][m]["amax"])) == bits(rb.amax(m)));
  }
  CHECK(bits(jfloat(j["tensors"]["a"]["min"])) == bits(ra.range.min));
}

TEST_CASE("--dir: subdirectories are tensors, their files batches in sorted order", "[cli]") {
  Workspace ws;
  const std::vector<float> a = gaussian(500, 31), b = gaussian(700, 32);
  fs::create_directories(ws.path("d/t1"));
  npy_test::write_f32(ws.str("d/t1/10.npy"), b, {700});
  npy_test::write_f32(ws.str("d/t1/09.npy"), a, {500});
  fs::create_directories(ws.path("d/t0"));
  npy_test::write_f32(ws.str("d/t0/x.npy"), a, {5, 100});
  npy_test::write_file(ws.str("d/readme.txt"), "ignored");
  const Result res = ws.run({"--dir", "d", "--method", "percentile", "--json", "t.json"});
  INFO(res.err);
  REQUIRE(res.rc == 0);
  const json j = json::parse(slurp(ws.path("t.json")));
  REQUIRE(j["tensors"].size() == 2);
  CHECK(j["tensors"].begin().key() == "t0");
  CHECK(j["tensors"]["t1"]["files"] == json::array({"d/t1/09.npy", "d/t1/10.npy"}));
  CHECK(j["tensors"]["t1"]["shape"] == json::array({500}));
  CHECK(bits(jfloat(j["tensors"]["t1"]["methods"]["percentile"]["amax"])) == bits(Reference({a, b}).amax("percentile")));
}

TEST_CASE("per-channel minmax and percentile equal the library's per-channel calibrators", "[cli]") {
  Workspace ws;
  // Shape (N, 6, 5): channel c scaled by (c + 1), so every channel has its own range.
  auto make = [](std::size_t n, unsigned seed) {
    std::vector<float> v = gaussian(n * 30, seed);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] *= static_cast<float>((i / 5) % 6 + 1);
    return v;
  };
  const std::vector<std::vector<float>> b = {make(4, 41), make(7, 42)};
  write_batches(ws, "p", b, {{4, 6, 5}, {7, 6, 5}});
  for (const std::string range : {"fixed", "pow2"}) {
    const Result res = ws.run({"conv=" + file_list("p", 2), "--method", "all", "--per-channel-axis", "1",
                               "--percentile", "99", "--json", "t.json", "--chunk-elements", "13",
                               "--histogram-range", range});
    INFO(res.err);
    REQUIRE(res.rc == 0);
    qmath::PerChannelMinMaxCalibrator mm(6);
    qmath::PerChannelPercentileCalibrator pc(6, 99.0);  // default options: pow2 growth
    std::vector<std::vector<float>> per_channel(6);
    for (std::size_t k = 0; k < b.size(); ++k) {
      const qmath::ChannelLayout l = qmath::channel_layout({static_cast<std::int64_t>(b[k].size() / 30), 6, 5}, 1);
      mm.collect(b[k].data(), l);
      pc.collect(b[k].data(), l);
      for (std::size_t i = 0; i < b[k].size(); ++i) per_channel[(i / 5) % 6].push_back(b[k][i]);
    }
    const json doc = json::parse(slurp(ws.path("t.json")));
    const json& m = doc["tensors"]["conv"]["methods"];
    REQUIRE(m["minmax"]["granularity"] == "per_channel");
    CHECK(m["minmax"]["axis"] == 1);
    REQUIRE(m["minmax"]["amax"].size() == 6);
    REQUIRE(m["percentile"]["amax"].size() == 6);
    const std::vector<qmath::CalibrationRange> ranges = mm.compute();
    const std::vector<float> pc_amax = pc.compute_amax();
    for (std::size_t c = 0; c < 6; ++c) {
      CHECK(bits(jfloat(m["minmax"]["amax"][c])) == bits(ranges[c].amax()));
      CHECK(bits(jfloat(m["minmax"]["min"][c])) == bits(ranges[c].min));
      CHECK(bits(jfloat(m["minmax"]["scale"][c])) ==
            bits(qmath::symmetric_params(ranges[c].amax(), qmath::narrow_range<std::int8_t>()).scale));
      // fixed: each channel's histogram covers [0, channel absmax]; pow2: the library's per-channel class.
      const float expected = range == "pow2" ? pc_amax[c] : Reference({per_channel[c]}).amax("percentile", 99.0);
      CHECK(bits(jfloat(m["percentile"]["amax"][c])) == bits(expected));
    }
    // mse and entropy stay per tensor.
    CHECK(m["entropy"]["granularity"] == "per_tensor");
    CHECK(m["mse"]["granularity"] == "per_tensor");
  }
  // A negative axis counts from the end; -2 is the same axis as 1 here.
  const Result neg = ws.run({"conv=" + file_list("p", 2), "--method", "minmax", "--per-channel-axis", "-2",
                             "--json", "n.json"});
  REQUIRE(neg.rc == 0);
  CHECK(json::parse(slurp(ws.path("n.json")))["tensors"]["conv"]["methods"]["minmax"]["axis"] == 1);
  // Batches whose channel count differs are rejected, naming both files.
  npy_test::write_f32(ws.str("p/bad.npy"), gaussian(35, 1), {1, 7, 5});
  const Result bad = ws.run({"conv=p/batch0.npy,p/bad.npy", "--method", "minmax", "--per-channel-axis", "1"});
  CHECK(bad.rc != 0);
  CHECK(bad.err.find("p/bad.npy has 7 channels") != std::string::npos);
  // Per-channel entropy, or a per-channel result in a TensorRT cache, is refused up front.
  CHECK(ws.run({"conv=p/batch0.npy", "--method", "entropy", "--per-channel-axis", "1"}).rc == 2);
  const Result cache = ws.run({"conv=p/batch0.npy", "--method", "minmax", "--per-channel-axis", "1", "--cache", "c"});
  CHECK(cache.rc == 2);
  CHECK(cache.err.find("one scale per tensor") != std::string::npos);
  CHECK(!fs::exists(ws.path("c")));
}

TEST_CASE("--unsigned uses uint8 scales and 256-level searches", "[cli]") {
  Workspace ws;
  std::vector<float> v = gaussian(5000, 51, 2.0f);
  for (auto& x : v) x = std::max(x, 0.0f);  // post-ReLU
  write_batches(ws, "r", {v}, {{50, 100}});
  const Result res = ws.run({"relu=r/batch0.npy", "--unsigned", "--method", "all", "--json", "t.json"});
  INFO(res.err);
  REQUIRE(res.rc == 0);
  CHECK(res.err.find("warning") == std::string::npos);
  const json j = json::parse(slurp(ws.path("t.json")));
  CHECK(j["settings"]["quantized_range"] == json::array({0, 255}));
  const Reference ref({v});
  const json& m = j["tensors"]["relu"]["methods"];
  for (const char* name : {"mse", "entropy"}) {
    const float a = ref.amax(name, 99.99, true);
    CHECK(bits(jfloat(m[name]["amax"])) == bits(a));
    CHECK(bits(jfloat(m[name]["scale"])) == bits(qmath::symmetric_params(a, qmath::full_range<std::uint8_t>()).scale));
  }
  CHECK(jfloat(m["minmax"]["scale"]) == ref.amax("minmax") / 255.0f);
}

TEST_CASE("--plot writes one well-formed SVG per tensor with every threshold", "[cli]") {
  Workspace ws;
  write_batches(ws, "q", {gaussian(4000, 61)}, {{4000}});
  const Result res = ws.run({"block/conv:0=q/batch0.npy", "a&b=q/batch0.npy", "--method", "all", "--plot",
                             "plots/sub"});
  INFO(res.err);
  REQUIRE(res.rc == 0);
  const std::set<std::string> files = ws.listing();
  REQUIRE(files.count("plots/sub/block_conv_0.svg"));
  REQUIRE(files.count("plots/sub/a_b.svg"));
  for (const char* f : {"plots/sub/block_conv_0.svg", "plots/sub/a_b.svg"}) {
    const std::string svg = slurp(ws.path(f));
    std::string why;
    INFO(f);
    CHECK(well_formed_svg(svg, why));
    INFO(why);
    CHECK(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\"") != std::string::npos);
    CHECK(svg.find("<path d=\"M") != std::string::npos);  // the histogram
    for (const char* label : {"minmax ", "percentile ", "mse ", "entropy "}) CHECK(svg.find(label) != std::string::npos);
    CHECK(svg.find("count per bin (log scale)") != std::string::npos);
  }
  CHECK(slurp(ws.path("plots/sub/a_b.svg")).find("<title>a&amp;b</title>") != std::string::npos);
}

TEST_CASE("non-finite values: an error by default, skipped and counted on request", "[cli]") {
  Workspace ws;
  std::vector<float> v = gaussian(1000, 71);
  v[10] = NAN;
  v[20] = INFINITY;
  v[30] = -INFINITY;
  v[40] = NAN;
  write_batches(ws, "n", {gaussian(100, 72), v}, {{100}, {1000}});
  npy_test::write_file(ws.str("old.cache"), "previous contents\n");
  const Result res = ws.run({"act=" + file_list("n", 2), "--cache", "old.cache", "--json", "t.json", "--plot", "p"});
  CHECK(res.rc == 1);
  CHECK(res.err.find("tensor 'act'") != std::string::npos);
  CHECK(res.err.find("n/batch1.npy") != std::string::npos);
  CHECK(res.err.find("4 non-finite value(s) (2 NaN, 1 +inf, 1 -inf)") != std::string::npos);
  CHECK(slurp(ws.path("old.cache")) == "previous contents\n");  // untouched
  CHECK(ws.listing() == std::set<std::string>{"n", "n/batch0.npy", "n/batch1.npy", "old.cache"});

  const Result skip = ws.run({"act=" + file_list("n", 2), "--nan-policy", "skip", "--method", "all", "--json",
                              "t.json"});
  INFO(skip.err);
  REQUIRE(skip.rc == 0);
  const json t = json::parse(slurp(ws.path("t.json")))["tensors"]["act"];
  CHECK(t["nonfinite"] == json({{"nan", 2}, {"posinf", 1}, {"neginf", 1}}));
  CHECK(t["elements"] == 1100);
  CHECK(t["histogram"]["count"] == 1096);
  std::vector<float> finite;
  for (float x : v)
    if (std::isfinite(x)) finite.push_back(x);
  const Reference ref({gaussian(100, 72), finite});
  for (const char* m : {"minmax", "percentile", "mse", "entropy"})
    CHECK(bits(jfloat(t["methods"][m]["amax"])) == bits(ref.amax(m)));

  // A tensor with no finite value at all cannot be calibrated even when skipping.
  npy_test::write_f32(ws.str("allnan.npy"), {NAN, INFINITY}, {2});
  const Result none = ws.run({"z=allnan.npy", "--nan-policy", "skip"});
  CHECK(none.rc == 1);
  CHECK(none.err.find("no finite values") != std::string::npos);
}

TEST_CASE("an all-zero tensor gives amax 0 (scale 0 in the cache, the minimum scale in JSON)", "[cli]") {
  Workspace ws;
  write_batches(ws, "z", {std::vector<float>(256, 0.0f), std::vector<float>(64, -0.0f)}, {{256}, {64}});
  const Result res = ws.run({"zero=" + file_list("z", 2), "--method", "all", "--cache", "c", "--json", "j", "--plot",
                             "p"});
  INFO(res.err);
  REQUIRE(res.rc == 0);
  CHECK(slurp(ws.path("c")) == "TRT-8600-EntropyCalibration2\nzero: 0\n");
  const json m = json::parse(slurp(ws.path("j")))["tensors"]["zero"]["methods"];
  for (const char* name : {"minmax", "percentile", "mse", "entropy"}) {
    CHECK(jfloat(m[name]["amax"]) == 0.0f);
    CHECK(jfloat(m[name]["scale"]) == qmath::kMinScale);
  }
  std::string why;
  CHECK(well_formed_svg(slurp(ws.path("p/zero.svg")), why));
}

TEST_CASE("every bad input fails with a message naming the file and the problem and writes nothing", "[cli]") {
  Workspace ws;
  const std::vector<float> good = gaussian(600, 81);
  write_batches(ws, "g", {good}, {{6, 100}});
  using namespace npy_test;
  const std::string data = raw_f32(good);
  const std::string ok = npy_bytes(header_dict("<f4", false, {6, 100}), data);
  struct Case {
    std::string file, bytes, message;
  };
  const std::vector<Case> cases = {
      {"corrupt.npy", "PK\x03\x04 this is a zip file, not npy", "not a .npy file"},
      {"truncated.npy", ok.substr(0, ok.size() - 10), "truncated data"},
      {"truncated_header.npy", ok.substr(0, 30), "truncated .npy header"},
      {"double.npy", npy_bytes(header_dict("<f8", false, {300}), data), "unsupported dtype '<f8'"},
      {"bigendian.npy", npy_bytes(header_dict(">f4", false, {6, 100}), data), "unsupported dtype '>f4'"},
      {"int.npy", npy_bytes(header_dict("<i4", false, {6, 100}), data), "unsupported dtype '<i4'"},
      {"empty.npy", "", "the file is empty"},
      {"fortran.npy", npy_bytes(header_dict("<f4", true, {6, 100}), data), "Fortran-order"},
      {"noelements.npy", npy_bytes(header_dict("<f4", false, {0, 100}), ""), "no elements"},
      {"mismatch.npy", npy_bytes(header_dict("<f4", false, {6, 99}), data), "header/size mismatch"},
  };
  const std::set<std::string> before_base = ws.listing();
  for (const Case& c : cases) {
    write_file(ws.str(c.file), c.bytes);
    const std::set<std::string> before = ws.listing();
    npy_test::write_file(ws.str("keep.json"), "{}");
    // The bad file is the second batch: the first one is valid, so a partial result would exist.
    const Result r = ws.run({"t=g/batch0.npy," + c.file, "other=g/batch0.npy", "--method", "all", "--cache",
                             "out.cache", "--json", "keep.json", "--plot", "plots"});
    INFO(c.file << ": " << r.err);
    CHECK(r.rc == 1);
    CHECK(r.err.find(c.file) != std::string::npos);
    CHECK(r.err.find(c.message) != std::string::npos);
    CHECK(r.out.empty());
    std::set<std::string> after = ws.listing();
    after.erase("keep.json");
    CHECK(after == before);  // no cache, no plot directory, no temporary file
    CHECK(slurp(ws.path("keep.json")) == "{}");
    fs::remove(ws.path(c.file));
    fs::remove(ws.path("keep.json"));
  }
  CHECK(ws.listing() == before_base);
  // A missing file.
  const Result missing = ws.run({"t=nothere.npy", "--json", "j"});
  CHECK(missing.rc == 1);
  CHECK(missing.err.find("nothere.npy: cannot open") != std::string::npos);
  CHECK(!fs::exists(ws.path("j")));
}

TEST_CASE("command-line mistakes exit with status 2 and say what is wrong", "[cli]") {
  Workspace ws;
  write_batches(ws, "g", {gaussian(10, 1)}, {{10}});
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{}, "no input tensors"},
      {{"t=g/batch0.npy", "--method", "kl"}, "unknown method 'kl'"},
      {{"t=g/batch0.npy", "--bins", "2047"}, "odd"},
      {{"t=g/batch0.npy", "--bins", "many"}, "not an integer"},
      {{"t=g/batch0.npy", "--percentile", "100.5"}, "outside [0, 100]"},
      {{"t=g/batch0.npy", "--nan-policy", "zero"}, "unknown policy"},
      {{"t=g/batch0.npy", "--frobnicate"}, "unknown option '--frobnicate'"},
      {{"t=g/batch0.npy", "--json"}, "--json: missing value"},
      {{"g/batch0.npy"}, "expected NAME=FILE.npy"},
      {{"t=g/batch0.npy", "--signed", "--unsigned"}, "mutually exclusive"},
      {{"t=g/batch0.npy", "--method", "minmax", "--cache", "c", "--cache-method", "entropy"}, "not among"},
      {{"--dir", "nowhere"}, "not a directory"},
      {{"t=g/batch0.npy", "--compat", "onnxruntime"}, "--compat: unknown value 'onnxruntime'"},
      {{"t=g/batch0.npy", "--histogram-range", "log"}, "(fixed, pow2, append)"},
      // A flag value CLI11 converts with std::stoll and that overflows (found by calibrate_args_fuzz).
      {{"t=g/batch0.npy", "--no-progress=+88888888888888888888888888"}, "a flag's value cannot be read"},
  };
  for (const auto& c : cases) {
    const Result r = ws.run(c.first);
    INFO(c.second << ": " << r.err);
    CHECK(r.rc == 2);
    CHECK(r.err.find(c.second) != std::string::npos);
  }
  const Result help = ws.run({"--help"});
  CHECK(help.rc == 0);
  CHECK(help.out.find("usage: qmath-calibrate") != std::string::npos);
}

TEST_CASE("progress goes to stderr only when asked (stderr is not a terminal here)", "[cli]") {
  Workspace ws;
  write_batches(ws, "g", {gaussian(5000, 91), gaussian(5000, 92)}, {{5000}, {5000}});
  const Result quiet = ws.run({"t=" + file_list("g", 2), "--quiet"});
  CHECK(quiet.rc == 0);
  CHECK(quiet.out.empty());
  CHECK(quiet.err.empty());
  const Result shown = ws.run({"t=" + file_list("g", 2), "--progress", "--chunk-elements", "1000"});
  CHECK(shown.rc == 0);
  CHECK(shown.err.find("qmath-calibrate:") != std::string::npos);
  CHECK(shown.err.find("[1/1] t") != std::string::npos);
  CHECK(shown.out.find("entropy amax") != std::string::npos);
  const Result version = ws.run({"--version"});
  CHECK(version.rc == 0);
  CHECK(version.out.rfind("qmath-calibrate ", 0) == 0);
}

TEST_CASE("outputs may not overwrite each other or an input", "[cli]") {
  Workspace ws;
  write_batches(ws, "g", {gaussian(100, 1)}, {{100}});
  const std::string before = slurp(ws.path("g/batch0.npy"));
  const Result same = ws.run({"t=g/batch0.npy", "--cache", "out", "--json", "./out"});
  CHECK(same.rc == 2);
  CHECK(same.err.find("--json ./out: the same path as --cache out") != std::string::npos);
  const Result input = ws.run({"t=g/batch0.npy", "--json", "g/../g/batch0.npy"});
  CHECK(input.rc == 2);
  CHECK(input.err.find("the same path as input g/batch0.npy") != std::string::npos);
  CHECK(slurp(ws.path("g/batch0.npy")) == before);
  CHECK(!fs::exists(ws.path("out")));
}

TEST_CASE("per-channel routing is exact for the first and the last axis at any chunk size", "[cli]") {
  Workspace ws;
  const std::vector<std::vector<float>> b = {gaussian(3 * 4 * 5, 101, 2.0f), gaussian(3 * 4 * 5, 102, 0.5f)};
  write_batches(ws, "p", b, {{3, 4, 5}, {3, 4, 5}});
  for (int axis : {0, 2, -1}) {
    for (const char* chunk : {"1", "3", "7", "1000"}) {
      const Result res = ws.run({"t=" + file_list("p", 2), "--method", "all", "--per-channel-axis",
                                 std::to_string(axis), "--histogram-range", "pow2", "--json", "t.json",
                                 "--chunk-elements", chunk});
      INFO(res.err);
      REQUIRE(res.rc == 0);
      const qmath::ChannelLayout l = qmath::channel_layout({3, 4, 5}, axis);
      qmath::PerChannelMinMaxCalibrator mm(l.channels);
      qmath::PerChannelPercentileCalibrator pc(l.channels, 99.99);
      for (const auto& batch : b) {
        mm.collect(batch.data(), l);
        pc.collect(batch.data(), l);
      }
      const json doc = json::parse(slurp(ws.path("t.json")));
      const json& m = doc["tensors"]["t"]["methods"];
      REQUIRE(m["minmax"]["amax"].size() == l.channels);
      const std::vector<float> mm_amax = mm.compute_amax(), pc_amax = pc.compute_amax();
      for (std::size_t c = 0; c < l.channels; ++c) {
        CHECK(bits(jfloat(m["minmax"]["amax"][c])) == bits(mm_amax[c]));
        CHECK(bits(jfloat(m["percentile"]["amax"][c])) == bits(pc_amax[c]));
      }
    }
  }
}

TEST_CASE("a tensor of tiny (subnormal) values falls back to power-of-two bins instead of failing", "[cli]") {
  Workspace ws;
  const std::vector<float> v = {1e-45f, -3e-45f, 0.0f, 2e-44f, -1e-40f};
  write_batches(ws, "s", {v}, {{5}});
  const Result res = ws.run({"tiny=s/batch0.npy", "--method", "all", "--json", "t.json"});
  INFO(res.err);
  REQUIRE(res.rc == 0);
  const json doc = json::parse(slurp(ws.path("t.json")));
  const Reference ref({v}, 2048, true);  // the pow2 histogram
  for (const char* m : {"minmax", "percentile", "mse", "entropy"})
    CHECK(bits(jfloat(doc["tensors"]["tiny"]["methods"][m]["amax"])) == bits(ref.amax(m)));
  CHECK(bits(jfloat(doc["tensors"]["tiny"]["absmax"])) == bits(1e-40f));
}

// A C++ caller of qmath::calibrate_stream gets the CLI's table: the same settings, the same batches (in memory
// instead of files), bit for bit the same amax, scale and zero point per tensor and per channel, and the same
// statistics, under every histogram range mode, both compats and both signs.
TEST_CASE("the library's calibrate_stream gives the CLI's table on the same inputs", "[cli]") {
  Workspace ws;
  std::vector<float> relu = gaussian(6 * 40, 111, 2.0f);
  for (float& x : relu) x = x > 0.0f ? x : 0.0f;
  const std::vector<std::pair<std::string, std::vector<std::vector<float>>>> tensors = {
      {"conv", {gaussian(6 * 40, 112, 0.5f), gaussian(3 * 6 * 40, 113, 3.0f)}}, {"relu", {relu, gaussian(240, 114)}}};
  const std::vector<std::vector<std::int64_t>> shapes = {{6, 40}, {3, 6, 40}};
  const std::vector<std::vector<std::int64_t>> relu_shapes = {{6, 40}, {6, 40}};
  std::vector<std::string> inputs;
  for (const auto& t : tensors) {
    write_batches(ws, t.first, t.second, t.first == "conv" ? shapes : relu_shapes);
    inputs.push_back(t.first + "=" + file_list(t.first, t.second.size()));
  }
  struct Config {
    std::vector<std::string> args;
    qmath::CalibrationSettings settings;
  };
  std::vector<Config> configs;
  for (const char* range : {"fixed", "pow2", "append"})
    for (const char* compat : {"tensorrt", "pytorch-quantization"})
      for (bool is_signed : {true, false}) {
        Config c;
        c.args = {"--method", "all", "--histogram-range", range, "--compat", compat, is_signed ? "--signed" : "--unsigned",
                  "--bins", "256", "--percentile", "99.5", "--chunk-elements", "37"};
        c.settings.methods = qmath::all_calibration_methods();
        c.settings.histogram_range = std::string(range) == "fixed"  ? qmath::HistogramRangeMode::kFixed
                                     : std::string(range) == "pow2" ? qmath::HistogramRangeMode::kPow2
                                                                    : qmath::HistogramRangeMode::kAppend;
        c.settings.compat = std::string(compat) == "tensorrt" ? qmath::CalibrationCompat::kTensorRT
                                                              : qmath::CalibrationCompat::kPyTorchQuantization;
        c.settings.is_signed = is_signed;
        c.settings.bins = 256;
        c.settings.percentile = 99.5;
        c.settings.chunk_elements = 1000;  // the chunk size does not change the results
        configs.push_back(c);
        c.args.insert(c.args.end(), {"--per-channel-axis", "-2"});  // the 6 channels of both shapes
        c.settings.per_channel_axis = -2;
        configs.push_back(c);
      }
  for (const Config& c : configs) {
    std::vector<std::string> args = inputs;
    args.insert(args.end(), c.args.begin(), c.args.end());
    args.insert(args.end(), {"--json", "t.json", "--quiet"});
    std::string cmd;
    for (const auto& a : args) cmd += a + " ";
    INFO(cmd);
    const Result res = ws.run(args);
    INFO(res.err);
    REQUIRE(res.rc == 0);
    const json doc = json::parse(slurp(ws.path("t.json")));
    for (const auto& t : tensors) {
      qmath::InMemoryTensorSource src;
      for (std::size_t b = 0; b < t.second.size(); ++b)
        src.add(t.second[b].data(), t.first == "conv" ? shapes[b] : relu_shapes[b]);
      qmath::CalibrationSettings s = c.settings;
      s.keep_histogram = true;  // as --json does
      const qmath::TensorCalibration lib = qmath::calibrate_stream(t.first, src, s);
      const json& j = doc["tensors"][t.first];
      CHECK(j["elements"] == lib.elements);
      CHECK(bits(jfloat(j["min"])) == bits(lib.min));
      CHECK(bits(jfloat(j["max"])) == bits(lib.max));
      CHECK(j["histogram"]["count"] == lib.binned);
      CHECK(bits(jfloat(j["histogram"]["width"])) == bits(lib.width));
      CHECK(j["histogram"]["bins"] == lib.counts.size());
      for (const qmath::MethodCalibration& m : lib.methods) {
        const char* name = m.method == qmath::CalibrationMethod::kMax ? "minmax" : qmath::to_string(m.method);
        INFO(t.first << " " << name);
        const json& jm = j["methods"][name];
        REQUIRE(jm["granularity"] == (m.per_channel ? "per_channel" : "per_tensor"));
        const json amax = m.per_channel ? jm["amax"] : json::array({jm["amax"]});
        const json scale = m.per_channel ? jm["scale"] : json::array({jm["scale"]});
        const json zp = m.per_channel ? jm["zero_point"] : json::array({jm["zero_point"]});
        REQUIRE(amax.size() == m.amax.size());
        CHECK(m.amax.size() == (m.per_channel ? 6u : 1u));
        for (std::size_t k = 0; k < m.amax.size(); ++k) {
          CHECK(bits(jfloat(amax[k])) == bits(m.amax[k]));
          CHECK(bits(jfloat(scale[k])) == bits(m.params[k].scale));
          CHECK(zp[k] == m.params[k].zero_point);
        }
      }
    }
  }
}

TEST_CASE("outputs: a symlink is followed, /dev/stdout written through, a directory refused with the reason",
          "[cli][hostile]") {
  Workspace ws;
  write_batches(ws, "g", {gaussian(600, 82)}, {{6, 100}});
  fs::create_directories(ws.path("real"));
  npy_test::write_file(ws.str("real/calib.cache"), "old");
  fs::create_symlink("real/calib.cache", ws.path("calib.cache"));
  const Result r = ws.run({"t=g/batch0.npy", "--cache", "calib.cache", "--json", "/dev/stdout", "--quiet"});
  INFO(r.err);
  REQUIRE(r.rc == 0);
  CHECK(fs::is_symlink(ws.path("calib.cache")));
  CHECK(slurp(ws.path("real/calib.cache")).rfind("TRT-", 0) == 0);
  CHECK(json::parse(r.out).contains("tensors"));  // the JSON went to the redirected stdout
  for (const auto& e : fs::recursive_directory_iterator(ws.path(".")))
    CHECK(e.path().filename().string().find(".tmp") == std::string::npos);
  // A directory as the cache: refused, naming it and why; nothing written.
  fs::create_directories(ws.path("adir"));
  const Result d = ws.run({"t=g/batch0.npy", "--cache", "adir", "--quiet"});
  CHECK(d.rc == 1);
  CHECK(d.err.find("'adir'") != std::string::npos);
  CHECK(d.err.find("is a directory") != std::string::npos);
  // A missing directory: the reason from the system.
  const Result m = ws.run({"t=g/batch0.npy", "--cache", "no/such/dir/c.cache", "--quiet"});
  CHECK(m.rc == 1);
  CHECK(m.err.find("no/such/dir/c.cache") != std::string::npos);
  CHECK(m.err.find("No such file or directory") != std::string::npos);
}

TEST_CASE("hostile inputs: a directory, bad tensor names, found before anything is read", "[cli]") {
  Workspace ws;
  write_batches(ws, "g", {gaussian(10, 1)}, {{10}});
  const Result dir = ws.run({"t=g", "--json", "j"});
  INFO(dir.err);
  CHECK(dir.rc == 1);
  CHECK(dir.err.find("g: is a directory, not a .npy file") != std::string::npos);
  // Names are checked before any file is opened: the missing file of the other tensor is never reached.
  const Result utf8 = ws.run({"ok=missing.npy", std::string("t\xc3(x=g/batch0.npy"), "--json", "j"});
  INFO(utf8.err);
  CHECK(utf8.rc == 2);
  CHECK(utf8.err.find("is not valid UTF-8 (byte 1)") != std::string::npos);
  const Result space = ws.run({"ok=missing.npy", " t=g/batch0.npy", "--json", "j"});
  INFO(space.err);
  CHECK(space.rc == 2);
  CHECK(space.err.find("tensor name ' t' has leading or trailing white space") != std::string::npos);
  CHECK(!fs::exists(ws.path("j")));
}

TEST_CASE("resource bounds: a million channels, 2^20 bins and 2^30-element chunks under a 1 GiB address space",
          "[cli]") {
  Workspace ws;
  const std::vector<float> wide = gaussian(1000000, 5);
  npy_test::write_f32(ws.str("wide.npy"), wide, {1, 1000000}, 1);
  npy_test::write_f32(ws.str("small.npy"), gaussian(1000, 6), {1000}, 1);
  const std::string limit = "prlimit --as=" + std::to_string(1u << 30) + " ";
  // Per-channel minmax with a JSON table: no per-channel histograms are built (the table holds none).
  const Result mm = ws.run({"w=wide.npy", "--per-channel-axis", "1", "--method", "minmax", "--json", "mm.json",
                            "--quiet"}, limit);
  INFO(mm.err);
  CHECK(mm.rc == 0);
  if (mm.rc == 0) {
    const json j = json::parse(slurp(ws.path("mm.json")));
    CHECK(j["tensors"]["w"]["methods"]["minmax"]["amax"].size() == 1000000);
    CHECK(jfloat(j["tensors"]["w"]["methods"]["minmax"]["amax"][999999]) == std::fabs(wide[999999]));
  }
  // Per-channel percentile needs a histogram per channel: refused before reading, naming the options and the need.
  const Result pc = ws.run({"w=wide.npy", "--per-channel-axis", "1", "--method", "percentile", "--json", "pc.json"},
                           limit);
  INFO(pc.err);
  CHECK(pc.rc == 1);
  CHECK(pc.err.find("--bins 2048") != std::string::npos);
  CHECK(pc.err.find("1000000 channels") != std::string::npos);
  CHECK(pc.err.find("--max-memory") != std::string::npos);
  CHECK(!fs::exists(ws.path("pc.json")));
  // 2^20 bins per tensor run within the limit; a huge chunk is sized to the largest input.
  const Result bins = ws.run({"s=small.npy", "--bins", "1048576", "--method", "percentile", "--chunk-elements",
                              "1073741824", "--quiet"}, limit);
  INFO(bins.err);
  CHECK(bins.rc == 0);
  // A limit the caller sets is honoured and named.
  const Result low = ws.run({"s=small.npy", "--bins", "1048576", "--method", "percentile", "--max-memory", "4"});
  INFO(low.err);
  CHECK(low.rc == 1);
  CHECK(low.err.find("--max-memory 4") != std::string::npos);
}
