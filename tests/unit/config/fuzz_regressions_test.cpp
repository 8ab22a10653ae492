// Replays every input kept in tests/fuzz/regressions/ (what fuzzing and the review of its
// harnesses found) through the same harness code as the libFuzzer targets (tests/fuzz/), so a
// fixed bug stays fixed in every build, also without clang or libFuzzer. File names say the
// target: config-* (a config file), overrides-* (--set strings separated by NUL bytes),
// spike_file-* (an HDF5 file read as a SONATA spike file), checkpoint-* (a file read as a
// checkpoint by a restart). Some inputs must be refused with a given message; every input must be
// answered quickly, and only with the documented exception. The checkpoint harness also reads
// its seed corpus (real checkpoints), which must be read whole.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/checkpoint_reading.hpp"
#include "fuzz/harness.hpp"
#include "fuzz/spike_reader.hpp"
#include "myelin/comm/communicator.hpp"
#include "myelin/config/config.hpp"
#include "myelin/io/checkpoint.hpp"
#include "myelin/io/hdf5.hpp"

namespace myelin {
namespace {

namespace fs = std::filesystem;

fs::path regressions_dir() { return fs::path(__FILE__).parent_path() / ".." / ".." / "fuzz" / "regressions"; }

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

std::vector<fs::path> regression_files(const std::string& prefix) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(regressions_dir()))
    if (entry.path().filename().string().starts_with(prefix)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

// Inputs that must be refused, with a part of the message that says why.
const std::map<std::string, std::string> must_refuse = {
    {"config-huge-record-default.ini", "give key 'neurons'"},
    {"config-huge-input-range.ini", "at most 16777216 node ids in one list"},
    {"overrides-huge-node-range", "at most 16777216 node ids in one list"},
    {"overrides-line-break-in-name", "an override cannot contain a line break"},
    {"overrides-line-break-starts-section", "an override cannot contain a line break"},
};

// Parses one config input: refused with config_error (checked against must_refuse), or accepted
// with a resolved config that reads back the same. Any other exception fails the test.
template <class Parse>
void check_config_input(const fs::path& file, Parse&& parse) {
  const std::string name = file.filename().string();
  SCOPED_TRACE(name);
  const auto t0 = std::chrono::steady_clock::now();
  const auto expected = must_refuse.find(name);
  try {
    const run_spec spec = parse();
    EXPECT_TRUE(expected == must_refuse.end()) << "accepted, but must be refused: " << expected->second;
    EXPECT_EQ(fuzz::round_trip_problem(spec), "");
  } catch (const config_error& e) {
    if (expected != must_refuse.end()) {
      EXPECT_NE(std::string(e.what()).find(expected->second), std::string::npos) << e.what();
    }
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "a config error is one line: " << e.what();
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 10.0);
}

TEST(FuzzRegressions, EveryKnownInputIsThere) {
  for (const auto& [name, message] : must_refuse) EXPECT_TRUE(fs::exists(regressions_dir() / name)) << name;
}

TEST(FuzzRegressions, ConfigFiles) {
  const auto files = regression_files("config-");
  EXPECT_FALSE(files.empty());
  for (const fs::path& file : files)
    check_config_input(file, [&] { return parse_config(read_bytes(file), file.filename().string()); });
}

TEST(FuzzRegressions, Overrides) {
  const auto files = regression_files("overrides-");
  EXPECT_FALSE(files.empty());
  for (const fs::path& file : files) {
    const auto overrides = fuzz::split_overrides(read_bytes(file));
    check_config_input(file, [&] { return parse_config(fuzz::overrides_base_config, "base.ini", overrides); });
  }
}

// Spike files that must be refused, with a part of the message that says why.
const std::map<std::string, std::string> spike_files_to_refuse = {
    // node_ids claims 671,088,640 elements (5 GB) in a 10 KB file: read() allocated them all.
    {"spike_file-dataset-claims-5-GB-in-10-KB.h5", "but the file stores"},
};

TEST(FuzzRegressions, SpikeFiles) {
  const auto files = regression_files("spike_file-");
  EXPECT_FALSE(files.empty());
  for (const auto& [name, message] : spike_files_to_refuse) EXPECT_TRUE(fs::exists(regressions_dir() / name)) << name;
  for (const fs::path& file : files) {
    const std::string name = file.filename().string();
    SCOPED_TRACE(name);
    const auto expected = spike_files_to_refuse.find(name);
    try {
      (void)fuzz::read_spike_file(file, [](const std::string& what) { ADD_FAILURE() << what; });
      EXPECT_TRUE(expected == spike_files_to_refuse.end()) << "read, but must be refused: " << expected->second;
    } catch (const io_error& e) {
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "an io_error is one line: " << e.what();
      if (expected != spike_files_to_refuse.end()) {
        EXPECT_NE(std::string(e.what()).find(expected->second), std::string::npos) << e.what();
      }
    }
  }
}

// Checkpoint files that must be refused, with a part of the message that says why.
const std::map<std::string, std::string> checkpoints_to_refuse = {
    // Population exc claims 2^30 neurons (8 GiB per variable) stored nowhere: a restart of a
    // network that size must be refused before its block is allocated, not ask for gigabytes.
    {"checkpoint-population-claims-8-GiB-in-13-KB.h5", "but the file stores"},
};

// Reads `file` as checkpoint_fuzz does; the checkpoint_error message when refused, else empty.
std::string read_as_checkpoint(const fs::path& file) {
  const communicator comm;
  const auto t0 = std::chrono::steady_clock::now();
  std::string refusal;
  try {
    (void)fuzz::read_checkpoint_file(comm, file, [](const std::string& what) { ADD_FAILURE() << what; });
  } catch (const checkpoint_error& e) {
    refusal = e.what();
    EXPECT_FALSE(refusal.empty());
    EXPECT_EQ(refusal.find('\n'), std::string::npos) << "a checkpoint error is one line: " << refusal;
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 10.0);
  return refusal;
}

TEST(FuzzRegressions, CheckpointFiles) {
  for (const auto& [name, message] : checkpoints_to_refuse) EXPECT_TRUE(fs::exists(regressions_dir() / name)) << name;
  const auto files = regression_files("checkpoint-");
  EXPECT_FALSE(files.empty());
  for (const fs::path& file : files) {
    const std::string name = file.filename().string();
    SCOPED_TRACE(name);
    const std::string refusal = read_as_checkpoint(file);
    const auto expected = checkpoints_to_refuse.find(name);
    if (expected != checkpoints_to_refuse.end()) {
      EXPECT_NE(refusal.find(expected->second), std::string::npos) << "must be refused: " << expected->second
                                                                   << "; got: " << refusal;
    }
  }
}

TEST(FuzzRegressions, CheckpointSeedsAreReadWhole) {
  const fs::path corpus = regressions_dir() / ".." / "corpus" / "checkpoint_fuzz";
  std::vector<fs::path> seeds;
  for (const auto& entry : fs::directory_iterator(corpus)) seeds.push_back(entry.path());
  EXPECT_FALSE(seeds.empty());
  for (const fs::path& seed : seeds) {
    SCOPED_TRACE(seed.filename().string());
    EXPECT_EQ(read_as_checkpoint(seed), "") << "a real checkpoint was refused";
  }
}

}  // namespace
}  // namespace myelin
