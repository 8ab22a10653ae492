// Where a rank's time, bytes and energy go, counted exactly during the run: cumulative counters
// (summed from per-thread counters after each parallel region, never atomics in the hot loop),
// cut into windows of model time, and the energy each rank spent, measured or modeled.
// The file layout (tallies.h5) is documented in README.md and src/io/tally_file.cpp.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "myelin/comm/communicator.hpp"
#include "myelin/tallies/energy.hpp"

namespace myelin {

enum phase : std::size_t { phase_update, phase_deliver, phase_exchange, phase_record, phase_checkpoint, n_phases };
inline constexpr std::array<std::string_view, n_phases> phase_names{"update", "deliver", "exchange", "record",
                                                                    "checkpoint"};
using per_phase = std::array<double, n_phases>;  // seconds or joules, by phase

// One rank's counts; cumulative from the start of this process's simulation loop.
struct tally_counts {
  std::uint64_t neuron_updates = 0;
  std::uint64_t spikes_emitted = 0;
  std::uint64_t synaptic_events = 0;
  std::uint64_t poisson_events = 0;
  std::uint64_t bytes_sent = 0;  // to other ranks
  std::uint64_t collectives = 0;
  per_phase seconds{};           // wall time per phase (update and deliver: the parallel region split by thread time)
  double cpu_seconds = 0.0;      // of the process
  double node_joules = 0.0;      // measured: this node's energy (node leaders only), else 0
};

// One window of model time [t_start_ms, t_end_ms): the difference of two tally_counts.
struct tally_window {
  double t_start_ms = 0.0, t_end_ms = 0.0;
  tally_counts counts;
};

// Cuts the run into windows of `window_steps` (a multiple of the communication interval, so that
// windows end where intervals end). close(t1, now) is called after every interval.
class tally_series {
 public:
  // `at_start`: the counts when the series starts (windows hold differences from them).
  tally_series(std::int64_t start_step, std::int64_t window_steps, double dt_ms, const tally_counts& at_start);

  // After an interval ending at step t1 (not the last): closes the window if it ends by t1.
  void close(std::int64_t t1, const tally_counts& now);
  // At the end of the run (step t_end): closes the last window, with whatever came after the
  // last interval (closing the outputs).
  void finish(std::int64_t t_end, const tally_counts& now);

  const std::vector<tally_window>& windows() const { return windows_; }

 private:
  std::int64_t window_start_;
  std::int64_t window_steps_;
  double dt_ms_;
  tally_counts at_window_start_;
  std::vector<tally_window> windows_;
};

// What the simulation hands over at the end: this process's tallies, for tallies.h5 and the
// end-of-run table (tally_report.hpp).
struct run_tallies {
  std::vector<tally_window> windows;  // their sum is the whole of this process's run
  std::vector<std::uint64_t> spikes_sent_to, bytes_sent_to, bytes_received_from;  // per rank
  std::int64_t start_step = 0, end_step = 0, window_steps = 0;
  communicator::node_placement placement;
  bool energy_measured = false;
  std::string energy_notice;  // why energy is modeled although measuring was asked for
};

tally_counts operator-(const tally_counts& a, const tally_counts& b);

// Modeled energy of one rank's counts, split over phases: the cores' energy and the rank's share
// of its node's idle power follow the time in each phase; bytes count in exchange, synaptic
// events in deliver (energy.hpp states the model).
per_phase modeled_phase_joules(const energy_parameters& p, const tally_counts& c, int threads, int ranks_on_node);

// Measured energy of one rank, split over phases by its share of time: `rank_joules` is the
// rank's share of its node's measured energy (by CPU time).
per_phase measured_phase_joules(double rank_joules, const tally_counts& c);

}  // namespace myelin
