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
#include "io/partial_file.hpp"

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
  std::vector<std::uint64_t> written;             // per population, on all ranks together
  // Declared before the datasets, so that they are closed before the file.
  h5::file file;
  std::vector<population_datasets> datasets;      // parallel to populations
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
        written(populations.size(), 0),
        file(create_file()) {
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

  // A resumed run: continues the existing file, without its spikes of steps >= resume_step.
  impl(const communicator& comm_, std::filesystem::path path, std::vector<population_range> populations_,
       double dt_ms_, std::int64_t resume_step)
      : comm(comm_),
        final_path(std::move(path)),
        partial_path(final_path.string() + ".partial"),
        populations(std::move(populations_)),
        populations_by_gid(order_by_gid(populations)),
        dt_ms(dt_ms_),
        written(populations.size(), 0),
        file(reopen_file(resume_step)),
        flushed_up_to(resume_step) {
    h5::group spikes_group = file.open_group("spikes");
    for (const population_range& population : populations) {
      h5::group group = spikes_group.open_group(population.name);
      datasets.push_back({group.open_dataset("timestamps"), group.open_dataset("node_ids")});
    }
  }

  h5::file create_file() {
    validate(populations, dt_ms);
    return h5::file::create_parallel(partial_path, comm);
  }

  // Rank 0 checks the file, counts the spikes to keep (into `written`) and drops the others;
  // then every rank opens it, or every rank throws the same io_error.
  h5::file reopen_file(std::int64_t resume_step) {
    validate(populations, dt_ms);
    if (resume_step < 0) throw std::invalid_argument("spike_writer: negative resume step");
    std::string problem;
    if (comm.rank() == 0) {
      try {
        io_detail::prepare_resumed_file(final_path, partial_path, "spike",
                             [&](const std::filesystem::path& existing) { count_kept_spikes(existing, resume_step); });
        drop_spikes_not_kept();
      } catch (const std::exception& error) {
        problem = error.what();
      }
    }
    problem = comm.broadcast(problem);
    if (!problem.empty()) throw io_error(problem);
    comm.allreduce_sum(written);  // rank 0's counts to everyone (the others hold zeros)
    return h5::file::open_read_write(partial_path, comm);
  }

  // Rank 0: checks that `existing` is this writer's layout and sets written[p] to the number of
  // spikes of population p before resume_step (the file is sorted by time).
  void count_kept_spikes(const std::filesystem::path& existing, std::int64_t resume_step) {
    const std::string name = existing.string();
    const auto refuse = [&](const std::string& problem) {
      throw io_error(name + ": cannot resume writing spikes (" + problem + ")");
    };
    const h5::file old = h5::file::open_read_only(existing);
    if (!old.has_attribute("magic") || !old.attribute_holds<std::uint32_t>("magic") ||
        old.read_attribute<std::uint32_t>("magic") != std::vector<std::uint32_t>{sonata_magic})
      refuse("not a SONATA file");
    if (old.kind_of("spikes") != h5::member_kind::group) refuse("no group /spikes");
    const h5::group spikes_group = old.open_group("spikes");
    std::vector<std::string> expected_names;
    for (const population_range& population : populations) expected_names.push_back(population.name);
    std::sort(expected_names.begin(), expected_names.end());
    if (spikes_group.member_names() != expected_names) refuse("other populations than this run's");

    for (std::size_t p = 0; p < populations.size(); ++p) {
      const h5::group group = spikes_group.open_group(populations[p].name);
      if (group.kind_of("timestamps") != h5::member_kind::dataset || group.kind_of("node_ids") != h5::member_kind::dataset)
        refuse("no timestamps or node_ids in " + group.path());
      const h5::dataset timestamps = group.open_dataset("timestamps");
      const h5::dataset node_ids = group.open_dataset("node_ids");
      if (!timestamps.holds<double>() || !node_ids.holds<std::uint64_t>()) refuse("wrong types in " + group.path());
      const std::vector<hsize_t> n_times = timestamps.dims();
      const std::vector<hsize_t> n_ids = node_ids.dims();
      if (n_times.size() != 1 || n_ids.size() != 1) refuse("datasets in " + group.path() + " not one-dimensional");
      // The first spike of a step >= resume_step, by bisection: a few single reads, however
      // long the file. Steps are compared as integers (a time is (step + 1) * dt). A run killed
      // during a flush may have left one dataset longer than the other: only their common part
      // counts, and the resumed run writes the rest again.
      std::uint64_t low = 0;
      std::uint64_t high = std::min(n_times[0], n_ids[0]);
      while (low < high) {
        const hsize_t middle = low + (high - low) / 2;
        const hsize_t one = 1;
        const double time = timestamps.read<double>(std::span<const hsize_t>(&middle, 1),
                                                    std::span<const hsize_t>(&one, 1))[0];
        const std::int64_t step = std::llround(time / dt_ms) - 1;
        if (step < resume_step) low = middle + 1;
        else high = middle;
      }
      written[p] = low;
    }
  }

  // Rank 0, with the file to itself: shrinks every population's datasets to written[p]. One
  // process does it: HDF5 rewrites the cut chunk (8 MiB here) on every process that shrinks.
  void drop_spikes_not_kept() {
    h5::file partial = h5::file::open_read_write(partial_path);
    {
      const h5::group spikes_group = partial.open_group("spikes");
      for (std::size_t p = 0; p < populations.size(); ++p) {
        const h5::group group = spikes_group.open_group(populations[p].name);
        for (const char* name : {"timestamps", "node_ids"}) {
          h5::dataset data = group.open_dataset(name);
          const hsize_t kept = written[p];
          if (data.dims() != std::vector<hsize_t>{kept}) data.set_extent(std::span<const hsize_t>(&kept, 1));
        }
      }
    }
    partial.close();  // reports a failure to write the change, unlike the destructor
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
    // HDF5 keeps the file's structure (dataset extents, chunk index) in memory until told: on
    // disk, the .partial file of a run killed now holds what was flushed, ready to resume.
    file.flush();
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
    io_detail::publish_partial_file(comm, partial_path, final_path);
  }
};

spike_writer::spike_writer(const communicator& comm, std::filesystem::path path,
                           std::vector<population_range> populations, double dt_ms)
    : impl_(std::make_unique<impl>(comm, std::move(path), std::move(populations), dt_ms)) {}

spike_writer::spike_writer(const communicator& comm, std::filesystem::path path,
                           std::vector<population_range> populations, double dt_ms, std::int64_t resume_step)
    : impl_(std::make_unique<impl>(comm, std::move(path), std::move(populations), dt_ms, resume_step)) {}

// Without close() (an error path) the handles are closed and only the .partial file remains.
spike_writer::~spike_writer() = default;

void spike_writer::append(std::span<const spike_event> spikes) { impl_->append(spikes); }

void spike_writer::flush(std::int64_t up_to_step) { impl_->flush(up_to_step); }

void spike_writer::close() { impl_->close(); }

std::uint64_t spike_writer::spikes_written() const {
  return std::accumulate(impl_->written.begin(), impl_->written.end(), std::uint64_t(0));
}

}  // namespace myelin
