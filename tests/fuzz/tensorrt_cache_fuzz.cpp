// libFuzzer harness: parse_tensorrt_cache (include/qmath/calibration/tensorrt_cache.hpp) on arbitrary text.
// Invariant (round trip): whatever the reader accepts, the writer accepts, and reading the written text gives the
// same cache, bit for bit; formatting that again gives the same text.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include <qmath/calibration/tensorrt_cache.hpp>

namespace {
bool same(const qmath::TensorRTCache& a, const qmath::TensorRTCache& b) {
  if (a.version != b.version || a.algorithm != b.algorithm || a.entries.size() != b.entries.size()) return false;
  for (std::size_t i = 0; i < a.entries.size(); ++i)
    if (a.entries[i].name != b.entries[i].name ||
        std::memcmp(&a.entries[i].scale, &b.entries[i].scale, sizeof(float)) != 0)
      return false;
  return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  qmath::TensorRTCache cache;
  try {
    cache = qmath::parse_tensorrt_cache(std::string(reinterpret_cast<const char*>(data), size), "fuzz.cache");
  } catch (const qmath::error&) {
    return 0;
  }
  const std::string text = qmath::format_tensorrt_cache(cache);  // must not throw
  const qmath::TensorRTCache back = qmath::parse_tensorrt_cache(text, "formatted");
  if (!same(cache, back)) __builtin_trap();
  if (qmath::format_tensorrt_cache(back) != text) __builtin_trap();
  return 0;
}
