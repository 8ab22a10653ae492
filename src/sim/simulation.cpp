#include "myelin/sim/simulation.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <optional>
#include <tuple>

#include "myelin/io/output_space.hpp"
#include "myelin/io/report_writer.hpp"
#include "myelin/io/spike_writer.hpp"
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

// The output files of a run: spikes and one report per recorded variable, opened fresh or, after
// a restart, reopened and cut back to what precedes the restart step.
struct recorders {
  std::unique_ptr<spike_writer> spikes;
  std::vector<char> records_spikes;  // per population
  std::vector<std::unique_ptr<report_writer>> reports;
  std::vector<std::int64_t> report_every;  // steps between rows, per report

  void flush(std::int64_t up_to_step) {
    if (spikes) spikes->flush(up_to_step);
    for (std::size_t w = 0; w < reports.size(); ++w) reports[w]->flush(std::uint64_t(up_to_step / report_every[w]));
  }
  void close() {
    if (spikes) spikes->close();
    for (auto& r : reports) r->close();
  }
};

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
//                this step (arrival-time delivery), Poisson/DC/spike-time input, advances its
//                neurons (exact integration), registers spikes (step = the step in which the
//                threshold was crossed), samples recorded state;
//   3. exchange  spikes emitted in this interval go to the ranks that hold their targets; a stop
//                request (signal) on any rank travels with the counts, so all ranks see it at
//                the same interval;
//   4. record    spikes and samples are handed to the writers, flushed collectively now and then;
//                a checkpoint is written at the interval's end when one is due or asked for.
// A spike emitted in this interval arrives no earlier than the next one, so one exchange per
// interval is exact. Input is summed in integers, so nothing depends on arrival order.
run_outcome simulation::impl::run(const run_control& control) {
  const auto t_run = clock_type::now();
  const network_spec& net = spec.network;
  const double dt = spec.simulation.dt_ms;
  const std::int64_t D = layout.min_delay_steps();
  const std::int64_t max_delay = layout.max_delay_steps();
  const bool write = !control.output_dir.empty();
  const bool resumed = start_step > 0;

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
  double update_wall_s = 0.0, deliver_wall_s = 0.0;
  auto tally_now = [&] {
    tally_counts c;
    for (const auto& ts : threads) {
      c.neuron_updates += ts->neuron_updates;
      c.synaptic_events += ts->synaptic_events;
      c.poisson_events += ts->poisson_events;
    }
    c.spikes_emitted = counts.spikes_emitted;
    c.bytes_sent = exchange->bytes_sent();
    c.collectives = exchange->collectives();
    c.seconds = {update_wall_s, deliver_wall_s, counts.exchange_s, counts.record_s, counts.checkpoint_s};
    c.cpu_seconds = process_cpu_seconds();
    c.node_joules = meter ? meter->joules() : 0.0;
    return c;
  };
  const std::int64_t window_steps = std::max<std::int64_t>(D, std::llround(spec.tallies.window_ms / dt) / D * D);
  tally_series series(start_step, window_steps, dt, tally_now());

  // Opening the outputs counts as recording, as does closing them.
  auto t_outputs = clock_type::now();
  // Room for the output before any of it is written, and before every flush (output_space.hpp).
  if (write) require_output_space(comm, control.output_dir);
  recorders out;
  out.records_spikes.assign(net.populations.size(), 0);
  if (write && spec.output.spikes) {
    std::vector<population_range> ranges;
    for (std::size_t p = 0; p < net.populations.size(); ++p) {
      out.records_spikes[p] = net.populations[p].record_spikes ? 1 : 0;
      if (out.records_spikes[p]) ranges.push_back({net.populations[p].name, layout.first_gid(p), net.populations[p].n});
    }
    const auto path = control.output_dir / "spikes.h5";
    out.spikes = resumed ? std::make_unique<spike_writer>(comm, path, ranges, dt, start_step)
                         : std::make_unique<spike_writer>(comm, path, ranges, dt);
  }
  // One report file per recorded variable; each thread notes which of its neurons it samples.
  if (write) {
    for (const record_spec& rec : spec.records) {
      const population_spec& pop = net.populations[rec.population];
      const std::int64_t every = std::max<std::int64_t>(1, std::llround(rec.interval_ms / dt));
      const auto n_rows = std::uint64_t(n_steps / every);
      for (const std::string& var : rec.variables) {
        const auto writer = std::uint32_t(out.reports.size());
        const std::string units = var == "V_m" ? "mV" : "pA";
        const auto path = control.output_dir / (rec.name + "_" + var + ".h5");
        out.reports.push_back(resumed ? std::make_unique<report_writer>(comm, path, pop.name, rec.neurons, var, units,
                                                                        double(every) * dt, double(every) * dt, n_rows,
                                                                        std::uint64_t(start_step / every))
                                      : std::make_unique<report_writer>(comm, path, pop.name, rec.neurons, var, units,
                                                                        double(every) * dt, double(every) * dt, n_rows));
        out.report_every.push_back(every);
        for (auto& ts : threads) {
          for (std::size_t c = 0; c < rec.neurons.size(); ++c) {
            const std::uint64_t gid = layout.first_gid(rec.population) + rec.neurons[c];
            if (part.vp_of(gid) != ts->vp) continue;
            const std::uint64_t l = part.local_index(gid);
            const population_slice& slice = ts->slices[rec.population];
            ts->recorded.push_back({writer, std::uint32_t(c), std::uint32_t(rec.population),
                                    std::uint32_t(l - slice.local_begin), var});
          }
        }
      }
    }
  }

  counts.record_s += seconds_since(t_outputs);

  const std::int64_t flush_every =
      std::max<std::int64_t>(D, std::llround(spec.output.flush_interval_ms / dt) / D * D);
  std::int64_t next_flush = start_step + flush_every;
  const std::int64_t checkpoint_every = control.checkpoint_every_steps;
  std::int64_t next_checkpoint = checkpoint_every > 0 ? (start_step / checkpoint_every + 1) * checkpoint_every : -1;
  std::vector<received_spike> local_spikes;
  std::vector<spike_event> spike_events;
  std::vector<sample> samples;
  std::vector<std::uint32_t> columns;
  std::vector<float> values;
  double last_progress = -1.0;
  run_outcome outcome = run_outcome::complete;


  for (std::int64_t t0 = start_step; t0 < n_steps; t0 += D) {
    const std::int64_t t1 = std::min(t0 + D, n_steps);
    const auto t_parallel = clock_type::now();
    double update_sum_s = 0.0, deliver_sum_s = 0.0;
    for (const auto& ts : threads) {
      update_sum_s -= ts->update_s;
      deliver_sum_s -= ts->deliver_s;
    }
    on_every_thread(threads, [&](thread_state& ts) {
      auto t = clock_type::now();
      for (const received_spike& s : received) ts.arrivals->enqueue(s.gid, s.step);
      for (std::int64_t step = t0; step < t1; ++step) {
        ts.synaptic_events += ts.arrivals->deliver(step, ts.input.data());
        ts.poisson_events += ts.inputs->apply(step, ts.input.data(), ts.i_stim_pA.data());
        const auto t_update = clock_type::now();
        ts.deliver_s += std::chrono::duration<double>(t_update - t).count();
        for (population_slice& slice : ts.slices) {
          ts.spiked.clear();
          slice.neurons->update(ts.input.data() + 2 * slice.local_begin, slice.quantum,
                                ts.i_stim_pA.data() + slice.local_begin, ts.spiked);
          for (std::uint32_t i : ts.spiked) ts.spikes.push_back({part.gid(ts.vp, slice.local_begin + i), step});
        }
        ts.neuron_updates += ts.n_local;
        for (const recorded_neuron& r : ts.recorded) {
          const std::int64_t every = out.report_every[r.writer];
          if ((step + 1) % every != 0) continue;
          ts.samples.push_back({r.writer, r.column, std::uint64_t((step + 1) / every - 1),
                                float(ts.slices[r.slice].neurons->get(r.variable, r.index_in_slice))});
        }
        t = clock_type::now();
        ts.update_s += std::chrono::duration<double>(t - t_update).count();
      }
    });
    counts.steps_simulated += t1 - t0;
    {
      // The parallel region's wall time (waiting for the slowest thread included), split between
      // update and delivery as the threads' summed times are.
      const double wall = seconds_since(t_parallel);
      for (const auto& ts : threads) {
        update_sum_s += ts->update_s;
        deliver_sum_s += ts->deliver_s;
      }
      const double busy = update_sum_s + deliver_sum_s;
      const double deliver_share = busy > 0.0 ? deliver_sum_s / busy : 0.0;
      deliver_wall_s += wall * deliver_share;
      update_wall_s += wall * (1.0 - deliver_share);
    }

    auto t_phase = clock_type::now();
    local_spikes.clear();
    for (auto& ts : threads) {
      local_spikes.insert(local_spikes.end(), ts->spikes.begin(), ts->spikes.end());
      ts->spikes.clear();
    }
    bool stop = control.stop_requested != nullptr && *control.stop_requested != 0;
    const auto arrived = exchange->exchange(local_spikes, t0, stop);
    received.assign(arrived.begin(), arrived.end());
    counts.exchange_s += seconds_since(t_phase);

    t_phase = clock_type::now();
    for (const auto& s : local_spikes) {
      ++counts.spikes_per_population[layout.population_of(s.gid)];
      recent_spikes.push_back(s);
    }
    while (!recent_spikes.empty() && recent_spikes.front().step < t1 - max_delay) recent_spikes.pop_front();
    counts.spikes_emitted += local_spikes.size();
    if (out.spikes) {
      spike_events.clear();
      for (const auto& s : local_spikes)
        if (out.records_spikes[layout.population_of(s.gid)]) spike_events.push_back({s.gid, s.step});
      out.spikes->append(spike_events);
    }
    if (!out.reports.empty()) {
      // Samples of all threads, grouped by (report, row): one append per row and report.
      samples.clear();
      for (auto& ts : threads) {
        samples.insert(samples.end(), ts->samples.begin(), ts->samples.end());
        ts->samples.clear();
      }
      std::sort(samples.begin(), samples.end(),
                [](const sample& a, const sample& b) { return std::tie(a.writer, a.row) < std::tie(b.writer, b.row); });
      for (std::size_t i = 0; i < samples.size();) {
        columns.clear();
        values.clear();
        std::size_t j = i;
        for (; j < samples.size() && samples[j].writer == samples[i].writer && samples[j].row == samples[i].row; ++j) {
          columns.push_back(samples[j].column);
          values.push_back(samples[j].value);
        }
        out.reports[samples[i].writer]->append(samples[i].row, columns, values);
        i = j;
      }
    }
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

    if (t1 < n_steps && !stop) series.close(t1, tally_now());

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
  t_outputs = clock_type::now();
  if (outcome == run_outcome::complete) out.close();
  counts.record_s += seconds_since(t_outputs);
  series.finish(start_step + counts.steps_simulated, tally_now());

  for (auto& ts : threads) {
    counts.neuron_updates += std::exchange(ts->neuron_updates, 0);
    counts.synaptic_events += std::exchange(ts->synaptic_events, 0);
    counts.poisson_events += std::exchange(ts->poisson_events, 0);
  }
  counts.update_s = update_wall_s;
  counts.deliver_s = deliver_wall_s;
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

}  // namespace myelin
