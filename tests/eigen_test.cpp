// qmath/eigen.hpp: the Eigen adapter against the scalar core functions (quantize_value, dequantize_value) and an
// independent int64 triple-loop GEMM, on column-major, row-major, mapped and strided (block) operands.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include <qmath/eigen.hpp>

namespace {

using qmath::QuantParams;
using qmath::Round;
using qmath::eigen::ChannelAxis;
using qmath::eigen::RowMajorMatrix;

Eigen::MatrixXf random_matrix(Eigen::Index rows, Eigen::Index cols, unsigned seed, float sigma = 2.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  Eigen::MatrixXf m(rows, cols);
  for (Eigen::Index j = 0; j < cols; ++j)
    for (Eigen::Index i = 0; i < rows; ++i) m(i, j) = dist(rng);
  return m;
}

template <class T>
RowMajorMatrix<T> random_int(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::mt19937 rng(seed);
  const qmath::QuantRange r = qmath::full_range<T>();
  std::uniform_int_distribution<int> dist(r.qmin, r.qmax);
  RowMajorMatrix<T> m(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i)
    for (Eigen::Index j = 0; j < cols; ++j) m(i, j) = static_cast<T>(dist(rng));
  return m;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

TEST_CASE("eigen::quantize / dequantize per tensor match the scalar functions on any layout", "[eigen]") {
  Eigen::MatrixXf x = random_matrix(13, 37, 1);
  x(0, 0) = std::numeric_limits<float>::quiet_NaN();
  x(1, 2) = -std::numeric_limits<float>::infinity();
  x(2, 3) = 0.25f;  // a tie at scale 0.5
  const QuantParams p{0.5f / 9.0f, 3};
  for (Round mode : {Round::kHalfToEven, Round::kHalfAwayFromZero, Round::kHalfUp, Round::kTowardZero}) {
    const RowMajorMatrix<float> xr = x;
    const auto block = x.block(2, 5, 9, 23);  // column-major block with an outer stride
    const Eigen::Map<const RowMajorMatrix<float>, 0, Eigen::OuterStride<>> mapped(xr.data() + 3, 10, 30,
                                                                                   Eigen::OuterStride<>(37));
    const auto q1 = qmath::eigen::quantize<std::int8_t>(x, p, qmath::full_range<std::int8_t>(), mode);
    const auto q2 = qmath::eigen::quantize<std::int8_t>(xr, p, qmath::full_range<std::int8_t>(), mode);
    const auto q3 = qmath::eigen::quantize<std::int8_t>(block, p, qmath::full_range<std::int8_t>(), mode);
    const auto q4 = qmath::eigen::quantize<std::int8_t>(mapped, p, qmath::full_range<std::int8_t>(), mode);
    auto expect = [&](float v) { return qmath::quantize_value(v, p, qmath::full_range<std::int8_t>(), mode); };
    for (Eigen::Index i = 0; i < x.rows(); ++i)
      for (Eigen::Index j = 0; j < x.cols(); ++j) {
        REQUIRE(q1(i, j) == expect(x(i, j)));
        REQUIRE(q2(i, j) == expect(x(i, j)));
      }
    for (Eigen::Index i = 0; i < block.rows(); ++i)
      for (Eigen::Index j = 0; j < block.cols(); ++j) REQUIRE(q3(i, j) == expect(block(i, j)));
    for (Eigen::Index i = 0; i < mapped.rows(); ++i)
      for (Eigen::Index j = 0; j < mapped.cols(); ++j) REQUIRE(q4(i, j) == expect(mapped(i, j)));
  }
  const auto q = qmath::eigen::quantize<std::uint8_t>(x, QuantParams{0.03f, 128});
  const Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic> q_col = q;  // column-major input
  const auto back = qmath::eigen::dequantize(q_col, QuantParams{0.03f, 128});
  for (Eigen::Index i = 0; i < x.rows(); ++i)
    for (Eigen::Index j = 0; j < x.cols(); ++j)
      REQUIRE(same_bits(back(i, j), qmath::dequantize_value(q(i, j), QuantParams{0.03f, 128})));
  CHECK(q(2, 3) == qmath::quantize_value(0.25f, QuantParams{0.03f, 128}, qmath::full_range<std::uint8_t>()));
  CHECK(qmath::eigen::quantize<std::int8_t>(Eigen::MatrixXf(0, 4), p).size() == 0);
  CHECK_THROWS_AS(qmath::eigen::quantize<std::int8_t>(x, QuantParams{-1.0f, 0}), qmath::error);
  CHECK_THROWS_AS(qmath::eigen::quantize<std::int8_t>(Eigen::MatrixXf(0, 4), QuantParams{0.0f, 0}), qmath::error);
}

TEST_CASE("eigen per-channel quantization uses one parameter set per row or column", "[eigen]") {
  const Eigen::MatrixXf x = random_matrix(6, 19, 2);
  for (ChannelAxis axis : {ChannelAxis::kRows, ChannelAxis::kCols}) {
    const auto params = qmath::eigen::symmetric_params_per_channel(x, qmath::narrow_range<std::int8_t>(), axis);
    const Eigen::Index channels = axis == ChannelAxis::kRows ? x.rows() : x.cols();
    REQUIRE(params.size() == static_cast<std::size_t>(channels));
    for (Eigen::Index c = 0; c < channels; ++c) {
      const float amax = axis == ChannelAxis::kRows ? x.row(c).cwiseAbs().maxCoeff() : x.col(c).cwiseAbs().maxCoeff();
      const QuantParams want = qmath::symmetric_params(amax, qmath::narrow_range<std::int8_t>());
      CHECK(same_bits(params[std::size_t(c)].scale, want.scale));
      CHECK(params[std::size_t(c)].zero_point == 0);
    }
    const auto q = qmath::eigen::quantize_per_channel<std::int8_t>(x, params, axis, qmath::narrow_range<std::int8_t>(),
                                                                   Round::kHalfAwayFromZero);
    const auto back = qmath::eigen::dequantize_per_channel(q, params, axis);
    for (Eigen::Index i = 0; i < x.rows(); ++i)
      for (Eigen::Index j = 0; j < x.cols(); ++j) {
        const QuantParams& p = params[std::size_t(axis == ChannelAxis::kRows ? i : j)];
        REQUIRE(q(i, j) == qmath::quantize_value(x(i, j), p, qmath::narrow_range<std::int8_t>(),
                                                 Round::kHalfAwayFromZero));
        REQUIRE(same_bits(back(i, j), qmath::dequantize_value(q(i, j), p)));
      }
    // Each channel's extreme maps to +-127 exactly.
    for (Eigen::Index c = 0; c < channels; ++c) {
      const auto slice = axis == ChannelAxis::kRows ? q.row(c).cast<int>().cwiseAbs().maxCoeff()
                                                    : q.col(c).cast<int>().cwiseAbs().maxCoeff();
      CHECK(slice == 127);
    }
  }
  const std::vector<QuantParams> wrong(3, QuantParams{0.1f, 0});
  CHECK_THROWS_AS(qmath::eigen::quantize_per_channel<std::int8_t>(x, wrong, ChannelAxis::kRows), qmath::error);
  Eigen::MatrixXf bad = x;
  bad(1, 1) = std::numeric_limits<float>::infinity();
  CHECK_THROWS_AS(qmath::eigen::symmetric_params_per_channel(bad, qmath::full_range<std::int8_t>(), ChannelAxis::kRows),
                  qmath::error);
}

TEST_CASE("eigen::gemm_reference matches an int64 triple loop for both B storage orders, maps and blocks", "[eigen]") {
  const int shapes[][3] = {{1, 1, 1}, {3, 5, 7}, {17, 9, 33}, {8, 16, 64}};
  unsigned seed = 10;
  for (const auto& s : shapes) {
    const int m = s[0], n = s[1], k = s[2];
    const auto a = random_int<std::uint8_t>(m, k, seed++);
    const auto b_kn = random_int<std::int8_t>(k, n, seed++);
    const RowMajorMatrix<std::int8_t> b_nk = b_kn.transpose();
    const std::int32_t za = 7, zb = -3;
    RowMajorMatrix<std::int64_t> want(m, n);
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j) {
        std::int64_t acc = 0;
        for (int t = 0; t < k; ++t) acc += (std::int64_t(a(i, t)) - za) * (std::int64_t(b_kn(t, j)) - zb);
        want(i, j) = acc;
      }
    const qmath::Epilogue raw{};
    const auto c1 = qmath::eigen::gemm_reference<std::int32_t>(a, za, b_kn, zb, raw);
    const auto c2 = qmath::eigen::gemm_reference<std::int32_t>(a, za, b_nk.transpose(), zb, raw);
    // B given column-major: the adapter reads it in place as a column-major view.
    const Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic> b_col = b_kn;
    const auto c3 = qmath::eigen::gemm_reference<std::int32_t>(a, za, b_col, zb, raw);
    REQUIRE(c1.rows() == m);
    REQUIRE(c1.cols() == n);
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j) {
        REQUIRE(std::int64_t(c1(i, j)) == want(i, j));
        REQUIRE(std::int64_t(c2(i, j)) == want(i, j));
        REQUIRE(std::int64_t(c3(i, j)) == want(i, j));
      }
    // int8 output through a float-scale epilogue: each element is requantize_float of the exact accumulator.
    const float scale = 1.0f / 512.0f;
    const qmath::Epilogue e = qmath::Epilogue::float_multiplier(&scale).with_output_zero_point(-5);
    const auto c8 = qmath::eigen::gemm_reference<std::int8_t>(a, za, b_kn, zb, e);
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j)
        REQUIRE(c8(i, j) == qmath::requantize_float(std::int32_t(want(i, j)), scale, -5,
                                                    qmath::full_range<std::int8_t>()));
    // Integer operands of this size give exact float sums, so Eigen's FP32 GEMM must agree bit for bit.
    const RowMajorMatrix<float> f1 =
        qmath::eigen::gemm_fp32((a.cast<float>().array() - float(za)).matrix(), (b_kn.cast<float>().array() - float(zb)).matrix());
    const RowMajorMatrix<float> f2 = qmath::eigen::gemm_fp32((a.cast<float>().array() - float(za)).matrix(),
                                                             (b_nk.cast<float>().array() - float(zb)).matrix().transpose());
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j) {
        REQUIRE(f1(i, j) == float(want(i, j)));
        REQUIRE(f2(i, j) == float(want(i, j)));
      }
  }
  // A strided view: a block of a larger row-major buffer is used in place with its row stride.
  const auto big = random_int<std::int8_t>(10, 40, 99);
  const auto b = random_int<std::int8_t>(16, 4, 98);
  const auto block = big.block(1, 3, 5, 16);
  const auto c = qmath::eigen::gemm_reference<std::int32_t>(block, 0, b, 0, qmath::Epilogue{});
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 4; ++j) {
      std::int64_t acc = 0;
      for (int t = 0; t < 16; ++t) acc += std::int64_t(block(i, t)) * b(t, j);
      REQUIRE(std::int64_t(c(i, j)) == acc);
    }
  CHECK_THROWS_AS(qmath::eigen::gemm_reference<std::int32_t>(big, 0, b, 0, qmath::Epilogue{}), qmath::error);
  CHECK_THROWS_AS(qmath::eigen::gemm_fp32(big, b), qmath::error);
}
