// libFuzzer harness: qmath-calibrate's command-line parser (examples/calibrate/options.hpp, parse_args, the function
// the tool calls) on arbitrary argument vectors; the input is split into arguments at NUL bytes.
// Invariant: it returns options that the calibration accepts (valid settings, every tensor named and given files, a
// cache method among the computed ones) or throws qmath_calibrate::InputError; nothing else escapes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "options.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args(1);
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == 0) args.emplace_back();
    else args.back() += static_cast<char>(data[i]);
  }
  try {
    const qmath_calibrate::Options o = qmath_calibrate::parse_args(args);
    if (o.help || o.version) return 0;
    qmath::validate(o.settings);  // throws qmath::error (a crash here) if the parser let a bad setting through
    if (o.tensors.empty()) __builtin_trap();
    for (const auto& t : o.tensors) {
      if (t.name.empty() || t.files.empty()) __builtin_trap();
      for (const auto& f : t.files)
        if (f.empty()) __builtin_trap();
    }
    const auto& m = o.settings.methods;
    if (!o.cache_path.empty() && std::find(m.begin(), m.end(), o.cache_method) == m.end()) __builtin_trap();
  } catch (const qmath_calibrate::InputError&) {
  }
  return 0;
}
