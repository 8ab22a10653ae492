#include "myelin/sim/simulation.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <tuple>
#include <utility>

#include "myelin/comm/spike_exchange.hpp"
#include "myelin/connect/connection_rules.hpp"
#include "myelin/core/network_layout.hpp"
#include "myelin/core/partition.hpp"
#include "myelin/core/random.hpp"
#include "myelin/io/report_writer.hpp"
#include "myelin/io/spike_writer.hpp"
#include "myelin/models/neuron_block.hpp"
#include "myelin/sim/inputs.hpp"
#include "myelin/synapses/delivery.hpp"
#include "myelin/synapses/synapse_table.hpp"

namespace myelin {

namespace {

using clock_type = std::chrono::steady_clock;
double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// One population's neurons on one thread: local indices [local_begin, local_end).
struct population_slice {
  std::size_t population;
  std::uint64_t local_begin, local_end;
  std::unique_ptr<neuron_block> neurons;
  double quantum;
};

// A recorded neuron on this thread: which report, which column, where its state lives.
struct recorded_neuron {
  std::uint32_t writer;
  std::uint32_t column;
  std::uint32_t slice;
  std::uint32_t index_in_slice;
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
  std::vector<population_slice> slices;
  synapse_table synapses;
  std::unique_ptr<arrival_queue> arrivals;
  std::unique_ptr<thread_inputs> inputs;
  std::vector<std::int64_t> input;  // this step's synaptic input, 2 per neuron (exc, inh)
  std::vector<double> i_stim_pA;    // DC input per neuron
  std::vector<std::uint32_t> spiked;
  std::vector<received_spike> spikes;  // emitted this interval
  std::vector<recorded_neuron> recorded;
  std::vector<sample> samples;
  std::uint64_t saturated_weights = 0;
  std::uint64_t neuron_updates = 0, synaptic_events = 0, poisson_events = 0;
  double deliver_s = 0.0, update_s = 0.0;
  std::exception_ptr error;
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

}  // namespace

struct simulation::impl {
  const run_spec& spec;
  const communicator& comm;
  network_layout layout;
  partition part;
  std::int64_t n_steps;
  std::vector<std::unique_ptr<thread_state>> threads;
  std::unique_ptr<spike_exchange> exchange;
  run_counts counts;

  impl(const run_spec& s, const communicator& c, int n_threads)
      : spec(s), comm(c), layout(s.network, s.simulation.dt_ms, s.simulation.weight_bits),
        part(layout.n_neurons(), c.size(), n_threads, c.rank()),
        n_steps(std::llround(s.simulation.t_stop_ms / s.simulation.dt_ms)) {}

  void build();
  void build_thread(thread_state& ts, const std::vector<projection_plan>& plans);
  void run(const output_paths& out, const std::function<void(double)>& progress);
};

void simulation::impl::build() {
  const auto t0 = clock_type::now();
  const std::uint64_t seed = spec.simulation.seed;
  const std::vector<projection_plan> plans = plan_projections(spec.network, layout, seed);
  threads.resize(std::size_t(part.n_threads()));
  for (int t = 0; t < part.n_threads(); ++t) {
    threads[std::size_t(t)] = std::make_unique<thread_state>();
    threads[std::size_t(t)]->vp = part.vp_of(t);
  }
  // Each thread allocates and fills its own data (first touch places it near its core).
  on_every_thread(threads, [&](thread_state& ts) { build_thread(ts, plans); });

  // Sources with a target on this rank, for the exchange tables.
  std::vector<std::uint64_t> needed;
  for (auto& ts : threads)
    for (const auto& block : ts->synapses.blocks) needed.insert(needed.end(), block.source_gid.begin(), block.source_gid.end());
  std::sort(needed.begin(), needed.end());
  needed.erase(std::unique(needed.begin(), needed.end()), needed.end());
  exchange = std::make_unique<spike_exchange>(comm, part, needed);

  counts.spikes_per_population.assign(layout.n_populations(), 0);
  for (auto& ts : threads) {
    counts.neurons += ts->n_local;
    counts.synapses += ts->synapses.synapses();
    counts.synapse_bytes += ts->synapses.bytes();
  }
  std::uint64_t saturated = 0;
  for (auto& ts : threads) saturated += ts->saturated_weights;
  saturated = comm.allreduce_sum(saturated);
  if (saturated > 0 && comm.rank() == 0)
    std::fprintf(stderr, "myelin: warning: %llu weights exceeded the fixed-point range and were saturated\n",
                 static_cast<unsigned long long>(saturated));
  counts.build_s = seconds_since(t0);
}

void simulation::impl::build_thread(thread_state& ts, const std::vector<projection_plan>& plans) {
  const network_spec& net = spec.network;
  const std::uint64_t seed = spec.simulation.seed;
  ts.n_local = part.n_local(ts.vp);

  // Neurons, population by population, with their initial membrane potentials.
  for (std::size_t p = 0; p < net.populations.size(); ++p) {
    const population_spec& pop = net.populations[p];
    population_slice slice{p, part.local_begin(ts.vp, layout.first_gid(p)), part.local_begin(ts.vp, layout.end_gid(p)),
                           nullptr, layout.scale(p).quantum};
    slice.neurons = neuron_block::create(pop, spec.simulation.dt_ms, slice.local_end - slice.local_begin);
    for (std::uint64_t l = slice.local_begin; l < slice.local_end; ++l) {
      double v = pop.V_m_init.a;
      if (!pop.V_m_init.is_constant()) {
        random_stream stream(seed, stream_purpose::initial_state, std::uint32_t(p), part.gid(ts.vp, l));
        v = stream.draw(pop.V_m_init);
      }
      slice.neurons->set("V_m", l - slice.local_begin, v);
    }
    ts.slices.push_back(std::move(slice));
  }

  // Synapses onto this thread's neurons, target by target in increasing local order.
  std::vector<std::vector<const projection_plan*>> plans_into(net.populations.size());
  for (const auto& plan : plans) plans_into[plan.spec->target].push_back(&plan);
  source_scratch scratch;
  std::vector<std::uint64_t> sources;
  const std::int64_t min_delay = layout.min_delay_steps(), max_delay = layout.max_delay_steps();
  ts.synapses = build_synapse_table(
      ts.n_local, layout.n_neurons(), spec.simulation.weight_bits,
      [&](std::uint64_t block, bool count_only, auto&& sink) {
        const std::uint64_t first = block * synapse_table::block_size;
        const std::uint64_t last = std::min(first + synapse_table::block_size, ts.n_local);
        for (const population_slice& slice : ts.slices) {
          const std::uint64_t begin = std::max(first, slice.local_begin), end = std::min(last, slice.local_end);
          const weight_scale& scale = layout.scale(slice.population);
          for (std::uint64_t l = begin; l < end; ++l) {
            const std::uint64_t gid = part.gid(ts.vp, l);
            for (const projection_plan* plan : plans_into[slice.population]) {
              draw_sources(*plan, seed, gid, scratch, sources);
              if (count_only) {
                for (std::uint64_t s : sources) sink(synapse_draw{s, std::uint32_t(l), 0, 0});
                continue;
              }
              random_stream draws(seed, stream_purpose::weights_delays, std::uint32_t(plan->index), gid);
              for (std::uint64_t s : sources) {
                const double w = draws.draw(plan->spec->weight);
                const double d = draws.draw(plan->spec->delay_ms);
                const std::int64_t units = scale.to_units(w);
                if (std::abs(w / scale.quantum) > double(scale.max_units) + 0.5) ++ts.saturated_weights;
                const std::int64_t steps = std::clamp(layout.delay_steps(d), min_delay, max_delay);
                sink(synapse_draw{s, std::uint32_t(l), std::uint16_t(steps), std::int32_t(units)});
              }
            }
          }
        }
      });
  ts.arrivals = std::make_unique<arrival_queue>(ts.synapses);
  ts.inputs = std::make_unique<thread_inputs>(net, layout, part, ts.vp, seed);
  ts.input.assign(2 * ts.n_local, 0);
  ts.i_stim_pA.assign(ts.n_local, 0.0);
}

simulation::simulation(const run_spec& spec, const communicator& comm, int threads)
    : impl_(std::make_unique<impl>(spec, comm, threads)) {
  impl_->build();
}

simulation::~simulation() = default;

const run_counts& simulation::counts() const { return impl_->counts; }
std::int64_t simulation::steps() const { return impl_->n_steps; }
std::int64_t simulation::min_delay_steps() const { return impl_->layout.min_delay_steps(); }
std::int64_t simulation::max_delay_steps() const { return impl_->layout.max_delay_steps(); }

void simulation::run(const output_paths& out, const std::function<void(double)>& progress) {
  impl_->run(out, progress);
}

// The simulation loop. Ordering contract, per communication interval [t0, t0 + D) where D is the
// smallest delay in steps:
//   1. deliver   each thread enqueues the spikes received at the end of the previous interval
//                (all emitted before t0; with delays >= D none arrives before t0);
//   2. update    each thread, for each step of the interval: adds the synaptic input arriving in
//                this step (arrival-time delivery), Poisson/DC/spike-time input, advances its
//                neurons (exact integration), registers spikes (step = the step in which the
//                threshold was crossed), samples recorded state;
//   3. exchange  spikes emitted in this interval go to the ranks that hold their targets;
//   4. record    spikes and samples are handed to the writers, flushed collectively now and then.
// A spike emitted in this interval arrives no earlier than the next one, so one exchange per
// interval is exact. Input is summed in integers, so nothing depends on arrival order.
void simulation::impl::run(const output_paths& out, const std::function<void(double)>& progress) {
  const auto t_run = clock_type::now();
  const network_spec& net = spec.network;
  const double dt = spec.simulation.dt_ms;
  const std::int64_t D = layout.min_delay_steps();
  const bool write = !out.dir.empty();

  std::unique_ptr<spike_writer> spikes_out;
  std::vector<char> records_spikes(net.populations.size(), 0);
  if (write && spec.output.spikes) {
    std::vector<population_range> ranges;
    for (std::size_t p = 0; p < net.populations.size(); ++p) {
      records_spikes[p] = net.populations[p].record_spikes ? 1 : 0;
      if (records_spikes[p]) ranges.push_back({net.populations[p].name, layout.first_gid(p), net.populations[p].n});
    }
    spikes_out = std::make_unique<spike_writer>(comm, out.dir / "spikes.h5", ranges, dt);
  }

  // One report file per recorded variable; each thread notes which of its neurons it samples.
  std::vector<std::unique_ptr<report_writer>> reports;
  std::vector<std::int64_t> report_interval;
  if (write) {
    for (const record_spec& rec : spec.records) {
      const population_spec& pop = net.populations[rec.population];
      const std::int64_t every = std::max<std::int64_t>(1, std::llround(rec.interval_ms / dt));
      const auto n_rows = std::uint64_t(n_steps / every);
      for (const std::string& var : rec.variables) {
        const auto writer = std::uint32_t(reports.size());
        const std::string units = var == "V_m" ? "mV" : "pA";
        reports.push_back(std::make_unique<report_writer>(comm, out.dir / (rec.name + "_" + var + ".h5"), pop.name,
                                                          rec.neurons, var, units, double(every) * dt,
                                                          double(every) * dt, n_rows));
        report_interval.push_back(every);
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

  const std::int64_t flush_every =
      std::max<std::int64_t>(D, std::llround(spec.output.flush_interval_ms / dt) / D * D);
  std::int64_t next_flush = flush_every;
  std::vector<received_spike> received, local_spikes;
  std::vector<spike_event> spike_events;
  std::vector<sample> samples;
  std::vector<std::uint32_t> columns;
  std::vector<float> values;
  double last_progress = -1.0;

  for (std::int64_t t0 = 0; t0 < n_steps; t0 += D) {
    const std::int64_t t1 = std::min(t0 + D, n_steps);
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
          const std::int64_t every = report_interval[r.writer];
          if ((step + 1) % every != 0) continue;
          ts.samples.push_back({r.writer, r.column, std::uint64_t((step + 1) / every - 1),
                                float(ts.slices[r.slice].neurons->get(r.variable, r.index_in_slice))});
        }
        std::fill(ts.input.begin(), ts.input.end(), 0);
        t = clock_type::now();
        ts.update_s += std::chrono::duration<double>(t - t_update).count();
      }
    });

    auto t_phase = clock_type::now();
    local_spikes.clear();
    for (auto& ts : threads) {
      local_spikes.insert(local_spikes.end(), ts->spikes.begin(), ts->spikes.end());
      ts->spikes.clear();
    }
    const auto arrived = exchange->exchange(local_spikes, t0);
    received.assign(arrived.begin(), arrived.end());
    counts.exchange_s += seconds_since(t_phase);

    t_phase = clock_type::now();
    for (const auto& s : local_spikes) ++counts.spikes_per_population[layout.population_of(s.gid)];
    counts.spikes_emitted += local_spikes.size();
    if (spikes_out) {
      spike_events.clear();
      for (const auto& s : local_spikes)
        if (records_spikes[layout.population_of(s.gid)]) spike_events.push_back({s.gid, s.step});
      spikes_out->append(spike_events);
    }
    if (!reports.empty()) {
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
        reports[samples[i].writer]->append(samples[i].row, columns, values);
        i = j;
      }
    }
    if (t1 >= next_flush || t1 == n_steps) {
      if (spikes_out) spikes_out->flush(t1);
      for (std::size_t w = 0; w < reports.size(); ++w) reports[w]->flush(std::uint64_t(t1 / report_interval[w]));
      next_flush += flush_every;
    }
    counts.record_s += seconds_since(t_phase);

    if (progress && comm.rank() == 0) {
      const double done = double(t1) / double(n_steps);
      if (done - last_progress >= 0.01 || t1 == n_steps) {
        progress(done);
        last_progress = done;
      }
    }
  }
  if (spikes_out) spikes_out->close();
  for (auto& r : reports) r->close();

  for (auto& ts : threads) {
    counts.neuron_updates += ts->neuron_updates;
    counts.synaptic_events += ts->synaptic_events;
    counts.poisson_events += ts->poisson_events;
  }
  counts.update_s = threads[0]->update_s;
  counts.deliver_s = threads[0]->deliver_s;
  counts.spikes_sent = exchange->spikes_sent();
  counts.bytes_sent = exchange->bytes_sent();
  counts.collectives = exchange->collectives();
  counts.simulate_s = seconds_since(t_run);
}

}  // namespace myelin
