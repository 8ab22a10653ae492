#include "myelin/sim/simulation.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <optional>

#include "myelin/io/output_space.hpp"
#include "sim/recording.hpp"
#include "sim/simulation_state.hpp"

namespace myelin {

simulation::simulation(const run_spec& spec, const communicator& comm, int threads,
                       std::function<void(double)> build_progress)
    : impl_(std::make_unique<impl>(spec, comm, threads, std::move(build_progress))) {
  impl_->build();
}

simulation::~simulation() = default;

void simulation::restore(const std::filesystem::path& checkpoint) { impl_->restore(checkpoint); }
run_outcome simulation::run(const run_control& control) { return impl_->run(control); }
const run_counts& simulation::counts() const { return impl_->counts; }
const run_tallies& simulation::tallies() const { return impl_->tallies; }
std::int64_t simulation::steps() const { return impl_->n_steps; }
std::int64_t simulation::start_step() const { return impl_->start_step; }
std::int64_t simulation::min_delay_steps() const { return impl_->layout.min_delay_steps(); }
std::int64_t simulation::max_delay_steps() const { return impl_->layout.max_delay_steps(); }

namespace {

// CPU time of this process (all threads), in seconds: how measured node energy is shared by ranks.
double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return double(t.tv_sec) + 1e-6 * double(t.tv_usec); };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace

// The simulation loop. Ordering contract, per communication interval [t0, t0 + D) where D is the
// smallest delay in steps:
//   1. deliver   each thread enqueues the spikes received at the end of the previous interval
//                (all emitted before t0; with delays >= D none arrives before t0);
//   2. update    each thread, for each step of the interval: adds the synaptic input arriving in
//                this step (arrival-time delivery; a plastic synapse updates its weight from its
//                target's spike history first), Poisson/DC/spike-time input, advances its
//                neurons (exact integration), registers spikes (step = the step in which the
//                threshold was crossed; STDP targets also in their history), samples state;
//   3. exchange  spikes emitted in this interval go to the ranks that hold their targets; a stop
//                request (signal) on any rank travels with the counts, so all ranks see it at
//                the same interval;
//   4. record    spikes, samples and weights are handed to the writers (a weight row due at step
//                s is copied by each thread at the start of s), flushed collectively now and then;
//                a checkpoint is written at the interval's end when one is due or asked for.
// A spike emitted in this interval arrives no earlier than the next one, so one exchange per
// interval is exact. Input is summed in integers, so nothing depends on arrival order.
run_outcome simulation::impl::run(const run_control& control) {
  const auto t_run = clock_type::now();
  const double dt = spec.simulation.dt_ms;
  const std::int64_t D = layout.min_delay_steps();

  // Tallies: cumulative counts of this process, cut into windows of whole intervals. The node's
  // energy is measured (RAPL, read by the node's leader) only if every node can.
  tallies = run_tallies{};
  tallies.placement = comm.placement();
  std::optional<powercap_meter> meter;
  if (spec.energy.measure && tallies.placement.leader) meter.emplace(spec.energy.powercap_dir);
  const bool cannot_measure = tallies.placement.leader && (!meter || !meter->available());
  tallies.energy_measured = spec.energy.measure && !comm.any(cannot_measure);
  if (!tallies.energy_measured) {
    if (spec.energy.measure)
      tallies.energy_notice = meter && !meter->available() ? meter->problem() : "a node has no readable RAPL counters";
    meter.reset();
  }
  powercap_meter* const node_meter = meter ? &*meter : nullptr;
  const std::int64_t window_steps = std::max<std::int64_t>(D, std::llround(spec.tallies.window_ms / dt) / D * D);
  tally_series series(start_step, window_steps, dt, tally_now(node_meter));

  // Opening the outputs counts as recording, as does closing them. Room for the output before
  // any of it is written, and before every flush (output_space.hpp).
  auto t_phase = clock_type::now();
  const bool write = !control.output_dir.empty();
  if (write) require_output_space(comm, control.output_dir);
  run_recorders out(spec, comm, layout, part, threads, control.output_dir, start_step, n_steps);
  counts.record_s += seconds_since(t_phase);

  const std::int64_t flush_every =
      std::max<std::int64_t>(D, std::llround(spec.output.flush_interval_ms / dt) / D * D);
  std::int64_t next_flush = start_step + flush_every;
  const std::int64_t checkpoint_every = control.checkpoint_every_steps;
  std::int64_t next_checkpoint = checkpoint_every > 0 ? (start_step / checkpoint_every + 1) * checkpoint_every : -1;
  double last_progress = -1.0;
  run_outcome outcome = run_outcome::complete;

  for (std::int64_t t0 = start_step; t0 < n_steps; t0 += D) {
    const std::int64_t t1 = std::min(t0 + D, n_steps);
    out.weights().prepare(t1);
    advance(t0, t1, out.weights());  // 1, 2

    t_phase = clock_type::now();  // 3
    const bool stop = exchange_spikes(t0, control.stop_requested != nullptr && *control.stop_requested != 0);
    counts.exchange_s += seconds_since(t_phase);

    t_phase = clock_type::now();  // 4
    note_spikes(t1);
    out.record(local_spikes, threads);
    out.weights().write();
    const bool checkpoint_due = (next_checkpoint > 0 && t1 >= next_checkpoint && t1 < n_steps) || stop ||
                                (t1 == n_steps && control.checkpoint_at_end);
    if (t1 >= next_flush || t1 == n_steps || checkpoint_due) {
      if (write) require_output_space(comm, control.output_dir);
      out.flush(t1);
      next_flush = t1 + flush_every;
    }
    counts.record_s += seconds_since(t_phase);
    if (checkpoint_due) {
      // Everything before t1 is on disk in the outputs; the checkpoint makes t1 a restart point.
      t_phase = clock_type::now();
      write_checkpoint(control, t1);
      while (next_checkpoint > 0 && next_checkpoint <= t1) next_checkpoint += checkpoint_every;
      counts.checkpoint_s += seconds_since(t_phase);
    }

    if (t1 < n_steps && !stop) series.close(t1, tally_now(node_meter));
    if (control.progress && comm.rank() == 0) {
      const double done = double(t1) / double(n_steps);
      if (done - last_progress >= 0.01 || t1 == n_steps) {
        control.progress(done);
        last_progress = done;
      }
    }
    if (stop && t1 < n_steps) {
      outcome = run_outcome::stopped_with_checkpoint;
      break;
    }
  }
  // Complete: rename the outputs to their final names. Stopped: they were flushed up to the
  // checkpoint and keep their .partial names (incomplete) until a restart completes them; every
  // rank closes them together as `out` goes out of scope.
  t_phase = clock_type::now();
  if (outcome == run_outcome::complete) {
    out.weights().finish(n_steps);
    out.close();
  }
  counts.record_s += seconds_since(t_phase);
  series.finish(start_step + counts.steps_simulated, tally_now(node_meter));

  for (auto& ts : threads) {
    counts.neuron_updates += std::exchange(ts->neuron_updates, 0);
    counts.synaptic_events += std::exchange(ts->synaptic_events, 0);
    counts.poisson_events += std::exchange(ts->poisson_events, 0);
  }
  tallies.windows = series.windows();
  tallies.spikes_sent_to = exchange->spikes_sent_to();
  tallies.bytes_sent_to = exchange->bytes_sent_to();
  tallies.bytes_received_from = exchange->bytes_received_from();
  tallies.start_step = start_step;
  tallies.end_step = start_step + counts.steps_simulated;
  tallies.window_steps = window_steps;
  counts.spikes_sent = exchange->spikes_sent();
  counts.bytes_sent = exchange->bytes_sent();
  counts.collectives = exchange->collectives();
  counts.simulate_s = seconds_since(t_run);
  return outcome;
}

// Steps 1 and 2 of an interval on every thread. The parallel region's wall time (waiting for the
// slowest thread included) goes to update and deliver as the threads' own times divide.
void simulation::impl::advance(std::int64_t t0, std::int64_t t1, weight_recorders& weights) {
  const auto t_parallel = clock_type::now();
  double update_s = 0.0, deliver_s = 0.0;
  for (const auto& ts : threads) {
    update_s -= ts->update_s;
    deliver_s -= ts->deliver_s;
  }
  on_every_thread(threads, [&](thread_state& ts) {
    auto t = clock_type::now();
    for (const received_spike& s : received) {
      ts.arrivals->enqueue(s.gid, s.step);
      for (auto& p : ts.plastic) p->arrivals->enqueue(s.gid, s.step);
    }
    ts.input.visit([&](auto* input) { steps(ts, t0, t1, input, weights, t); });  // int32 or int64 sums
  });
  counts.steps_simulated += t1 - t0;
  const double wall = seconds_since(t_parallel);
  for (const auto& ts : threads) {
    update_s += ts->update_s;
    deliver_s += ts->deliver_s;
  }
  const double busy = update_s + deliver_s;
  const double deliver_share = busy > 0.0 ? deliver_s / busy : 0.0;
  counts.deliver_s += wall * deliver_share;
  counts.update_s += wall * (1.0 - deliver_share);
}

// Step 2 on one thread, for steps [t0, t1), with the accumulator's sums (int32 or int64); `t` is
// when the thread's current phase began (its times go to deliver_s and update_s).
template <class Sum>
void simulation::impl::steps(thread_state& ts, std::int64_t t0, std::int64_t t1, Sum* input,
                             weight_recorders& weights, clock_type::time_point& t) {
  for (std::int64_t step = t0; step < t1; ++step) {
    if (weights.due_at(step)) weights.copy(std::size_t(part.thread_of_vp(ts.vp)), step);
    ts.synaptic_events += ts.arrivals->deliver(step, input);
    for (auto& p : ts.plastic) ts.synaptic_events += p->arrivals->deliver(step, input);
    ts.poisson_events += ts.inputs->apply(step, input, ts.i_stim_pA.data());
    const auto t_update = clock_type::now();
    ts.deliver_s += std::chrono::duration<double>(t_update - t).count();
    for (population_slice& slice : ts.slices) {
      ts.spiked.clear();
      slice.neurons->update(input + 2 * slice.local_begin, slice.quantum,
                            ts.i_stim_pA.empty() ? nullptr : ts.i_stim_pA.data() + slice.local_begin, ts.spiked);
      for (std::uint32_t i : ts.spiked) ts.spikes.push_back({part.gid(ts.vp, slice.local_begin + i), step});
      if (slice.history) {  // STDP's postsynaptic side: the spike's stamp is step + 1
        const std::int64_t horizon = arrival_time_horizon(step + 1, slice.plastic_max_delay_steps);
        for (std::uint32_t i : ts.spiked) slice.history->register_spike(i, step + 1, horizon);
      }
    }
    ts.neuron_updates += ts.n_local;
    run_recorders::take_samples(ts, step);
    t = clock_type::now();
    ts.update_s += std::chrono::duration<double>(t - t_update).count();
  }
}

// Step 3: this interval's spikes of every thread go out; what arrives is delivered from the next
// interval on. Returns whether some rank asked to stop.
bool simulation::impl::exchange_spikes(std::int64_t t0, bool stop) {
  local_spikes.clear();
  for (auto& ts : threads) {
    local_spikes.insert(local_spikes.end(), ts->spikes.begin(), ts->spikes.end());
    ts->spikes.clear();
  }
  const auto arrived = exchange->exchange(local_spikes, t0, stop);
  received.assign(arrived.begin(), arrived.end());
  return stop;
}

// This interval's spikes of this rank: counted, and kept while still in flight (checkpoints).
void simulation::impl::note_spikes(std::int64_t t1) {
  for (const auto& s : local_spikes) {
    ++counts.spikes_per_population[layout.population_of(s.gid)];
    recent_spikes.push_back(s);
  }
  while (!recent_spikes.empty() && recent_spikes.front().step < t1 - layout.max_delay_steps())
    recent_spikes.pop_front();
  counts.spikes_emitted += local_spikes.size();
}

// This rank's cumulative counts and times, for the tally windows.
tally_counts simulation::impl::tally_now(powercap_meter* meter) const {
  tally_counts c;
  for (const auto& ts : threads) {
    c.neuron_updates += ts->neuron_updates;
    c.synaptic_events += ts->synaptic_events;
    c.poisson_events += ts->poisson_events;
  }
  c.spikes_emitted = counts.spikes_emitted;
  c.bytes_sent = exchange->bytes_sent();
  c.collectives = exchange->collectives();
  c.seconds = {counts.update_s, counts.deliver_s, counts.exchange_s, counts.record_s, counts.checkpoint_s};
  c.cpu_seconds = process_cpu_seconds();
  c.node_joules = meter ? meter->joules() : 0.0;
  return c;
}

}  // namespace myelin
