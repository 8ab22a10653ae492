// The HDF5 wrappers on one process: writing, reading back, errors as one-line io_error.
#include "myelin/io/hdf5.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iostream>
#include <string>
#include <type_traits>
#include <vector>

namespace myelin {
namespace {

namespace fs = std::filesystem;

static_assert(!std::is_copy_constructible_v<h5::file> && !std::is_copy_assignable_v<h5::file>);
static_assert(!std::is_copy_constructible_v<h5::dataset> && !std::is_copy_constructible_v<h5::group>);
static_assert(!std::is_copy_constructible_v<h5::dataspace> && !std::is_copy_constructible_v<h5::property_list>);
static_assert(std::is_nothrow_move_constructible_v<h5::handle> && std::is_nothrow_move_assignable_v<h5::handle>);
static_assert(std::is_nothrow_move_constructible_v<h5::file> && std::is_nothrow_move_constructible_v<h5::dataset>);

// A fresh directory per test, removed afterwards.
class Hdf5Test : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* scratch = std::getenv("MYELIN_TEST_TMP");
    const fs::path base = scratch != nullptr ? fs::path(scratch) : fs::temp_directory_path();
    directory_ = base / ("myelin-hdf5-test-" + std::to_string(::getpid()) + "-" +
                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(directory_);
    fs::create_directories(directory_);
  }
  void TearDown() override { fs::remove_all(directory_); }

  fs::path directory_;
  communicator comm_;
};

template <class T>
std::span<const T> view(const std::vector<T>& values) {
  return std::span<const T>(values);
}

TEST_F(Hdf5Test, WritesAndReadsBackDatasetsAndAttributes) {
  const fs::path path = directory_ / "data.h5";
  {
    h5::file out = h5::file::create_parallel(path, comm_);
    out.write_attribute("magic", std::uint32_t{0x0A7A});
    const std::array<std::uint32_t, 2> version{0, 1};
    out.write_attribute("version", std::span<const std::uint32_t>(version));
    h5::group spikes = out.create_group("spikes");
    h5::group population = spikes.create_group("L23E");
    EXPECT_EQ(population.path(), "/spikes/L23E");
    population.write_attribute("sorting", "by_time");

    // 1-D, grown twice, with a chunk smaller than the data.
    const std::array<hsize_t, 1> empty{0};
    const std::array<hsize_t, 1> chunk{4};
    h5::dataset times = population.create_extendible_dataset<double>("timestamps", empty, chunk);
    EXPECT_EQ(times.path(), "/spikes/L23E/timestamps");
    times.write_attribute("units", "ms");
    const std::vector<double> first{0.1, 0.2, 0.3, 0.4, 0.5, 0.6};
    const std::array<hsize_t, 1> six{6};
    times.set_extent(six);
    const std::array<hsize_t, 1> origin{0};
    times.write_collective(view(first), origin, six);
    const std::vector<double> second{0.7, 0.8, 0.9};
    const std::array<hsize_t, 1> nine{9};
    const std::array<hsize_t, 1> three{3};
    times.set_extent(nine);
    times.write_collective(view(second), six, three);
    // A process with nothing to write still takes part.
    const std::array<hsize_t, 1> none{0};
    times.write_collective(std::span<const double>(), nine, none);

    // 2-D, 3 x 4, written as two row blocks.
    const std::array<hsize_t, 2> no_rows{0, 4};
    const std::array<hsize_t, 2> chunk_2d{2, 4};
    h5::dataset grid = out.create_extendible_dataset<std::uint32_t>("grid", no_rows, chunk_2d);
    const std::array<hsize_t, 2> grid_shape{3, 4};
    grid.set_extent(grid_shape);
    const std::vector<std::uint32_t> top{0, 1, 2, 3, 10, 11, 12, 13};
    const std::vector<std::uint32_t> bottom{20, 21, 22, 23};
    const std::array<hsize_t, 2> top_start{0, 0}, top_count{2, 4}, bottom_start{2, 0}, bottom_count{1, 4};
    grid.write_collective(view(top), top_start, top_count);
    grid.write_collective(view(bottom), bottom_start, bottom_count);

    const std::array<hsize_t, 1> two{2};
    h5::dataset fixed = out.create_fixed_dataset<std::uint64_t>("fixed", two);
    const std::vector<std::uint64_t> ids{7, 1ull << 40};
    fixed.write_collective(view(ids), origin, two);

    h5::dataset nothing = out.create_extendible_dataset<std::uint64_t>("nothing", empty, chunk);
    // A parallel file closes only when nothing in it is open any more.
    EXPECT_THROW(out.close(), io_error);
    for (h5::object* object : std::initializer_list<h5::object*>{&times, &grid, &fixed, &nothing, &population, &spikes})
      object->close();
    out.close();
    EXPECT_FALSE(out.is_open());
  }

  h5::file in = h5::file::open_read_only(path);
  EXPECT_EQ(in.read_attribute<std::uint32_t>("magic"), std::vector<std::uint32_t>{0x0A7A});
  EXPECT_EQ(in.read_attribute<std::uint32_t>("version"), (std::vector<std::uint32_t>{0, 1}));
  EXPECT_TRUE(in.contains("spikes"));
  EXPECT_FALSE(in.contains("report"));
  h5::group population = in.open_group("spikes/L23E");
  EXPECT_EQ(population.read_string_attribute("sorting"), "by_time");
  EXPECT_TRUE(population.has_attribute("sorting"));
  EXPECT_FALSE(population.has_attribute("units"));

  h5::dataset times = population.open_dataset("timestamps");
  EXPECT_TRUE(times.holds<double>());
  EXPECT_FALSE(times.holds<float>());
  EXPECT_EQ(times.dims(), std::vector<hsize_t>{9});
  EXPECT_EQ(times.read<double>(), (std::vector<double>{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}));
  const std::array<hsize_t, 1> start{2}, count{3};
  EXPECT_EQ(times.read<double>(start, count), (std::vector<double>{0.3, 0.4, 0.5}));
  EXPECT_EQ(times.read_string_attribute("units"), "ms");

  h5::dataset grid = in.open_dataset("/grid");
  EXPECT_TRUE(grid.holds<std::uint32_t>());
  EXPECT_EQ(grid.dims(), (std::vector<hsize_t>{3, 4}));
  EXPECT_EQ(grid.read<std::uint32_t>(), (std::vector<std::uint32_t>{0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23}));
  // Read with conversion, as HDF5 allows between integer types.
  EXPECT_EQ(grid.read<std::uint64_t>().back(), 23u);

  h5::dataset fixed = in.open_dataset("fixed");
  EXPECT_TRUE(fixed.holds<std::uint64_t>());
  EXPECT_EQ(fixed.read<std::uint64_t>(), (std::vector<std::uint64_t>{7, 1ull << 40}));

  h5::dataset nothing = in.open_dataset("nothing");
  EXPECT_EQ(nothing.dims(), std::vector<hsize_t>{0});
  EXPECT_TRUE(nothing.read<std::uint64_t>().empty());
}

TEST_F(Hdf5Test, ReadsFixedLengthStringAttributes) {
  // h5py and other writers may store fixed-length strings; the reader accepts both kinds.
  const fs::path path = directory_ / "strings.h5";
  {
    h5::file out = h5::file::create_parallel(path, comm_);
    const hid_t type = H5Tcopy(H5T_C_S1);
    ASSERT_GE(H5Tset_size(type, 8), 0);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t attribute = H5Acreate2(out.id(), "padded", type, space, H5P_DEFAULT, H5P_DEFAULT);
    const char text[8] = {'b', 'y', '_', 'i', 'd', '\0', '\0', '\0'};
    ASSERT_GE(H5Awrite(attribute, type, text), 0);
    H5Aclose(attribute);
    H5Sclose(space);
    H5Tclose(type);
  }
  const h5::file in = h5::file::open_read_only(path);
  EXPECT_EQ(in.read_string_attribute("padded"), "by_id");
}

TEST_F(Hdf5Test, HandlesCloseOnceAndMove) {
  const fs::path path = directory_ / "moves.h5";
  h5::file out = h5::file::create_parallel(path, comm_);
  const std::array<hsize_t, 1> one{1};
  h5::dataset first = out.create_fixed_dataset<double>("x", one);
  const hid_t id = first.id();
  EXPECT_GT(H5Iis_valid(id), 0);

  h5::dataset second = std::move(first);
  EXPECT_FALSE(first.is_open());  // NOLINT(bugprone-use-after-move): the moved-from state is the point
  EXPECT_EQ(second.id(), id);
  EXPECT_EQ(second.path(), "/x");
  {
    h5::dataset third = std::move(second);
    EXPECT_GT(H5Iis_valid(id), 0);
  }
  EXPECT_EQ(H5Iis_valid(id), 0);  // closed exactly once, by the last owner

  h5::handle space(H5Screate(H5S_SCALAR), H5Sclose);
  const hid_t space_id = space.id();
  h5::handle other;
  other = std::move(space);
  EXPECT_EQ(other.id(), space_id);
  EXPECT_TRUE(other.release());
  EXPECT_FALSE(other.is_open());
  EXPECT_EQ(H5Iis_valid(space_id), 0);
  EXPECT_TRUE(other.release());  // nothing left to close
}

TEST_F(Hdf5Test, MissingDirectoryIsOneLineNamingFileAndOperation) {
  const fs::path path = directory_ / "no-such-directory" / "spikes.h5";
  ::testing::internal::CaptureStderr();
  try {
    h5::file::create_parallel(path, comm_);
    FAIL() << "created a file in a missing directory";
  } catch (const io_error& error) {
    const std::string message = error.what();
    std::cout << "    message: " << message << "\n";
    EXPECT_EQ(message.rfind(path.string() + ": cannot create file", 0), 0u) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  // The HDF5 error stack is in the message, not on stderr.
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST_F(Hdf5Test, ErrorsNameTheObject) {
  const fs::path path = directory_ / "errors.h5";
  h5::file out = h5::file::create_parallel(path, comm_);
  h5::group spikes = out.create_group("spikes");
  try {
    spikes.create_group("L23E");
    spikes.create_group("L23E");
    FAIL() << "created a group twice";
  } catch (const io_error& error) {
    EXPECT_EQ(std::string(error.what()).rfind(path.string() + ": cannot create group /spikes/L23E", 0), 0u)
        << error.what();
  }
  try {
    const std::array<hsize_t, 1> empty{0}, chunk{16};
    spikes.create_extendible_dataset<double>("L23E/timestamps", empty, chunk);
    spikes.create_extendible_dataset<double>("L23E/timestamps", empty, chunk);
    FAIL() << "created a dataset twice";
  } catch (const io_error& error) {
    EXPECT_EQ(std::string(error.what()).rfind(path.string() + ": cannot create dataset /spikes/L23E/timestamps", 0),
              0u)
        << error.what();
  }
  try {
    out.open_dataset("missing");
    FAIL() << "opened a missing dataset";
  } catch (const io_error& error) {
    EXPECT_EQ(std::string(error.what()).rfind(path.string() + ": cannot open dataset /missing", 0), 0u)
        << error.what();
  }
  try {
    out.read_attribute<std::uint32_t>("magic");
    FAIL() << "read a missing attribute";
  } catch (const io_error& error) {
    EXPECT_EQ(std::string(error.what()).rfind(path.string() + ": cannot open attribute magic of /", 0), 0u)
        << error.what();
  }
  // A wrong number of values for the selected block is refused before HDF5 sees it.
  const std::array<hsize_t, 1> two{2};
  h5::dataset fixed = out.create_fixed_dataset<double>("fixed", two);
  const std::vector<double> three_values{1, 2, 3};
  const std::array<hsize_t, 1> origin{0};
  EXPECT_THROW(fixed.write_collective(view(three_values), origin, two), io_error);
}

TEST_F(Hdf5Test, OpeningSomethingElseIsAnIoError) {
  const fs::path path = directory_ / "not-hdf5.h5";
  std::ofstream(path) << "plain text\n";
  EXPECT_THROW(h5::file::open_read_only(path), io_error);
  EXPECT_THROW(h5::file::open_read_only(directory_ / "missing.h5"), io_error);
  try {
    h5::file::open_read_only(path, comm_);
    FAIL() << "opened a text file";
  } catch (const io_error& error) {
    EXPECT_EQ(std::string(error.what()).rfind(path.string() + ": cannot open file", 0), 0u) << error.what();
  }
}

}  // namespace
}  // namespace myelin
