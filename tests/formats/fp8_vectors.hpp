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

// Per-tensor records: `q` grouped by (format, saturate, scale bits) into (inputs, expected codes); `dq` grouped by
// (format, scale bits) into (codes, expected float bits). Each group keeps file order.
struct Fp8QuantGroups {
  std::map<std::tuple<std::uint32_t, std::uint32_t, std::uint32_t>,
           std::pair<std::vector<float>, std::vector<std::uint8_t>>>
      quantize;
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::pair<std::vector<std::uint8_t>, std::vector<std::uint32_t>>>
      dequantize;
};

inline Fp8QuantGroups read_fp8_quant_groups() {
  Fp8QuantGroups out;
  for (const auto& r : read_vectors("fp8_quant.txt")) {
    if (r.tag == "q") {
      auto& g = out.quantize[{r.words[0], r.words[1], r.words[2]}];
      g.first.push_back(as_float(r.words[3]));
      g.second.push_back(static_cast<std::uint8_t>(r.words[4]));
    } else if (r.tag == "dq") {
      auto& g = out.dequantize[{r.words[0], r.words[1]}];
      g.first.push_back(static_cast<std::uint8_t>(r.words[2]));
      g.second.push_back(r.words[3]);
    }
  }
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
