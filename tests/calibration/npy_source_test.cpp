// Tests for qmath/calibration/npy_source.hpp: every accepted .npy variant round-trips exactly, float16 converts
// exactly (all 65536 bit patterns against an independent formula), every malformed file is rejected with a message
// naming the file and the problem; NpyTensorSource feeds calibrate_stream, and a file replaced after the source
// declared it (another shape) is an error naming the tensor and the file.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include <qmath/calibration/npy_source.hpp>

#include "npy_writer.hpp"

namespace fs = std::filesystem;
using qmath::half_to_float;
using qmath::NpyReader;

namespace {

std::string temp_dir() {
  static const std::string dir = [] {
    const fs::path p = fs::temp_directory_path() / ("qmath_npy_test_" + std::to_string(::getpid()));
    fs::create_directories(p);
    return p.string();
  }();
  return dir;
}

std::vector<float> read_all(const std::string& path, std::size_t chunk) {
  NpyReader r(path);
  std::vector<float> out, buf(chunk);
  while (std::size_t n = r.read(buf.data(), chunk)) out.insert(out.end(), buf.begin(), buf.begin() + n);
  return out;
}

std::uint32_t bits_of(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

// Reference for binary16 -> double from the IEEE-754 definition (independent of the bit manipulation under test).
double half_reference(std::uint16_t h) {
  const int sign = (h >> 15) ? -1 : 1;
  const int e = (h >> 10) & 0x1f;
  const int m = h & 0x3ff;
  if (e == 0) return sign * std::ldexp(static_cast<double>(m), -24);
  if (e == 31) return m ? std::nan("") : sign * INFINITY;
  return sign * std::ldexp(static_cast<double>(1024 + m), e - 25);
}

void require_error(const std::string& path, const std::string& fragment) {
  try {
    NpyReader r(path);
    std::vector<float> buf(16);
    while (r.read(buf.data(), buf.size())) {
    }
    FAIL("no error for " << path);
  } catch (const qmath::error& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find(path) != std::string::npos);
    CHECK(msg.find(fragment) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("half_to_float is exact for every binary16 bit pattern", "[npy]") {
  for (std::uint32_t h = 0; h < 65536; ++h) {
    const float f = half_to_float(static_cast<std::uint16_t>(h));
    const double ref = half_reference(static_cast<std::uint16_t>(h));
    if (std::isnan(ref)) {
      REQUIRE(std::isnan(f));
      // payload kept: the 10 mantissa bits move to the top of the float mantissa
      REQUIRE((bits_of(f) & 0x7fffffu) == ((h & 0x3ffu) << 13));
    } else {
      REQUIRE(static_cast<double>(f) == ref);
      REQUIRE(std::signbit(f) == ((h >> 15) != 0));  // -0 stays -0
    }
  }
  CHECK(half_to_float(0x0001) == std::ldexp(1.0f, -24));  // smallest subnormal
  CHECK(half_to_float(0x03ff) == std::ldexp(1023.0f, -24));  // largest subnormal
  CHECK(half_to_float(0x7bff) == 65504.0f);
  CHECK(half_to_float(0xfc00) == -INFINITY);
}

TEST_CASE("float32 files of every version, shape and chunk size round-trip exactly", "[npy]") {
  const int major = GENERATE(1, 2, 3);
  const std::vector<std::vector<std::int64_t>> shapes = {{}, {1}, {7}, {3, 5}, {2, 3, 4}, {1, 1, 1, 13}};
  for (const auto& shape : shapes) {
    std::size_t n = 1;
    for (auto d : shape) n *= static_cast<std::size_t>(d);
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = (i % 2 ? -1.0f : 1.0f) * std::ldexp(1.0f + i / 64.0f, int(i % 9) - 4);
    const std::string path = temp_dir() + "/f32_v" + std::to_string(major) + "_" + std::to_string(shape.size()) + ".npy";
    npy_test::write_f32(path, v, shape, major);
    NpyReader r(path);
    CHECK(r.header().major == major);
    CHECK(r.header().shape == shape);
    CHECK(r.header().count == n);
    CHECK(r.header().dtype == qmath::NpyDtype::kFloat32);
    for (std::size_t chunk : {std::size_t(1), std::size_t(7), std::size_t(1000)}) {
      const std::vector<float> got = read_all(path, chunk);
      REQUIRE(got.size() == n);
      for (std::size_t i = 0; i < n; ++i) REQUIRE(bits_of(got[i]) == bits_of(v[i]));
    }
  }
}

TEST_CASE("float16 files convert exactly, including subnormals, infinities and NaN", "[npy]") {
  const std::vector<std::uint16_t> h = {0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x3c00, 0xbc00,
                                        0x7bff, 0x7c00, 0xfc00, 0x7e00, 0x3555};
  const std::string path = temp_dir() + "/f16.npy";
  npy_test::write_f16(path, h, {2, 6}, 2);
  const std::vector<float> got = read_all(path, 5);
  REQUIRE(got.size() == h.size());
  for (std::size_t i = 0; i < h.size(); ++i) {
    if (std::isnan(half_reference(h[i]))) CHECK(std::isnan(got[i]));
    else CHECK(static_cast<double>(got[i]) == half_reference(h[i]));
  }
}

TEST_CASE("malformed .npy files are rejected naming the file and the problem", "[npy]") {
  using namespace npy_test;
  const std::string d = temp_dir();
  const std::string good_data = raw_f32({1, 2, 3, 4, 5, 6});
  const std::string good = npy_bytes(header_dict("<f4", false, {2, 3}), good_data);

  write_file(d + "/empty.npy", "");
  require_error(d + "/empty.npy", "empty");
  write_file(d + "/short.npy", "\x93NUM");
  require_error(d + "/short.npy", "magic");
  write_file(d + "/text.npy", "hello world, this is not numpy");
  require_error(d + "/text.npy", "magic");
  write_file(d + "/preamble.npy", good.substr(0, 8));
  require_error(d + "/preamble.npy", "truncated");
  std::string v4 = good;
  v4[6] = 4;
  write_file(d + "/v4.npy", v4);
  require_error(d + "/v4.npy", "version 4.0");
  write_file(d + "/cut_header.npy", good.substr(0, 40));
  require_error(d + "/cut_header.npy", "truncated .npy header");
  write_file(d + "/cut_data.npy", good.substr(0, good.size() - 1));
  require_error(d + "/cut_data.npy", "truncated data");
  write_file(d + "/no_data.npy", good.substr(0, good.size() - good_data.size()));
  require_error(d + "/no_data.npy", "truncated data");
  write_file(d + "/trailing.npy", good + "xx");
  require_error(d + "/trailing.npy", "header/size mismatch");
  write_file(d + "/shape_mismatch.npy", npy_bytes(header_dict("<f4", false, {2, 4}), good_data));
  require_error(d + "/shape_mismatch.npy", "truncated data");

  for (const char* dtype : {"<f8", ">f4", ">f2", "<i4", "|u1", "|i1", "<c8", "|b1", "<f16"}) {
    write_file(d + "/dtype.npy", npy_bytes(header_dict(dtype, false, {6}), good_data));
    require_error(d + "/dtype.npy", std::string("unsupported dtype '") + dtype + "'");
  }
  write_file(d + "/structured.npy", npy_bytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }",
                                              good_data));
  require_error(d + "/structured.npy", "structured");
  write_file(d + "/fortran.npy", npy_bytes(header_dict("<f4", true, {2, 3}), good_data));
  require_error(d + "/fortran.npy", "Fortran");
  write_file(d + "/zero.npy", npy_bytes(header_dict("<f4", false, {0, 3}), ""));
  require_error(d + "/zero.npy", "no elements");
  write_file(d + "/noshape.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, }", good_data));
  require_error(d + "/noshape.npy", "no 'shape'");
  write_file(d + "/garbage.npy", npy_bytes("{'descr': '<f4', 'fortran_order': maybe, 'shape': (6,), }", good_data));
  require_error(d + "/garbage.npy", "malformed .npy header");
  write_file(d + "/badshape.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", good_data));
  require_error(d + "/badshape.npy", "malformed .npy header");
  write_file(d + "/extra.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': 1}", good_data));
  require_error(d + "/extra.npy", "unexpected key 'x'");
  require_error(d + "/does_not_exist.npy", "cannot open");
}

TEST_CASE("NpyTensorSource: calibrate_stream over .npy batches equals it over the same arrays", "[npy]") {
  std::vector<float> a(6 * 8), b(3 * 6 * 8);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = std::sin(0.37f * static_cast<float>(i)) * 3.0f;
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = std::cos(0.11f * static_cast<float>(i)) * 5.0f;
  const std::string fa = temp_dir() + "/src_a.npy", fb = temp_dir() + "/src_b.npy";
  npy_test::write_f32(fa, a, {6, 8});
  npy_test::write_f32(fb, b, {3, 6, 8}, 2);
  qmath::CalibrationSettings s;
  s.methods = qmath::all_calibration_methods();
  s.per_channel_axis = -2;
  s.chunk_elements = 5;
  qmath::NpyTensorSource files({fa, fb});
  CHECK(files.batch_label(1) == fb);
  CHECK(files.header(1).count == 144);
  qmath::InMemoryTensorSource arrays;
  arrays.add(a.data(), {6, 8});
  arrays.add(b.data(), {3, 6, 8});
  const qmath::TensorCalibration x = qmath::calibrate_stream("t", files, s), y = qmath::calibrate_stream("t", arrays, s);
  CHECK(x.counts == y.counts);
  REQUIRE(x.methods.size() == y.methods.size());
  for (std::size_t m = 0; m < x.methods.size(); ++m) CHECK(x.methods[m].amax == y.methods[m].amax);
  CHECK(x.channels == 6);
}

TEST_CASE("NpyTensorSource: a file replaced with another shape after the declaration is refused", "[npy]") {
  const std::string f = temp_dir() + "/replaced.npy";
  npy_test::write_f32(f, std::vector<float>(4 * 5, 1.0f), {4, 5});
  qmath::NpyTensorSource src({f});  // declares (4, 5): 4 channels along axis 0
  qmath::CalibrationSettings s;
  s.methods = {qmath::CalibrationMethod::kMax, qmath::CalibrationMethod::kPercentile};
  s.per_channel_axis = 0;
  qmath::declared_batches(src, "act", s);  // what the tool validates up front
  npy_test::write_f32(f, std::vector<float>(9 * 5, 2.0f), {9, 5});  // now 9 channels: would overrun 4-entry tables
  try {
    qmath::calibrate_stream("act", src, s);
    FAIL("no error");
  } catch (const qmath::error& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find("tensor 'act'") != std::string::npos);
    CHECK(msg.find(f) != std::string::npos);
    CHECK(msg.find("shape (9, 5) differs from the declared (4, 5)") != std::string::npos);
  }
}

TEST_CASE("a directory is refused as a directory", "[npy]") {
  const std::string dir = temp_dir() + "/a_directory.npy";
  fs::create_directories(dir);
  try {
    NpyReader r(dir);
    FAIL("no error");
  } catch (const qmath::error& e) {
    CHECK(std::string(e.what()).find("a_directory.npy: is a directory, not a .npy file") != std::string::npos);
  }
}
