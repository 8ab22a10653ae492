// The output files of a run: spikes.h5, one SONATA report per recorded variable and one weight
// recording per [weights.NAME] (weight_recording.hpp), opened fresh
// or, after a restart, reopened and cut back to what precedes the restart step. Private to src/sim.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "myelin/io/report_writer.hpp"
#include "myelin/io/spike_writer.hpp"
#include "sim/simulation_state.hpp"
#include "sim/weight_recording.hpp"

namespace myelin {

class run_recorders {
 public:
  // Collective. Opens the files under `dir` (nothing when dir is empty) and registers on each
  // thread the neurons it samples (thread_state::recorded).
  run_recorders(const run_spec& spec, const communicator& comm, const network_layout& layout, const partition& part,
                std::vector<std::unique_ptr<thread_state>>& threads, const std::filesystem::path& dir,
                std::int64_t start_step, std::int64_t n_steps);

  // On a thread, after its neurons advanced through `step`: the samples due at this step.
  static void take_samples(thread_state& ts, std::int64_t step) {
    for (const recorded_neuron& r : ts.recorded) {
      if ((step + 1) % r.every != 0) continue;
      ts.samples.push_back({r.writer, r.column, std::uint64_t((step + 1) / r.every - 1),
                            float(ts.slices[r.slice].neurons->get(r.variable, r.index_in_slice))});
    }
  }

  // The interval's spikes of this rank and every thread's samples, handed to the writers (which
  // write collectively when flushed).
  void record(std::span<const received_spike> spikes, std::vector<std::unique_ptr<thread_state>>& threads);
  weight_recorders& weights() { return *weights_; }

  // Collective: everything before up_to_step is on disk.
  void flush(std::int64_t up_to_step);
  // Collective: the files under their final names.
  void close();

 private:
  const network_layout& layout_;
  std::unique_ptr<spike_writer> spikes_;
  std::vector<char> records_spikes_;  // per population
  std::vector<std::unique_ptr<report_writer>> reports_;
  std::vector<std::int64_t> report_every_;  // steps between rows, per report
  std::unique_ptr<weight_recorders> weights_;
  // Buffers kept between intervals.
  std::vector<spike_event> spike_events_;
  std::vector<sample> samples_;
  std::vector<std::uint32_t> columns_;
  std::vector<float> values_;
};

}  // namespace myelin
