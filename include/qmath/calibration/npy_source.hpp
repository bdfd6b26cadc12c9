// qmath/calibration/npy_source.hpp - NumPy .npy activation dumps as a TensorSource for calibrate_stream (one file per
// batch), and the streaming reader under it.
//
// Accepted: format versions 1.0, 2.0 and 3.0; dtype '<f4' (float32) and '<f2' (float16, converted to float32
// exactly, subnormals, infinities and NaN included); any shape, including a 0-d scalar; C order only.
// Rejected with a qmath::error naming the file and the problem: an empty or too short file, a wrong magic string, an
// unknown version, a malformed header, any other dtype ('<f8', '>f4', '<i4', structured dtypes ...), Fortran order,
// an array with no elements, and a data section whose size differs from what the header promises (truncated file or
// trailing bytes). All of this is checked when the file is opened, before any element is returned.
//
// The reader never holds more than one caller-sized chunk in memory: read() converts up to `max_count` elements.
#pragma once

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <qmath/calibration/streaming.hpp>
#include <qmath/error.hpp>

namespace qmath {

// IEEE-754 binary16 -> binary32, exact for every input (every half value is representable as a float).
// NaN payloads are kept (shifted into the float mantissa), the sign of zero and infinity too.
inline float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1fu;
  std::uint32_t mantissa = h & 0x3ffu;
  std::uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);  // inf or NaN
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112u) << 23) | (mantissa << 13);  // normal: rebias 15 -> 127
  } else if (mantissa == 0) {
    bits = sign;  // +-0
  } else {
    // Subnormal half: mantissa * 2^-24. Normalise: shift until the implicit bit (0x400) is set.
    int e = -1;
    do {
      mantissa <<= 1;
      ++e;
    } while ((mantissa & 0x400u) == 0);
    // value = 1.m * 2^(-15 - e) -> float exponent field 127 - 15 - e = 112 - e
    bits = sign | (static_cast<std::uint32_t>(112 - e) << 23) | ((mantissa & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

enum class NpyDtype { kFloat32, kFloat16 };

inline const char* dtype_name(NpyDtype d) { return d == NpyDtype::kFloat32 ? "float32" : "float16"; }

struct NpyHeader {
  int major = 0;
  int minor = 0;
  NpyDtype dtype = NpyDtype::kFloat32;
  std::vector<std::int64_t> shape;  // empty for a 0-d array
  std::uint64_t count = 0;          // number of elements (product of shape; 1 for 0-d)
  std::uint64_t data_offset = 0;    // byte offset of the first element
  std::size_t item_size() const { return dtype == NpyDtype::kFloat32 ? 4 : 2; }
};

namespace detail {

// A small parser for the Python dict literal of a .npy header:
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& file) : s_(text), file_(file) {}

  NpyHeader parse() {
    NpyHeader h;
    bool have_descr = false, have_order = false, have_shape = false;
    std::string descr;
    bool fortran = false;
    skip_ws();
    expect('{');
    for (;;) {
      skip_ws();
      if (peek() == '}') {
        ++pos_;
        break;
      }
      const std::string key = parse_string();
      skip_ws();
      expect(':');
      skip_ws();
      if (key == "descr") {
        if (peek() != '\'' && peek() != '"')
          bad("'descr' is not a simple dtype string (structured dtypes are not supported; use float32 or float16)");
        descr = parse_string();
        have_descr = true;
      } else if (key == "fortran_order") {
        fortran = parse_bool();
        have_order = true;
      } else if (key == "shape") {
        h.shape = parse_shape();
        have_shape = true;
      } else {
        bad("unexpected key '" + key + "' in the header");
      }
      if (next_item('}')) continue;
      break;
    }
    skip_ws();
    if (pos_ != s_.size()) bad("unexpected text after the header dictionary");
    if (!have_descr) bad("the header has no 'descr' key");
    if (!have_order) bad("the header has no 'fortran_order' key");
    if (!have_shape) bad("the header has no 'shape' key");
    if (descr == "<f4") {
      h.dtype = NpyDtype::kFloat32;
    } else if (descr == "<f2") {
      h.dtype = NpyDtype::kFloat16;
    } else {
      detail::fail("NpyReader", file_ + ": unsupported dtype '" + descr +
                       "' (qmath reads little-endian float32 '<f4' and float16 '<f2'; convert with "
                       "numpy: a.astype('<f4'))");
    }
    if (fortran)
      detail::fail("NpyReader", file_ + ": Fortran-order arrays are not supported (save a C-order array: "
                               "numpy.ascontiguousarray(a))");
    std::uint64_t count = 1;
    for (std::int64_t d : h.shape) {
      if (d < 0) bad("negative dimension in shape " + detail::shape_text(h.shape));
      const auto ud = static_cast<std::uint64_t>(d);
      if (ud != 0 && count > std::numeric_limits<std::uint64_t>::max() / 16 / ud)
        bad("shape " + detail::shape_text(h.shape) + " is too large");
      count *= ud;
    }
    if (count == 0) detail::fail("NpyReader", file_ + ": the array has no elements (shape " + detail::shape_text(h.shape) + ")");
    h.count = count;
    return h;
  }

 private:
  [[noreturn]] void bad(const std::string& what) const {
    detail::fail("NpyReader", file_ + ": malformed .npy header: " + what);
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  // After a list item: true past a ',' (another item or the closing bracket follows), false past `close`.
  bool next_item(char close) {
    skip_ws();
    if (peek() == ',') {
      ++pos_;
      return true;
    }
    expect(close);
    return false;
  }
  void expect(char c) {
    if (peek() != c) bad(std::string("expected '") + c + "' at offset " + std::to_string(pos_));
    ++pos_;
  }
  std::string parse_string() {
    const char q = peek();
    if (q != '\'' && q != '"') bad("expected a quoted string at offset " + std::to_string(pos_));
    ++pos_;
    const std::size_t end = s_.find(q, pos_);
    if (end == std::string::npos) bad("unterminated string");
    std::string out = s_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return out;
  }
  bool parse_bool() {
    if (s_.compare(pos_, 4, "True") == 0) {
      pos_ += 4;
      return true;
    }
    if (s_.compare(pos_, 5, "False") == 0) {
      pos_ += 5;
      return false;
    }
    bad("'fortran_order' is neither True nor False");
  }
  std::vector<std::int64_t> parse_shape() {
    std::vector<std::int64_t> shape;
    expect('(');
    for (;;) {
      skip_ws();
      if (peek() == ')') {
        ++pos_;
        return shape;
      }
      if (!std::isdigit(static_cast<unsigned char>(peek()))) bad("shape is not a tuple of non-negative integers");
      std::int64_t v = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        if (v > (std::numeric_limits<std::int64_t>::max() - 9) / 10) bad("dimension too large in shape");
        v = v * 10 + (s_[pos_++] - '0');
      }
      if (peek() == 'L') ++pos_;  // Python 2 long suffix
      shape.push_back(v);
      if (next_item(')')) continue;
      return shape;
    }
  }

  const std::string& s_;
  const std::string& file_;
  std::size_t pos_ = 0;
};

inline bool host_is_little_endian() {
  const std::uint16_t one = 1;
  unsigned char b;
  std::memcpy(&b, &one, 1);
  return b == 1;
}

}  // namespace detail

// Reads one .npy file chunk by chunk. The constructor validates everything that can be validated without reading
// the data (header, dtype, order, exact file size); read() converts elements to float32.
class NpyReader {
 public:
  explicit NpyReader(const std::string& path) : path_(path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) detail::fail("NpyReader", path + ": is a directory, not a .npy file");
    file_.reset(std::fopen(path.c_str(), "rb"));
    if (!file_) detail::fail("NpyReader", path + ": cannot open (" + std::strerror(errno) + ")");
    if (std::fseek(file_.get(), 0, SEEK_END) != 0) detail::fail("NpyReader", path + ": cannot seek (not a regular file?)");
    const long end = std::ftell(file_.get());
    if (end < 0) detail::fail("NpyReader", path + ": cannot determine the file size");
    file_size_ = static_cast<std::uint64_t>(end);
    std::rewind(file_.get());
    if (file_size_ == 0) detail::fail("NpyReader", path + ": the file is empty (0 bytes)");

    unsigned char pre[12];
    const std::size_t got = std::fread(pre, 1, file_size_ < 12 ? static_cast<std::size_t>(file_size_) : 12,
                                       file_.get());
    static const unsigned char kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    if (got < 6 || std::memcmp(pre, kMagic, 6) != 0)
      detail::fail("NpyReader", path + ": not a .npy file (the magic string \\x93NUMPY is missing)");
    if (got < 10) detail::fail("NpyReader", path + ": truncated .npy preamble (" + std::to_string(file_size_) + " bytes)");
    header_.major = pre[6];
    header_.minor = pre[7];
    std::uint64_t header_len;
    std::uint64_t prefix;
    if (header_.major == 1 && header_.minor == 0) {
      header_len = pre[8] | (static_cast<std::uint64_t>(pre[9]) << 8);
      prefix = 10;
    } else if ((header_.major == 2 || header_.major == 3) && header_.minor == 0) {
      if (got < 12) detail::fail("NpyReader", path + ": truncated .npy preamble (" + std::to_string(file_size_) + " bytes)");
      header_len = pre[8] | (static_cast<std::uint64_t>(pre[9]) << 8) | (static_cast<std::uint64_t>(pre[10]) << 16) |
                   (static_cast<std::uint64_t>(pre[11]) << 24);
      prefix = 12;
    } else {
      detail::fail("NpyReader", path + ": unsupported .npy format version " + std::to_string(header_.major) + "." +
                       std::to_string(header_.minor) + " (1.0, 2.0 and 3.0 are supported)");
    }
    if (prefix + header_len > file_size_)
      detail::fail("NpyReader", path + ": truncated .npy header (the header claims " + std::to_string(header_len) +
                       " bytes, the file has " + std::to_string(file_size_ - prefix) + " after the preamble)");
    std::string text(static_cast<std::size_t>(header_len), '\0');
    if (std::fseek(file_.get(), static_cast<long>(prefix), SEEK_SET) != 0 ||
        std::fread(&text[0], 1, text.size(), file_.get()) != text.size())
      detail::fail("NpyReader", path + ": read error in the .npy header");
    // Version 1.0 and 2.0 headers are latin-1, 3.0 is utf-8; the keys and values we accept are plain ASCII.
    const int maj = header_.major, min = header_.minor;
    header_ = detail::HeaderParser(text, path_).parse();
    header_.major = maj;
    header_.minor = min;
    header_.data_offset = prefix + header_len;

    const std::uint64_t data_bytes = header_.count * header_.item_size();
    const std::uint64_t present = file_size_ - header_.data_offset;
    if (present < data_bytes)
      detail::fail("NpyReader", path + ": truncated data: the header promises " + std::to_string(header_.count) + " " +
                       dtype_name(header_.dtype) + " elements, shape " + detail::shape_text(header_.shape) + " (" +
                       std::to_string(data_bytes) + " bytes), but only " + std::to_string(present) +
                       " bytes follow the header");
    if (present > data_bytes)
      detail::fail("NpyReader", path + ": header/size mismatch: " + std::to_string(present - data_bytes) +
                       " unexpected bytes after the " + std::to_string(data_bytes) + " bytes of data that shape " +
                       detail::shape_text(header_.shape) + " " + dtype_name(header_.dtype) + " needs");
    little_endian_host_ = detail::host_is_little_endian();
  }

  const std::string& path() const { return path_; }
  const NpyHeader& header() const { return header_; }
  std::uint64_t remaining() const { return header_.count - consumed_; }
  std::uint64_t file_size() const { return file_size_; }

  // Converts the next min(max_count, remaining()) elements into out[0..n) and returns n (0 at the end).
  std::size_t read(float* out, std::size_t max_count) {
    std::uint64_t n64 = remaining();
    if (n64 > max_count) n64 = max_count;
    const auto n = static_cast<std::size_t>(n64);
    if (n == 0) return 0;
    const std::size_t bytes = n * header_.item_size();
    raw_.resize(bytes);
    if (std::fread(raw_.data(), 1, bytes, file_.get()) != bytes)
      detail::fail("NpyReader", path_ + ": read error after " + std::to_string(consumed_) + " elements (file changed?)");
    const unsigned char* p = raw_.data();
    if (header_.dtype == NpyDtype::kFloat32) {
      if (little_endian_host_) {
        std::memcpy(out, p, bytes);
      } else {
        for (std::size_t i = 0; i < n; ++i) {
          const std::uint32_t b = p[4 * i] | (static_cast<std::uint32_t>(p[4 * i + 1]) << 8) |
                                  (static_cast<std::uint32_t>(p[4 * i + 2]) << 16) |
                                  (static_cast<std::uint32_t>(p[4 * i + 3]) << 24);
          std::memcpy(out + i, &b, 4);
        }
      }
    } else {
      for (std::size_t i = 0; i < n; ++i)
        out[i] = half_to_float(static_cast<std::uint16_t>(p[2 * i] | (p[2 * i + 1] << 8)));
    }
    consumed_ += n;
    return n;
  }

 private:
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::string path_;
  std::unique_ptr<std::FILE, Closer> file_;
  std::uint64_t file_size_ = 0;
  NpyHeader header_;
  std::uint64_t consumed_ = 0;
  std::vector<unsigned char> raw_;
  bool little_endian_host_ = true;
};

// A tensor's .npy files (one per batch, in order) as a TensorSource: the declared shapes are the headers read, and
// validated, when the source is constructed; each open_batch reopens the file and reports what it finds then.
class NpyTensorSource : public TensorSource {
 public:
  explicit NpyTensorSource(std::vector<std::string> files) : files_(std::move(files)) {
    for (const std::string& f : files_) headers_.push_back(NpyReader(f).header());
  }
  std::size_t batch_count() const override { return files_.size(); }
  std::vector<std::int64_t> batch_shape(std::size_t b) const override { return headers_.at(b).shape; }
  std::string batch_label(std::size_t b) const override { return files_.at(b); }
  std::vector<std::int64_t> open_batch(std::size_t b) override {
    reader_ = std::make_unique<NpyReader>(files_.at(b));
    return reader_->header().shape;
  }
  std::size_t read(float* dst, std::size_t max_count) override { return reader_->read(dst, max_count); }
  // The declared header of batch b (dtype, element count).
  const NpyHeader& header(std::size_t b) const { return headers_.at(b); }

 private:
  std::vector<std::string> files_;
  std::vector<NpyHeader> headers_;
  std::unique_ptr<NpyReader> reader_;
};

}  // namespace qmath
