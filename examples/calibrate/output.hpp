// output.hpp - all-or-nothing output for qmath-calibrate.
//
// Every output goes through qmath/detail/atomic_file.hpp: a hidden temporary file next to its destination
// (".NAME.tmp-PID"; symbolic links followed; character devices and FIFOs such as /dev/stdout written through at
// commit). Only commit() moves them into place, after everything has succeeded; if the transaction is destroyed
// without a commit (an error was thrown), the temporaries are removed, and so is a plot directory this run created.
// An existing destination file is therefore either replaced as a whole or left untouched. SIGINT, SIGTERM and SIGHUP
// are deferred for the transaction's lifetime: a signal ends the process (status 128 + N) after the commit or the
// rollback, never with a temporary file or a half-made plot directory on disk. Errors are qmath::error.
#pragma once

#include <string>

#include <qmath/detail/atomic_file.hpp>

namespace qmath_calibrate {

class OutputTransaction : qmath::detail::DeferTerminationSignals {  // a base: released last, after the rollback
 public:
  // Creates `dir` (and parents) if missing; a directory this transaction created is removed on rollback.
  void ensure_directory(const std::string& dir) { outputs_.create_directories(dir, kWhere); }
  // Writes `content` to a temporary file for `path` (or keeps it for a write-through destination).
  void stage(const std::string& path, const std::string& content) { outputs_.stage(path, content, kWhere); }
  // Moves every staged file into place.
  void commit() { outputs_.commit(kWhere); }

 private:
  static constexpr const char* kWhere = "qmath-calibrate output";
  qmath::detail::AtomicOutputs outputs_;
};

}  // namespace qmath_calibrate
