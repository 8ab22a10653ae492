// spike_writer under mpirun -np 1, 2 and 4: every rank hands in a decomposition-dependent share
// of one fixed spike set, in scrambled order and across several flushes; rank 0 then reads the
// file with the plain HDF5 API (independent of myelin's wrappers) and compares every value with
// the canonical content, which is the same for any number of ranks. A run resumed from a
// checkpoint continues the file of the stopped run and ends with the file of an unbroken run.
#include "myelin/io/spike_writer.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "myelin/io/hdf5.hpp"  // io_error
#include "mpi/scratch_directory.hpp"

namespace myelin {
namespace {

namespace fs = std::filesystem;

constexpr double dt_ms = 0.1;

using test::fresh_path;
using test::scratch_directory;  // shared by all ranks, one per job


bool final_exists(const fs::path& path) { return fs::exists(path); }
bool partial_exists(const fs::path& path) { return fs::exists(path.string() + ".partial"); }

// Listed out of gid order on purpose; "silent" never spikes; gids 170.. are in no population.
std::vector<population_range> test_populations() {
  return {{"L4E", 110, 60}, {"L23E", 0, 80}, {"silent", 100, 10}, {"L23I", 80, 20}};
}

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finalizer
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// The fixed global spike set: about 4% of the neurons of the spiking populations per step.
std::vector<spike_event> global_spikes(std::int64_t steps) {
  std::vector<spike_event> spikes;
  for (std::int64_t step = 0; step < steps; ++step)
    for (const population_range& population : test_populations()) {
      if (population.name == "silent") continue;
      for (std::uint64_t gid = population.first_gid; gid < population.first_gid + population.n; ++gid)
        if (mix(std::uint64_t(step) * 1000003u + gid) % 100 < 4) spikes.push_back({gid, step});
    }
  return spikes;
}

// This rank's share (gid % size == rank) of the spikes with step in [first, end), scrambled.
std::vector<spike_event> my_share(const communicator& comm, const std::vector<spike_event>& spikes, std::int64_t first,
                                  std::int64_t end) {
  std::vector<spike_event> mine;
  for (const spike_event& spike : spikes)
    if (spike.gid % std::uint64_t(comm.size()) == std::uint64_t(comm.rank()) && spike.step >= first && spike.step < end)
      mine.push_back(spike);
  std::mt19937_64 scramble(std::uint64_t(comm.rank()) * 7919u + std::uint64_t(first));
  std::shuffle(mine.begin(), mine.end(), scramble);
  return mine;
}

// Hands spikes in as three appends of different sizes.
void append_in_pieces(spike_writer& writer, const std::vector<spike_event>& spikes) {
  const std::span<const spike_event> all(spikes);
  const std::size_t first = all.size() / 3;
  const std::size_t second = all.size() / 2;
  writer.append(all.subspan(0, first));
  writer.append(all.subspan(first, second - first));
  writer.append(all.subspan(second));
}

std::uint64_t count_before(const std::vector<spike_event>& spikes, std::int64_t step) {
  return std::uint64_t(std::count_if(spikes.begin(), spikes.end(), [&](const spike_event& s) { return s.step < step; }));
}

// --- reading with the plain HDF5 API ---

// SONATA's sorting: a scalar enum over uint8; returns the member's name.
std::string read_enum_attribute(hid_t object, const char* name) {
  const hid_t attribute = H5Aopen(object, name, H5P_DEFAULT);
  EXPECT_GE(attribute, 0) << name;
  if (attribute < 0) return {};
  const hid_t type = H5Aget_type(attribute);
  EXPECT_EQ(H5Tget_class(type), H5T_ENUM) << name;
  EXPECT_EQ(H5Tget_size(type), 1u) << name;
  std::uint8_t value = 255;
  EXPECT_GE(H5Aread(attribute, type, &value), 0);
  char member[64] = {};
  EXPECT_GE(H5Tenum_nameof(type, &value, member, sizeof member), 0);
  H5Tclose(type);
  H5Aclose(attribute);
  return member;
}

std::string read_string_attribute(hid_t object, const char* name) {
  const hid_t attribute = H5Aopen(object, name, H5P_DEFAULT);
  EXPECT_GE(attribute, 0) << name;
  if (attribute < 0) return {};
  const hid_t type = H5Aget_type(attribute);
  EXPECT_EQ(H5Tget_class(type), H5T_STRING) << name;
  std::string value;
  if (H5Tis_variable_str(type) > 0) {
    const hid_t memory = H5Tcopy(H5T_C_S1);
    H5Tset_size(memory, H5T_VARIABLE);
    H5Tset_cset(memory, H5Tget_cset(type));
    char* text = nullptr;
    EXPECT_GE(H5Aread(attribute, memory, &text), 0);
    value = text != nullptr ? text : "";
    H5free_memory(text);
    H5Tclose(memory);
  } else {
    value.resize(H5Tget_size(type));
    EXPECT_GE(H5Aread(attribute, type, value.data()), 0);
    value.resize(std::min(value.find('\0'), value.size()));
  }
  H5Tclose(type);
  H5Aclose(attribute);
  return value;
}

std::vector<std::uint32_t> read_uint32_attribute(hid_t object, const char* name) {
  const hid_t attribute = H5Aopen(object, name, H5P_DEFAULT);
  EXPECT_GE(attribute, 0) << name;
  if (attribute < 0) return {};
  const hid_t type = H5Aget_type(attribute);
  EXPECT_GT(H5Tequal(type, H5T_NATIVE_UINT32), 0) << name << " is not uint32";
  const hid_t space = H5Aget_space(attribute);
  std::vector<std::uint32_t> values(std::size_t(H5Sget_simple_extent_npoints(space)));
  EXPECT_GE(H5Aread(attribute, H5T_NATIVE_UINT32, values.data()), 0);
  H5Sclose(space);
  H5Tclose(type);
  H5Aclose(attribute);
  return values;
}

// A 1-D dataset whose stored type must equal `type`.
template <class T>
std::vector<T> read_1d(hid_t file, const std::string& path, hid_t type) {
  const hid_t dataset = H5Dopen2(file, path.c_str(), H5P_DEFAULT);
  EXPECT_GE(dataset, 0) << path;
  if (dataset < 0) return {};
  const hid_t stored = H5Dget_type(dataset);
  EXPECT_GT(H5Tequal(stored, type), 0) << path << " has the wrong element type";
  const hid_t space = H5Dget_space(dataset);
  EXPECT_EQ(H5Sget_simple_extent_ndims(space), 1) << path;
  std::vector<T> values(std::size_t(H5Sget_simple_extent_npoints(space)));
  if (!values.empty()) {
    EXPECT_GE(H5Dread(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), 0) << path;
  }
  H5Sclose(space);
  H5Tclose(stored);
  H5Dclose(dataset);
  return values;
}

// Rank 0: the file holds exactly `spikes`, in canonical order, with the SONATA layout.
void expect_canonical_file(const fs::path& path, const std::vector<spike_event>& spikes) {
  ASSERT_TRUE(final_exists(path)) << path;
  EXPECT_FALSE(partial_exists(path));
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0) << path;

  EXPECT_EQ(read_uint32_attribute(file, "magic"), std::vector<std::uint32_t>{0x0A7A});
  EXPECT_EQ(read_uint32_attribute(file, "version"), (std::vector<std::uint32_t>{0, 1}));

  const hid_t spikes_group = H5Gopen2(file, "/spikes", H5P_DEFAULT);
  ASSERT_GE(spikes_group, 0);
  H5G_info_t info{};
  H5Gget_info(spikes_group, &info);
  EXPECT_EQ(info.nlinks, test_populations().size());
  H5Gclose(spikes_group);

  for (const population_range& population : test_populations()) {
    SCOPED_TRACE(population.name);
    std::vector<spike_event> own;
    for (const spike_event& spike : spikes)
      if (spike.gid >= population.first_gid && spike.gid < population.first_gid + population.n) own.push_back(spike);
    std::sort(own.begin(), own.end(), [](const spike_event& a, const spike_event& b) {
      return a.step != b.step ? a.step < b.step : a.gid < b.gid;
    });
    std::vector<double> expected_times;
    std::vector<std::uint64_t> expected_ids;
    for (const spike_event& spike : own) {
      expected_times.push_back(double(spike.step + 1) * dt_ms);
      expected_ids.push_back(spike.gid - population.first_gid);
    }

    const std::string group_path = "/spikes/" + population.name;
    const hid_t group = H5Gopen2(file, group_path.c_str(), H5P_DEFAULT);
    ASSERT_GE(group, 0);
    EXPECT_EQ(read_enum_attribute(group, "sorting"), "by_time");
    H5Gclose(group);

    const std::vector<double> times = read_1d<double>(file, group_path + "/timestamps", H5T_NATIVE_DOUBLE);
    const std::vector<std::uint64_t> ids = read_1d<std::uint64_t>(file, group_path + "/node_ids", H5T_NATIVE_UINT64);
    EXPECT_EQ(times, expected_times);  // exactly: the same arithmetic for any np
    EXPECT_EQ(ids, expected_ids);
    if (population.name == "silent") {
      EXPECT_TRUE(times.empty() && ids.empty());
    }
    for (std::size_t i = 1; i < times.size() && i < ids.size(); ++i)
      ASSERT_TRUE(times[i - 1] < times[i] || (times[i - 1] == times[i] && ids[i - 1] < ids[i])) << "at " << i;

    const hid_t timestamps = H5Dopen2(file, (group_path + "/timestamps").c_str(), H5P_DEFAULT);
    EXPECT_EQ(read_string_attribute(timestamps, "units"), "ms");
    H5Dclose(timestamps);
  }
  H5Fclose(file);
}

TEST(SpikeWriter, FileIsCanonicalForAnyDecomposition) {
  const communicator comm;
  const fs::path path = fresh_path(comm, "spikes-canonical.h5");
  if (comm.rank() == 0) std::ofstream(path) << "an older run's file\n";
  comm.barrier();

  const std::int64_t steps = 200;
  const std::vector<spike_event> spikes = global_spikes(steps);
  ASSERT_GT(spikes.size(), 1000u);
  {
    spike_writer writer(comm, path, test_populations(), dt_ms);
    comm.barrier();
    EXPECT_FALSE(final_exists(path)) << "an older file under the final name survived";
    EXPECT_TRUE(partial_exists(path));

    // Each flush sees the spikes up to 15 steps past its window already appended; flush(20)
    // twice and flush(56) after flush(55) leave some or all ranks without anything to write.
    std::int64_t appended_until = 0;
    for (const std::int64_t up_to : {20, 20, 55, 56, 120, 199}) {
      const std::int64_t read_ahead = std::min(up_to + 15, steps);
      append_in_pieces(writer, my_share(comm, spikes, appended_until, read_ahead));
      appended_until = std::max(appended_until, read_ahead);
      writer.flush(up_to);
      EXPECT_EQ(writer.spikes_written(), count_before(spikes, up_to)) << "after flush(" << up_to << ")";
      comm.barrier();
      EXPECT_FALSE(final_exists(path)) << "a final file before close()";
      EXPECT_TRUE(partial_exists(path));
    }
    append_in_pieces(writer, my_share(comm, spikes, appended_until, steps));
    writer.close();
    EXPECT_EQ(writer.spikes_written(), spikes.size());
    writer.close();  // a second close does nothing
  }
  if (comm.rank() == 0) expect_canonical_file(path, spikes);
  comm.barrier();
}

TEST(SpikeWriter, RanksWithNothingStillTakePart) {
  const communicator comm;
  const fs::path path = fresh_path(comm, "spikes-one-rank.h5");
  std::vector<spike_event> spikes = global_spikes(60);
  std::erase_if(spikes, [](const spike_event& spike) { return spike.step < 10; });
  {
    spike_writer writer(comm, path, test_populations(), dt_ms);
    writer.flush(10);  // nothing anywhere
    // Only the last rank has spikes; the others flush with empty buffers.
    if (comm.rank() == comm.size() - 1) {
      std::vector<spike_event> scrambled = spikes;
      std::shuffle(scrambled.begin(), scrambled.end(), std::mt19937_64(42));
      writer.append(scrambled);
    }
    writer.flush(30);
    EXPECT_EQ(writer.spikes_written(), count_before(spikes, 30));
    writer.flush(30);
    writer.close();
  }
  if (comm.rank() == 0) expect_canonical_file(path, spikes);
  comm.barrier();
}

TEST(SpikeWriter, RunWithoutSpikesHasEmptyDatasets) {
  const communicator comm;
  const fs::path path = fresh_path(comm, "spikes-empty.h5");
  {
    spike_writer writer(comm, path, test_populations(), dt_ms);
    writer.flush(100);
    writer.close();
    EXPECT_EQ(writer.spikes_written(), 0u);
  }
  if (comm.rank() == 0) expect_canonical_file(path, {});
  comm.barrier();
}

TEST(SpikeWriter, DestroyedWithoutCloseLeavesOnlyThePartialFile) {
  const communicator comm;
  const fs::path path = fresh_path(comm, "spikes-abandoned.h5");
  const std::vector<spike_event> spikes = global_spikes(40);
  {
    spike_writer writer(comm, path, test_populations(), dt_ms);
    writer.append(my_share(comm, spikes, 0, 40));
    writer.flush(20);
  }
  comm.barrier();
  EXPECT_FALSE(final_exists(path));
  EXPECT_TRUE(partial_exists(path));
  // What was flushed is readable: the handles were closed properly.
  if (comm.rank() == 0) {
    const hid_t file = H5Fopen((path.string() + ".partial").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    EXPECT_GE(file, 0);
    if (file >= 0) H5Fclose(file);
  }
  comm.barrier();
}

TEST(SpikeWriter, RefusesSpikesOutsidePopulationsOrBehindTheWindow) {
  const communicator comm;
  const fs::path path = fresh_path(comm, "spikes-refused.h5");
  spike_writer writer(comm, path, test_populations(), dt_ms);
  const std::vector<spike_event> nowhere{{170, 3}};
  EXPECT_THROW(writer.append(nowhere), std::invalid_argument);
  writer.flush(10);
  const std::vector<spike_event> late{{5, 9}};
  EXPECT_THROW(writer.append(late), std::logic_error);
  const std::vector<spike_event> in_time{{5, 10}};
  writer.append(in_time);
  writer.close();
  EXPECT_EQ(writer.spikes_written(), std::uint64_t(comm.size()));
}

TEST(SpikeWriter, RefusesOverlappingPopulations) {
  const communicator comm;
  const fs::path path = fresh_path(comm, "spikes-overlap.h5");
  EXPECT_THROW(spike_writer(comm, path, {{"a", 0, 10}, {"b", 9, 10}}, dt_ms), std::invalid_argument);
  EXPECT_THROW(spike_writer(comm, path, {{"a", 0, 10}, {"a", 10, 10}}, dt_ms), std::invalid_argument);
  EXPECT_THROW(spike_writer(comm, path, {{"a", 0, 10}}, 0.0), std::invalid_argument);
  comm.barrier();
  EXPECT_FALSE(partial_exists(path));  // refused before any file was made
}

// --- resuming after a restart ---

// Spikes that a stopped run wrote after its checkpoint but the resumed run does not produce again
// (it continues from the checkpoint): the resumed file must not keep them.
std::vector<spike_event> stale_spikes(const communicator& comm, std::int64_t first, std::int64_t end) {
  std::vector<spike_event> spikes;
  if (comm.rank() == 0)
    for (std::int64_t step = first; step < end; ++step) spikes.push_back({std::uint64_t(step * 7 % 80), step});
  return spikes;
}

// Rank 0: both files hold the same spikes, exactly.
void expect_same_spike_files(const fs::path& resumed, const fs::path& unbroken) {
  const hid_t a = H5Fopen(resumed.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t b = H5Fopen(unbroken.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  for (const population_range& population : test_populations()) {
    SCOPED_TRACE(population.name);
    const std::string group_path = "/spikes/" + population.name;
    EXPECT_EQ(read_1d<double>(a, group_path + "/timestamps", H5T_NATIVE_DOUBLE),
              read_1d<double>(b, group_path + "/timestamps", H5T_NATIVE_DOUBLE));
    EXPECT_EQ(read_1d<std::uint64_t>(a, group_path + "/node_ids", H5T_NATIVE_UINT64),
              read_1d<std::uint64_t>(b, group_path + "/node_ids", H5T_NATIVE_UINT64));
  }
  H5Fclose(a);
  H5Fclose(b);
}

// The file of a run that was never stopped, for comparison.
void write_unbroken(const communicator& comm, const fs::path& path, const std::vector<spike_event>& spikes,
                    std::int64_t steps) {
  spike_writer writer(comm, path, test_populations(), dt_ms);
  append_in_pieces(writer, my_share(comm, spikes, 0, steps));
  writer.close();
}

TEST(SpikeWriter, ResumedRunContinuesTheClosedFileOfTheFirstRun) {
  const communicator comm;
  const fs::path path = fresh_path(comm, "spikes-resume-closed.h5");
  const fs::path unbroken = fresh_path(comm, "spikes-resume-closed-unbroken.h5");
  const std::int64_t steps = 121;
  const std::vector<spike_event> spikes = global_spikes(steps);
  write_unbroken(comm, unbroken, spikes, steps);

  // The first run wrote steps 0..99 (and spikes the resumed run will not make again) and closed.
  {
    spike_writer writer(comm, path, test_populations(), dt_ms);
    append_in_pieces(writer, my_share(comm, spikes, 0, 100));
    writer.append(stale_spikes(comm, 60, 100));
    writer.flush(50);
    writer.close();
  }
  // Restarted from its checkpoint at step 60.
  {
    spike_writer writer(comm, path, test_populations(), dt_ms, 60);
    comm.barrier();
    EXPECT_FALSE(final_exists(path)) << "the file under the final name while the run goes on";
    EXPECT_TRUE(partial_exists(path));
    EXPECT_EQ(writer.spikes_written(), count_before(spikes, 60));
    const std::vector<spike_event> before_resume{{5, 59}};
    EXPECT_THROW(writer.append(before_resume), std::logic_error);
    append_in_pieces(writer, my_share(comm, spikes, 60, 90));
    writer.flush(80);
    append_in_pieces(writer, my_share(comm, spikes, 90, steps));
    writer.close();
    EXPECT_EQ(writer.spikes_written(), spikes.size());
  }
  if (comm.rank() == 0) {
    expect_canonical_file(path, spikes);
    expect_same_spike_files(path, unbroken);
  }
  comm.barrier();
}

TEST(SpikeWriter, ResumedRunContinuesThePartialFileOfAKilledRun) {
  const communicator comm;
  const fs::path path = fresh_path(comm, "spikes-resume-partial.h5");
  const fs::path unbroken = fresh_path(comm, "spikes-resume-partial-unbroken.h5");
  const std::int64_t steps = 121;
  const std::vector<spike_event> spikes = global_spikes(steps);
  write_unbroken(comm, unbroken, spikes, steps);

  // Stopped without close() after flushing steps 0..99: only the .partial file.
  {
    spike_writer writer(comm, path, test_populations(), dt_ms);
    append_in_pieces(writer, my_share(comm, spikes, 0, 100));
    writer.append(stale_spikes(comm, 60, 100));
    writer.flush(100);
  }
  // An older run's complete file under the final name: the .partial file is the newer one.
  if (comm.rank() == 0) std::ofstream(path) << "an older run's file\n";
  comm.barrier();
  // Resumed at 60, stopped again after flushing steps 60..89 (and stale ones after 75).
  {
    spike_writer writer(comm, path, test_populations(), dt_ms, 60);
    comm.barrier();
    EXPECT_FALSE(final_exists(path));
    EXPECT_EQ(writer.spikes_written(), count_before(spikes, 60));
    append_in_pieces(writer, my_share(comm, spikes, 60, 90));
    writer.append(stale_spikes(comm, 75, 90));
    writer.flush(90);
  }
  // Resumed at 75 to the end.
  {
    spike_writer writer(comm, path, test_populations(), dt_ms, 75);
    EXPECT_EQ(writer.spikes_written(), count_before(spikes, 75));
    append_in_pieces(writer, my_share(comm, spikes, 75, steps));
    writer.close();
  }
  if (comm.rank() == 0) {
    expect_canonical_file(path, spikes);
    expect_same_spike_files(path, unbroken);
  }
  comm.barrier();
}

TEST(SpikeWriter, ResumeRefusesMissingOrForeignFilesOnEveryRank) {
  const communicator comm;
  const fs::path path = fresh_path(comm, "spikes-resume-missing.h5");
  const auto message_of = [&](auto&& make) {
    try {
      make();
    } catch (const io_error& error) {
      return std::string(error.what());
    }
    return std::string("no io_error");
  };
  std::string message = message_of([&] { spike_writer(comm, path, test_populations(), dt_ms, 60); });
  EXPECT_NE(message.find(path.string() + ": no spike file to resume"), std::string::npos) << message;
  EXPECT_EQ(comm.broadcast(message), message);

  // Another run's populations.
  { spike_writer(comm, path, {{"L23E", 0, 80}}, dt_ms).close(); }
  message = message_of([&] { spike_writer(comm, path, test_populations(), dt_ms, 60); });
  EXPECT_NE(message.find("other populations"), std::string::npos) << message;
  EXPECT_EQ(comm.broadcast(message), message);
  comm.barrier();
  EXPECT_TRUE(final_exists(path)) << "a refused file must stay where it was";
  comm.barrier();  // every rank has looked before rank 0 replaces the file

  // Not HDF5 at all.
  if (comm.rank() == 0) {
    fs::remove(path);
    std::ofstream(path.string() + ".partial") << "not a spike file\n";
  }
  comm.barrier();
  message = message_of([&] { spike_writer(comm, path, test_populations(), dt_ms, 60); });
  EXPECT_NE(message.find(path.string() + ".partial"), std::string::npos) << message;
  EXPECT_EQ(comm.broadcast(message), message);

  EXPECT_THROW(spike_writer(comm, path, test_populations(), dt_ms, -1), std::invalid_argument);
}

}  // namespace
}  // namespace myelin
