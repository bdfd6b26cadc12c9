// libFuzzer harness: the .qmw model parser (examples/ptq_demo/ptq.hpp, ptq::parse_model). The input is the body of
// the file (after the magic "QMATHW01", before the CRC-32); the harness adds the magic and the correct CRC, so that
// mutations reach the layer parsing instead of stopping at the checksum. Invariant: parse_model returns a model
// whose layers chain and whose parameter counts match their shapes, or throws qmath::error.
#include <cstddef>
#include <cstdint>
#include <vector>

#include <zlib.h>

#include "ptq.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<char> raw = {'Q', 'M', 'A', 'T', 'H', 'W', '0', '1'};
  raw.insert(raw.end(), data, data + size);
  const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(raw.data()), static_cast<uInt>(raw.size()));
  for (int i = 0; i < 4; ++i) raw.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  try {
    const ptq::Model m = ptq::parse_model(raw, "fuzz.qmw");
    for (std::size_t l = 0; l < m.layers.size(); ++l) {
      const ptq::DenseLayer& d = m.layers[l];
      if (d.weight.size() != std::size_t(d.out) * std::size_t(d.in) || d.bias.size() != std::size_t(d.out))
        __builtin_trap();
      if (l > 0 && d.in != m.layers[l - 1].out) __builtin_trap();
    }
  } catch (const qmath::error&) {
  }
  return 0;
}
