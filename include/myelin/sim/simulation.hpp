// A network built and simulated on this rank's share of neurons, with one OpenMP thread per
// virtual process. See simulation.cpp for the loop and its ordering contract.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "myelin/comm/communicator.hpp"
#include "myelin/config/spec.hpp"

namespace myelin {

// Per-rank counts and times; summed or maxed over ranks by the caller where needed.
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
  double update_s = 0.0, deliver_s = 0.0, exchange_s = 0.0, record_s = 0.0;  // main thread's view
};

struct output_paths {
  std::filesystem::path dir;  // empty: write nothing
};

class simulation {
 public:
  // Collective: partitions the network, builds every thread's neurons and synapses (in parallel,
  // each thread its own) and the spike exchange tables.
  simulation(const run_spec& spec, const communicator& comm, int threads);
  ~simulation();

  // Collective: simulates from step 0 to t_stop, writing spikes and reports into `out.dir`.
  // progress(fraction_done) is called on rank 0 now and then.
  void run(const output_paths& out, const std::function<void(double)>& progress = {});

  const run_counts& counts() const;
  std::int64_t steps() const;
  std::int64_t min_delay_steps() const;
  std::int64_t max_delay_steps() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace myelin
