// The room checks made before output and checkpoints are written (myelin/io/output_space.hpp):
// refused with one io_error line that names the directory, what is missing and what is not
// written; accepted when there is room. The end-to-end cases (a full tmpfs, ulimit -f on a run)
// are in tests/e2e/test_faults.sh.
#include "myelin/io/output_space.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "myelin/comm/communicator.hpp"
#include "myelin/io/hdf5.hpp"  // io_error

namespace myelin {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t MiB = std::uint64_t(1) << 20;

std::string refusal(const std::function<void()>& check) {
  try {
    check();
  } catch (const io_error& e) {
    return e.what();
  }
  return {};
}

TEST(OutputSpace, FileThatFitsIsAccepted) {
  const communicator comm;
  EXPECT_NO_THROW(require_space_for_file(comm, fs::temp_directory_path(), 1 * MiB, "checkpoint x.h5", 0));
}

TEST(OutputSpace, FileLargerThanTheFreeSpaceIsRefused) {
  const communicator comm;
  const fs::path dir = fs::temp_directory_path();
  const std::string message = refusal([&] {
    require_space_for_file(comm, dir, std::uint64_t(1) << 60, "checkpoint x.h5");
  });
  EXPECT_NE(message.find("the file system of " + dir.string() + " is (nearly) full"), std::string::npos) << message;
  EXPECT_NE(message.find("needed and the 64.00 MiB kept in reserve"), std::string::npos) << message;
  EXPECT_NE(message.find("; not writing checkpoint x.h5"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST(OutputSpace, ReserveCountsBesidesTheFile) {
  const communicator comm;
  // A file that fits only without the reserve: the whole free space.
  const fs::space_info space = fs::space(fs::temp_directory_path());
  const std::string message = refusal([&] {
    require_space_for_file(comm, fs::temp_directory_path(), space.available, "checkpoint x.h5", 64 * MiB);
  });
  EXPECT_NE(message.find("(nearly) full"), std::string::npos) << message;
}

// ulimit -f: a file over the limit is refused, whatever the free space.
TEST(OutputSpace, FileOverTheFileSizeLimitIsRefused) {
  const communicator comm;
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < 100 * MiB) GTEST_SKIP() << "hard file-size limit too low";
  rlimit lowered = saved;
  lowered.rlim_cur = 100 * MiB;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lowered), 0);
  const std::string over = refusal([&] {
    require_space_for_file(comm, fs::temp_directory_path(), 101 * MiB, "checkpoint x.h5", 0);
  });
  const std::string under = refusal([&] {
    require_space_for_file(comm, fs::temp_directory_path(), 99 * MiB, "checkpoint x.h5", 0);
  });
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &saved), 0);
  EXPECT_NE(over.find("the file-size limit (ulimit -f) of 100.00 MiB is below the 101.00 MiB needed in"),
            std::string::npos)
      << over;
  EXPECT_NE(over.find("; not writing checkpoint x.h5"), std::string::npos) << over;
  EXPECT_EQ(under, "");
}

TEST(OutputSpace, MissingDirectoryIsRefused) {
  const communicator comm;
  const std::string message = refusal([&] {
    require_space_for_file(comm, "/nonexistent-myelin-dir/x", 1, "checkpoint x.h5");
  });
  EXPECT_NE(message.find("cannot check the free space of /nonexistent-myelin-dir/x"), std::string::npos) << message;
}

}  // namespace
}  // namespace myelin
