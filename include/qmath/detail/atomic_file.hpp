// qmath/detail/atomic_file.hpp - replacing output files whole, as every qmath writer does (TensorRT caches, the
// CLI's outputs, the demo's files). POSIX.
//
// The rule, per destination path:
//   - a regular file or a new name: the content goes to a hidden temporary file beside it (".NAME.tmp-PID", created
//     exclusively, with the replaced file's permission bits), is flushed to disk, and is renamed over it on commit:
//     readers see the old file or the new one, never a part;
//   - a symbolic link is followed (chains included, dangling ones too): the temporary file goes beside the final
//     target and replaces it, so the link stays a link;
//   - a character device or a FIFO (/dev/null, a terminal, a named pipe) is written through on commit, write errors
//     reported; /dev/stdout, /dev/stderr and /dev/fd/N (also /proc/self/fd/N) write to that descriptor, keeping the
//     shell's redirection and offset;
//   - a directory, a block device or a socket is refused, with the reason.
// Every failure is a qmath::error naming the user's path and the system's reason (strerror). A temporary file never
// outlives the writer: it is removed on any error, and SIGINT, SIGTERM and SIGHUP are deferred
// (DeferTerminationSignals) while temporary files exist, so a signal acts before the first one is created or after
// the last one is gone.
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qmath/error.hpp>

namespace qmath {
namespace detail {

// Defers SIGINT, SIGTERM and SIGHUP in the calling thread for its lifetime; a signal that arrives meanwhile is
// delivered when the object is destroyed (for the default action: the process then ends, status 128 + N in a shell).
class DeferTerminationSignals {
 public:
  DeferTerminationSignals() {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    sigaddset(&s, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &s, &old_);
  }
  ~DeferTerminationSignals() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  DeferTerminationSignals(const DeferTerminationSignals&) = delete;
  DeferTerminationSignals& operator=(const DeferTerminationSignals&) = delete;

 private:
  sigset_t old_;
};

// How one destination is written (see the file comment).
struct OutputPlan {
  std::string path;         // as the user gave it (messages)
  std::string target;       // the file replaced: `path` with symbolic links followed
  int fd = -1;              // >= 0: write through to this open descriptor (/dev/stdout ...)
  bool through = false;     // write through to `target` (character device, FIFO)
  bool exists = false;      // a regular file is replaced
  mode_t mode = 0666;       // permission bits of the replaced file (new files: 0666 less the umask)
};

inline std::string errno_text(int e) { return std::strerror(e); }

// The descriptor a /dev/stdout-like path names, or -1.
inline int standard_stream_fd(const std::string& p) {
  if (p == "/dev/stdout") return 1;
  if (p == "/dev/stderr") return 2;
  for (const char* prefix : {"/dev/fd/", "/proc/self/fd/"}) {
    const std::size_t n = std::strlen(prefix);
    if (p.size() > n && p.compare(0, n, prefix) == 0 && p.find_first_not_of("0123456789", n) == std::string::npos &&
        p.size() - n < 9)
      return std::atoi(p.c_str() + n);
  }
  return -1;
}

inline std::string dir_of(const std::string& p) {
  const std::size_t slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : p.substr(0, slash);
}
inline std::string base_of(const std::string& p) {
  const std::size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

inline OutputPlan plan_output(const std::string& path, const char* where) {
  OutputPlan plan;
  plan.path = path;
  plan.target = path;
  require(!path.empty(), where, "empty output path");
  if ((plan.fd = standard_stream_fd(path)) >= 0) return plan;
  // Follow symbolic links one at a time (a dangling link's target is created).
  struct stat st;
  for (int hops = 0;; ++hops) {
    if (::lstat(plan.target.c_str(), &st) != 0) {
      const int e = errno;
      require(e == ENOENT, where, "cannot write '", path, "': ", errno_text(e));
      return plan;  // a new file
    }
    if (!S_ISLNK(st.st_mode)) break;
    require(hops < 40, where, "cannot write '", path, "': too many levels of symbolic links");
    std::vector<char> buf(static_cast<std::size_t>(st.st_size > 0 ? st.st_size : PATH_MAX) + 1);
    const ssize_t n = ::readlink(plan.target.c_str(), buf.data(), buf.size());
    require(n >= 0 && static_cast<std::size_t>(n) < buf.size(), where, "cannot read the symbolic link '",
            plan.target, "' (output '", path, "'): ", errno_text(errno));
    const std::string link(buf.data(), static_cast<std::size_t>(n));
    if ((plan.fd = standard_stream_fd(link)) >= 0) return plan;
    plan.target = link[0] == '/' ? link : dir_of(plan.target) + "/" + link;
  }
  if (S_ISREG(st.st_mode)) {
    plan.exists = true;
    plan.mode = st.st_mode & 07777;
    return plan;
  }
  if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
    plan.through = true;
    return plan;
  }
  require(!S_ISDIR(st.st_mode), where, "cannot write '", path, "': it is a directory");
  fail(where, "refusing to write '", path, "': it is a ",
       S_ISBLK(st.st_mode) ? "block device" : "socket or other special file",
       ", which cannot be replaced safely nor written as a stream");
}

inline void write_all(int fd, const std::string& content, const std::string& path, const char* where) {
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    require(n > 0, where, "error writing '", path, "': ", errno_text(n < 0 ? errno : EIO));
    done += static_cast<std::size_t>(n);
  }
}

// Outputs replaced together: stage() validates a destination and writes its temporary file (write-through content
// is kept for commit); commit() renames them all into place and writes the write-through ones; destruction without
// commit removes the temporary files (and the directories create_directories made). Hold a DeferTerminationSignals
// around stage() ... commit().
class AtomicOutputs {
 public:
  AtomicOutputs() = default;
  AtomicOutputs(const AtomicOutputs&) = delete;
  AtomicOutputs& operator=(const AtomicOutputs&) = delete;
  ~AtomicOutputs() { discard(); }

  void stage(const std::string& path, const std::string& content, const char* where) {
    Item item{plan_output(path, where), std::string(), std::string()};
    if (item.plan.fd >= 0 || item.plan.through) {
      item.content = content;
      items_.push_back(std::move(item));
      return;
    }
    const std::string stem = dir_of(item.plan.target) + "/." + base_of(item.plan.target) + ".tmp-" +
                             std::to_string(static_cast<long>(::getpid()));
    int fd = -1, e = 0;
    for (int k = 0; k < 100 && fd < 0; ++k) {
      item.tmp = k == 0 ? stem : stem + "-" + std::to_string(k);
      fd = ::open(item.tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, item.plan.exists ? 0600 : 0666);
      e = errno;
      if (fd < 0 && e != EEXIST) break;
    }
    require(fd >= 0, where, "cannot write '", path, "': cannot create the temporary file '", item.tmp,
            "': ", errno_text(e));
    items_.push_back(item);  // from here on, discard() removes it
    bool ok = !item.plan.exists || ::fchmod(fd, item.plan.mode) == 0;
    e = errno;
    try {
      require(ok, where, "cannot write '", path, "': cannot set the permissions of '", item.tmp, "': ", errno_text(e));
      write_all(fd, content, path, where);
      ok = ::fsync(fd) == 0 || errno == EINVAL;
      e = errno;
      require(ok, where, "error writing '", path, "': ", errno_text(e));
    } catch (...) {
      ::close(fd);
      throw;
    }
    require(::close(fd) == 0, where, "error writing '", path, "': ", errno_text(errno));
  }

  // Creates `dir` and its missing parents; discard() removes those it created (if still empty), commit() keeps them.
  void create_directories(const std::string& dir, const char* where) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::is_directory(dir, ec)) return;
    require(!fs::exists(dir, ec), where, dir, ": exists and is not a directory");
    std::vector<std::string> missing;  // innermost first
    for (fs::path p = dir; !p.empty() && !fs::exists(p, ec) && p != p.parent_path(); p = p.parent_path())
      missing.push_back(p.string());
    const bool made = fs::create_directories(dir, ec);
    require(made || !ec, where, dir, ": cannot create directory (", ec.message(), ")");
    created_dirs_.insert(created_dirs_.end(), missing.rbegin(), missing.rend());
  }

  // Moves every staged file into place, then writes the write-through destinations. A failed rename leaves the
  // files already renamed in place (a rename cannot be undone safely) and removes the other temporary files.
  void commit(const char* where) {
    for (std::size_t i = 0; i < items_.size(); ++i) {
      Item& it = items_[i];
      if (it.tmp.empty()) continue;
      if (std::rename(it.tmp.c_str(), it.plan.target.c_str()) != 0) {
        const int e = errno;
        fail(where, "cannot move the finished '", it.plan.path, "' into place: ", errno_text(e));
      }
      it.tmp.clear();
    }
    for (Item& it : items_) {
      if (it.plan.fd >= 0) {
        write_all(it.plan.fd, it.content, it.plan.path, where);
      } else if (it.plan.through) {
        const int fd = ::open(it.plan.target.c_str(), O_WRONLY | O_CLOEXEC);
        require(fd >= 0, where, "cannot open '", it.plan.path, "' for writing: ", errno_text(errno));
        try {
          write_all(fd, it.content, it.plan.path, where);
        } catch (...) {
          ::close(fd);
          throw;
        }
        require(::close(fd) == 0, where, "error writing '", it.plan.path, "': ", errno_text(errno));
      }
    }
    items_.clear();
    created_dirs_.clear();
  }

  void discard() noexcept {
    for (const Item& it : items_)
      if (!it.tmp.empty()) ::unlink(it.tmp.c_str());
    items_.clear();
    for (auto it = created_dirs_.rbegin(); it != created_dirs_.rend(); ++it) ::rmdir(it->c_str());
    created_dirs_.clear();
  }

 private:
  struct Item {
    OutputPlan plan;
    std::string tmp;      // the temporary file, until renamed
    std::string content;  // write-through content
  };
  std::vector<Item> items_;
  std::vector<std::string> created_dirs_;  // outermost first
};

// Replaces `path` with `content` under the rule above; `where` names the caller in messages.
inline void write_file_atomically(const std::string& path, const std::string& content, const char* where) {
  DeferTerminationSignals defer;
  AtomicOutputs out;
  out.stage(path, content, where);
  out.commit(where);
}

}  // namespace detail
}  // namespace qmath
