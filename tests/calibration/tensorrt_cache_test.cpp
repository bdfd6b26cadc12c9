// Tests for qmath/calibration/tensorrt_cache.hpp: real cache lines decode to their published amax, bit-exact
// round trips (every special pattern), lenient reading, errors with line numbers, atomic writing.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>

#include <qmath/calibration/tensorrt_cache.hpp>

using namespace qmath;

namespace {
std::uint32_t bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float from_bits(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
std::string error_of(const std::string& text) {
  try {
    parse_tensorrt_cache(text, "t.cache");
  } catch (const qmath::error& e) {
    return e.what();
  }
  return "";
}
bool exists(const std::string& p) { return static_cast<bool>(std::ifstream(p)); }
std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}
}  // namespace

TEST_CASE("real TensorRT cache lines decode to the published amax") {
  const TensorRTCache c = parse_tensorrt_cache(
      "TRT-8003-EntropyCalibration2\ninput_0: 3cb1ab7d\n");
  CHECK(c.version == "8003");
  CHECK(c.algorithm == "EntropyCalibration2");
  REQUIRE(c.entries.size() == 1);
  CHECK(c.entries[0].name == "input_0");
  CHECK(c.entries[0].amax() == Approx(2.75440).margin(5e-6));
  const TensorRTCache m = parse_tensorrt_cache("TRT-8400-MinMaxCalibration\ninput_0: 3cb1a063\n");
  CHECK(m.entries[0].amax() == Approx(2.753731).margin(5e-7));
  // entropy / minmax ratio of these two real caches: 2048.5 / 2048 to 4e-6 (TensorRT's (i + 0.5) * width)
  CHECK(c.entries[0].amax() / m.entries[0].amax() == Approx(2048.5 / 2048).epsilon(4e-6));
  // MNIST: input pixels in [0, 1] and softmax probabilities: both amax just about 1
  const TensorRTCache mnist = parse_tensorrt_cache("TRT-8003-EntropyCalibration2\ndata: 3c008912\nprob: 3c010a14\n");
  CHECK(mnist.find("data")->amax() == Approx(0.99634).margin(1e-5));
  CHECK(mnist.find("prob")->amax() == Approx(1.00024).margin(1e-5));
  CHECK(mnist.find("prob")->scale == from_bits(0x3c010a14u));
  CHECK(mnist.find("absent") == nullptr);
}

TEST_CASE("hex encoding: big-endian bits, lowercase, no leading zeros") {
  CHECK(tensorrt_scale_to_hex(0.0f) == "0");
  CHECK(tensorrt_scale_to_hex(from_bits(0x7f800000u)) == "7f800000");
  CHECK(tensorrt_scale_to_hex(from_bits(0x3c010a14u)) == "3c010a14");
  CHECK(tensorrt_scale_to_hex(from_bits(0x00000abcu)) == "abc");
  CHECK(tensorrt_scale_to_hex(-0.0f) == "80000000");
  CHECK(bits(tensorrt_scale_from_hex("0")) == 0u);
  CHECK(bits(tensorrt_scale_from_hex("3C010A14")) == 0x3c010a14u);
  CHECK_THROWS_AS(tensorrt_scale_from_hex(""), qmath::error);
  CHECK_THROWS_AS(tensorrt_scale_from_hex("123456789"), qmath::error);
  CHECK_THROWS_AS(tensorrt_scale_from_hex("0x12"), qmath::error);
}

TEST_CASE("round trip is bit-exact for every valid scale (+0 .. +inf)") {
  TensorRTCache c;
  c.version = "101303";
  c.algorithm = "MinMaxCalibration";
  const std::uint32_t special[] = {0u, 1u, 0x7f800000u, 0x00800000u, 0x3c010a14u, 0x7f7fffffu, 0x0000000fu};
  int k = 0;
  for (std::uint32_t u : special) c.entries.push_back({"t" + std::to_string(k++), from_bits(u)});
  std::mt19937 g(1);
  for (int i = 0; i < 2000; ++i) {
    const std::uint32_t u = g() & 0x7fffffffu;  // sign bit clear
    c.entries.push_back({"r/" + std::to_string(i) + ":0 x", from_bits(u > 0x7f800000u ? u & 0x3fffffffu : u)});
  }
  c.add_amax("amax_2.7544", 2.7544f);
  CHECK(bits(c.entries.back().scale) == bits(2.7544f / 127.0f));
  const std::string text = format_tensorrt_cache(c);
  CHECK(text.rfind("TRT-101303-MinMaxCalibration\nt0: 0\nt1: 1\nt2: 7f800000\n", 0) == 0);
  const TensorRTCache back = parse_tensorrt_cache(text);
  CHECK(back.version == c.version);
  CHECK(back.algorithm == c.algorithm);
  REQUIRE(back.entries.size() == c.entries.size());
  for (std::size_t i = 0; i < c.entries.size(); ++i) {
    REQUIRE(back.entries[i].name == c.entries[i].name);
    REQUIRE(bits(back.entries[i].scale) == bits(c.entries[i].scale));
  }
  CHECK(format_tensorrt_cache(back) == text);
}

TEST_CASE("reading is lenient where TensorRT and ONNX Runtime are") {
  const TensorRTCache c = parse_tensorrt_cache(
      "TRT-8600-EntropyCalibration2\r\n\r\nconv:0:  3C010A14  \r\nzero: 0\n\nlast:3f800000");
  REQUIRE(c.entries.size() == 3);
  CHECK(c.entries[0].name == "conv:0");  // split at the last colon
  CHECK(bits(c.entries[0].scale) == 0x3c010a14u);
  CHECK(c.entries[1].scale == 0.0f);
  CHECK(c.entries[2].scale == 1.0f);
  CHECK(parse_tensorrt_cache("TRT-8003-EntropyCalibration2\n").entries.empty());
}

TEST_CASE("malformed caches give errors with the line number") {
  CHECK(error_of("").find("empty file") != std::string::npos);
  CHECK(error_of("input_0: 3cb1ab7d\n").find("t.cache:1") != std::string::npos);
  CHECK(error_of("TRT--Entropy\n").find("t.cache:1") != std::string::npos);
  CHECK(error_of("TRT-80a3-EntropyCalibration2\n").find("t.cache:1") != std::string::npos);
  CHECK(error_of("TRT-8003\n").find("t.cache:1") != std::string::npos);
  CHECK(error_of("TRT-8003-E\na: 1\nno colon here\n").find("t.cache:3") != std::string::npos);
  CHECK(error_of("TRT-8003-E\na: 1\n\nb: xyz\n").find("t.cache:4") != std::string::npos);
  CHECK(error_of("TRT-8003-E\na: 123456789\n").find("t.cache:2") != std::string::npos);
  CHECK(error_of("TRT-8003-E\na:\n").find("t.cache:2") != std::string::npos);
  CHECK(error_of("TRT-8003-E\n: 3c\n").find("t.cache:2") != std::string::npos);
  CHECK(error_of("TRT-8003-E\na: 1\na: 2\n").find("t.cache:3: duplicate") != std::string::npos);
  CHECK_THROWS_AS(read_tensorrt_cache("/nonexistent/dir/x.cache"), qmath::error);
}

TEST_CASE("writing is atomic: temp file then rename; a failure leaves the old file and no temp behind") {
  const std::string path = "qmath_tensorrt_cache_test.cache";
  std::remove(path.c_str());
  TensorRTCache c;
  c.add_amax("data", 0.99634f);
  write_tensorrt_cache(path, c);
  CHECK_FALSE(exists(path + ".tmp"));
  const std::string first = slurp(path);
  CHECK(first == format_tensorrt_cache(c));
  CHECK(read_tensorrt_cache(path).entries.size() == 1);
  TensorRTCache bad = c;
  bad.entries.push_back({"two\nlines", 1.0f});
  CHECK_THROWS_AS(write_tensorrt_cache(path, bad), qmath::error);
  CHECK(slurp(path) == first);
  CHECK_FALSE(exists(path + ".tmp"));
  TensorRTCache dup = c;
  dup.add_amax("data", 1.0f);
  CHECK_THROWS_AS(write_tensorrt_cache(path, dup), qmath::error);
  TensorRTCache badver = c;
  badver.version = "8.6";
  CHECK_THROWS_AS(write_tensorrt_cache(path, badver), qmath::error);
  CHECK(slurp(path) == first);
  CHECK_THROWS_AS(write_tensorrt_cache("/nonexistent/dir/x.cache", c), qmath::error);
  CHECK_FALSE(exists("/nonexistent/dir/x.cache.tmp"));
  std::remove(path.c_str());
}

TEST_CASE("reader and writer share one rule: what one refuses the other refuses, so every cache round-trips") {
  // Negative and NaN scales.
  for (const char* hex : {"80000000", "bf800000", "ff800000", "7fc00000", "7fa00001", "ffffffff"}) {
    const std::string text = std::string("TRT-8003-E\na: ") + hex + "\n";
    INFO(hex);
    CHECK(error_of(text).find("t.cache:2: tensor 'a': scale") != std::string::npos);
    TensorRTCache c;
    c.entries.push_back({"a", tensorrt_scale_from_hex(hex)});
    CHECK_THROWS_WITH(format_tensorrt_cache(c), Catch::Contains("scale"));
  }
  // Names with control characters (NUL, tab, CR inside a line).
  for (const std::string& name : {std::string("a\0b", 3), std::string("a\tb"), std::string("a\rb"),
                                 std::string("a\x01")}) {
    CHECK(error_of("TRT-8003-E\n" + name + ": 1\n").find("t.cache:2: tensor name") != std::string::npos);
    TensorRTCache c;
    c.entries.push_back({name, 1.0f});
    CHECK_THROWS_WITH(format_tensorrt_cache(c), Catch::Contains("control character"));
  }
  // An algorithm with a space.
  CHECK(error_of("TRT-8003-Entropy Calibration\n").find("t.cache:1") != std::string::npos);
  // Inner spaces in a name are kept both ways.
  const TensorRTCache c = parse_tensorrt_cache("TRT-8003-E\nmy tensor: 3f800000\n");
  CHECK(c.entries.at(0).name == "my tensor");
  CHECK(parse_tensorrt_cache(format_tensorrt_cache(c)).entries.at(0).name == "my tensor");
}

TEST_CASE("read_tensorrt_cache on a directory is a qmath::error naming the path") {
  CHECK_THROWS_WITH(read_tensorrt_cache("."), Catch::Contains("'.'"));
  CHECK_THROWS_AS(read_tensorrt_cache("."), qmath::error);
}
