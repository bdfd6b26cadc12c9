// dynamic_quant_matmul_dump - qmath's DynamicQuantizeMatMul (bench/dynamic_quant_matmul.hpp) on operands read from
// raw little-endian files, for bench/compare_onnxruntime.py's agreement check against ONNX Runtime.
//
//   dynamic_quant_matmul_dump M N K x.f32 b.s8 b_scale.f32 out_prefix [bias.f32]
//     x.f32: M x K float32 row-major; b.s8: K x N int8 row-major (ONNX MatMul layout, zero point 0);
//     b_scale.f32: 1 or N float32; bias.f32 (optional): N float32, added after the scale.
//   Writes out_prefix.a_q.u8 (the quantized A, M x K), out_prefix.exact.f32 (Y, M x N, the default exact GEMM) and
//   out_prefix.saturating.f32 (Y with GemmOptions::saturate_int16_pairs, the VPMADDUBSW arithmetic of MLAS's AVX2
//   u8s8 kernels), and prints "a_scale a_zero_point" (scale as %.9g) on stdout. Exit status 1 with a message on error.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "dynamic_quant_matmul.hpp"

namespace {

template <class T>
std::vector<T> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (bytes.size() % sizeof(T) != 0) throw std::runtime_error(path + ": size is not a multiple of the element size");
  std::vector<T> v(bytes.size() / sizeof(T));
  std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

template <class T>
void write_file(const std::string& path, const std::vector<T>& v) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T)));
  if (!f) throw std::runtime_error("cannot write " + path);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 8 && argc != 9) {
    std::fprintf(stderr, "usage: %s M N K x.f32 b.s8 b_scale.f32 out_prefix [bias.f32]\n", argv[0]);
    return 2;
  }
  try {
    const int m = std::atoi(argv[1]), n = std::atoi(argv[2]), k = std::atoi(argv[3]);
    const auto x = read_file<float>(argv[4]);
    const auto b = read_file<std::int8_t>(argv[5]);
    auto b_scale = read_file<float>(argv[6]);
    const std::string out = argv[7];
    if (m < 1 || n < 1 || k < 1 || x.size() != std::size_t(m) * k || b.size() != std::size_t(k) * n)
      throw std::runtime_error("operand sizes do not match M, N, K");
    const std::vector<float> bias = argc == 9 ? read_file<float>(argv[8]) : std::vector<float>();
    auto w = qmath_bench::prepare_weights(qmath::row_major(b.data(), k, n), b_scale, 0, bias);
    std::vector<std::uint8_t> a_q;
    std::vector<float> y(std::size_t(m) * n);
    const qmath::QuantParams p =
        qmath_bench::dynamic_quantize_matmul(qmath::row_major(x.data(), m, k), w, a_q, qmath::row_major(y.data(), m, n));
    write_file(out + ".a_q.u8", a_q);
    write_file(out + ".exact.f32", y);
    qmath::cpu::GemmOptions saturating;
    saturating.saturate_int16_pairs = true;
    qmath_bench::dynamic_quantize_matmul(qmath::row_major(x.data(), m, k), w, a_q, qmath::row_major(y.data(), m, n),
                                         saturating);
    write_file(out + ".saturating.f32", y);
    std::printf("%.9g %d\n", double(p.scale), int(p.zero_point));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dynamic_quant_matmul_dump: %s\n", e.what());
    return 1;
  }
  return 0;
}
