// libFuzzer harness: a whole .npy file through NpyReader (qmath/calibration/npy_source.hpp), via an in-memory file.
// Invariant: the reader either throws InputError when opened, or returns exactly header().count elements.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include <qmath/calibration/npy_source.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const int fd = memfd_create("npy_fuzz", 0);
  if (fd < 0) __builtin_trap();
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) __builtin_trap();
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  try {
    qmath::NpyReader r(path);
    std::vector<float> chunk(257);
    std::uint64_t total = 0;
    for (std::size_t n; (n = r.read(chunk.data(), chunk.size())) != 0;) total += n;
    if (total != r.header().count) __builtin_trap();
  } catch (const qmath::error&) {
  }
  return 0;
}
