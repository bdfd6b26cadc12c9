// output.hpp - all-or-nothing output for qmath-calibrate.
//
// Every output goes through qmath/detail/atomic_file.hpp: a hidden temporary file next to its destination
// (".NAME.tmp-PID"; symbolic links followed; character devices and FIFOs such as /dev/stdout written through at
// commit). Only commit() moves them into place, after everything has succeeded; if the transaction is destroyed
// without a commit (an error was thrown), the temporaries are removed, and so is a plot directory this run created.
// An existing destination file is therefore either replaced as a whole or left untouched. SIGINT, SIGTERM and SIGHUP
// are deferred for the transaction's lifetime: a signal ends the process (status 128 + N) after the commit or the
// rollback, never with a temporary file or a half-made plot directory on disk.
#pragma once

#include <cstdio>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

#include <filesystem>

#include <qmath/detail/atomic_file.hpp>
#include <qmath/error.hpp>

#include "npy.hpp"

namespace qmath_calibrate {

class OutputTransaction {
 public:
  OutputTransaction() = default;
  OutputTransaction(const OutputTransaction&) = delete;
  OutputTransaction& operator=(const OutputTransaction&) = delete;
  ~OutputTransaction() { rollback(); }

  // Creates `dir` (and parents) if missing; a directory this transaction created is removed on rollback.
  void ensure_directory(const std::string& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::is_directory(dir, ec)) return;
    if (fs::exists(dir, ec)) throw InputError(dir + ": exists and is not a directory");
    // Record every level we create, outermost first, so that rollback removes them innermost first.
    std::vector<fs::path> missing;
    for (fs::path p = fs::path(dir); !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
      missing.push_back(p);
      if (p == p.parent_path()) break;
    }
    if (!fs::create_directories(dir, ec) && ec)
      throw InputError(dir + ": cannot create directory (" + ec.message() + ")");
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) created_dirs_.push_back(it->string());
  }

  // Writes `content` to a temporary file for `path` (or keeps it for a write-through destination).
  void stage(const std::string& path, const std::string& content) {
    try {
      outputs_.stage(path, content, "qmath-calibrate output");
    } catch (const qmath::error& e) {
      throw InputError(e.what());
    }
  }

  // Moves every staged file into place.
  void commit() {
    try {
      outputs_.commit("qmath-calibrate output");
    } catch (const qmath::error& e) {
      throw InputError(e.what());
    }
    created_dirs_.clear();
  }

  void rollback() noexcept {
    outputs_.discard();
    for (auto it = created_dirs_.rbegin(); it != created_dirs_.rend(); ++it) {
      std::error_code ec;
      std::filesystem::remove(*it, ec);  // only removes an empty directory
    }
    created_dirs_.clear();
  }

 private:
  qmath::detail::DeferTerminationSignals defer_;  // first: released last, after the rollback
  qmath::detail::AtomicOutputs outputs_;
  std::vector<std::string> created_dirs_;
};

}  // namespace qmath_calibrate
