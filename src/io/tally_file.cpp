// Layout of tallies.h5 (R ranks, P = 5 phases, W windows); every rank writes its own rows:
//   /tallies                         attributes: format_version, n_ranks, n_threads, n_nodes,
//                                    n_neurons, n_synapses, dt_ms, min_delay_ms, window_ms,
//                                    model_time_ms, start_step, end_step, wall_seconds,
//                                    build_seconds, real_time_factor, load_imbalance, mean_rate_hz,
//                                    energy_source ("measured"|"modeled"), energy_preset, the four
//                                    energy parameters, energy_joules, average_watts,
//                                    joules_per_synaptic_event_run, brain_watts,
//                                    brain_joules_per_synaptic_event, node_memory_bytes,
//                                    cores_per_node
//   /tallies/phase_seconds   f64 [R x P]  attribute phases: update, deliver, exchange, record, checkpoint
//   /tallies/bytes_sent      f64 [R x R]  row = sender, column = receiver
//   /tallies/spikes_sent     u64 [R x R]  row = sender, column = receiver
//   /tallies/bytes_received  f64 [R x R]  row = receiver, column = sender (counted on arrival)
//   /tallies/energy_joules   f64 [P]      all ranks; attribute source
//   /tallies/rank/<count>    [R]          neurons, synapses, neuron_updates, spikes_emitted,
//                                         synaptic_events, poisson_events, spikes_sent, bytes_sent,
//                                         bytes_received, collectives, peak_rss_bytes (u64);
//                                         compute_seconds, cpu_seconds, energy_joules (f64); node (i64)
//   /tallies/windows/t_start_ms, t_end_ms, energy_joules   f64 [W]
//   /tallies/windows/spikes_emitted, synaptic_events, bytes_sent   u64 [W x R]
//   /tallies/windows/phase_seconds   f64 [W x R x P]
#include "myelin/io/tally_file.hpp"

#include <array>
#include <numeric>
#include <string>
#include <system_error>

#include "io/partial_file.hpp"
#include "myelin/io/hdf5.hpp"

namespace myelin {

namespace {

// Collective writes of whole datasets from their parts.
class tally_writer {
 public:
  tally_writer(const communicator& comm) : comm_(comm) {}

  // A [R] dataset: this rank's element.
  template <h5::element T>
  void per_rank(h5::location& where, const std::string& name, T value) {
    const hsize_t dims = hsize_t(comm_.size()), start = hsize_t(comm_.rank()), count = 1;
    h5::dataset d = where.create_fixed_dataset<T>(name, std::span<const hsize_t>(&dims, 1));
    d.write_collective(std::span<const T>(&value, 1), std::span<const hsize_t>(&start, 1),
                       std::span<const hsize_t>(&count, 1));
  }
  // A [R x n] dataset: this rank's row.
  template <h5::element T>
  h5::dataset rank_rows(h5::location& where, const std::string& name, std::span<const T> row) {
    const std::array<hsize_t, 2> dims{hsize_t(comm_.size()), row.size()}, start{hsize_t(comm_.rank()), 0},
        count{1, row.size()};
    h5::dataset d = where.create_fixed_dataset<T>(name, dims);
    d.write_collective(row, start, count);
    return d;
  }
  // A [W x R x n] dataset (n = 0: [W x R]): this rank's column of W rows of n values each.
  template <h5::element T>
  h5::dataset window_columns(h5::location& where, const std::string& name, std::size_t windows, std::size_t n,
                             std::span<const T> column) {
    std::vector<hsize_t> dims{windows, hsize_t(comm_.size())}, start{0, hsize_t(comm_.rank())}, count{windows, 1};
    if (n > 0) {
      dims.push_back(n);
      start.push_back(0);
      count.push_back(n);
    }
    h5::dataset d = where.create_fixed_dataset<T>(name, dims);
    d.write_collective(column, start, count);
    return d;
  }
  // A run-wide [n] dataset, the same on every rank: rank 0 writes it.
  template <h5::element T>
  h5::dataset whole(h5::location& where, const std::string& name, std::span<const T> values) {
    const hsize_t dims = values.size(), start = 0, count = comm_.rank() == 0 ? values.size() : 0;
    h5::dataset d = where.create_fixed_dataset<T>(name, std::span<const hsize_t>(&dims, 1));
    d.write_collective(comm_.rank() == 0 ? values : std::span<const T>(), std::span<const hsize_t>(&start, 1),
                       std::span<const hsize_t>(&count, 1));
    return d;
  }

 private:
  const communicator& comm_;
};

std::vector<double> as_doubles(const std::vector<std::uint64_t>& v) { return {v.begin(), v.end()}; }

void write_attributes(h5::group& g, const tally_report& r) {
  g.write_attribute<std::int64_t>("format_version", 1);
  g.write_attribute<std::int64_t>("n_ranks", r.n_ranks);
  g.write_attribute<std::int64_t>("n_threads", r.n_threads);
  g.write_attribute<std::int64_t>("n_nodes", r.n_nodes);
  g.write_attribute<std::uint64_t>("n_neurons", r.n_neurons);
  g.write_attribute<std::uint64_t>("n_synapses", r.n_synapses);
  g.write_attribute("dt_ms", r.dt_ms);
  g.write_attribute("min_delay_ms", r.min_delay_ms);
  g.write_attribute("window_ms", r.window_ms);
  g.write_attribute("model_time_ms", r.model_time_ms);
  g.write_attribute<std::int64_t>("start_step", r.start_step);
  g.write_attribute<std::int64_t>("end_step", r.end_step);
  g.write_attribute("wall_seconds", r.wall_seconds);
  g.write_attribute("build_seconds", r.build_seconds);
  g.write_attribute("real_time_factor", r.real_time_factor);
  g.write_attribute("load_imbalance", r.load_imbalance);
  g.write_attribute("mean_rate_hz", r.mean_rate_hz);
  g.write_attribute("energy_source", r.energy_measured ? "measured" : "modeled");
  g.write_attribute("energy_preset", r.energy_preset);
  g.write_attribute("watts_per_active_core", r.energy.watts_per_active_core);
  g.write_attribute("idle_watts_per_node", r.energy.idle_watts_per_node);
  g.write_attribute("joules_per_byte", r.energy.joules_per_byte);
  g.write_attribute("joules_per_synaptic_event", r.energy.joules_per_synaptic_event);
  g.write_attribute("energy_joules", r.energy_joules);
  g.write_attribute("average_watts", r.average_watts());
  g.write_attribute("joules_per_synaptic_event_run", r.joules_per_synaptic_event());
  g.write_attribute("brain_watts", r.brain_watts);
  g.write_attribute("brain_joules_per_synaptic_event", r.brain_joules_per_synaptic_event);
  g.write_attribute<std::uint64_t>("node_memory_bytes", r.node_memory_bytes);
  g.write_attribute<std::int64_t>("cores_per_node", r.cores_per_node);
}

void write_content(const communicator& comm, h5::file& file, const tally_report& r) {
  tally_writer w(comm);
  h5::group g = file.create_group("tallies");
  write_attributes(g, r);
  const std::vector<std::string> phases(phase_names.begin(), phase_names.end());

  {
    h5::dataset d = w.rank_rows<double>(g, "phase_seconds", r.totals.seconds);
    d.write_attribute("phases", std::span<const std::string>(phases));
  }
  w.rank_rows<double>(g, "bytes_sent", as_doubles(r.bytes_sent_to));
  w.rank_rows<std::uint64_t>(g, "spikes_sent", r.spikes_sent_to);
  w.rank_rows<double>(g, "bytes_received", as_doubles(r.bytes_received_from));
  {
    h5::dataset d = w.whole<double>(g, "energy_joules", r.energy_joules_per_phase);
    d.write_attribute("source", r.energy_measured ? "measured" : "modeled");
    d.write_attribute("phases", std::span<const std::string>(phases));
  }

  h5::group ranks = g.create_group("rank");
  const tally_counts& t = r.totals;
  auto sum = [](const std::vector<std::uint64_t>& v) { return std::accumulate(v.begin(), v.end(), std::uint64_t(0)); };
  std::uint64_t spikes_sent = 0, bytes_sent = 0;  // to other ranks
  for (std::size_t k = 0; k < r.spikes_sent_to.size(); ++k)
    if (int(k) != r.rank) {
      spikes_sent += r.spikes_sent_to[k];
      bytes_sent += r.bytes_sent_to[k];
    }
  const std::uint64_t bytes_received = sum(r.bytes_received_from) - r.bytes_received_from[std::size_t(r.rank)];
  w.per_rank<std::uint64_t>(ranks, "neurons", r.neurons);
  w.per_rank<std::uint64_t>(ranks, "synapses", r.synapses);
  w.per_rank<std::uint64_t>(ranks, "neuron_updates", t.neuron_updates);
  w.per_rank<std::uint64_t>(ranks, "spikes_emitted", t.spikes_emitted);
  w.per_rank<std::uint64_t>(ranks, "synaptic_events", t.synaptic_events);
  w.per_rank<std::uint64_t>(ranks, "poisson_events", t.poisson_events);
  w.per_rank<std::uint64_t>(ranks, "spikes_sent", spikes_sent);
  w.per_rank<std::uint64_t>(ranks, "bytes_sent", bytes_sent);
  w.per_rank<std::uint64_t>(ranks, "bytes_received", bytes_received);
  w.per_rank<std::uint64_t>(ranks, "collectives", t.collectives);
  w.per_rank<std::uint64_t>(ranks, "peak_rss_bytes", r.peak_rss_bytes);
  w.per_rank<double>(ranks, "compute_seconds", t.seconds[phase_update] + t.seconds[phase_deliver]);
  w.per_rank<double>(ranks, "cpu_seconds", t.cpu_seconds);
  const per_phase& e = r.energy_joules_rank_per_phase;
  w.per_rank<double>(ranks, "energy_joules", std::accumulate(e.begin(), e.end(), 0.0));
  w.per_rank<std::int64_t>(ranks, "node", r.node);

  h5::group windows = g.create_group("windows");
  const std::size_t n_windows = r.windows.size();
  w.whole<double>(windows, "t_start_ms", r.window_t_start_ms);
  w.whole<double>(windows, "t_end_ms", r.window_t_end_ms);
  w.whole<double>(windows, "energy_joules", r.window_energy_joules);
  std::vector<std::uint64_t> spikes, events, bytes;
  std::vector<double> seconds;
  for (const tally_window& win : r.windows) {
    spikes.push_back(win.counts.spikes_emitted);
    events.push_back(win.counts.synaptic_events);
    bytes.push_back(win.counts.bytes_sent);
    seconds.insert(seconds.end(), win.counts.seconds.begin(), win.counts.seconds.end());
  }
  w.window_columns<std::uint64_t>(windows, "spikes_emitted", n_windows, 0, spikes);
  w.window_columns<std::uint64_t>(windows, "synaptic_events", n_windows, 0, events);
  w.window_columns<std::uint64_t>(windows, "bytes_sent", n_windows, 0, bytes);
  h5::dataset d = w.window_columns<double>(windows, "phase_seconds", n_windows, n_phases, seconds);
  d.write_attribute("phases", std::span<const std::string>(phases));
}

// Rank 0: an earlier process's tallies.h5 becomes tallies-<k>.h5, k the first free number.
void keep_earlier_file(const communicator& comm, const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  std::string problem;
  if (comm.rank() == 0) {
    std::error_code error;
    if (fs::exists(path, error)) {
      fs::path kept;
      for (int k = 1;; ++k) {
        kept = path.parent_path() / (path.stem().string() + "-" + std::to_string(k) + path.extension().string());
        if (!fs::exists(kept, error)) break;
      }
      fs::rename(path, kept, error);
      if (error) problem = path.string() + ": cannot keep the earlier tallies as " + kept.string() + " (" +
                           error.message() + ")";
    }
  }
  problem = comm.broadcast(problem);
  if (!problem.empty()) throw io_error(problem);
}

}  // namespace

void write_tally_file(const communicator& comm, const std::filesystem::path& path, const tally_report& report) {
  const std::filesystem::path partial = path.string() + ".partial";
  {
    h5::file file = h5::file::create_parallel(partial, comm);
    write_content(comm, file, report);
    file.close();
  }
  keep_earlier_file(comm, path);
  io_detail::publish_partial_file(comm, partial, path);
}

}  // namespace myelin
