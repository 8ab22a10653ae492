// The [weights.NAME] recordings of a run: snapshots and histograms of a plastic projection's
// weights, one <NAME>_weights.h5 each (myelin/io/weight_writer.hpp). A row due at step s holds
// the weights before the deliveries of step s, i.e. after every presynaptic spike that arrives
// before s * dt has changed them: each thread copies its own synapses' weights at the start of
// that step (no lock: the threads fill disjoint entries), and the row is written collectively
// after the interval. Private to src/sim.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "myelin/io/weight_writer.hpp"
#include "sim/plastic_synapses.hpp"
#include "sim/simulation_state.hpp"

namespace myelin {

class weight_recorders {
 public:
  // Collective. Opens the files under `dir` (or, after a restart at start_step > 0, continues
  // them); rows are due at the steps of [start_step, n_steps].
  weight_recorders(const run_spec& spec, const communicator& comm, const network_layout& layout, const partition& part,
                   std::vector<std::unique_ptr<thread_state>>& threads, const std::filesystem::path& dir,
                   std::int64_t start_step, std::int64_t n_steps);
  ~weight_recorders();

  // Before an interval that ends at t1: room for the rows due in it.
  void prepare(std::int64_t t1);
  // Whether a row is due at `step` of the prepared interval (any thread may ask).
  bool due_at(std::int64_t step) const {
    return !interval_steps_.empty() && std::binary_search(interval_steps_.begin(), interval_steps_.end(), step);
  }
  // On thread `thread`, at the start of `step` (due_at(step)): its synapses' weights into the rows.
  void copy(std::size_t thread, std::int64_t step);
  // Collective, after the interval: the rows taken in it go to the writers.
  void write();
  // Collective: the rows due at t_stop (the weights after the last step), then flush / close.
  void finish(std::int64_t n_steps);
  void flush();
  void close();

 private:
  struct row {
    std::int64_t step;
    bool snapshot, histogram;
  };
  struct recorder {
    std::unique_ptr<weight_writer> writer;
    std::vector<synapse_ref> synapses;                     // the writer's local order
    std::vector<std::vector<std::uint32_t>> by_thread;     // indices into synapses each thread copies
    std::vector<row> rows;                                  // due rows, by step
    std::size_t next = 0;                                   // first row not yet written
    std::vector<std::vector<double>> taken;                 // rows next, next + 1, ... of the interval
  };
  void write_row(recorder& r, const row& due, std::span<const double> weights);

  double dt_ms_;
  std::vector<recorder> recorders_;
  std::vector<std::int64_t> interval_steps_;  // steps of the prepared interval with a row due
};

}  // namespace myelin
