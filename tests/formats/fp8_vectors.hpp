// Test-only: the FP8 records of tests/formats/data/fp8_quant.txt grouped the way the host and the CUDA FP8 tests use
// them. A record's format index is a position in kFp8Formats (gen_vectors.py's order).
#pragma once

#include <cstdint>
#include <map>
#include <qmath/fp8.hpp>
#include <qmath/qparams.hpp>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <vector>

#include "vector_file.hpp"

namespace qmath_test {

inline constexpr qmath::Fp8Format kFp8Formats[] = {qmath::Fp8Format::kE4M3FN, qmath::Fp8Format::kE5M2,
                                                   qmath::Fp8Format::kE4M3FNUZ, qmath::Fp8Format::kE5M2FNUZ};

// Per-tensor QuantizeLinear records (`q format saturate scale x code`) of one (format, saturate, scale), in file order.
struct Fp8QuantizeGroup {
  std::uint32_t format_index;
  qmath::Fp8Format format;
  bool saturate;
  float scale;
  std::vector<float> x;
  std::vector<std::uint8_t> want;
};
// Per-tensor DequantizeLinear records (`dq format scale code float-bits`) of one (format, scale), in file order.
struct Fp8DequantizeGroup {
  std::uint32_t format_index;
  qmath::Fp8Format format;
  float scale;
  std::vector<std::uint8_t> codes;
  std::vector<std::uint32_t> want;  // float bits
};
struct Fp8QuantGroups {
  std::vector<Fp8QuantizeGroup> quantize;
  std::vector<Fp8DequantizeGroup> dequantize;
};

inline Fp8QuantGroups read_fp8_quant_groups() {
  std::map<std::tuple<std::uint32_t, std::uint32_t, std::uint32_t>, Fp8QuantizeGroup> q;
  std::map<std::pair<std::uint32_t, std::uint32_t>, Fp8DequantizeGroup> dq;
  for (const auto& r : read_vectors("fp8_quant.txt")) {
    const auto& w = r.words;
    if (r.tag == "q") {
      auto [it, fresh] = q.try_emplace({w[0], w[1], w[2]});
      if (fresh) it->second = {w[0], kFp8Formats[w[0]], w[1] != 0, as_float(w[2]), {}, {}};
      it->second.x.push_back(as_float(w[3]));
      it->second.want.push_back(static_cast<std::uint8_t>(w[4]));
    } else if (r.tag == "dq") {
      auto [it, fresh] = dq.try_emplace({w[0], w[1]});
      if (fresh) it->second = {w[0], kFp8Formats[w[0]], as_float(w[1]), {}, {}};
      it->second.codes.push_back(static_cast<std::uint8_t>(w[2]));
      it->second.want.push_back(w[3]);
    }
  }
  Fp8QuantGroups out;
  for (auto& kv : q) out.quantize.push_back(std::move(kv.second));
  for (auto& kv : dq) out.dequantize.push_back(std::move(kv.second));
  return out;
}

// A per-axis record (`pa format outer channels inner axis`) with its four following lines: inputs, scales, expected
// codes, expected dequantized float bits.
struct Fp8PerAxisCase {
  qmath::Fp8Format format;
  qmath::ChannelLayout layout;
  std::vector<float> x;
  std::vector<float> scales;
  std::vector<std::uint32_t> want_q;
  std::vector<std::uint32_t> want_d;
};

inline std::vector<Fp8PerAxisCase> read_fp8_per_axis_cases() {
  const auto recs = read_vectors("fp8_quant.txt");
  std::vector<Fp8PerAxisCase> out;
  for (std::size_t i = 0; i < recs.size(); ++i) {
    if (recs[i].tag != "pa") continue;
    if (i + 4 >= recs.size()) throw std::runtime_error("fp8_quant.txt: truncated pa record");
    const auto& w = recs[i].words;
    out.push_back({kFp8Formats[w[0]], qmath::channel_layout({w[1], w[2], w[3]}, static_cast<int>(w[4])),
                   floats(recs[i + 1].words), floats(recs[i + 2].words), recs[i + 3].words, recs[i + 4].words});
  }
  return out;
}

}  // namespace qmath_test
