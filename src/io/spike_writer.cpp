#include "myelin/io/spike_writer.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "myelin/io/hdf5.hpp"

namespace myelin {

namespace {

// Elements per chunk: large, so that long runs need few chunks; a population that spikes little
// still gets one whole chunk (8 MiB of address space, not written).
constexpr hsize_t spike_chunk_elements = hsize_t(1) << 20;

constexpr std::uint32_t sonata_magic = 0x0A7A;
constexpr std::array<std::uint32_t, 2> sonata_version{0, 1};

void validate(const std::vector<population_range>& populations, double dt_ms) {
  if (!(dt_ms > 0.0) || !std::isfinite(dt_ms)) throw std::invalid_argument("spike_writer: dt must be positive");
  std::set<std::string> names;
  for (const population_range& population : populations) {
    if (population.name.empty() || population.name.find('/') != std::string::npos || population.name == "." ||
        population.name == "..")
      throw std::invalid_argument("spike_writer: bad population name '" + population.name + "'");
    if (!names.insert(population.name).second)
      throw std::invalid_argument("spike_writer: population '" + population.name + "' given twice");
    if (population.first_gid + population.n < population.first_gid)
      throw std::invalid_argument("spike_writer: gid range of population '" + population.name + "' overflows");
  }
}

// Indices into populations, by first gid; throws when two ranges overlap.
std::vector<std::size_t> order_by_gid(const std::vector<population_range>& populations) {
  std::vector<std::size_t> order(populations.size());
  std::iota(order.begin(), order.end(), std::size_t(0));
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return populations[a].first_gid < populations[b].first_gid; });
  for (std::size_t i = 1; i < order.size(); ++i) {
    const population_range& previous = populations[order[i - 1]];
    const population_range& next = populations[order[i]];
    if (previous.first_gid + previous.n > next.first_gid)
      throw std::invalid_argument("spike_writer: populations '" + previous.name + "' and '" + next.name +
                                  "' overlap");
  }
  return order;
}

}  // namespace

struct spike_writer::impl {
  struct population_datasets {
    h5::dataset timestamps;
    h5::dataset node_ids;
  };

  communicator comm;
  std::filesystem::path final_path;
  std::filesystem::path partial_path;
  std::vector<population_range> populations;      // in the caller's order: the order of groups
  std::vector<std::size_t> populations_by_gid;    // indices into populations, by first_gid
  double dt_ms;
  // Declared before the datasets, so that they are closed before the file.
  h5::file file;
  std::vector<population_datasets> datasets;      // parallel to populations
  std::vector<std::uint64_t> written;             // per population, on all ranks together
  std::vector<spike_event> buffered;
  std::int64_t flushed_up_to = std::numeric_limits<std::int64_t>::min();  // every spike before it is written
  bool closed = false;

  impl(const communicator& comm_, std::filesystem::path path, std::vector<population_range> populations_,
       double dt_ms_)
      : comm(comm_),
        final_path(std::move(path)),
        partial_path(final_path.string() + ".partial"),
        populations(std::move(populations_)),
        populations_by_gid(order_by_gid(populations)),
        dt_ms(dt_ms_),
        file(create_file()),
        written(populations.size(), 0) {
    file.write_attribute("magic", sonata_magic);
    file.write_attribute("version", std::span<const std::uint32_t>(sonata_version));
    h5::group spikes_group = file.create_group("spikes");
    const hsize_t no_spikes = 0;
    const hsize_t chunk = spike_chunk_elements;
    for (const population_range& population : populations) {
      h5::group group = spikes_group.create_group(population.name);
      // SONATA's sorting is an enum over uint8 (bmtk and libsonata read it so).
      constexpr std::string_view sorting_names[] = {"none", "by_id", "by_time"};
      group.write_enum_attribute("sorting", sorting_names, 2);
      h5::dataset timestamps = group.create_extendible_dataset<double>(
          "timestamps", std::span<const hsize_t>(&no_spikes, 1), std::span<const hsize_t>(&chunk, 1));
      timestamps.write_attribute("units", "ms");
      h5::dataset node_ids = group.create_extendible_dataset<std::uint64_t>(
          "node_ids", std::span<const hsize_t>(&no_spikes, 1), std::span<const hsize_t>(&chunk, 1));
      datasets.push_back({std::move(timestamps), std::move(node_ids)});
    }

    // A file under the final name must be this run's whole output: an older one goes now.
    if (comm.rank() == 0) {
      std::error_code ignored;
      std::filesystem::remove(final_path, ignored);
    }
  }

  h5::file create_file() {
    validate(populations, dt_ms);
    return h5::file::create_parallel(partial_path, comm);
  }

  // Index into populations of the one holding gid; populations.size() when none does.
  std::size_t population_of(std::uint64_t gid) const {
    const auto after = std::upper_bound(populations_by_gid.begin(), populations_by_gid.end(), gid,
                                        [&](std::uint64_t g, std::size_t p) { return g < populations[p].first_gid; });
    if (after == populations_by_gid.begin()) return populations.size();
    const std::size_t p = *std::prev(after);
    return gid - populations[p].first_gid < populations[p].n ? p : populations.size();
  }

  void append(std::span<const spike_event> spikes) {
    if (closed) throw std::logic_error("spike_writer: append after close (" + final_path.string() + ")");
    for (const spike_event& spike : spikes) {
      if (population_of(spike.gid) == populations.size())
        throw std::invalid_argument("spike_writer: gid " + std::to_string(spike.gid) + " is in no population");
      if (spike.step < flushed_up_to)
        throw std::logic_error("spike_writer: spike of gid " + std::to_string(spike.gid) + " at step " +
                               std::to_string(spike.step) + " appended after steps < " +
                               std::to_string(flushed_up_to) + " were written");
    }
    buffered.insert(buffered.end(), spikes.begin(), spikes.end());
  }

  void flush(std::int64_t up_to_step) {
    if (closed) throw std::logic_error("spike_writer: flush after close (" + final_path.string() + ")");
    flushed_up_to = std::max(flushed_up_to, up_to_step);

    const auto due_end = std::partition(buffered.begin(), buffered.end(),
                                        [&](const spike_event& spike) { return spike.step < up_to_step; });
    const std::span<const spike_event> due(buffered.data(), std::size_t(due_end - buffered.begin()));

    // The window's step range over all ranks, split into `size` contiguous blocks of steps.
    std::int64_t local_first = std::numeric_limits<std::int64_t>::max();
    std::int64_t local_last = std::numeric_limits<std::int64_t>::min();
    for (const spike_event& spike : due) {
      local_first = std::min(local_first, spike.step);
      local_last = std::max(local_last, spike.step);
    }
    // -max is representable, so -(-first) gives the global minimum back.
    const std::int64_t first_step = -comm.allreduce_max(-local_first);
    const std::int64_t last_step = comm.allreduce_max(local_last);
    if (last_step < first_step) return;  // nothing due anywhere

    const auto ranks = std::uint64_t(comm.size());
    const std::uint64_t steps = std::uint64_t(last_step) - std::uint64_t(first_step) + 1;
    const std::uint64_t steps_per_rank = steps / ranks + (steps % ranks != 0 ? 1 : 0);
    const auto owner = [&](std::int64_t step) {
      return std::size_t((std::uint64_t(step) - std::uint64_t(first_step)) / steps_per_rank);
    };

    std::vector<std::int64_t> send_counts(ranks, 0);
    for (const spike_event& spike : due) ++send_counts[owner(spike.step)];
    std::vector<std::size_t> send_offsets(ranks, 0);
    std::exclusive_scan(send_counts.begin(), send_counts.end(), send_offsets.begin(), std::size_t(0));
    std::vector<spike_event> send(due.size());
    for (const spike_event& spike : due) send[send_offsets[owner(spike.step)]++] = spike;

    // Only spikes of later steps stay; the memory of the written ones is given back.
    buffered.erase(buffered.begin(), due_end);
    buffered.shrink_to_fit();

    std::vector<std::int64_t> receive_counts;
    std::vector<spike_event> owned = comm.alltoallv<spike_event>(send, send_counts, receive_counts);
    send = {};
    std::sort(owned.begin(), owned.end(), [](const spike_event& a, const spike_event& b) {
      return a.step != b.step ? a.step < b.step : a.gid < b.gid;
    });
    write_sorted(owned);
  }

  // `owned` is this rank's block of the window, sorted by (step, gid); blocks are in rank order.
  void write_sorted(const std::vector<spike_event>& owned) {
    const std::size_t n_populations = populations.size();
    std::vector<std::size_t> population_of_spike(owned.size());
    std::vector<std::uint64_t> counts(n_populations, 0);
    for (std::size_t i = 0; i < owned.size(); ++i) {
      population_of_spike[i] = population_of(owned[i].gid);
      ++counts[population_of_spike[i]];
    }
    const std::vector<std::uint64_t> offsets = comm.exscan_sum(counts);
    std::vector<std::uint64_t> totals = counts;
    comm.allreduce_sum(totals);

    // Each population's spikes together, keeping their (step, gid) order.
    std::vector<std::size_t> begin(n_populations, 0);
    std::exclusive_scan(counts.begin(), counts.end(), begin.begin(), std::size_t(0));
    std::vector<double> timestamps(owned.size());
    std::vector<std::uint64_t> node_ids(owned.size());
    std::vector<std::size_t> next = begin;
    for (std::size_t i = 0; i < owned.size(); ++i) {
      const std::size_t p = population_of_spike[i];
      const std::size_t at = next[p]++;
      // NEST's convention: a spike is stamped with the end of its step.
      timestamps[at] = double(owned[i].step + 1) * dt_ms;
      node_ids[at] = owned[i].gid - populations[p].first_gid;
    }

    for (std::size_t p = 0; p < n_populations; ++p) {
      if (totals[p] == 0) continue;  // same decision on every rank
      const hsize_t new_size = written[p] + totals[p];
      const hsize_t start = written[p] + offsets[p];
      const hsize_t count = counts[p];
      population_datasets& target = datasets[p];
      target.timestamps.set_extent(std::span<const hsize_t>(&new_size, 1));
      target.node_ids.set_extent(std::span<const hsize_t>(&new_size, 1));
      target.timestamps.write_collective(std::span<const double>(timestamps.data() + begin[p], counts[p]),
                                         std::span<const hsize_t>(&start, 1), std::span<const hsize_t>(&count, 1));
      target.node_ids.write_collective(std::span<const std::uint64_t>(node_ids.data() + begin[p], counts[p]),
                                       std::span<const hsize_t>(&start, 1), std::span<const hsize_t>(&count, 1));
      written[p] = new_size;
    }
  }

  void close() {
    if (closed) return;
    flush(std::numeric_limits<std::int64_t>::max());
    for (population_datasets& population : datasets) {
      population.timestamps.close();
      population.node_ids.close();
    }
    datasets.clear();
    file.close();  // collective: every rank's data is in the file afterwards
    closed = true;
    // One rank renames; the broadcast both shares its outcome and keeps the others from
    // returning before the final file exists.
    std::string rename_error;
    if (comm.rank() == 0) {
      std::error_code error;
      std::filesystem::rename(partial_path, final_path, error);
      if (error) rename_error = partial_path.string() + ": cannot rename to " + final_path.string() + " (" +
                                error.message() + ")";
    }
    rename_error = comm.broadcast(rename_error);
    if (!rename_error.empty()) throw io_error(rename_error);
  }
};

spike_writer::spike_writer(const communicator& comm, std::filesystem::path path,
                           std::vector<population_range> populations, double dt_ms)
    : impl_(std::make_unique<impl>(comm, std::move(path), std::move(populations), dt_ms)) {}

// Without close() (an error path) the handles are closed and only the .partial file remains.
spike_writer::~spike_writer() = default;

void spike_writer::append(std::span<const spike_event> spikes) { impl_->append(spikes); }

void spike_writer::flush(std::int64_t up_to_step) { impl_->flush(up_to_step); }

void spike_writer::close() { impl_->close(); }

std::uint64_t spike_writer::spikes_written() const {
  return std::accumulate(impl_->written.begin(), impl_->written.end(), std::uint64_t(0));
}

}  // namespace myelin
