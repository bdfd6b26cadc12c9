// Test-only reader of the conformance vectors in tests/formats/data/ (written by tests/formats/gen_vectors.py), in the
// record format of tests/record_file.hpp. The directory comes from CMake as QMATH_FORMATS_DATA_DIR.
#pragma once

#include <string>
#include <vector>

#include "../record_file.hpp"

namespace qmath_test {

inline std::vector<Record> read_vectors(const std::string& file) {
  return read_record_file(std::string(QMATH_FORMATS_DATA_DIR) + "/" + file);
}

// The records of `file` whose tag is `tag`, in file order.
inline std::vector<Record> read_vectors(const std::string& file, const std::string& tag) {
  return read_record_file(std::string(QMATH_FORMATS_DATA_DIR) + "/" + file, tag.c_str());
}

}  // namespace qmath_test
