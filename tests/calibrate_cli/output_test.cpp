// Tests for examples/calibrate/output.hpp (qmath-calibrate's output transaction): a signal during staging acts after
// the commit or the rollback, never leaving a temporary file or a half-made plot directory.
#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

#include "output.hpp"

namespace fs = std::filesystem;

namespace {
std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}
struct Scratch {
  fs::path dir = fs::temp_directory_path() / ("qmath_output_test_" + std::to_string(::getpid()));
  Scratch() {
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::ofstream(dir / "out.cache") << "old cache";
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  int temporaries() const {
    int n = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir))
      n += e.path().filename().string().find(".tmp") != std::string::npos;
    return n;
  }
};
// Runs a transaction in a child that sends itself `sig` after staging the cache; `fail` makes the plot stage throw.
int run_child(const Scratch& s, int sig, bool fail) {
  const pid_t child = ::fork();
  if (child == 0) {
    std::signal(sig, SIG_DFL);  // as in the tool (Catch2 installs its own handlers)
    try {
      qmath_calibrate::OutputTransaction tx;
      tx.stage((s.dir / "out.cache").string(), "new cache");
      tx.ensure_directory((s.dir / "plots/deep").string());
      ::kill(::getpid(), sig);
      tx.stage((s.dir / "plots/deep/t.svg").string(), "<svg/>");
      if (fail) tx.stage((s.dir / "plots").string(), "a directory: refused");
      tx.commit();
    } catch (const std::exception&) {
    }
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return status;
}
}  // namespace

TEST_CASE("a signal during staging ends the process after the commit: all new outputs, no temporary file",
          "[calibrate][hostile]") {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    Scratch s;
    const int status = run_child(s, sig, false);
    INFO("signal " << sig);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == sig);
    CHECK(slurp(s.dir / "out.cache") == "new cache");
    CHECK(slurp(s.dir / "plots/deep/t.svg") == "<svg/>");
    CHECK(s.temporaries() == 0);
  }
}

TEST_CASE("a signal during staging that ends in an error: old outputs, no plot directory, no temporary file",
          "[calibrate][hostile]") {
  Scratch s;
  const int status = run_child(s, SIGINT, true);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGINT);
  CHECK(slurp(s.dir / "out.cache") == "old cache");
  CHECK_FALSE(fs::exists(s.dir / "plots"));
  CHECK(s.temporaries() == 0);
}
