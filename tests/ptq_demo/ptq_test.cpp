// Tests of the post-training quantization demo (examples/ptq_demo/ptq.hpp) on the real Fashion-MNIST data of the
// Debian package dataset-fashion-mnist and the committed model: a smaller configuration of the demo (500
// calibration images, 2000 test images) must keep INT8 accuracy with the entropy calibrator within 1 percentage
// point of FP32, and the TensorRT cache it writes must read back to the same scales, bit for bit.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ptq.hpp"

namespace {

namespace fs = std::filesystem;

// A fresh scratch directory under the system temporary directory, removed at the end of the test case.
struct ScratchDir {
  fs::path path;
  ScratchDir() {
    path = fs::temp_directory_path() / ("qmath_ptq_test_" + std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

ptq::DemoConfig small_config() {
  ptq::DemoConfig cfg;
  cfg.calib_count = 500;
  cfg.test_count = 2000;
  cfg.batch = 250;
  cfg.timing_repeats = 0;
  return cfg;
}

// The demo result of the small configuration, computed once for all test cases.
const ptq::DemoResult& small_result() {
  static const ptq::DemoResult r = [] {
    std::ostringstream log;
    return ptq::run_demo(small_config(), log);
  }();
  return r;
}

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<char>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const qmath::error& e) {
    return e.what();
  }
  return "<no qmath::error>";
}

}  // namespace

TEST_CASE("the committed model reaches a sensible FP32 accuracy on the test images", "[ptq_demo]") {
  const ptq::DemoResult& r = small_result();
  CHECK(r.config.test_count == 2000);
  CHECK(r.config.calib_count == 500);
  REQUIRE(r.tensors == std::vector<std::string>{"input", "relu1", "relu2"});
  CHECK(r.fp32_accuracy > 0.85);
  CHECK(r.fp32_accuracy < 0.95);
}

TEST_CASE("INT8 with the entropy calibrator stays within 1 point of FP32", "[ptq_demo]") {
  const ptq::DemoResult& r = small_result();
  const ptq::MethodResult& e = r.method("entropy");
  INFO("FP32 " << r.fp32_accuracy << ", INT8 entropy " << e.accuracy);
  CHECK(std::fabs(e.accuracy - r.fp32_accuracy) <= 0.01);
  CHECK(e.agreement >= 0.97);
  // Every method ran, and produced a positive, finite amax for every tensor.
  REQUIRE(r.methods.size() == 4);
  for (const ptq::MethodResult& m : r.methods) {
    INFO(m.method);
    REQUIRE(m.amax.size() == r.tensors.size());
    for (float a : m.amax) CHECK((a > 0.0f && std::isfinite(a)));
    CHECK(m.accuracy > 0.80);
  }
  // MinMax is the exact maximum of the calibration activations (recomputed here with a plain FP32 pass); the
  // histogram methods choose thresholds at most one histogram range (< 2 x max) away.
  const ptq::MethodResult& mm = r.method("minmax");
  const ptq::Model model = ptq::load_model(r.config.model_path);
  const ptq::Dataset calib = ptq::load_fashion_mnist(r.config.data_dir, "train", r.config.calib_count);
  std::vector<ptq::RowMatrix> inputs;
  ptq::forward_fp32(model, calib.image(0), calib.count, &inputs);
  for (std::size_t t = 0; t < r.tensors.size(); ++t) {
    INFO(r.tensors[t]);
    CHECK(mm.amax[t] == inputs[t].cwiseAbs().maxCoeff());
    for (const ptq::MethodResult& m : r.methods) CHECK(m.amax[t] < 2.0f * mm.amax[t]);
  }
  // The input tensor is pixel / 255: its maximum is exactly 1 in any 500 Fashion-MNIST images.
  CHECK(mm.amax[0] == 1.0f);
}

TEST_CASE("the fast GEMM and the reference GEMM give identical INT8 logits", "[ptq_demo]") {
  const ptq::DemoConfig cfg = small_config();
  const ptq::Model model = ptq::load_model(cfg.model_path);
  const ptq::Dataset test = ptq::load_fashion_mnist(cfg.data_dir, "t10k", 100);
  for (qmath::Scaling mode : {qmath::Scaling::kFixedPointMultiplier, qmath::Scaling::kFloatMultiplier}) {
    const ptq::QuantizedModel qm = ptq::quantize_model(model, small_result().method("entropy").amax, mode);
    const std::vector<float> fast = ptq::forward_int8(qm, test.image(0), test.count, ptq::GemmKind::kFast);
    const std::vector<float> ref = ptq::forward_int8(qm, test.image(0), test.count, ptq::GemmKind::kReference);
    REQUIRE(fast.size() == ref.size());
    CHECK(std::memcmp(fast.data(), ref.data(), fast.size() * sizeof(float)) == 0);
  }
  // With MinMax ranges (nothing clipped) the INT8 logits track the FP32 logits: the worst absolute difference is
  // a small fraction of their spread. (Entropy clips relu1 hard, which moves some logits much more.)
  const ptq::QuantizedModel q_mm = ptq::quantize_model(model, small_result().method("minmax").amax);
  const ptq::RowMatrix fp32 = ptq::forward_fp32(model, test.image(0), test.count);
  const std::vector<float> int8 = ptq::forward_int8(q_mm, test.image(0), test.count, ptq::GemmKind::kFast);
  float worst = 0.0f, spread = 0.0f;
  for (std::size_t i = 0; i < int8.size(); ++i) {
    worst = std::max(worst, std::fabs(int8[i] - fp32.data()[i]));
    spread = std::max(spread, std::fabs(fp32.data()[i]));
  }
  INFO("worst |INT8 - FP32| logit difference " << worst << ", largest |logit| " << spread);
  CHECK(worst < 0.1f * spread);
}

TEST_CASE("the hidden layers requantize with the documented multiplier, bias and ReLU clamp", "[ptq_demo]") {
  const ptq::Model model = ptq::load_model(small_config().model_path);
  const std::vector<float> amax = {1.0f, 8.0f, 6.0f};
  const ptq::QuantizedModel q = ptq::quantize_model(model, amax, qmath::Scaling::kFloatMultiplier);
  REQUIRE(q.layers.size() == 3);
  const ptq::QuantizedLayer& l = q.layers[1];
  CHECK(l.relu);
  CHECK(l.in.scale == 8.0f / 127.0f);
  CHECK(l.out.scale == 6.0f / 127.0f);
  CHECK(l.requant.clamp.qmin == 0);
  CHECK(l.requant.clamp.qmax == 127);
  for (int n = 0; n < l.n; n += 17) {
    const float acc_scale = l.in.scale * l.w_params[n].scale;
    CHECK(l.requant.scale[n] == acc_scale / l.out.scale);
    CHECK(l.requant.bias[n] == static_cast<std::int32_t>(
                           qmath::round_to_integral(model.layers[1].bias[n] / acc_scale, qmath::Round::kHalfToEven)));
    // Weights are per output channel: the largest |w_q| of every row is 127.
    int row_max = 0;
    for (int k = 0; k < l.k; ++k) row_max = std::max(row_max, std::abs(int(l.weight[std::size_t(n) * l.k + k])));
    CHECK(row_max == 127);
  }
  CHECK_FALSE(q.layers[2].relu);
  CHECK(q.layers[2].epilogue().scaling() == qmath::Scaling::kFloatMultiplier);
}

TEST_CASE("the TensorRT calibration cache round-trips bit-exactly", "[ptq_demo]") {
  const ptq::DemoResult& r = small_result();
  ScratchDir dir;
  for (const std::string method : {"entropy", "minmax"}) {
    INFO(method);
    const std::string path = dir.file(method + ".cache");
    ptq::write_cache(r, method, path);
    const qmath::TensorRTCache back = qmath::read_tensorrt_cache(path);
    CHECK(back.version == "8600");
    CHECK(back.algorithm == (method == "entropy" ? "EntropyCalibration2" : "MinMaxCalibration"));
    REQUIRE(back.entries.size() == r.tensors.size());
    const ptq::MethodResult& m = r.method(method);
    for (std::size_t t = 0; t < r.tensors.size(); ++t) {
      INFO(r.tensors[t]);
      CHECK(back.entries[t].name == r.tensors[t]);
      // The scale read back is, bit for bit, the activation scale the demo's INT8 model used for this tensor.
      const float used = qmath::symmetric_params(m.amax[t], ptq::kRange).scale;
      std::uint32_t a, b;
      std::memcpy(&a, &back.entries[t].scale, 4);
      std::memcpy(&b, &used, 4);
      CHECK(a == b);
      // And the amax an engine recovers (scale * 127) is the calibrated amax to within one float rounding.
      CHECK(std::fabs(back.entries[t].amax() - m.amax[t]) <= 2e-7f * m.amax[t]);
    }
    // The file is exactly the canonical text: header, then "name: hex" lines.
    std::ifstream f(path);
    std::string header;
    std::getline(f, header);
    CHECK(header == (method == "entropy" ? "TRT-8600-EntropyCalibration2" : "TRT-8600-MinMaxCalibration"));
  }
}

TEST_CASE("the JSON table and the histogram dump carry the results", "[ptq_demo]") {
  const ptq::DemoResult& r = small_result();
  ScratchDir dir;
  ptq::write_json(r, dir.file("t.json"));
  std::ifstream f(dir.file("t.json"));
  const nlohmann::json j = nlohmann::json::parse(f);
  CHECK(j["test_images"] == 2000);
  CHECK(j["fp32"]["accuracy"].get<double>() == r.fp32_accuracy);
  REQUIRE(j["int8"].size() == r.methods.size());
  for (std::size_t i = 0; i < r.methods.size(); ++i) {
    CHECK(j["int8"][i]["method"] == r.methods[i].method);
    CHECK(j["int8"][i]["accuracy"].get<double>() == r.methods[i].accuracy);
    for (std::size_t t = 0; t < r.tensors.size(); ++t)
      CHECK(j["int8"][i]["amax"][r.tensors[t]].get<float>() == r.methods[i].amax[t]);
  }
  CHECK_FALSE(fs::exists(dir.file("t.json.tmp")));

  ptq::write_histogram_json(r, "relu1", dir.file("h.json"));
  std::ifstream hf(dir.file("h.json"));
  const nlohmann::json h = nlohmann::json::parse(hf);
  std::uint64_t sum = 0;
  for (const auto& c : h["counts"]) sum += c.get<std::uint64_t>();
  CHECK(sum == r.tensor("relu1").histogram.total());
  CHECK(sum == 500u * 256u);
  CHECK(h["thresholds"]["entropy"].get<float>() == r.method("entropy").amax[1]);
  CHECK_THROWS_AS(ptq::write_histogram_json(r, "nope", dir.file("x.json")), qmath::error);
}

TEST_CASE("missing and corrupt inputs give clear errors", "[ptq_demo]") {
  ScratchDir dir;
  const std::string data = ptq::kDefaultDataDir;

  CHECK_THAT(error_of([&] { ptq::load_fashion_mnist(dir.path.string(), "t10k"); }),
             Catch::Contains("cannot open") && Catch::Contains("t10k-images-idx3-ubyte.gz"));
  CHECK_THAT(error_of([&] { ptq::load_fashion_mnist(data, "validation"); }), Catch::Contains("unknown split"));

  // A truncated gzip stream: zlib reports the unexpected end of the file.
  std::vector<char> gz = read_bytes(data + "/t10k-labels-idx1-ubyte.gz");
  REQUIRE(gz.size() > 100);
  write_bytes(dir.file("t10k-labels-idx1-ubyte.gz"), std::vector<char>(gz.begin(), gz.begin() + gz.size() / 2));
  CHECK_THAT(error_of([&] { ptq::read_gzip_file(dir.file("t10k-labels-idx1-ubyte.gz")); }),
             Catch::Contains("corrupt") || Catch::Contains("truncated"));
  // A flipped byte inside the compressed data: zlib's CRC check (or the inflate stream) fails.
  std::vector<char> flipped = gz;
  flipped[gz.size() / 2] = static_cast<char>(flipped[gz.size() / 2] ^ 0x55);
  write_bytes(dir.file("flipped.gz"), flipped);
  CHECK_THAT(error_of([&] { ptq::read_gzip_file(dir.file("flipped.gz")); }), Catch::Contains("corrupt"));

  // IDX headers that disagree with the payload.
  std::vector<std::uint8_t> idx = {0, 0, 8, 1, 0, 0, 0, 3, 1, 2};
  CHECK_THAT(error_of([&] { ptq::parse_idx(idx, "x"); }), Catch::Contains("promises 3"));
  idx = {0, 0, 13, 1, 0, 0, 0, 1, 1};
  CHECK_THAT(error_of([&] { ptq::parse_idx(idx, "x"); }), Catch::Contains("not an unsigned-byte IDX"));

  // The model file: missing, bad magic, flipped byte (CRC), truncated.
  const std::string model = small_config().model_path;
  CHECK_THAT(error_of([&] { ptq::load_model(dir.file("none.qmw")); }), Catch::Contains("cannot open model file"));
  std::vector<char> m = read_bytes(model);
  REQUIRE(m.size() > 1000);
  std::vector<char> bad = m;
  bad[0] = 'X';
  write_bytes(dir.file("magic.qmw"), bad);
  CHECK_THAT(error_of([&] { ptq::load_model(dir.file("magic.qmw")); }), Catch::Contains("not a qmath weights file"));
  bad = m;
  bad[m.size() / 2] = static_cast<char>(bad[m.size() / 2] ^ 1);
  write_bytes(dir.file("crc.qmw"), bad);
  CHECK_THAT(error_of([&] { ptq::load_model(dir.file("crc.qmw")); }), Catch::Contains("CRC-32 mismatch"));
  write_bytes(dir.file("short.qmw"), std::vector<char>(m.begin(), m.begin() + m.size() / 3));
  CHECK_THAT(error_of([&] { ptq::load_model(dir.file("short.qmw")); }), Catch::Contains("corrupt"));
}

TEST_CASE("the .qmw parser keeps layer data out of the CRC bytes", "[ptq_demo][hostile]") {
  // One 1 x 1 layer needs 8 data bytes (weight, bias); give it 4, then a valid CRC. The bias used to be read from the
  // CRC bytes, and the trailing-bytes check then reported 2^64 - 4 bytes.
  auto with_crc = [](std::vector<char> b) {
    const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(b.data()), static_cast<uInt>(b.size()));
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
    return b;
  };
  std::vector<char> b = {'Q', 'M', 'A', 'T', 'H', 'W', '0', '1', 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0};
  const std::vector<char> weight = {0, 0, static_cast<char>(0x80), 0x3f};  // 1.0f
  b.insert(b.end(), weight.begin(), weight.end());
  CHECK_THAT(error_of([&] { ptq::parse_model(with_crc(b), "short.qmw"); }),
             Catch::Contains("truncated") && Catch::Contains("short.qmw"));
  b.insert(b.end(), weight.begin(), weight.end());  // the bias: now complete
  const ptq::Model m = ptq::parse_model(with_crc(b), "ok.qmw");
  CHECK(m.layers.size() == 1);
  CHECK(m.layers[0].bias.at(0) == 1.0f);
  b.push_back(0);  // one byte too many
  CHECK_THAT(error_of([&] { ptq::parse_model(with_crc(b), "long.qmw"); }), Catch::Contains("1 unexpected trailing"));
  CHECK_THAT(error_of([&] { ptq::load_model("."); }), Catch::Contains("'.'"));
}
