// output.hpp - all-or-nothing output for qmath-calibrate.
//
// Every output file is first written to a hidden temporary file next to its destination (".NAME.tmp-PID"). Only
// commit() renames them into place, after everything has succeeded; if the transaction is destroyed without a
// commit (an error was thrown), the temporaries are removed, and so is a plot directory this run created. An existing
// destination file is therefore either replaced as a whole or left untouched.
#pragma once

#include <cstdio>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

#include <filesystem>

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

  // Writes `content` to a temporary file for `path`.
  void stage(const std::string& path, const std::string& content) {
    namespace fs = std::filesystem;
    const fs::path dest(path);
    if (fs::is_directory(dest)) throw InputError(path + ": is a directory, cannot write the output file there");
    const fs::path tmp = dest.parent_path() / ("." + dest.filename().string() + ".tmp-" + std::to_string(::getpid()));
    staged_.push_back({tmp.string(), path});
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw InputError(path + ": cannot write (temporary file " + tmp.string() + " cannot be created)");
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    if (!out) throw InputError(path + ": write error (disk full?)");
  }

  // Moves every staged file into place.
  void commit() {
    for (std::size_t i = 0; i < staged_.size(); ++i) {
      if (std::rename(staged_[i].tmp.c_str(), staged_[i].dest.c_str()) != 0) {
        // Keep what is already in place (a rename cannot be undone safely); drop the rest.
        staged_.erase(staged_.begin(), staged_.begin() + static_cast<std::ptrdiff_t>(i));
        throw InputError(staged_.front().dest + ": cannot move the finished output into place");
      }
    }
    staged_.clear();
    created_dirs_.clear();
  }

  void rollback() noexcept {
    for (const auto& s : staged_) std::remove(s.tmp.c_str());
    staged_.clear();
    for (auto it = created_dirs_.rbegin(); it != created_dirs_.rend(); ++it) {
      std::error_code ec;
      std::filesystem::remove(*it, ec);  // only removes an empty directory
    }
    created_dirs_.clear();
  }

 private:
  struct Staged {
    std::string tmp, dest;
  };
  std::vector<Staged> staged_;
  std::vector<std::string> created_dirs_;
};

}  // namespace qmath_calibrate
