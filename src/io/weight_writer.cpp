#include "myelin/io/weight_writer.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <utility>

#include "myelin/io/hdf5.hpp"
#include "io/partial_file.hpp"

namespace myelin {

namespace {

namespace fs = std::filesystem;

constexpr std::uint32_t sonata_magic = 0x0A7A;
constexpr std::array<std::uint32_t, 2> sonata_version{0, 1};

// Chunks of the snapshot rows: one row, at most 8 MiB of it (HDF5 refuses chunks over 4 GiB).
constexpr hsize_t max_chunk_columns = hsize_t(1) << 20;
// Per-row datasets (time, statistics) grow in chunks of this many rows.
constexpr hsize_t row_chunk = 1024;
// Snapshot rows are kept until they hold this much of the whole row set, then written at once.
constexpr std::uint64_t snapshot_buffer_bytes = std::uint64_t(16) << 20;
constexpr std::size_t histogram_buffer_rows = 64;

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

bool is_population_name(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos && name != "." && name != "..";
}

weight_recording validated(weight_recording recording) {
  const auto refuse = [](const std::string& problem) { throw std::invalid_argument("weight_writer: " + problem); };
  if (!is_population_name(recording.projection)) refuse("bad projection name '" + recording.projection + "'");
  if (!is_population_name(recording.source_population))
    refuse("bad source population name '" + recording.source_population + "'");
  if (!is_population_name(recording.target_population))
    refuse("bad target population name '" + recording.target_population + "'");
  if (recording.synapse_model.empty()) refuse("no synapse model");
  if (recording.units != "pA" && recording.units != "mV")
    refuse("units must be \"pA\" or \"mV\", not '" + recording.units + "'");
  const std::vector<double>& edges = recording.bin_edges;
  if (edges.size() < 2) refuse("a histogram needs at least two bin edges");
  for (std::size_t k = 0; k < edges.size(); ++k) {
    if (!std::isfinite(edges[k])) refuse("bin edge " + std::to_string(k) + " is not finite");
    if (k > 0 && !(edges[k] > edges[k - 1])) refuse("bin edges must be strictly increasing");
  }
  if (recording.statistics_chunk_edges == 0) refuse("statistics_chunk_edges must be positive");
  return recording;
}

// Rank 0 writes a small block whole; the others take part in the collective write with nothing.
template <h5::element T>
void write_from_rank_zero(h5::dataset& target, const communicator& comm, std::span<const T> values,
                          std::vector<hsize_t> start, std::vector<hsize_t> count) {
  if (comm.rank() != 0) count[0] = 0;
  target.write_collective(comm.rank() == 0 ? values : std::span<const T>(), start, count);
}

// This rank's block [first, first + values.size()) of a 1-D dataset of E elements.
template <h5::element T>
void write_block(h5::dataset& target, std::uint64_t first, std::span<const T> values) {
  const hsize_t start = first;
  const hsize_t count = values.size();
  target.write_collective(values, std::span<const hsize_t>(&start, 1), std::span<const hsize_t>(&count, 1));
}

// A consecutive run of the canonical order, summed in order.
struct chunk_summary {
  std::uint64_t n;
  double sum;
  double m2;  // sum of (w - sum / n)^2
  double min;
  double max;
};
static_assert(sizeof(chunk_summary) == 40 && std::is_trivially_copyable_v<chunk_summary>);

chunk_summary summarize(std::span<const double> values) {
  chunk_summary summary{values.size(), 0.0, 0.0, values.front(), values.front()};
  for (const double w : values) {
    summary.sum += w;
    summary.min = std::min(summary.min, w);
    summary.max = std::max(summary.max, w);
  }
  const double mean = summary.sum / double(summary.n);
  for (const double w : values) summary.m2 += (w - mean) * (w - mean);
  return summary;
}

// One histogram row; on ranks other than 0 only time and the counts are meaningful.
struct histogram_row {
  double time_ms;
  std::vector<std::uint64_t> counts;  // the B bins
  std::uint64_t below = 0;
  std::uint64_t above = 0;
  double mean = not_a_number;
  double standard_deviation = not_a_number;
  double min = not_a_number;
  double max = not_a_number;
};

// The datasets a writer appends to, opened by name in a new or a resumed file.
struct appended_datasets {
  h5::dataset syn_weight;
  h5::dataset snapshot_time;
  h5::dataset snapshot_data;
  h5::dataset histogram_time;
  h5::dataset counts;
  h5::dataset below;
  h5::dataset above;
  h5::dataset mean;
  h5::dataset standard_deviation;
  h5::dataset min;
  h5::dataset max;

  appended_datasets(const h5::file& file, const std::string& projection)
      : syn_weight(file.open_dataset("/edges/" + projection + "/0/syn_weight")),
        snapshot_time(file.open_dataset("/weights/" + projection + "/time")),
        snapshot_data(file.open_dataset("/weights/" + projection + "/data")),
        histogram_time(file.open_dataset("/histograms/" + projection + "/time")),
        counts(file.open_dataset("/histograms/" + projection + "/counts")),
        below(file.open_dataset("/histograms/" + projection + "/below")),
        above(file.open_dataset("/histograms/" + projection + "/above")),
        mean(file.open_dataset("/histograms/" + projection + "/mean")),
        standard_deviation(file.open_dataset("/histograms/" + projection + "/std")),
        min(file.open_dataset("/histograms/" + projection + "/min")),
        max(file.open_dataset("/histograms/" + projection + "/max")) {}

  std::array<h5::dataset*, 8> per_histogram_row() {
    return {&histogram_time, &counts, &below, &above, &mean, &standard_deviation, &min, &max};
  }

  void close() {
    for (h5::dataset* d : {&syn_weight, &snapshot_time, &snapshot_data}) d->close();
    for (h5::dataset* d : per_histogram_row()) d->close();
  }
};

}  // namespace

struct weight_writer::impl {
  communicator comm;
  fs::path final_path;
  fs::path partial_path;
  weight_recording recording;
  edge_order order;
  std::uint64_t n_edges;
  std::uint64_t snapshot_rows_per_write;
  // Declared before the datasets, so that they are closed before it.
  h5::file file;
  appended_datasets datasets;

  std::vector<double> buffered_snapshots;  // this rank's block of each buffered row, row-major
  std::vector<double> buffered_snapshot_times_ms;
  std::uint64_t snapshot_rows_in_file = 0;
  std::vector<histogram_row> buffered_histograms;
  std::uint64_t histogram_rows_in_file = 0;
  double last_snapshot_ms = -std::numeric_limits<double>::infinity();
  double last_histogram_ms = -std::numeric_limits<double>::infinity();
  bool closed = false;

  // A new file, or (resume_time_ms) the stopped run's file reopened and cut at that time.
  impl(const communicator& comm_, fs::path path, weight_recording recording_, std::span<const std::uint64_t> target,
       std::span<const std::uint64_t> source, std::span<const double> delay_ms, std::optional<double> resume_time_ms)
      : comm(comm_),
        final_path(std::move(path)),
        partial_path(final_path.string() + ".partial"),
        recording(validated(std::move(recording_))),
        order(comm, target, source, delay_ms),
        n_edges(order.total_edges()),
        snapshot_rows_per_write(rows_per_write()),
        file(resume_time_ms ? reopen_file(target, source, delay_ms, *resume_time_ms)
                            : h5::file::create_parallel(partial_path, comm)),
        datasets(resume_time_ms ? appended_datasets(file, recording.projection)
                                : create_layout(target, source, delay_ms)) {
    if (!resume_time_ms) {
      // A file under the final name must be this run's whole output: an older one goes now.
      if (comm.rank() == 0) {
        std::error_code ignored;
        fs::remove(final_path, ignored);
      }
      return;
    }
    snapshot_rows_in_file = datasets.snapshot_time.dims()[0];
    histogram_rows_in_file = datasets.histogram_time.dims()[0];
    last_snapshot_ms = last_time(datasets.snapshot_time, snapshot_rows_in_file);
    last_histogram_ms = last_time(datasets.histogram_time, histogram_rows_in_file);
    // syn_weight of the stopped run may be a snapshot that was cut: it gets the latest one kept.
    const std::uint64_t first = order.block_first();
    const std::uint64_t n = order.block_size();
    std::vector<double> latest(n, not_a_number);
    if (snapshot_rows_in_file > 0) {
      const std::array<hsize_t, 2> start{snapshot_rows_in_file - 1, first};
      const std::array<hsize_t, 2> count{1, n};
      latest = datasets.snapshot_data.read_collective<double>(start, count);
    }
    write_block(datasets.syn_weight, first, std::span<const double>(latest));
    file.flush();
  }

  // Enough rows that a write is large, few enough that the buffer stays small. From E alone, not
  // from the blocks: the file's HDF5 operations, and so its bytes, are then the same for any
  // number of ranks.
  std::uint64_t rows_per_write() const {
    return std::clamp<std::uint64_t>(snapshot_buffer_bytes / (sizeof(double) * std::max<std::uint64_t>(n_edges, 1)), 1,
                                     row_chunk);
  }

  std::vector<edge_key> canonical_keys(std::span<const std::uint64_t> target, std::span<const std::uint64_t> source,
                                       std::span<const double> delay_ms) const {
    std::vector<edge_key> local(target.size());
    for (std::size_t i = 0; i < local.size(); ++i) local[i] = {target[i], source[i], delay_ms[i]};
    return order.to_canonical(std::span<const edge_key>(local));
  }

  // The whole file but the rows; returns the datasets rows go to.
  appended_datasets create_layout(std::span<const std::uint64_t> target, std::span<const std::uint64_t> source,
                                  std::span<const double> delay_ms) {
    const std::string& projection = recording.projection;
    const std::uint64_t first = order.block_first();
    const std::uint64_t n = order.block_size();
    const hsize_t all = n_edges;
    const std::span<const hsize_t> edge_dims(&all, 1);
    file.write_attribute("magic", sonata_magic);
    file.write_attribute("version", std::span<const std::uint32_t>(sonata_version));

    {
      std::vector<edge_key> keys = canonical_keys(target, source, delay_ms);
      h5::group edges = file.create_group("edges").create_group(projection);
      std::vector<std::uint64_t> ids(n);
      std::transform(keys.begin(), keys.end(), ids.begin(), [](const edge_key& key) { return key.source; });
      h5::dataset sources = edges.create_fixed_dataset<std::uint64_t>("source_node_id", edge_dims);
      write_block(sources, first, std::span<const std::uint64_t>(ids));
      sources.write_attribute("node_population", recording.source_population);
      std::transform(keys.begin(), keys.end(), ids.begin(), [](const edge_key& key) { return key.target; });
      h5::dataset targets = edges.create_fixed_dataset<std::uint64_t>("target_node_id", edge_dims);
      write_block(targets, first, std::span<const std::uint64_t>(ids));
      targets.write_attribute("node_population", recording.target_population);
      std::iota(ids.begin(), ids.end(), first);
      h5::dataset group_index = edges.create_fixed_dataset<std::uint64_t>("edge_group_index", edge_dims);
      write_block(group_index, first, std::span<const std::uint64_t>(ids));
      ids = {};
      h5::dataset type_ids = edges.create_fixed_dataset<std::uint32_t>("edge_type_id", edge_dims);
      write_block(type_ids, first, std::span<const std::uint32_t>(std::vector<std::uint32_t>(n, 0)));
      h5::dataset group_ids = edges.create_fixed_dataset<std::uint16_t>("edge_group_id", edge_dims);
      write_block(group_ids, first, std::span<const std::uint16_t>(std::vector<std::uint16_t>(n, 0)));

      h5::group attributes = edges.create_group("0");
      std::vector<double> delays(n);
      std::transform(keys.begin(), keys.end(), delays.begin(), [](const edge_key& key) { return key.delay_ms; });
      keys = {};
      h5::dataset delay = attributes.create_fixed_dataset<double>("delay", edge_dims);
      write_block(delay, first, std::span<const double>(delays));
      h5::dataset weights = attributes.create_fixed_dataset<double>("syn_weight", edge_dims);
      std::fill(delays.begin(), delays.end(), not_a_number);  // no snapshot yet
      write_block(weights, first, std::span<const double>(delays));
    }

    const hsize_t no_rows = 0;
    const std::span<const hsize_t> rows_1d(&no_rows, 1);
    const std::span<const hsize_t> chunk_1d(&row_chunk, 1);
    {
      h5::group snapshots = file.create_group("weights").create_group(projection);
      snapshots.write_attribute("source_population", recording.source_population);
      snapshots.write_attribute("target_population", recording.target_population);
      snapshots.write_attribute("synapse_model", recording.synapse_model);
      snapshots.write_attribute("units", recording.units);
      snapshots.create_extendible_dataset<double>("time", rows_1d, chunk_1d).write_attribute("units", "ms");
      const std::array<hsize_t, 2> no_snapshots{0, n_edges};
      const std::array<hsize_t, 2> row{1, std::clamp<hsize_t>(n_edges, 1, max_chunk_columns)};
      snapshots.create_extendible_dataset<double>("data", no_snapshots, row);
    }
    {
      h5::group histograms = file.create_group("histograms").create_group(projection);
      histograms.write_attribute("statistics_chunk_edges", recording.statistics_chunk_edges);
      const std::vector<double>& bin_edges = recording.bin_edges;
      const hsize_t n_bin_edges = bin_edges.size();
      h5::dataset edges =
          histograms.create_fixed_dataset<double>("bin_edges", std::span<const hsize_t>(&n_bin_edges, 1));
      write_from_rank_zero(edges, comm, std::span<const double>(bin_edges), {0}, {n_bin_edges});
      histograms.create_extendible_dataset<double>("time", rows_1d, chunk_1d).write_attribute("units", "ms");
      const hsize_t n_bins = n_bin_edges - 1;
      const std::array<hsize_t, 2> no_counts{0, n_bins};
      const std::array<hsize_t, 2> counts_chunk{std::clamp<hsize_t>(row_chunk * 8 / n_bins, 1, row_chunk), n_bins};
      histograms.create_extendible_dataset<std::uint64_t>("counts", no_counts, counts_chunk);
      for (const char* name : {"below", "above"})
        histograms.create_extendible_dataset<std::uint64_t>(name, rows_1d, chunk_1d);
      for (const char* name : {"mean", "std", "min", "max"})
        histograms.create_extendible_dataset<double>(name, rows_1d, chunk_1d);
    }
    return appended_datasets(file, projection);
  }

  // --- resuming ---

  [[noreturn]] static void refuse(const fs::path& existing, const std::string& problem) {
    throw io_error(existing.string() + ": cannot resume the weight recording (" + problem + ")");
  }

  // Checks the stopped run's file, moves it to .partial and drops the rows not kept; then every
  // rank opens it, or every rank throws the same io_error and the file stays where it was.
  h5::file reopen_file(std::span<const std::uint64_t> target, std::span<const std::uint64_t> source,
                       std::span<const double> delay_ms, double resume_time_ms) {
    if (!std::isfinite(resume_time_ms))
      throw std::invalid_argument("weight_writer: resume time " + std::to_string(resume_time_ms) + " ms is not finite");
    const std::vector<edge_key> keys = canonical_keys(target, source, delay_ms);
    std::string existing;
    std::string problem;
    if (comm.rank() == 0) {
      try {
        existing = file_to_resume().string();
        check_recording(existing);
      } catch (const std::exception& error) {
        problem = error.what();
      }
    }
    problem = comm.broadcast(problem);
    if (!problem.empty()) throw io_error(problem);
    existing = comm.broadcast(existing);
    check_edges(existing, keys);

    if (comm.rank() == 0) {
      try {
        io_detail::prepare_resumed_file(final_path, partial_path, "weight recording", [](const fs::path&) {});
        drop_rows_from(resume_time_ms);
      } catch (const std::exception& error) {
        problem = error.what();
      }
    }
    problem = comm.broadcast(problem);
    if (!problem.empty()) throw io_error(problem);
    return h5::file::open_read_write(partial_path, comm);
  }

  // Rank 0: the .partial file of a killed run, else the completed file of a finished one.
  fs::path file_to_resume() const {
    std::error_code error;
    if (fs::exists(partial_path, error)) return partial_path;
    if (fs::exists(final_path, error)) return final_path;
    throw io_error(final_path.string() + ": no weight recording file to resume (neither it nor " +
                   partial_path.filename().string() + " exists)");
  }

  // Rank 0: `existing` is this recording, with every dataset of the layout in its shape.
  void check_recording(const fs::path& existing) const {
    const auto fail = [&](const std::string& problem) { refuse(existing, problem); };
    const std::string& projection = recording.projection;
    const h5::file old = h5::file::open_read_only(existing);
    if (!old.has_attribute("magic") || !old.attribute_holds<std::uint32_t>("magic") ||
        old.read_attribute<std::uint32_t>("magic") != std::vector<std::uint32_t>{sonata_magic})
      fail("not a SONATA file");
    for (const char* top : {"edges", "weights", "histograms"})
      if (old.kind_of(top) != h5::member_kind::group ||
          old.open_group(top).kind_of(projection) != h5::member_kind::group)
        fail("no group /" + std::string(top) + "/" + projection);
    const h5::group edges = old.open_group("/edges/" + projection);
    const h5::group snapshots = old.open_group("/weights/" + projection);
    const h5::group histograms = old.open_group("/histograms/" + projection);
    if (edges.kind_of("0") != h5::member_kind::group) fail("no group /edges/" + projection + "/0");
    const std::uint64_t n_bins = recording.bin_edges.size() - 1;

    // Each dataset: its element type and shape; rows_free: any number of rows (the first extent).
    const auto require = [&](const h5::location& where, const char* name, auto element, std::vector<hsize_t> shape,
                             bool rows_free = false) -> h5::dataset {
      using T = decltype(element);
      const std::string path = where.path() + "/" + name;
      if (where.kind_of(name) != h5::member_kind::dataset) fail("no dataset " + path);
      h5::dataset found = where.open_dataset(name);
      const std::vector<hsize_t> dims = found.dims();
      if (rows_free && dims.size() == shape.size()) shape[0] = dims[0];
      if (!found.holds<T>() || dims != shape) fail(path + " has another element type or shape than this run's");
      return found;
    };
    const h5::dataset sources = require(edges, "source_node_id", std::uint64_t{}, {n_edges});
    const h5::dataset targets = require(edges, "target_node_id", std::uint64_t{}, {n_edges});
    if (!sources.has_attribute("node_population") ||
        sources.read_string_attribute("node_population") != recording.source_population ||
        !targets.has_attribute("node_population") ||
        targets.read_string_attribute("node_population") != recording.target_population)
      fail("other populations");
    require(edges, "edge_type_id", std::uint32_t{}, {n_edges});
    require(edges, "edge_group_id", std::uint16_t{}, {n_edges});
    require(edges, "edge_group_index", std::uint64_t{}, {n_edges});
    const h5::group attributes = edges.open_group("0");
    require(attributes, "delay", double{}, {n_edges});
    require(attributes, "syn_weight", double{}, {n_edges});

    const std::array<std::pair<const char*, const std::string*>, 4> names{{
        {"source_population", &recording.source_population},
        {"target_population", &recording.target_population},
        {"synapse_model", &recording.synapse_model},
        {"units", &recording.units},
    }};
    for (const auto& [name, expected] : names)
      if (!snapshots.has_attribute(name) || !snapshots.attribute_is_string(name) ||
          snapshots.read_string_attribute(name) != *expected)
        fail("another " + std::string(name) + " than '" + *expected + "'");
    require(snapshots, "time", double{}, {0}, true);
    require(snapshots, "data", double{}, {0, n_edges}, true);

    if (!histograms.has_attribute("statistics_chunk_edges") ||
        histograms.read_attribute<std::uint64_t>("statistics_chunk_edges") !=
            std::vector<std::uint64_t>{recording.statistics_chunk_edges})
      fail("another statistics_chunk_edges");
    const h5::dataset bin_edges = require(histograms, "bin_edges", double{}, {n_bins + 1});
    if (bin_edges.read<double>() != recording.bin_edges) fail("other bin edges");
    require(histograms, "time", double{}, {0}, true);
    require(histograms, "counts", std::uint64_t{}, {0, n_bins}, true);
    for (const char* name : {"below", "above"}) require(histograms, name, std::uint64_t{}, {0}, true);
    for (const char* name : {"mean", "std", "min", "max"}) require(histograms, name, double{}, {0}, true);
  }

  // Collective: the file's edge structure is this run's, compared block by block in canonical order.
  void check_edges(const std::string& existing, const std::vector<edge_key>& keys) const {
    const std::uint64_t first = order.block_first();
    std::int64_t first_difference = std::numeric_limits<std::int64_t>::min();  // none
    {
      const h5::file old = h5::file::open_read_only(existing, comm);
      const std::array<hsize_t, 1> start{first};
      const std::array<hsize_t, 1> count{keys.size()};
      const std::string base = "/edges/" + recording.projection;
      const std::vector<std::uint64_t> sources =
          old.open_dataset(base + "/source_node_id").read_collective<std::uint64_t>(start, count);
      const std::vector<std::uint64_t> targets =
          old.open_dataset(base + "/target_node_id").read_collective<std::uint64_t>(start, count);
      const std::vector<double> delays = old.open_dataset(base + "/0/delay").read_collective<double>(start, count);
      for (std::size_t j = 0; j < keys.size(); ++j)
        if (sources[j] != keys[j].source || targets[j] != keys[j].target || delays[j] != keys[j].delay_ms) {
          first_difference = -std::int64_t(first + j);  // the maximum over ranks is the first edge
          break;
        }
    }
    first_difference = comm.allreduce_max(first_difference);
    if (first_difference != std::numeric_limits<std::int64_t>::min())
      refuse(existing, "its edges differ from this run's, first at edge " + std::to_string(-first_difference) +
                           " in canonical order");
  }

  // Rank 0, with the file to itself: keeps the rows with time < resume_time_ms (rows are in time
  // order), and no row that a killed run left in only some of the datasets.
  void drop_rows_from(double resume_time_ms) const {
    const auto kept_rows = [&](h5::dataset& time, std::initializer_list<h5::dataset*> others) {
      const std::vector<double> times = time.read<double>();
      auto kept = std::uint64_t(std::lower_bound(times.begin(), times.end(), resume_time_ms) - times.begin());
      for (const h5::dataset* other : others) kept = std::min<std::uint64_t>(kept, other->dims()[0]);
      return kept;
    };
    const auto cut = [](h5::dataset& dataset, std::uint64_t rows) {
      std::vector<hsize_t> dims = dataset.dims();
      if (dims[0] == rows) return;
      dims[0] = rows;
      dataset.set_extent(dims);
    };
    h5::file partial = h5::file::open_read_write(partial_path);
    {
      appended_datasets open(partial, recording.projection);
      const std::uint64_t snapshots = kept_rows(open.snapshot_time, {&open.snapshot_data});
      cut(open.snapshot_time, snapshots);
      cut(open.snapshot_data, snapshots);
      const std::array<h5::dataset*, 8> per_row = open.per_histogram_row();
      const std::uint64_t histograms = kept_rows(
          open.histogram_time, {per_row[1], per_row[2], per_row[3], per_row[4], per_row[5], per_row[6], per_row[7]});
      for (h5::dataset* d : per_row) cut(*d, histograms);
      open.close();
    }
    partial.close();  // reports a failure to write the change, unlike the destructor
  }

  // Collective: the time of row `rows` - 1, or -infinity for no rows.
  static double last_time(const h5::dataset& time, std::uint64_t rows) {
    if (rows == 0) return -std::numeric_limits<double>::infinity();
    const std::array<hsize_t, 1> start{rows - 1};
    const std::array<hsize_t, 1> count{1};
    return time.read_collective<double>(start, count)[0];
  }

  // --- rows ---

  // Collective: refuses, on every rank alike, what any rank got wrong.
  void check_row(double time_ms, std::span<const double> weights, bool snapshot, bool histogram) const {
    if (closed) throw std::logic_error("weight_writer: write after close (" + final_path.string() + ")");
    const bool wrong_size = weights.size() != order.local_edges();
    const auto bad_weight = std::find_if(weights.begin(), weights.end(), [](double w) { return !std::isfinite(w); });
    const bool bad_time = !std::isfinite(time_ms);
    std::array<double, 5> verdicts{bad_time ? 0.0 : time_ms, bad_time ? 0.0 : -time_ms, wrong_size ? 1.0 : 0.0,
                                   bad_weight != weights.end() ? 1.0 : 0.0, bad_time ? 1.0 : 0.0};
    comm.allreduce_max(std::span<double>(verdicts));
    const std::string where = "weight_writer " + partial_path.string() + ": ";
    if (verdicts[4] != 0.0)
      throw std::invalid_argument(where + (bad_time ? "time " + std::to_string(time_ms) + " ms is not finite"
                                                    : std::string("a time that is not finite on another rank")));
    if (verdicts[0] != -verdicts[1])
      throw std::invalid_argument(where + "the ranks pass different times (" + std::to_string(-verdicts[1]) + " to " +
                                  std::to_string(verdicts[0]) + " ms)");
    if (verdicts[2] != 0.0)
      throw std::invalid_argument(where + (wrong_size ? std::to_string(weights.size()) + " weights for " +
                                                            std::to_string(order.local_edges()) + " synapses"
                                                      : std::string("wrong number of weights on another rank")));
    if (verdicts[3] != 0.0)
      throw std::invalid_argument(
          where + (bad_weight != weights.end()
                       ? "weight " + std::to_string(bad_weight - weights.begin()) + " is " + std::to_string(*bad_weight)
                       : std::string("a weight that is not finite on another rank")));
    const auto require_later = [&](double previous_ms, const char* what) {
      if (!(time_ms > previous_ms))
        throw std::invalid_argument(where + what + " at " + std::to_string(time_ms) +
                                    " ms is not later than the previous one at " + std::to_string(previous_ms) + " ms");
    };
    if (snapshot) require_later(last_snapshot_ms, "snapshot");
    if (histogram) require_later(last_histogram_ms, "histogram");
  }

  void write(double time_ms, std::span<const double> weights, bool snapshot, bool histogram) {
    check_row(time_ms, weights, snapshot, histogram);
    const std::vector<double> block = order.to_canonical(weights);
    if (snapshot) {
      buffered_snapshots.insert(buffered_snapshots.end(), block.begin(), block.end());
      buffered_snapshot_times_ms.push_back(time_ms);
      last_snapshot_ms = time_ms;
      if (buffered_snapshot_times_ms.size() >= snapshot_rows_per_write) write_snapshots();
    }
    if (histogram) {
      buffered_histograms.push_back(histogram_of(time_ms, weights, block));
      last_histogram_ms = time_ms;
      if (buffered_histograms.size() >= histogram_buffer_rows) write_histograms();
    }
  }

  // Collective. Counts come from the local weights (integers: any order gives the same sums);
  // the statistics from the canonical block, in chunks of statistics_chunk_edges.
  histogram_row histogram_of(double time_ms, std::span<const double> weights, const std::vector<double>& block) const {
    const std::vector<double>& edges = recording.bin_edges;
    const std::size_t n_bins = edges.size() - 1;
    std::vector<std::uint64_t> tallies(n_bins + 2, 0);  // the bins, then below and above
    for (const double w : weights) {
      if (w < edges.front()) {
        ++tallies[n_bins];
      } else if (w > edges.back()) {
        ++tallies[n_bins + 1];
      } else {
        // edges[k] <= w < edges[k + 1]; w == edges.back() goes to the last bin.
        const auto k = std::size_t(std::upper_bound(edges.begin(), edges.end(), w) - edges.begin()) - 1;
        ++tallies[std::min(k, n_bins - 1)];
      }
    }
    comm.allreduce_sum(std::span<std::uint64_t>(tallies));
    histogram_row row{time_ms, std::vector<std::uint64_t>(tallies.begin(), tallies.begin() + std::ptrdiff_t(n_bins))};
    row.below = tallies[n_bins];
    row.above = tallies[n_bins + 1];

    const std::vector<chunk_summary> chunks = chunk_summaries(block);
    std::vector<std::int64_t> send_counts(std::size_t(comm.size()), 0);
    send_counts[0] = std::int64_t(chunks.size());
    std::vector<std::int64_t> receive_counts;
    // Rank 0 gets every rank's chunks in rank order, which is chunk order.
    const std::vector<chunk_summary> all = comm.alltoallv<chunk_summary>(chunks, send_counts, receive_counts);
    if (comm.rank() == 0 && !all.empty()) {
      chunk_summary total = all.front();
      for (std::size_t c = 1; c < all.size(); ++c) {
        const chunk_summary& next = all[c];
        const double delta = next.sum / double(next.n) - total.sum / double(total.n);
        const std::uint64_t n = total.n + next.n;
        total.m2 = total.m2 + next.m2 + delta * delta * (double(total.n) * double(next.n) / double(n));
        total.sum = total.sum + next.sum;
        total.n = n;
        total.min = std::min(total.min, next.min);
        total.max = std::max(total.max, next.max);
      }
      row.mean = total.sum / double(n_edges);
      row.standard_deviation = std::sqrt(total.m2 / double(n_edges));
      row.min = total.min;
      row.max = total.max;
    }
    return row;
  }

  // Collective: the summaries of the chunks that start in this rank's block. A chunk that runs
  // past the block's end is completed with the heads of the following blocks, sent here.
  std::vector<chunk_summary> chunk_summaries(const std::vector<double>& block) const {
    const std::uint64_t chunk = recording.statistics_chunk_edges;
    const std::uint64_t first = order.block_first();
    const std::uint64_t end = first + block.size();
    const std::span<const std::uint64_t> starts = order.block_starts();
    // [first, head_end) belongs to a chunk that started on an earlier rank.
    const std::uint64_t head_end = first % chunk == 0 ? first : std::min(end, (first / chunk + 1) * chunk);
    std::vector<std::int64_t> send_counts(std::size_t(comm.size()), 0);
    if (head_end > first) {
      const std::uint64_t chunk_start = first / chunk * chunk;
      const auto owner = std::size_t(std::upper_bound(starts.begin(), starts.end(), chunk_start) - starts.begin()) - 1;
      send_counts[owner] = std::int64_t(head_end - first);
    }
    std::vector<std::int64_t> receive_counts;
    const std::vector<double> tails = comm.alltoallv<double>(
        std::span<const double>(block).subspan(0, std::size_t(head_end - first)), send_counts, receive_counts);

    std::vector<double> values(block.begin() + std::ptrdiff_t(head_end - first), block.end());
    values.insert(values.end(), tails.begin(), tails.end());
    std::vector<chunk_summary> summaries;
    for (std::size_t at = 0; at < values.size(); at += chunk)
      summaries.push_back(
          summarize(std::span<const double>(values).subspan(at, std::min<std::size_t>(chunk, values.size() - at))));
    return summaries;
  }

  void write_snapshots() {
    const std::uint64_t rows = buffered_snapshot_times_ms.size();
    if (rows == 0) return;  // the same on every rank
    const std::uint64_t first_row = snapshot_rows_in_file;
    const std::uint64_t total_rows = first_row + rows;
    const std::array<hsize_t, 1> time_extent{total_rows};
    datasets.snapshot_time.set_extent(time_extent);
    write_from_rank_zero(datasets.snapshot_time, comm, std::span<const double>(buffered_snapshot_times_ms), {first_row},
                         {rows});
    const std::array<hsize_t, 2> extent{total_rows, n_edges};
    datasets.snapshot_data.set_extent(extent);
    const std::uint64_t n = order.block_size();
    const std::array<hsize_t, 2> start{first_row, order.block_first()};
    const std::array<hsize_t, 2> count{rows, n};
    datasets.snapshot_data.write_collective(std::span<const double>(buffered_snapshots), start, count);
    write_block(datasets.syn_weight, order.block_first(),
                std::span<const double>(buffered_snapshots).subspan(std::size_t((rows - 1) * n)));
    snapshot_rows_in_file = total_rows;
    buffered_snapshots.clear();
    buffered_snapshot_times_ms.clear();
  }

  void write_histograms() {
    const std::uint64_t rows = buffered_histograms.size();
    if (rows == 0) return;  // the same on every rank
    const std::uint64_t first_row = histogram_rows_in_file;
    const std::uint64_t total_rows = first_row + rows;
    const std::uint64_t n_bins = recording.bin_edges.size() - 1;
    const std::array<hsize_t, 1> extent{total_rows};
    const auto column = [&](auto field) {
      using T = std::decay_t<decltype(field(buffered_histograms.front()))>;
      std::vector<T> values;
      for (const histogram_row& row : buffered_histograms) values.push_back(field(row));
      return values;
    };
    const auto write_column = [&](h5::dataset& target, const auto& values) {
      using T = typename std::decay_t<decltype(values)>::value_type;
      target.set_extent(extent);
      write_from_rank_zero(target, comm, std::span<const T>(values), {first_row}, {rows});
    };
    write_column(datasets.histogram_time, column([](const histogram_row& row) { return row.time_ms; }));
    write_column(datasets.below, column([](const histogram_row& row) { return row.below; }));
    write_column(datasets.above, column([](const histogram_row& row) { return row.above; }));
    write_column(datasets.mean, column([](const histogram_row& row) { return row.mean; }));
    write_column(datasets.standard_deviation, column([](const histogram_row& row) { return row.standard_deviation; }));
    write_column(datasets.min, column([](const histogram_row& row) { return row.min; }));
    write_column(datasets.max, column([](const histogram_row& row) { return row.max; }));
    std::vector<std::uint64_t> counts;
    counts.reserve(rows * n_bins);
    for (const histogram_row& row : buffered_histograms)
      counts.insert(counts.end(), row.counts.begin(), row.counts.end());
    const std::array<hsize_t, 2> counts_extent{total_rows, n_bins};
    datasets.counts.set_extent(counts_extent);
    write_from_rank_zero(datasets.counts, comm, std::span<const std::uint64_t>(counts), {first_row, 0}, {rows, n_bins});
    histogram_rows_in_file = total_rows;
    buffered_histograms.clear();
  }

  void flush() {
    if (closed) throw std::logic_error("weight_writer: flush after close (" + final_path.string() + ")");
    write_snapshots();
    write_histograms();
    // HDF5 keeps the file's structure in memory until told: on disk, the .partial file of a run
    // killed now holds what was flushed.
    file.flush();
  }

  void close() {
    if (closed) return;
    write_snapshots();
    write_histograms();
    datasets.close();
    file.close();  // collective: every rank's rows are in the file afterwards
    closed = true;
    io_detail::publish_partial_file(comm, partial_path, final_path);
  }
};

weight_writer::weight_writer(const communicator& comm, std::filesystem::path path, weight_recording recording,
                             std::span<const std::uint64_t> target, std::span<const std::uint64_t> source,
                             std::span<const double> delay_ms)
    : impl_(std::make_unique<impl>(comm, std::move(path), std::move(recording), target, source, delay_ms,
                                   std::nullopt)) {}

weight_writer::weight_writer(const communicator& comm, std::filesystem::path path, weight_recording recording,
                             std::span<const std::uint64_t> target, std::span<const std::uint64_t> source,
                             std::span<const double> delay_ms, double resume_time_ms)
    : impl_(std::make_unique<impl>(comm, std::move(path), std::move(recording), target, source, delay_ms,
                                   resume_time_ms)) {}

// Without close() (an error path) the handles are closed and only the .partial file remains.
weight_writer::~weight_writer() = default;

void weight_writer::write_snapshot(double time_ms, std::span<const double> weights) {
  impl_->write(time_ms, weights, /*snapshot=*/true, /*histogram=*/false);
}

void weight_writer::write_histogram(double time_ms, std::span<const double> weights) {
  impl_->write(time_ms, weights, /*snapshot=*/false, /*histogram=*/true);
}

void weight_writer::write_snapshot_and_histogram(double time_ms, std::span<const double> weights) {
  impl_->write(time_ms, weights, /*snapshot=*/true, /*histogram=*/true);
}

void weight_writer::flush() { impl_->flush(); }

void weight_writer::close() { impl_->close(); }

const edge_order& weight_writer::order() const noexcept { return impl_->order; }

std::uint64_t weight_writer::snapshots_written() const noexcept {
  return impl_->snapshot_rows_in_file + impl_->buffered_snapshot_times_ms.size();
}

std::uint64_t weight_writer::histograms_written() const noexcept {
  return impl_->histogram_rows_in_file + impl_->buffered_histograms.size();
}

}  // namespace myelin
