// Tests of qmath/detail/utf8.hpp: every class of malformed sequence is found at its offset; well-formed text passes.
#include <qmath/detail/utf8.hpp>

#include <catch2/catch.hpp>

#include <string>

using qmath::detail::invalid_utf8_offset;
using qmath::detail::utf8_problem;

TEST_CASE("well-formed UTF-8 of every length passes, boundaries included") {
  for (const char* s : {"", "ascii", "\x7f", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80",
                        "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", "na\xc3\xafve \xe2\x82\xac"})
    CHECK(invalid_utf8_offset(s) == std::string::npos);
  CHECK(utf8_problem("conv1", "tensor name").empty());
}

TEST_CASE("malformed UTF-8 is reported at the first bad sequence") {
  const std::pair<std::string, std::size_t> cases[] = {
      {"\x80", 0},                  // a lone continuation byte
      {"ab\xc3", 2},                // truncated 2-byte sequence
      {"a\xc3(x", 1},               // a lead byte without its continuation
      {"\xc0\xaf", 0},              // overlong '/'
      {"\xc1\xbf", 0},              // overlong
      {"\xe0\x9f\xbf", 0},          // overlong 3-byte
      {"\xf0\x8f\xbf\xbf", 0},      // overlong 4-byte
      {"x\xed\xa0\x80", 1},         // surrogate U+D800
      {"\xed\xbf\xbf", 0},          // surrogate U+DFFF
      {"\xf4\x90\x80\x80", 0},      // above U+10FFFF
      {"\xf8\x88\x80\x80\x80", 0},  // 5-byte form
      {"\xff", 0},
      {"ok\xe2\x82", 2},            // truncated 3-byte sequence at the end
  };
  for (const auto& c : cases) {
    INFO(c.second);
    CHECK(invalid_utf8_offset(c.first) == c.second);
  }
  CHECK(utf8_problem("a\xc3(x", "tensor name") == "tensor name 'a?(x' is not valid UTF-8 (byte 1)");
}
