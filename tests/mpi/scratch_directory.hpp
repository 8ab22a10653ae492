// The directory the MPI tests write their files into, the same on every rank of a job.
// MYELIN_TEST_TMP when set (ctest and tools/test-sanitized give each run its own); otherwise a new
// directory under the system's temporary directory, made by rank 0 for this job alone and removed
// when the job exits. A directory shared by two jobs running at once makes each remove the other's
// files mid-test: that is how SpikeWriter.ResumeRefusesMissingOrForeignFilesOnEveryRank failed
// ("a refused file must stay where it was", on the ranks that looked last) while a second 4-rank
// run used the same directory; alone it passes every time.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <stdexcept>
#include <system_error>

#include "myelin/comm/communicator.hpp"

namespace myelin::test {

// Collective on its first call (every test calls it on every rank).
inline std::filesystem::path scratch_directory(const communicator& comm) {
  namespace fs = std::filesystem;
  static const fs::path directory = [&] {
    if (const char* scratch = std::getenv("MYELIN_TEST_TMP"); scratch != nullptr && *scratch != '\0') {
      if (comm.rank() == 0) fs::create_directories(scratch);
      comm.barrier();
      return fs::path(scratch);
    }
    std::string made;
    if (comm.rank() == 0) {
      std::string pattern = (fs::temp_directory_path() / ("myelin-mpi-np" + std::to_string(comm.size()) + "-XXXXXX"));
      if (mkdtemp(pattern.data()) != nullptr) {
        made = pattern;
        static std::string to_remove = made;
        std::atexit([] {
          std::error_code ignored;
          fs::remove_all(to_remove, ignored);
        });
      }
    }
    made = comm.broadcast(made);
    if (made.empty()) throw std::runtime_error("cannot make a scratch directory under " + fs::temp_directory_path().string());
    return fs::path(made);
  }();
  return directory;
}

// A file name in the scratch directory with no leftovers of an earlier run (nor its .partial).
inline std::filesystem::path fresh_path(const communicator& comm, const std::string& name) {
  const std::filesystem::path path = scratch_directory(comm) / name;
  if (comm.rank() == 0) {
    std::filesystem::remove(path);
    std::filesystem::remove(path.string() + ".partial");
  }
  comm.barrier();
  return path;
}

}  // namespace myelin::test
