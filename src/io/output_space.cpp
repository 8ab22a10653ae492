#include "myelin/io/output_space.hpp"

#include <sys/resource.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>

#include "myelin/io/hdf5.hpp"  // io_error

namespace myelin {

namespace {

std::string mib(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f MiB", double(bytes) / double(1u << 20));
  return text;
}

// What is missing, or empty.
std::string space_problem(const std::filesystem::path& dir, std::uint64_t reserve_bytes) {
  struct statvfs fs {};
  if (statvfs(dir.c_str(), &fs) != 0)
    return "cannot check the free space of " + dir.string() + ": " + std::strerror(errno);
  const std::uint64_t available = std::uint64_t(fs.f_bavail) * std::uint64_t(fs.f_frsize);
  if (available < reserve_bytes)
    return "the file system of " + dir.string() + " is (nearly) full: " + mib(available) + " free, less than the " +
           mib(reserve_bytes) + " kept in reserve for output";
  struct rlimit limit {};
  if (getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      const std::uint64_t size = entry.is_regular_file(ec) ? entry.file_size(ec) : 0;
      if (!ec && size + reserve_bytes > std::uint64_t(limit.rlim_cur))
        return entry.path().string() + " is " + mib(size) + ", too close to the file-size limit (ulimit -f) of " +
               mib(std::uint64_t(limit.rlim_cur)) + " to grow";
    }
    if (std::uint64_t(limit.rlim_cur) < reserve_bytes)
      return "the file-size limit (ulimit -f) of " + mib(std::uint64_t(limit.rlim_cur)) +
             " leaves no room for output in " + dir.string();
  }
  return {};
}

// What is missing for a new file of `file_bytes` in `dir`, or empty.
std::string file_space_problem(const std::filesystem::path& dir, std::uint64_t file_bytes,
                               std::uint64_t reserve_bytes) {
  struct statvfs fs {};
  if (statvfs(dir.c_str(), &fs) != 0)
    return "cannot check the free space of " + dir.string() + ": " + std::strerror(errno);
  const std::uint64_t available = std::uint64_t(fs.f_bavail) * std::uint64_t(fs.f_frsize);
  if (available < file_bytes || available - file_bytes < reserve_bytes)
    return "the file system of " + dir.string() + " is (nearly) full: " + mib(available) + " free, less than the " +
           mib(file_bytes) + " needed and the " + mib(reserve_bytes) + " kept in reserve for output";
  struct rlimit limit {};
  if (getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
      std::uint64_t(limit.rlim_cur) < file_bytes)
    return "the file-size limit (ulimit -f) of " + mib(std::uint64_t(limit.rlim_cur)) + " is below the " +
           mib(file_bytes) + " needed in " + dir.string();
  return {};
}

}  // namespace

void require_space_for_file(const communicator& comm, const std::filesystem::path& dir, std::uint64_t file_bytes,
                            const std::string& what, std::uint64_t reserve_bytes) {
  std::string problem;
  if (comm.rank() == 0) problem = file_space_problem(dir, file_bytes, reserve_bytes);
  problem = comm.broadcast(problem);
  if (!problem.empty()) throw io_error(problem + "; not writing " + what);
}

void require_output_space(const communicator& comm, const std::filesystem::path& dir, std::uint64_t reserve_bytes) {
  std::string problem;
  if (comm.rank() == 0) problem = space_problem(dir, reserve_bytes);
  problem = comm.broadcast(problem);
  if (!problem.empty()) throw io_error(problem + "; not writing output that could not be completed");
}

}  // namespace myelin
