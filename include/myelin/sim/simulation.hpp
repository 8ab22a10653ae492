// A network built and simulated on this rank's share of neurons, with one OpenMP thread per
// virtual process. The loop and its ordering contract are in src/sim/simulation.cpp.
#pragma once

#include <csignal>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "myelin/comm/communicator.hpp"
#include "myelin/config/spec.hpp"
#include "myelin/tallies/tallies.hpp"

namespace myelin {

// Exit code of a run that took a checkpoint because it was asked to stop (SIGUSR1, SIGTERM):
// "checkpointed, resume me" (EX_TEMPFAIL).
inline constexpr int exit_checkpointed_resume = 75;

// Per-rank counts and times; summed or maxed over ranks by the caller where needed. Counts cover
// the whole run, also across restarts; times cover this process only.
struct run_counts {
  std::uint64_t neurons = 0;             // on this rank
  std::uint64_t synapses = 0;            // on this rank
  std::uint64_t synapse_bytes = 0;       // memory of this rank's synapse tables
  std::uint64_t neuron_updates = 0;
  std::uint64_t spikes_emitted = 0;
  std::uint64_t synaptic_events = 0;     // deliveries of a spike through one synapse
  std::uint64_t poisson_events = 0;
  std::uint64_t spikes_sent = 0, bytes_sent = 0, collectives = 0;
  std::vector<std::uint64_t> spikes_per_population;  // emitted by this rank's neurons
  double build_s = 0.0, simulate_s = 0.0;
  double update_s = 0.0, deliver_s = 0.0, exchange_s = 0.0, record_s = 0.0, checkpoint_s = 0.0;
  std::int64_t steps_simulated = 0;      // by this process
};

struct run_control {
  std::filesystem::path output_dir;          // empty: write nothing
  std::filesystem::path checkpoint_dir;      // where checkpoint-<step>.h5 and latest.h5 go
  std::int64_t checkpoint_every_steps = 0;   // 0: no periodic checkpoints
  int keep_checkpoints = 3;
  bool checkpoint_at_end = false;
  // Set (by a signal handler) to ask for a checkpoint and a stop at the next interval.
  const volatile std::sig_atomic_t* stop_requested = nullptr;
  std::function<void(double)> progress;      // fraction done; called on rank 0 now and then
};

enum class run_outcome { complete, stopped_with_checkpoint };

class simulation {
 public:
  // Collective: partitions the network, builds every thread's neurons and synapses (in parallel,
  // each thread its own) and the spike exchange tables. build_progress(fraction) is called on
  // rank 0 now and then.
  simulation(const run_spec& spec, const communicator& comm, int threads,
             std::function<void(double)> build_progress = {});
  ~simulation();

  // Collective: continue from a checkpoint written by a run of the same network (any number of
  // ranks and threads). Throws checkpoint_error when the file is unusable or from another network.
  void restore(const std::filesystem::path& checkpoint);

  // Collective: simulates to t_stop (or until asked to stop), writing spikes, reports and
  // checkpoints as `control` says.
  run_outcome run(const run_control& control);

  const run_counts& counts() const;
  const run_tallies& tallies() const;
  std::int64_t steps() const;
  std::int64_t start_step() const;
  std::int64_t min_delay_steps() const;
  std::int64_t max_delay_steps() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace myelin
