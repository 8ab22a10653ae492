#include "myelin/io/report_writer.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "myelin/io/hdf5.hpp"
#include "io/partial_file.hpp"

namespace myelin {

namespace {

// About 4 MiB of float32 per chunk: whole rows, as many as fit.
constexpr hsize_t report_chunk_elements = hsize_t(1) << 20;

constexpr std::uint32_t sonata_magic = 0x0A7A;
constexpr std::array<std::uint32_t, 2> sonata_version{0, 1};

// One value of the report on its way to the rank that owns its row.
struct report_cell {
  std::uint64_t row;
  std::uint32_t column;
  float value;
};
static_assert(sizeof(report_cell) == 16);

void validate(const std::string& population, const std::vector<std::uint64_t>& node_ids, double interval_ms) {
  if (population.empty() || population.find('/') != std::string::npos || population == "." || population == "..")
    throw std::invalid_argument("report_writer: bad population name '" + population + "'");
  if (node_ids.size() > std::numeric_limits<std::uint32_t>::max())
    throw std::invalid_argument("report_writer: more than 2^32 - 1 recorded neurons");
  for (std::size_t i = 1; i < node_ids.size(); ++i)
    if (node_ids[i] <= node_ids[i - 1])
      throw std::invalid_argument("report_writer: node ids must be sorted and unique");
  if (!(interval_ms > 0.0) || !std::isfinite(interval_ms))
    throw std::invalid_argument("report_writer: interval must be positive");
}

// Rank 0 writes a small dataset whole; the others take part in the collective write with nothing.
template <h5::element T>
void write_from_rank_zero(h5::dataset& target, const communicator& comm, std::span<const T> values) {
  const hsize_t start = 0;
  const hsize_t count = comm.rank() == 0 ? values.size() : 0;
  target.write_collective(comm.rank() == 0 ? values : std::span<const T>(), std::span<const hsize_t>(&start, 1),
                          std::span<const hsize_t>(&count, 1));
}


}  // namespace

struct report_writer::impl {
  communicator comm;
  std::filesystem::path final_path;
  std::filesystem::path partial_path;
  std::uint64_t n_columns;
  std::uint64_t n_rows;
  // Declared before the dataset, so that it is closed before the file.
  h5::file file;
  h5::dataset data;
  std::vector<report_cell> buffered;
  std::uint64_t rows_written = 0;  // rows [0, rows_written) are in the file
  bool closed = false;

  impl(const communicator& comm_, std::filesystem::path path, const std::string& population,
       const std::vector<std::uint64_t>& node_ids, const std::string& variable, const std::string& units,
       double t_start_ms, double interval_ms, std::uint64_t n_rows_)
      : comm(comm_),
        final_path(std::move(path)),
        partial_path(final_path.string() + ".partial"),
        n_columns(node_ids.size()),
        n_rows(n_rows_),
        file(create_file(population, node_ids, interval_ms)),
        data(create_layout(population, node_ids, variable, units, t_start_ms, interval_ms)) {
    // A file under the final name must be this run's whole output: an older one goes now.
    if (comm.rank() == 0) {
      std::error_code ignored;
      std::filesystem::remove(final_path, ignored);
    }
  }

  // A resumed run: continues the existing file, without its rows >= resume_row.
  impl(const communicator& comm_, std::filesystem::path path, const std::string& population,
       const std::vector<std::uint64_t>& node_ids, const std::string& variable, const std::string& units,
       double t_start_ms, double interval_ms, std::uint64_t n_rows_, std::uint64_t resume_row)
      : comm(comm_),
        final_path(std::move(path)),
        partial_path(final_path.string() + ".partial"),
        n_columns(node_ids.size()),
        n_rows(n_rows_),
        file(reopen_file(population, node_ids, variable, units, t_start_ms, interval_ms, resume_row)),
        data(file.open_dataset("/report/" + population + "/data")),
        rows_written(resume_row) {}

  // Rank 0 checks the file and drops the rows >= resume_row; then every rank opens it, or every
  // rank throws the same io_error.
  h5::file reopen_file(const std::string& population, const std::vector<std::uint64_t>& node_ids,
                       const std::string& variable, const std::string& units, double t_start_ms,
                       double interval_ms, std::uint64_t resume_row) {
    validate(population, node_ids, interval_ms);
    if (resume_row > n_rows)
      throw std::out_of_range("report_writer: resume row " + std::to_string(resume_row) + " of a report with " +
                              std::to_string(n_rows) + " rows");
    std::string problem;
    if (comm.rank() == 0) {
      try {
        io_detail::prepare_resumed_file(final_path, partial_path, "report", [&](const std::filesystem::path& existing) {
          check_resumable(existing, population, node_ids, variable, units, t_start_ms, interval_ms, resume_row);
        });
        drop_rows_not_kept(population, resume_row, t_start_ms, interval_ms);
      } catch (const std::exception& error) {
        problem = error.what();
      }
    }
    problem = comm.broadcast(problem);
    if (!problem.empty()) throw io_error(problem);
    return h5::file::open_read_write(partial_path, comm);
  }

  // Rank 0: `existing` must be this report (layout, columns, start time, interval) with at least
  // resume_row rows.
  void check_resumable(const std::filesystem::path& existing, const std::string& population,
                       const std::vector<std::uint64_t>& node_ids, const std::string& variable,
                       const std::string& units, double t_start_ms, double interval_ms,
                       std::uint64_t resume_row) const {
    const std::string name = existing.string();
    const auto refuse = [&](const std::string& problem) {
      throw io_error(name + ": cannot resume the report (" + problem + ")");
    };
    const h5::file old = h5::file::open_read_only(existing);
    if (!old.has_attribute("magic") || !old.attribute_holds<std::uint32_t>("magic") ||
        old.read_attribute<std::uint32_t>("magic") != std::vector<std::uint32_t>{sonata_magic})
      refuse("not a SONATA file");
    const std::string base = "/report/" + population;
    if (old.kind_of("report") != h5::member_kind::group ||
        old.open_group("report").kind_of(population) != h5::member_kind::group)
      refuse("no group " + base);
    const h5::group group = old.open_group(base);
    if (group.kind_of("data") != h5::member_kind::dataset || group.kind_of("mapping") != h5::member_kind::group)
      refuse("no data or mapping in " + base);
    const h5::dataset rows = group.open_dataset("data");
    const std::vector<hsize_t> shape = rows.dims();
    if (!rows.holds<float>() || shape.size() != 2 || shape[1] != n_columns)
      refuse(base + "/data is not float32 with " + std::to_string(n_columns) + " columns");
    if (shape[0] < resume_row)
      refuse("it has " + std::to_string(shape[0]) + " rows, the resumed run starts at row " +
             std::to_string(resume_row));
    if (!rows.has_attribute("variable_name") || rows.read_string_attribute("variable_name") != variable ||
        !rows.has_attribute("units") || rows.read_string_attribute("units") != units)
      refuse("another variable or unit");
    const h5::group mapping = group.open_group("mapping");
    if (mapping.kind_of("node_ids") != h5::member_kind::dataset || mapping.kind_of("time") != h5::member_kind::dataset)
      refuse("no mapping/node_ids or mapping/time");
    const h5::dataset ids = mapping.open_dataset("node_ids");
    if (!ids.holds<std::uint64_t>() || ids.read<std::uint64_t>() != node_ids) refuse("other recorded neurons");
    const h5::dataset times = mapping.open_dataset("time");
    // The stop time may differ: a resumed run may go on longer (or stop sooner) than the first.
    const std::vector<double> time = times.holds<double>() ? times.read<double>() : std::vector<double>();
    if (time.size() != 3 || time[0] != t_start_ms || time[2] != interval_ms) refuse("another start time or interval");
  }

  // Rank 0, with the file to itself: shrinks the data set to resume_row rows and sets the stop
  // time to this run's. One process does it: HDF5 rewrites the cut chunk on every process that
  // shrinks.
  void drop_rows_not_kept(const std::string& population, std::uint64_t resume_row, double t_start_ms,
                          double interval_ms) const {
    h5::file partial = h5::file::open_read_write(partial_path);
    {
      h5::dataset rows = partial.open_dataset("/report/" + population + "/data");
      const std::array<hsize_t, 2> kept{resume_row, n_columns};
      if (rows.dims() != std::vector<hsize_t>(kept.begin(), kept.end())) rows.set_extent(kept);
      h5::dataset times = partial.open_dataset("/report/" + population + "/mapping/time");
      const std::array<double, 3> time{t_start_ms, t_start_ms + double(n_rows) * interval_ms, interval_ms};
      const hsize_t start = 0;
      const hsize_t count = time.size();
      times.write(std::span<const double>(time), std::span<const hsize_t>(&start, 1),
                  std::span<const hsize_t>(&count, 1));
    }
    partial.close();  // reports a failure to write the change, unlike the destructor
  }

  h5::file create_file(const std::string& population, const std::vector<std::uint64_t>& node_ids,
                       double interval_ms) {
    validate(population, node_ids, interval_ms);
    return h5::file::create_parallel(partial_path, comm);
  }

  // Everything but the data rows; returns the (still empty) data set.
  h5::dataset create_layout(const std::string& population, const std::vector<std::uint64_t>& node_ids,
                            const std::string& variable, const std::string& units, double t_start_ms,
                            double interval_ms) {
    file.write_attribute("magic", sonata_magic);
    file.write_attribute("version", std::span<const std::uint32_t>(sonata_version));
    h5::group report_group = file.create_group("report");
    h5::group population_group = report_group.create_group(population);

    const std::array<hsize_t, 2> no_rows{0, n_columns};
    const hsize_t chunk_columns = std::clamp<hsize_t>(n_columns, 1, report_chunk_elements);
    const hsize_t chunk_rows =
        std::clamp<hsize_t>(report_chunk_elements / chunk_columns, 1, std::max<hsize_t>(n_rows, 1));
    const std::array<hsize_t, 2> chunk{chunk_rows, chunk_columns};
    h5::dataset rows = population_group.create_extendible_dataset<float>("data", no_rows, chunk);
    rows.write_attribute("units", units);
    rows.write_attribute("variable_name", variable);

    h5::group mapping = population_group.create_group("mapping");
    const hsize_t n = n_columns;
    const hsize_t n_pointers = n_columns + 1;
    h5::dataset ids = mapping.create_fixed_dataset<std::uint64_t>("node_ids", std::span<const hsize_t>(&n, 1));
    write_from_rank_zero(ids, comm, std::span<const std::uint64_t>(node_ids));
    ids.write_attribute("sorted", std::uint8_t{1});  // libsonata then skips sorting them

    // One element (the soma) per neuron: neuron i's values are column i.
    std::vector<std::uint64_t> index_pointers(n_pointers);
    std::iota(index_pointers.begin(), index_pointers.end(), std::uint64_t(0));
    h5::dataset pointers =
        mapping.create_fixed_dataset<std::uint64_t>("index_pointers", std::span<const hsize_t>(&n_pointers, 1));
    write_from_rank_zero(pointers, comm, std::span<const std::uint64_t>(index_pointers));
    index_pointers = {};

    const std::vector<std::uint32_t> element_ids(n_columns, 0);
    h5::dataset elements = mapping.create_fixed_dataset<std::uint32_t>("element_ids", std::span<const hsize_t>(&n, 1));
    write_from_rank_zero(elements, comm, std::span<const std::uint32_t>(element_ids));

    const std::array<double, 3> time{t_start_ms, t_start_ms + double(n_rows) * interval_ms, interval_ms};
    const hsize_t three = time.size();
    h5::dataset times = mapping.create_fixed_dataset<double>("time", std::span<const hsize_t>(&three, 1));
    write_from_rank_zero(times, comm, std::span<const double>(time));
    times.write_attribute("units", "ms");
    return rows;
  }

  void append(std::uint64_t row, std::span<const std::uint32_t> columns, std::span<const float> values) {
    if (closed) throw std::logic_error("report_writer: append after close (" + final_path.string() + ")");
    if (columns.size() != values.size())
      throw std::invalid_argument("report_writer: " + std::to_string(columns.size()) + " columns but " +
                                  std::to_string(values.size()) + " values");
    if (row >= n_rows)
      throw std::out_of_range("report_writer: row " + std::to_string(row) + " of a report with " +
                              std::to_string(n_rows) + " rows");
    if (row < rows_written)
      throw std::logic_error("report_writer: row " + std::to_string(row) + " appended after it was written");
    for (std::uint32_t column : columns)
      if (column >= n_columns)
        throw std::out_of_range("report_writer: column " + std::to_string(column) + " of a report with " +
                                std::to_string(n_columns) + " columns");
    buffered.reserve(buffered.size() + columns.size());
    for (std::size_t i = 0; i < columns.size(); ++i) buffered.push_back({row, columns[i], values[i]});
  }

  void flush(std::uint64_t up_to_row) {
    if (closed) throw std::logic_error("report_writer: flush after close (" + final_path.string() + ")");
    const std::uint64_t window_end = std::min(up_to_row, n_rows);
    if (window_end <= rows_written) return;  // the same on every rank: no communication

    // Rows [rows_written, window_end) in `size` contiguous blocks, one per rank.
    const auto ranks = std::uint64_t(comm.size());
    const std::uint64_t window_rows = window_end - rows_written;
    const std::uint64_t rows_per_rank = window_rows / ranks + (window_rows % ranks != 0 ? 1 : 0);
    const auto owner = [&](std::uint64_t row) { return std::size_t((row - rows_written) / rows_per_rank); };

    const auto due_end = std::partition(buffered.begin(), buffered.end(),
                                        [&](const report_cell& cell) { return cell.row < window_end; });
    const std::span<const report_cell> due(buffered.data(), std::size_t(due_end - buffered.begin()));
    std::vector<std::int64_t> send_counts(ranks, 0);
    for (const report_cell& cell : due) ++send_counts[owner(cell.row)];
    std::vector<std::size_t> send_offsets(ranks, 0);
    std::exclusive_scan(send_counts.begin(), send_counts.end(), send_offsets.begin(), std::size_t(0));
    std::vector<report_cell> send(due.size());
    for (const report_cell& cell : due) send[send_offsets[owner(cell.row)]++] = cell;
    // Only later rows stay; the memory of the written ones is given back.
    buffered.erase(buffered.begin(), due_end);
    buffered.shrink_to_fit();

    std::vector<std::int64_t> receive_counts;
    const std::vector<report_cell> received = comm.alltoallv<report_cell>(send, send_counts, receive_counts);
    send = {};

    const auto rank = std::uint64_t(comm.rank());
    const std::uint64_t first_row = std::min(window_end, rows_written + rank * rows_per_rank);
    const std::uint64_t end_row = std::min(window_end, first_row + rows_per_rank);
    const std::uint64_t owned_rows = end_row - first_row;
    std::vector<float> block(owned_rows * n_columns, std::numeric_limits<float>::quiet_NaN());
    std::vector<bool> filled(block.size(), false);
    std::string problem;
    for (const report_cell& cell : received) {
      const std::size_t at = std::size_t((cell.row - first_row) * n_columns + cell.column);
      if (filled[at] && problem.empty())
        problem = "row " + std::to_string(cell.row) + ", column " + std::to_string(cell.column) + " given twice";
      filled[at] = true;
      block[at] = cell.value;
    }
    if (problem.empty()) {
      const auto missing = std::find(filled.begin(), filled.end(), false);
      if (missing != filled.end()) {
        const auto at = std::uint64_t(missing - filled.begin());
        problem = "row " + std::to_string(first_row + at / n_columns) + ", column " +
                  std::to_string(at % n_columns) + " missing";
      }
    }
    // Every rank must stop together, or the others would wait in the write below.
    if (comm.any(!problem.empty()))
      throw std::logic_error("report_writer " + partial_path.string() + ": incomplete rows before row " +
                             std::to_string(window_end) + " (" +
                             (problem.empty() ? std::string("on another rank") : problem) + ")");

    const std::array<hsize_t, 2> extent{window_end, n_columns};
    data.set_extent(extent);
    const std::array<hsize_t, 2> start{first_row, 0};
    const std::array<hsize_t, 2> count{owned_rows, n_columns};
    data.write_collective(std::span<const float>(block), start, count);
    rows_written = window_end;
    // HDF5 keeps the file's structure (the data set's extent, its chunk index) in memory until
    // told: on disk, the .partial file of a run killed now holds what was flushed.
    file.flush();
  }

  void close() {
    if (closed) return;
    flush(n_rows);
    data.close();
    file.close();  // collective: every rank's rows are in the file afterwards
    closed = true;
    io_detail::publish_partial_file(comm, partial_path, final_path);
  }
};

report_writer::report_writer(const communicator& comm, std::filesystem::path path, std::string population,
                             std::vector<std::uint64_t> node_ids, std::string variable, std::string units,
                             double t_start_ms, double interval_ms, std::uint64_t n_rows)
    : impl_(std::make_unique<impl>(comm, std::move(path), population, node_ids, variable, units, t_start_ms,
                                   interval_ms, n_rows)) {}

report_writer::report_writer(const communicator& comm, std::filesystem::path path, std::string population,
                             std::vector<std::uint64_t> node_ids, std::string variable, std::string units,
                             double t_start_ms, double interval_ms, std::uint64_t n_rows, std::uint64_t resume_row)
    : impl_(std::make_unique<impl>(comm, std::move(path), population, node_ids, variable, units, t_start_ms,
                                   interval_ms, n_rows, resume_row)) {}

// Without close() (an error path) the handles are closed and only the .partial file remains.
report_writer::~report_writer() = default;

void report_writer::append(std::uint64_t row, std::span<const std::uint32_t> columns, std::span<const float> values) {
  impl_->append(row, columns, values);
}

void report_writer::flush(std::uint64_t up_to_row) { impl_->flush(up_to_row); }

void report_writer::close() { impl_->close(); }

}  // namespace myelin
