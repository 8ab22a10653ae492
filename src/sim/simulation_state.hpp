// What a simulation holds on one rank: per-thread neurons, synapses, inputs and buffers, and the
// rank-level exchange. Private to src/sim (build.cpp, simulation.cpp, checkpointing.cpp).
#pragma once

#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "myelin/comm/spike_exchange.hpp"
#include "myelin/connect/connection_rules.hpp"
#include "myelin/core/network_layout.hpp"
#include "myelin/core/partition.hpp"
#include "myelin/io/checkpoint.hpp"
#include "myelin/models/neuron_block.hpp"
#include "myelin/sim/input_accumulator.hpp"
#include "myelin/sim/inputs.hpp"
#include "myelin/sim/simulation.hpp"
#include "myelin/synapses/delivery.hpp"
#include "myelin/synapses/plastic_delivery.hpp"
#include "myelin/synapses/post_history.hpp"
#include "myelin/synapses/synapse_table.hpp"

namespace myelin {

using clock_type = std::chrono::steady_clock;
inline double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// One population's neurons on one thread: local indices [local_begin, local_end).
struct population_slice {
  std::size_t population;
  std::uint64_t local_begin, local_end;
  std::unique_ptr<neuron_block> neurons;
  double quantum;
  // Targets of plastic projections only: the neurons' spike history (STDP's postsynaptic side)
  // and the largest delay of a plastic synapse onto them (how long the history must reach back).
  std::unique_ptr<post_history> history;
  std::int64_t plastic_max_delay_steps = 0;
};

// One plastic projection's synapses onto one thread's neurons, and their queue.
struct plastic_projection {
  std::size_t projection;  // index in network_spec::projections
  std::size_t slice;       // the target population's slice on this thread
  synapse_table synapses;  // weight_bits == plastic_weight_bits
  std::unique_ptr<plastic_arrival_queue> arrivals;
};

// A recorded neuron on this thread: which report, which column, where its state lives.
struct recorded_neuron {
  std::uint32_t writer;
  std::uint32_t column;
  std::uint32_t slice;
  std::uint32_t index_in_slice;
  std::int64_t every;  // steps between samples
  std::string variable;
};

struct sample {
  std::uint32_t writer;
  std::uint32_t column;
  std::uint64_t row;
  float value;
};

// Everything one thread owns: its neurons, synapses, input accumulator and spike register.
struct thread_state {
  std::uint64_t vp = 0;
  std::uint64_t n_local = 0;
  std::vector<population_slice> slices;  // one per population, in population order
  synapse_table synapses;  // static projections
  std::unique_ptr<arrival_queue> arrivals;
  std::vector<std::unique_ptr<plastic_projection>> plastic;  // in projection order
  std::unique_ptr<thread_inputs> inputs;
  input_accumulator input;        // this step's synaptic input, 2 per neuron (exc, inh)
  std::vector<double> i_stim_pA;  // DC input per neuron; empty without DC input on this thread
  std::vector<std::uint32_t> spiked;
  std::vector<received_spike> spikes;  // emitted this interval
  std::vector<recorded_neuron> recorded;
  std::vector<sample> samples;
  std::uint64_t saturated_weights = 0;
  std::uint64_t neuron_updates = 0, synaptic_events = 0, poisson_events = 0;
  double deliver_s = 0.0, update_s = 0.0;
  std::exception_ptr error;

  // The static table, then each plastic projection's.
  std::vector<const synapse_table*> tables() const {
    std::vector<const synapse_table*> all{&synapses};
    for (const auto& p : plastic) all.push_back(&p->synapses);
    return all;
  }
};

// Runs body(thread_state&) on every thread; rethrows the first error after all have finished.
template <class Body>
void on_every_thread(std::vector<std::unique_ptr<thread_state>>& threads, Body&& body) {
#pragma omp parallel num_threads(int(threads.size()))
  {
    thread_state& ts = *threads[std::size_t(omp_get_thread_num())];
    try {
      body(ts);
    } catch (...) {
      ts.error = std::current_exception();
    }
  }
  for (auto& ts : threads)
    if (ts->error) std::rethrow_exception(std::exchange(ts->error, nullptr));
}

class weight_recorders;

struct simulation::impl {
  const run_spec& spec;
  const communicator& comm;
  network_layout layout;
  partition part;
  std::int64_t n_steps;
  std::int64_t start_step = 0;  // > 0 after a restart
  std::vector<std::unique_ptr<thread_state>> threads;
  std::unique_ptr<spike_exchange> exchange;
  run_counts counts;
  run_tallies tallies;
  // Spikes received but not yet enqueued (delivered from the next interval on).
  std::vector<received_spike> received;
  // This rank's spikes of the last max-delay steps: still in flight, so part of a checkpoint.
  std::deque<received_spike> recent_spikes;
  std::function<void(double)> build_progress;  // fraction of the build done; rank 0, thread 0

  impl(const run_spec& s, const communicator& c, int n_threads, std::function<void(double)> progress)
      : spec(s), comm(c), layout(s.network, s.simulation.dt_ms, s.simulation.weight_bits),
        part(layout.n_neurons(), c.size(), n_threads, c.rank()),
        n_steps(std::llround(s.simulation.t_stop_ms / s.simulation.dt_ms)), build_progress(std::move(progress)) {}

  // build.cpp
  void build();
  void build_thread(thread_state& ts, const std::vector<projection_plan>& plans);
  // simulation.cpp: the loop, and its steps in the order it takes them
  run_outcome run(const run_control& control);
  void advance(std::int64_t t0, std::int64_t t1, weight_recorders& weights);
  template <class Sum>
  void steps(thread_state& ts, std::int64_t t0, std::int64_t t1, Sum* input, weight_recorders& weights,
             clock_type::time_point& t);
  bool exchange_spikes(std::int64_t t0, bool stop);
  void note_spikes(std::int64_t t1);
  tally_counts tally_now(powercap_meter* meter) const;
  std::vector<received_spike> local_spikes;  // this rank's spikes of the current interval
  // checkpointing.cpp
  // This rank's neurons of one population, sorted by node id.
  struct local_neuron {
    std::uint64_t node;
    std::size_t thread;
    std::size_t index;  // in the thread's slice
  };
  std::vector<local_neuron> local_neurons(std::size_t pop) const;
  void write_checkpoint(const run_control& control, std::int64_t step);
  // plastic_checkpoint.cpp: weights, traces and spike histories
  std::uint64_t plastic_checkpoint_bytes() const;  // collective: about what write_plastic_state writes
  void write_plastic_state(checkpoint_writer& writer, std::int64_t step);
  void restore_plastic_state(const checkpoint_reader& reader);
  void restore(const std::filesystem::path& path);
};

// The network-defining part of a config (what a checkpoint must match), as INI text.
std::string network_definition(const run_spec& spec);

}  // namespace myelin
