// report_writer under mpirun -np 1, 2 and 4: every rank hands in the values of its own columns
// (a decomposition-dependent share), rows in scrambled order and across several flushes; rank 0
// then reads the file with the plain HDF5 API and compares every value with the canonical
// content, which is the same for any number of ranks. A run resumed from a checkpoint continues
// the file of the stopped run and ends with the file of an unbroken run.
#include "myelin/io/report_writer.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "myelin/io/hdf5.hpp"  // io_error
#include "mpi/scratch_directory.hpp"

namespace myelin {
namespace {

namespace fs = std::filesystem;

constexpr double t_start_ms = 0.1;
constexpr double interval_ms = 0.5;

using test::fresh_path;
using test::scratch_directory;  // shared by all ranks, one per job


bool final_exists(const fs::path& path) { return fs::exists(path); }
bool partial_exists(const fs::path& path) { return fs::exists(path.string() + ".partial"); }

// The canonical value of (row, column): exact in float, different everywhere.
float value_at(std::uint64_t row, std::uint32_t column) { return -65.0f + float(row) * 0.25f + float(column) / 64.0f; }

// This rank's columns: those whose node id is rank modulo size.
std::vector<std::uint32_t> my_columns(const communicator& comm, const std::vector<std::uint64_t>& node_ids) {
  std::vector<std::uint32_t> columns;
  for (std::uint32_t c = 0; c < node_ids.size(); ++c)
    if (node_ids[c] % std::uint64_t(comm.size()) == std::uint64_t(comm.rank())) columns.push_back(c);
  return columns;
}

// Appends rows [first, end) of this rank's columns: rows scrambled, each row in two appends with
// the columns scrambled. A non-zero `offset` makes the values wrong (stale rows of a stopped run).
void append_rows(report_writer& writer, const communicator& comm, const std::vector<std::uint64_t>& node_ids,
                 std::uint64_t first, std::uint64_t end, float offset = 0.0f) {
  std::vector<std::uint64_t> rows(end - first);
  std::iota(rows.begin(), rows.end(), first);
  std::mt19937_64 scramble(std::uint64_t(comm.rank()) * 104729u + first);
  std::shuffle(rows.begin(), rows.end(), scramble);
  for (const std::uint64_t row : rows) {
    std::vector<std::uint32_t> columns = my_columns(comm, node_ids);
    std::shuffle(columns.begin(), columns.end(), scramble);
    std::vector<float> values;
    for (const std::uint32_t column : columns) values.push_back(value_at(row, column) + offset);
    const std::size_t half = columns.size() / 2;
    writer.append(row, std::span<const std::uint32_t>(columns).subspan(0, half),
                  std::span<const float>(values).subspan(0, half));
    writer.append(row, std::span<const std::uint32_t>(columns).subspan(half),
                  std::span<const float>(values).subspan(half));
  }
}

// --- reading with the plain HDF5 API ---

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

// A dataset whose stored type must equal `type`; its shape goes to `dims`.
template <class T>
std::vector<T> read_all(hid_t file, const std::string& path, hid_t type, std::vector<hsize_t>& dims) {
  const hid_t dataset = H5Dopen2(file, path.c_str(), H5P_DEFAULT);
  EXPECT_GE(dataset, 0) << path;
  if (dataset < 0) return {};
  const hid_t stored = H5Dget_type(dataset);
  EXPECT_GT(H5Tequal(stored, type), 0) << path << " has the wrong element type";
  const hid_t space = H5Dget_space(dataset);
  dims.assign(std::size_t(H5Sget_simple_extent_ndims(space)), 0);
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  std::vector<T> values(std::size_t(H5Sget_simple_extent_npoints(space)));
  if (!values.empty()) {
    EXPECT_GE(H5Dread(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), 0) << path;
  }
  H5Sclose(space);
  H5Tclose(stored);
  H5Dclose(dataset);
  return values;
}

std::string dataset_string_attribute(hid_t file, const std::string& path, const char* name) {
  const hid_t dataset = H5Dopen2(file, path.c_str(), H5P_DEFAULT);
  EXPECT_GE(dataset, 0) << path;
  if (dataset < 0) return {};
  std::string value = read_string_attribute(dataset, name);
  H5Dclose(dataset);
  return value;
}

// Rank 0: the file holds the canonical report of `node_ids` over n_rows rows.
void expect_canonical_report(const fs::path& path, const std::string& population,
                             const std::vector<std::uint64_t>& node_ids, std::uint64_t n_rows) {
  ASSERT_TRUE(final_exists(path)) << path;
  EXPECT_FALSE(partial_exists(path));
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0) << path;
  EXPECT_EQ(read_uint32_attribute(file, "magic"), std::vector<std::uint32_t>{0x0A7A});
  EXPECT_EQ(read_uint32_attribute(file, "version"), (std::vector<std::uint32_t>{0, 1}));

  const std::string base = "/report/" + population;
  const std::uint64_t n_columns = node_ids.size();
  std::vector<hsize_t> dims;

  const std::vector<float> data = read_all<float>(file, base + "/data", H5T_NATIVE_FLOAT, dims);
  EXPECT_EQ(dims, (std::vector<hsize_t>{n_rows, n_columns}));
  std::vector<float> expected_data;
  for (std::uint64_t row = 0; row < n_rows; ++row)
    for (std::uint32_t column = 0; column < n_columns; ++column) expected_data.push_back(value_at(row, column));
  EXPECT_EQ(data, expected_data);  // exactly: every value travels unchanged
  EXPECT_EQ(dataset_string_attribute(file, base + "/data", "units"), "mV");

  EXPECT_EQ(read_all<std::uint64_t>(file, base + "/mapping/node_ids", H5T_NATIVE_UINT64, dims), node_ids);
  EXPECT_EQ(dims, std::vector<hsize_t>{n_columns});
  std::vector<std::uint64_t> pointers(n_columns + 1);
  std::iota(pointers.begin(), pointers.end(), std::uint64_t(0));
  EXPECT_EQ(read_all<std::uint64_t>(file, base + "/mapping/index_pointers", H5T_NATIVE_UINT64, dims), pointers);
  EXPECT_EQ(read_all<std::uint32_t>(file, base + "/mapping/element_ids", H5T_NATIVE_UINT32, dims),
            std::vector<std::uint32_t>(n_columns, 0));
  EXPECT_EQ(dims, std::vector<hsize_t>{n_columns});
  EXPECT_EQ(read_all<double>(file, base + "/mapping/time", H5T_NATIVE_DOUBLE, dims),
            (std::vector<double>{t_start_ms, t_start_ms + double(n_rows) * interval_ms, interval_ms}));
  EXPECT_EQ(dataset_string_attribute(file, base + "/mapping/time", "units"), "ms");
  H5Fclose(file);
}

TEST(ReportWriter, FileIsCanonicalForAnyDecomposition) {
  const communicator comm;
  const fs::path path = fresh_path(comm, "report-canonical.h5");
  const std::vector<std::uint64_t> node_ids{0, 3, 4, 9, 15, 16, 40};
  const std::uint64_t n_rows = 37;
  {
    report_writer writer(comm, path, "L23E", node_ids, "v", "mV", t_start_ms, interval_ms, n_rows);
    // Rows up to 3 past each window are handed in early; flush(5) twice and flush(13) after
    // flush(12) leave ranks without rows to write.
    std::uint64_t appended_until = 0;
    for (const std::uint64_t up_to : {5u, 5u, 12u, 13u, 30u}) {
      const std::uint64_t read_ahead = std::min<std::uint64_t>(up_to + 3, n_rows);
      append_rows(writer, comm, node_ids, appended_until, read_ahead);
      appended_until = std::max(appended_until, read_ahead);
      writer.flush(up_to);
      comm.barrier();
      EXPECT_FALSE(final_exists(path)) << "a final file before close()";
      EXPECT_TRUE(partial_exists(path));
    }
    append_rows(writer, comm, node_ids, appended_until, n_rows);
    writer.close();
  }
  if (comm.rank() == 0) expect_canonical_report(path, "L23E", node_ids, n_rows);
  comm.barrier();
}

TEST(ReportWriter, RanksWithoutColumnsStillTakePart) {
  // Two columns: with four ranks, ranks 2 and 3 record nothing.
  const communicator comm;
  const fs::path path = fresh_path(comm, "report-few-columns.h5");
  const std::vector<std::uint64_t> node_ids{4, 5};
  const std::uint64_t n_rows = 9;
  {
    report_writer writer(comm, path, "L4E", node_ids, "v", "mV", t_start_ms, interval_ms, n_rows);
    append_rows(writer, comm, node_ids, 0, n_rows);
    writer.flush(2);
    writer.flush(100);  // past the end: all remaining rows
    writer.close();
  }
  if (comm.rank() == 0) expect_canonical_report(path, "L4E", node_ids, n_rows);
  comm.barrier();
}

TEST(ReportWriter, ReportWithoutColumns) {
  const communicator comm;
  const fs::path path = fresh_path(comm, "report-no-columns.h5");
  {
    report_writer writer(comm, path, "L4E", {}, "v", "mV", t_start_ms, interval_ms, 4);
    writer.close();
  }
  if (comm.rank() == 0) expect_canonical_report(path, "L4E", {}, 4);
  comm.barrier();
}

TEST(ReportWriter, IncompleteRowsStopEveryRankAndLeaveOnlyThePartialFile) {
  const communicator comm;
  const fs::path path = fresh_path(comm, "report-incomplete.h5");
  const std::vector<std::uint64_t> node_ids{1, 2, 3, 4, 5};
  {
    report_writer writer(comm, path, "L23E", node_ids, "v", "mV", t_start_ms, interval_ms, 10);
    append_rows(writer, comm, node_ids, 0, 3);
    writer.flush(3);
    // Rows 3 and 4 lack the column of node 1.
    for (std::uint64_t row = 3; row < 5; ++row)
      for (const std::uint32_t column : my_columns(comm, node_ids))
        if (node_ids[column] != 1) {
          const float value = value_at(row, column);
          writer.append(row, std::span<const std::uint32_t>(&column, 1), std::span<const float>(&value, 1));
        }
    EXPECT_THROW(writer.flush(5), std::logic_error);  // on every rank, so none waits for the others
  }
  comm.barrier();
  EXPECT_FALSE(final_exists(path));
  EXPECT_TRUE(partial_exists(path));
}

TEST(ReportWriter, RefusesBadAppends) {
  const communicator comm;
  const fs::path path = fresh_path(comm, "report-refused.h5");
  const std::vector<std::uint64_t> node_ids{1, 2};
  report_writer writer(comm, path, "L23E", node_ids, "v", "mV", t_start_ms, interval_ms, 4);
  const std::uint32_t column = 0;
  const std::uint32_t outside = 2;
  const float value = 1.0f;
  EXPECT_THROW(writer.append(4, std::span<const std::uint32_t>(&column, 1), std::span<const float>(&value, 1)),
               std::out_of_range);
  EXPECT_THROW(writer.append(0, std::span<const std::uint32_t>(&outside, 1), std::span<const float>(&value, 1)),
               std::out_of_range);
  EXPECT_THROW(writer.append(0, std::span<const std::uint32_t>(&column, 1), std::span<const float>()),
               std::invalid_argument);
  append_rows(writer, comm, node_ids, 0, 4);
  writer.flush(2);
  EXPECT_THROW(writer.append(1, std::span<const std::uint32_t>(&column, 1), std::span<const float>(&value, 1)),
               std::logic_error);
  writer.close();
  EXPECT_THROW(report_writer(comm, path, "L23E", {2, 1}, "v", "mV", t_start_ms, interval_ms, 4),
               std::invalid_argument);
}

// --- resuming after a restart ---

constexpr float stale = 1000.0f;  // offset of the rows a stopped run wrote after its checkpoint

// Rank 0: the data sets of both files are the same, exactly.
void expect_same_data(const fs::path& resumed, const fs::path& unbroken, const std::string& population) {
  const hid_t a = H5Fopen(resumed.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t b = H5Fopen(unbroken.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  std::vector<hsize_t> dims_a;
  std::vector<hsize_t> dims_b;
  const std::string data = "/report/" + population + "/data";
  EXPECT_EQ(read_all<float>(a, data, H5T_NATIVE_FLOAT, dims_a), read_all<float>(b, data, H5T_NATIVE_FLOAT, dims_b));
  EXPECT_EQ(dims_a, dims_b);
  H5Fclose(a);
  H5Fclose(b);
}

TEST(ReportWriter, ResumedRunContinuesTheClosedFileOfTheFirstRun) {
  const communicator comm;
  const fs::path path = fresh_path(comm, "report-resume-closed.h5");
  const fs::path unbroken = fresh_path(comm, "report-resume-closed-unbroken.h5");
  const std::vector<std::uint64_t> node_ids{0, 3, 4, 9, 15, 16, 40};
  const std::uint64_t n_rows = 121;
  {
    report_writer writer(comm, unbroken, "L23E", node_ids, "v", "mV", t_start_ms, interval_ms, n_rows);
    append_rows(writer, comm, node_ids, 0, n_rows);
    writer.close();
  }
  // The first run ended; rows from 60 on differ from what the resumed run computes.
  {
    report_writer writer(comm, path, "L23E", node_ids, "v", "mV", t_start_ms, interval_ms, n_rows);
    append_rows(writer, comm, node_ids, 0, 60);
    append_rows(writer, comm, node_ids, 60, n_rows, stale);
    writer.close();
  }
  {
    report_writer writer(comm, path, "L23E", node_ids, "v", "mV", t_start_ms, interval_ms, n_rows, 60);
    comm.barrier();
    EXPECT_FALSE(final_exists(path));
    EXPECT_TRUE(partial_exists(path));
    const std::uint32_t column = 0;
    const float value = 1.0f;
    EXPECT_THROW(writer.append(59, std::span<const std::uint32_t>(&column, 1), std::span<const float>(&value, 1)),
                 std::logic_error);
    append_rows(writer, comm, node_ids, 60, n_rows);
    writer.close();
  }
  if (comm.rank() == 0) {
    expect_canonical_report(path, "L23E", node_ids, n_rows);
    expect_same_data(path, unbroken, "L23E");
  }
  comm.barrier();
}

TEST(ReportWriter, ResumedRunContinuesThePartialFileOfAKilledRun) {
  const communicator comm;
  const fs::path path = fresh_path(comm, "report-resume-partial.h5");
  const std::vector<std::uint64_t> node_ids{1, 2, 5, 8, 13};
  const std::uint64_t n_rows = 121;
  // Stopped without close() after flushing rows 0..99 (stale from 60 on).
  {
    report_writer writer(comm, path, "L4E", node_ids, "v", "mV", t_start_ms, interval_ms, n_rows);
    append_rows(writer, comm, node_ids, 0, 60);
    append_rows(writer, comm, node_ids, 60, 100, stale);
    writer.flush(100);
  }
  // Resumed at 60 and stopped again after flushing rows 60..79: the file has exactly 80 rows.
  {
    report_writer writer(comm, path, "L4E", node_ids, "v", "mV", t_start_ms, interval_ms, n_rows, 60);
    append_rows(writer, comm, node_ids, 60, 80);
    writer.flush(80);
  }
  comm.barrier();
  if (comm.rank() == 0) {
    const hid_t file = H5Fopen((path.string() + ".partial").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    std::vector<hsize_t> dims;
    const std::vector<float> data = read_all<float>(file, "/report/L4E/data", H5T_NATIVE_FLOAT, dims);
    EXPECT_EQ(dims, (std::vector<hsize_t>{80, node_ids.size()}));
    std::vector<float> expected;
    for (std::uint64_t row = 0; row < 80; ++row)
      for (std::uint32_t column = 0; column < node_ids.size(); ++column) expected.push_back(value_at(row, column));
    EXPECT_EQ(data, expected);
    H5Fclose(file);
  }
  comm.barrier();
  // Resumed at 80 to the end.
  {
    report_writer writer(comm, path, "L4E", node_ids, "v", "mV", t_start_ms, interval_ms, n_rows, 80);
    append_rows(writer, comm, node_ids, 80, n_rows);
    writer.close();
  }
  if (comm.rank() == 0) expect_canonical_report(path, "L4E", node_ids, n_rows);
  comm.barrier();
}

TEST(ReportWriter, ResumedRunMayGoOnLongerThanTheFirst) {
  // The first run ends after 50 rows; restarted from its checkpoint at row 40, the run goes on to
  // 90 rows: the file is the one of a 90-row run.
  const communicator comm;
  const fs::path path = fresh_path(comm, "report-resume-longer.h5");
  const std::vector<std::uint64_t> node_ids{0, 3, 4, 9, 15, 16, 40};
  {
    report_writer writer(comm, path, "L23E", node_ids, "v", "mV", t_start_ms, interval_ms, 50);
    append_rows(writer, comm, node_ids, 0, 40);
    append_rows(writer, comm, node_ids, 40, 50, stale);
    writer.close();
  }
  {
    report_writer writer(comm, path, "L23E", node_ids, "v", "mV", t_start_ms, interval_ms, 90, 40);
    append_rows(writer, comm, node_ids, 40, 90);
    writer.close();
  }
  if (comm.rank() == 0) expect_canonical_report(path, "L23E", node_ids, 90);
  comm.barrier();
}

TEST(ReportWriter, ResumeRefusesMissingOrOtherReportsOnEveryRank) {
  const communicator comm;
  const fs::path path = fresh_path(comm, "report-resume-refused.h5");
  const std::vector<std::uint64_t> node_ids{1, 2, 5};
  const auto message_of = [&](auto&& make) {
    try {
      make();
    } catch (const io_error& error) {
      return std::string(error.what());
    }
    return std::string("no io_error");
  };
  const auto resume = [&](const std::vector<std::uint64_t>& ids, const std::string& variable, std::uint64_t n_rows,
                          std::uint64_t resume_row) {
    report_writer(comm, path, "L23E", ids, variable, "mV", t_start_ms, interval_ms, n_rows, resume_row);
  };
  std::string message = message_of([&] { resume(node_ids, "v", 10, 5); });
  EXPECT_NE(message.find(path.string() + ": no report file to resume"), std::string::npos) << message;
  EXPECT_EQ(comm.broadcast(message), message);

  // A stopped run that flushed 4 of 10 rows.
  {
    report_writer writer(comm, path, "L23E", node_ids, "v", "mV", t_start_ms, interval_ms, 10);
    append_rows(writer, comm, node_ids, 0, 4);
    writer.flush(4);
  }
  message = message_of([&] { resume(node_ids, "v", 10, 5); });
  EXPECT_NE(message.find("it has 4 rows, the resumed run starts at row 5"), std::string::npos) << message;
  EXPECT_EQ(comm.broadcast(message), message);
  message = message_of([&] { resume({1, 2, 6}, "v", 10, 2); });
  EXPECT_NE(message.find("other recorded neurons"), std::string::npos) << message;
  message = message_of([&] { resume(node_ids, "w", 10, 2); });
  EXPECT_NE(message.find("another variable"), std::string::npos) << message;
  message = message_of([&] {
    report_writer(comm, path, "L23E", node_ids, "v", "mV", t_start_ms + interval_ms, interval_ms, 10, 2);
  });
  EXPECT_NE(message.find("another start time or interval"), std::string::npos) << message;
  message = message_of([&] {
    report_writer(comm, path, "L23E", node_ids, "v", "mV", t_start_ms, interval_ms * 2, 10, 2);
  });
  EXPECT_NE(message.find("another start time or interval"), std::string::npos) << message;
  EXPECT_THROW(resume(node_ids, "v", 10, 11), std::out_of_range);
  comm.barrier();
  EXPECT_TRUE(partial_exists(path)) << "a refused file must stay where it was";
  // Resuming at the rows that are there works.
  {
    report_writer writer(comm, path, "L23E", node_ids, "v", "mV", t_start_ms, interval_ms, 10, 4);
    append_rows(writer, comm, node_ids, 4, 10);
    writer.close();
  }
  if (comm.rank() == 0) expect_canonical_report(path, "L23E", node_ids, 10);
  comm.barrier();
}

}  // namespace
}  // namespace myelin
