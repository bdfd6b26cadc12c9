// libFuzzer harness: the .npy header parser (qmath/calibration/npy_source.hpp, detail::HeaderParser) on arbitrary text.
// Invariant: it returns a header whose count is the product of its shape (1 for 0-d), or throws qmath::error.
#include <cstddef>
#include <cstdint>
#include <string>

#include <qmath/calibration/npy_source.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const qmath::NpyHeader h = qmath::detail::HeaderParser(text, "fuzz.npy").parse();
    std::uint64_t product = 1;
    for (std::int64_t d : h.shape) {
      if (d < 0) __builtin_trap();
      product *= static_cast<std::uint64_t>(d);
    }
    if (product != h.count) __builtin_trap();
  } catch (const qmath::error&) {
  }
  return 0;
}
