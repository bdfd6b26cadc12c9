// Tests for qmath/detail/atomic_file.hpp: which destinations are replaced, followed, written through or refused;
// messages name the user's path and the system's reason; no temporary file survives a failure or a signal.
#include <qmath/detail/atomic_file.hpp>

#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using qmath::detail::write_file_atomically;

namespace {
struct Scratch {
  fs::path dir;
  Scratch() {
    dir = fs::temp_directory_path() / ("qmath_atomic_file_test_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string operator()(const std::string& name) const { return (dir / name).string(); }
  // Every entry of the directory whose name holds ".tmp".
  int temporaries() const {
    int n = 0;
    for (const auto& e : fs::directory_iterator(dir))
      n += e.path().filename().string().find(".tmp") != std::string::npos;
    return n;
  }
};
std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}
std::string error_of(const std::string& path, const std::string& text = "x") {
  try {
    write_file_atomically(path, text, "test");
  } catch (const qmath::error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("a regular file is replaced whole, keeping its permission bits; a new file is created") {
  Scratch s;
  write_file_atomically(s("new.txt"), "one\n", "test");
  CHECK(slurp(s("new.txt")) == "one\n");
  ::chmod(s("new.txt").c_str(), 0640);
  write_file_atomically(s("new.txt"), "two\n", "test");
  CHECK(slurp(s("new.txt")) == "two\n");
  struct stat st;
  REQUIRE(::stat(s("new.txt").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0640);
  CHECK(s.temporaries() == 0);
}

TEST_CASE("a symbolic link is followed: the target is replaced and the link stays a link") {
  Scratch s;
  fs::create_directories(s.dir / "real");
  write_file_atomically(s("real/target.txt"), "old", "test");
  fs::create_symlink("real/target.txt", s("link.txt"));
  fs::create_symlink("link.txt", s("link2.txt"));  // a chain
  write_file_atomically(s("link2.txt"), "new", "test");
  CHECK(fs::is_symlink(s("link.txt")));
  CHECK(fs::is_symlink(s("link2.txt")));
  CHECK(slurp(s("real/target.txt")) == "new");
  CHECK(s.temporaries() == 0);
  // A dangling link: its target is created.
  fs::create_symlink("real/created.txt", s("dangling.txt"));
  write_file_atomically(s("dangling.txt"), "made", "test");
  CHECK(fs::is_symlink(s("dangling.txt")));
  CHECK(slurp(s("real/created.txt")) == "made");
  // A loop is refused with the reason.
  fs::create_symlink("loop_b", s("loop_a"));
  fs::create_symlink("loop_a", s("loop_b"));
  CHECK_THAT(error_of(s("loop_a")), Catch::Contains("symbolic links") && Catch::Contains("loop_a"));
}

TEST_CASE("character devices and FIFOs are written through; write errors are reported") {
  Scratch s;
  write_file_atomically("/dev/null", "discarded", "test");
  CHECK(fs::is_character_file("/dev/null"));
  REQUIRE(::mkfifo(s("fifo").c_str(), 0600) == 0);
  const pid_t child = ::fork();
  if (child == 0) {  // the reader
    std::ifstream f(s("fifo"));
    const std::string got((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    ::_exit(got == "through the pipe" ? 0 : 1);
  }
  write_file_atomically(s("fifo"), "through the pipe", "test");
  int status = 0;
  ::waitpid(child, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(fs::is_fifo(s("fifo")));
  // /dev/full: every write fails with ENOSPC.
  if (fs::exists("/dev/full"))
    CHECK_THAT(error_of("/dev/full"), Catch::Contains("/dev/full") && Catch::Contains("No space"));
}

TEST_CASE("/dev/stdout and /dev/fd/N write to the open descriptor") {
  Scratch s;
  const int fd = ::open(s("captured").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, "head:", 5) == 5);
  write_file_atomically("/dev/fd/" + std::to_string(fd), "body", "test");
  ::close(fd);
  CHECK(slurp(s("captured")) == "head:body");  // appended at the descriptor's offset, not truncated
}

TEST_CASE("directories and unwritable places are refused with the user's path and the reason") {
  Scratch s;
  CHECK_THAT(error_of(s.dir.string()), Catch::Contains("is a directory") && Catch::Contains(s.dir.string()));
  CHECK_THAT(error_of(s("missing/dir/out.txt")),
             Catch::Contains("missing/dir/out.txt") && Catch::Contains("temporary file") &&
                 Catch::Contains("No such file or directory"));
  CHECK(s.temporaries() == 0);
  CHECK_THAT(error_of(""), Catch::Contains("empty output path"));
}

TEST_CASE("a signal while outputs are staged acts only after the commit: new files, no temporary file") {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    Scratch s;
    write_file_atomically(s("a.txt"), "old a", "test");
    write_file_atomically(s("b.txt"), "old b", "test");
    const pid_t child = ::fork();
    if (child == 0) {
      std::signal(sig, SIG_DFL);  // the default action, as in a command-line tool (Catch2 installs handlers)
      qmath::detail::DeferTerminationSignals defer;
      qmath::detail::AtomicOutputs out;
      out.stage(s("a.txt"), "new a", "test");
      ::kill(::getpid(), sig);  // arrives while a temporary file exists
      out.stage(s("b.txt"), "new b", "test");
      out.commit("test");
      // `out` and `defer` end here: the signal is delivered now.
    }
    if (child == 0) ::_exit(0);  // not reached when the signal acts
    int status = 0;
    ::waitpid(child, &status, 0);
    INFO("signal " << sig);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == sig);
    CHECK(slurp(s("a.txt")) == "new a");
    CHECK(slurp(s("b.txt")) == "new b");
    CHECK(s.temporaries() == 0);
  }
}

TEST_CASE("a signal during staging that ends in an error: old files, no temporary file") {
  Scratch s;
  write_file_atomically(s("a.txt"), "old a", "test");
  const pid_t child = ::fork();
  if (child == 0) {
    std::signal(SIGTERM, SIG_DFL);
    try {
      qmath::detail::DeferTerminationSignals defer;
      qmath::detail::AtomicOutputs out;
      out.stage(s("a.txt"), "new a", "test");
      ::kill(::getpid(), SIGTERM);
      out.stage(s("no/such/dir/b.txt"), "b", "test");  // throws: rollback, then the signal
      out.commit("test");
    } catch (...) {
    }
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGTERM);
  CHECK(slurp(s("a.txt")) == "old a");
  CHECK(s.temporaries() == 0);
}

TEST_CASE("create_directories: kept on commit, removed on discard only where it created them") {
  Scratch s;
  fs::create_directories(s("old"));
  {
    qmath::detail::AtomicOutputs out;
    out.create_directories(s("old/new/deeper"), "test");
    out.create_directories(s("fresh"), "test");
    out.stage(s("old/new/deeper/f"), "x", "test");
    CHECK(fs::is_directory(s("old/new/deeper")));
  }  // destroyed without commit
  CHECK(fs::is_directory(s("old")));
  CHECK(!fs::exists(s("old/new")));
  CHECK(!fs::exists(s("fresh")));
  {
    qmath::detail::AtomicOutputs out;
    out.create_directories(s("made/here"), "test");
    out.stage(s("made/here/f"), "y", "test");
    out.commit("test");
  }
  CHECK(slurp(s("made/here/f")) == "y");
  std::ofstream(s("plain")) << "z";
  qmath::detail::AtomicOutputs out;
  CHECK_THROWS_WITH(out.create_directories(s("plain"), "test"), Catch::Contains("plain: exists and is not a directory"));
}
