// Building a rank's share of the network: each thread creates its own neurons and draws the
// synapses onto them (first touch places the memory near its core), then the exchange tables
// are set up from the sources each rank needs.
#include <algorithm>
#include <cstdio>

#include "myelin/core/random.hpp"
#include "sim/simulation_state.hpp"

namespace myelin {

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
    for (const synapse_table* table : ts->tables())
      for (const auto& block : table->blocks) needed.insert(needed.end(), block.source_gid.begin(), block.source_gid.end());
  std::sort(needed.begin(), needed.end());
  needed.erase(std::unique(needed.begin(), needed.end()), needed.end());
  exchange = std::make_unique<spike_exchange>(comm, part, needed);

  counts.spikes_per_population.assign(layout.n_populations(), 0);
  for (auto& ts : threads) {
    counts.neurons += ts->n_local;
    for (const synapse_table* table : ts->tables()) {
      counts.synapses += table->synapses();
      counts.synapse_bytes += table->bytes();
    }
    for (const population_slice& slice : ts->slices)
      if (slice.history) counts.synapse_bytes += slice.history->bytes();
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
                           nullptr, layout.scale(p).quantum, nullptr, 0};
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

  // Synapses onto this thread's neurons, target by target in increasing local order: the static
  // projections' in one table, each plastic projection's in its own.
  std::vector<std::vector<const projection_plan*>> plans_into(net.populations.size());
  for (const auto& plan : plans) plans_into[plan.spec->target].push_back(&plan);
  source_scratch scratch;
  std::vector<std::uint64_t> sources;
  // Synapses onto each neuron, static and plastic (counted in the first pass of each table),
  // and whether any of them has no bound on its weight: for the accumulator's width.
  std::vector<std::uint32_t> indegree(ts.n_local, 0);
  bool unbounded_weights = false;
  const std::int64_t min_delay = layout.min_delay_steps(), max_delay = layout.max_delay_steps();
  // The generator build_synapse_table calls, for the projections `chosen` picks.
  auto synapses_of = [&](auto chosen, bool report_progress) {
    return [&, chosen, report_progress](std::uint64_t block, bool count_only, auto&& sink) {
      const std::uint64_t first = block * synapse_table::block_size;
      const std::uint64_t last = std::min(first + synapse_table::block_size, ts.n_local);
      for (const population_slice& slice : ts.slices) {
        const std::uint64_t begin = std::max(first, slice.local_begin), end = std::min(last, slice.local_end);
        const weight_scale& scale = layout.scale(slice.population);
        for (std::uint64_t l = begin; l < end; ++l) {
          const std::uint64_t gid = part.gid(ts.vp, l);
          // Thread 0 of rank 0 stands for all: each pass is half the work.
          if (report_progress && (l & 1023) == 0)
            build_progress((count_only ? 0.0 : 0.5) + 0.5 * double(l) / double(ts.n_local));
          for (const projection_plan* plan : plans_into[slice.population]) {
            if (!chosen(*plan)) continue;
            draw_sources(*plan, seed, gid, scratch, sources);
            if (count_only) {
              for (std::uint64_t s : sources) sink(synapse_draw{s, std::uint32_t(l), 0, 0});
              indegree[l] += std::uint32_t(sources.size());
              if (plan->spec->synapse == synapse_model::stdp_pl && !sources.empty()) unbounded_weights = true;
              continue;
            }
            random_stream draws(seed, stream_purpose::weights_delays, std::uint32_t(plan->index), gid);
            for (std::uint64_t s : sources) {
              const double w = draws.draw(plan->spec->weight);
              const double d = draws.draw(plan->spec->delay_ms);
              const std::int64_t units = scale.to_units(w);
              if (!plan->spec->is_plastic() && std::abs(w / scale.quantum) > double(scale.max_units) + 0.5)
                ++ts.saturated_weights;
              const std::int64_t steps = std::clamp(layout.delay_steps(d), min_delay, max_delay);
              sink(synapse_draw{s, std::uint32_t(l), std::uint16_t(steps), std::int32_t(units), w});
            }
          }
        }
      }
    };
  };
  const bool report_progress = build_progress && comm.rank() == 0 && omp_get_thread_num() == 0;
  ts.synapses = build_synapse_table(
      ts.n_local, layout.n_neurons(), spec.simulation.weight_bits,
      synapses_of([](const projection_plan& plan) { return !plan.spec->is_plastic(); }, report_progress),
      std::uint64_t(max_delay));

  for (const auto& plan : plans) {
    if (!plan.spec->is_plastic()) continue;
    auto pp = std::make_unique<plastic_projection>();
    pp->projection = plan.index;
    pp->slice = plan.spec->target;
    pp->synapses = build_synapse_table(
        ts.n_local, layout.n_neurons(), plastic_weight_bits,
        synapses_of([&](const projection_plan& p) { return p.index == plan.index; }, false),
        std::uint64_t(max_delay));
    population_slice& slice = ts.slices[pp->slice];
    if (!slice.history)
      slice.history = std::make_unique<post_history>(slice.local_end - slice.local_begin,
                                                     net.populations[pp->slice].tau_minus_ms, spec.simulation.dt_ms);
    for (const synapse_block& block : pp->synapses.blocks) {
      for (const std::uint16_t t : block.target) slice.history->add_incoming(block.first_local + t - slice.local_begin);
      for (const std::uint16_t d : block.segment_delay)
        slice.plastic_max_delay_steps = std::max<std::int64_t>(slice.plastic_max_delay_steps, d);
    }
    plasticity_rule rule = plan.spec->synapse == synapse_model::stdp
                               ? plasticity_rule(stdp_rule(plan.spec->stdp, spec.simulation.dt_ms))
                               : plasticity_rule(stdp_pl_rule(plan.spec->stdp_pl, spec.simulation.dt_ms));
    pp->arrivals = std::make_unique<plastic_arrival_queue>(pp->synapses, std::move(rule), *slice.history,
                                                           slice.local_begin, slice.quantum, max_delay);
    ts.plastic.push_back(std::move(pp));
  }
  ts.arrivals = std::make_unique<arrival_queue>(ts.synapses);
  ts.inputs = std::make_unique<thread_inputs>(net, layout, part, ts.vp, seed);
  // The most units a neuron can receive in one step: every synapse onto it at its largest weight
  // (static weights saturate at max_units; stdp ones stay within Wmax, inside the scale's bound),
  // plus all inputs at their largest counts.
  std::uint64_t worst_case_units = 0;
  for (const population_slice& slice : ts.slices) {
    std::uint64_t most = 0;
    for (std::uint64_t l = slice.local_begin; l < slice.local_end; ++l) most = std::max<std::uint64_t>(most, indegree[l]);
    worst_case_units = std::max(worst_case_units, most * std::uint64_t(layout.scale(slice.population).max_units));
  }
  worst_case_units = unbounded_weights ? UINT64_MAX : worst_case_units + ts.inputs->max_units_per_step();
  ts.input = input_accumulator(ts.n_local, worst_case_units);
  // Only threads with DC input keep a current per neuron: the update reads it every step.
  ts.i_stim_pA.assign(ts.inputs->has_currents() ? ts.n_local : 0, 0.0);
}

}  // namespace myelin
