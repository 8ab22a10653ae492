#include "myelin/sim/inputs.hpp"

#include <algorithm>
#include <cmath>

namespace myelin {

namespace {
// Poisson draws use their own Philox key (the seed with a tag) and counter
// {step / 4, (input << 24) | high bits of step / 4, gid low, gid high}: one block gives the
// uniforms of four consecutive steps of one neuron.
constexpr std::uint32_t poisson_key_tag = 0x504F4953u;  // "POIS"

std::int64_t to_step(double t_ms, double dt_ms) {
  if (std::isinf(t_ms)) return INT64_MAX;
  return std::llround(t_ms / dt_ms);
}

// Node ids of the input's neurons in its target population that live on vp.
template <class Visit>
void for_each_local_target(const input_spec& in, const network_layout& layout, const partition& part,
                           std::uint64_t vp, const population_spec& pop, Visit&& visit) {
  const std::uint64_t first = layout.first_gid(in.target);
  if (in.neurons.empty()) {
    for (std::uint64_t l = part.local_begin(vp, first); l < part.local_begin(vp, first + pop.n); ++l)
      visit(std::uint32_t(l), part.gid(vp, l));
  } else {
    for (std::uint64_t node : in.neurons) {
      const std::uint64_t gid = first + node;
      if (part.vp_of(gid) == vp) visit(std::uint32_t(part.local_index(gid)), gid);
    }
  }
}
}  // namespace

thread_inputs::thread_inputs(const network_spec& net, const network_layout& layout, const partition& part,
                             std::uint64_t vp, std::uint64_t seed)
    : seed_(seed) {
  const double dt = layout.dt_ms();
  for (std::size_t i = 0; i < net.inputs.size(); ++i) {
    const input_spec& in = net.inputs[i];
    const population_spec& pop = net.populations[in.target];
    const weight_scale& scale = layout.scale(in.target);
    const std::int64_t start = to_step(in.start_ms, dt), stop = to_step(in.stop_ms, dt);
    switch (in.kind) {
      case input_kind::poisson: {
        const double mean = double(in.indegree) * in.rate_hz * dt * 1e-3;
        poisson_source src{std::uint32_t(i), start, stop, scale.to_units(in.weight), in.weight < 0 ? 1 : 0,
                           poisson_table(mean), {}, {}, {}, {}, -1};
        for_each_local_target(in, layout, part, vp, pop, [&](std::uint32_t l, std::uint64_t gid) {
          src.local.push_back(l);
          src.gid_low.push_back(std::uint32_t(gid));
          src.gid_high.push_back(std::uint32_t(gid >> 32));
        });
        // Whole lanes: the padding repeats the last neuron's counter.
        const std::size_t stride = (src.local.size() + poisson_lanes - 1) / poisson_lanes * poisson_lanes;
        if (!src.local.empty()) {
          src.gid_low.resize(stride, src.gid_low.back());
          src.gid_high.resize(stride, src.gid_high.back());
        }
        src.words.resize(4 * stride);
        if (!src.local.empty() && mean > 0.0) poisson_.push_back(std::move(src));
        break;
      }
      case input_kind::dc:
        for_each_local_target(in, layout, part, vp, pop, [&](std::uint32_t l, std::uint64_t) {
          dc_events_.push_back({start, l, 0, in.amplitude_pA});
          if (stop != INT64_MAX) dc_events_.push_back({stop, l, 0, -in.amplitude_pA});
        });
        break;
      case input_kind::spike_times: {
        const std::int64_t delay = std::max<std::int64_t>(1, to_step(in.delay_ms, dt));
        for (double t : in.times_ms) {
          // A spike "at t" is emitted at the end of the step ending at t and arrives `delay` later.
          const std::int64_t emitted = to_step(t, dt) - 1;
          if (emitted < start || emitted >= stop) continue;
          for_each_local_target(in, layout, part, vp, pop, [&](std::uint32_t l, std::uint64_t) {
            spike_events_.push_back({emitted + delay, l, scale.to_units(in.weight), 0.0});
          });
        }
        break;
      }
    }
  }
  auto by_step = [](const timed_event& a, const timed_event& b) { return a.step < b.step; };
  std::stable_sort(spike_events_.begin(), spike_events_.end(), by_step);
  std::stable_sort(dc_events_.begin(), dc_events_.end(), by_step);
}

// Draws the uniforms of steps 4 quad .. 4 quad + 3 for every neuron of the source, `lanes` neurons
// at a time (vectorized Philox, in place); words are stored by step lane, then neuron.
void thread_inputs::refill_words(poisson_source& src, std::uint64_t quad, std::array<std::uint32_t, 2> key) {
  const std::size_t stride = src.gid_low.size();  // neurons, padded to whole lanes
  const std::uint32_t hi = (src.input_index << 24) | std::uint32_t((quad >> 32) & 0xffffff);
  std::uint32_t* c0 = src.words.data();
  std::uint32_t* c1 = c0 + stride;
  std::uint32_t* c2 = c1 + stride;
  std::uint32_t* c3 = c2 + stride;
  std::fill(c0, c1, std::uint32_t(quad));
  std::fill(c1, c2, hi);
  std::copy(src.gid_low.begin(), src.gid_low.end(), c2);
  std::copy(src.gid_high.begin(), src.gid_high.end(), c3);
  for (std::size_t first = 0; first < stride; first += poisson_lanes)
    philox4x32_10_lanes<poisson_lanes>(c0 + first, c1 + first, c2 + first, c3 + first, key);
}

std::uint64_t thread_inputs::max_units_per_step() const {
  // Every Poisson source at its largest count, and all spike-time input of the busiest step, as
  // if each reached the same neuron: a bound, not a tight one.
  std::uint64_t units = 0;
  for (const poisson_source& src : poisson_)
    units += std::uint64_t(src.table.max_count()) * std::uint64_t(std::abs(src.weight_units));
  std::uint64_t busiest = 0;
  for (std::size_t i = 0; i < spike_events_.size();) {
    std::uint64_t at_step = 0;
    const std::int64_t step = spike_events_[i].step;
    for (; i < spike_events_.size() && spike_events_[i].step == step; ++i)
      at_step += std::uint64_t(std::abs(spike_events_[i].weight_units));
    busiest = std::max(busiest, at_step);
  }
  return units + busiest;
}

template <class Sum>
std::uint64_t thread_inputs::apply(std::int64_t step, Sum* input, double* i_stim_pA) {
  while (next_dc_ < dc_events_.size() && dc_events_[next_dc_].step <= step) {
    const timed_event& e = dc_events_[next_dc_++];
    i_stim_pA[e.local] += e.current_pA;
  }
  while (next_spike_ < spike_events_.size() && spike_events_[next_spike_].step <= step) {
    const timed_event& e = spike_events_[next_spike_++];
    if (e.step == step) input[2 * std::size_t(e.local) + (e.weight_units < 0 ? 1 : 0)] += Sum(e.weight_units);
  }

  std::uint64_t events = 0;
  const std::array<std::uint32_t, 2> key{std::uint32_t(seed_), std::uint32_t(seed_ >> 32) ^ poisson_key_tag};
  const auto quad = std::uint64_t(step) >> 2;
  const auto lane = std::size_t(step & 3);
  for (poisson_source& src : poisson_) {
    if (step < src.start_step || step >= src.stop_step) continue;
    const std::size_t n = src.local.size();
    if (src.words_quad != std::int64_t(quad)) {
      src.words_quad = std::int64_t(quad);
      refill_words(src, quad, key);
    }
    const Sum w = Sum(src.weight_units);
    const int channel = src.channel;
    const std::uint32_t* words = src.words.data() + lane * src.gid_low.size();
    // Counts a lane group at a time (words are padded to whole groups), then added.
    std::array<std::uint32_t, poisson_lanes> counts;
    for (std::size_t first = 0; first < n; first += poisson_lanes) {
      src.table.sample(words + first, counts.data(), poisson_lanes);
      const std::size_t m = std::min(poisson_lanes, n - first);
      const std::uint32_t* local = src.local.data() + first;
      for (std::size_t k = 0; k < m; ++k) {
        input[2 * std::size_t(local[k]) + std::size_t(channel)] += Sum(counts[k]) * w;
        events += counts[k];
      }
    }
  }
  return events;
}

template std::uint64_t thread_inputs::apply(std::int64_t, std::int32_t*, double*);
template std::uint64_t thread_inputs::apply(std::int64_t, std::int64_t*, double*);

}  // namespace myelin
