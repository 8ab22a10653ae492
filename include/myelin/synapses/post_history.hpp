// The postsynaptic side of STDP: for each neuron that plastic synapses target, the spikes that
// those synapses may still read, each with the neuron's trace Kminus just after it (what NEST's
// ArchivingNode keeps), and the trace itself. myelin/synapses/stdp.hpp reads it.
//
// Time. Every time is an integer stamp in steps of dt: a spike whose threshold crossing falls in
// step s (from s*dt to (s+1)*dt) has stamp s + 1, i.e. (s + 1) * dt ms, the time NEST stamps it
// with. Integer stamps make NEST's comparisons "within stdp_eps" exact comparisons.
//
// Ownership. One post_history per thread and target population slice, owned by the thread that
// updates those neurons and holds their incoming synapses ("synapses live with their target"):
// spikes are registered by the neuron update and read by delivery of the same thread, so
// nothing is shared, locked or atomic.
//
// Layout (structure of arrays):
//   per neuron   Kminus (double), last spike (int64), n_incoming (uint32: plastic synapses onto
//                it), and a ring of 2^k entries in one flat pool: begin (uint64), capacity, head,
//                size (uint32);
//   per entry    stamp t (int64), Kminus just after that spike (double), reads (uint32) in three
//                pool arrays: 20 bytes per remembered spike.
// A full ring moves to the end of the pool with twice the capacity; the hole it leaves is
// reclaimed by compacting the pool when holes outgrow the rest. Once each ring has the capacity
// its neuron needs, registering and reading spikes allocate nothing.
//
// Pruning (NEST 3's rule, ArchivingNode::set_spiketime). When a spike is registered, the oldest
// entry is dropped while
//   (a) every incoming plastic synapse has read it (reads >= n_incoming): a synapse reads each
//       entry exactly once, in the facilitation window of its first presynaptic spike after it
//       (windows of successive spikes are disjoint and adjacent), so no synapse needs it for
//       facilitation again; and
//   (b) the entry after it is older than `horizon`, the earliest time for which any future
//       depression may ask Kminus: that later entry answers every such query.
// At least one entry is kept. Nothing a synapse can still need is dropped, so results do not
// depend on when or how often pruning runs. What `horizon` must be depends on when delivery
// updates weights (stdp.hpp, "Integration"): with arrival-time delivery (a spike with stamp
// t_pre and delay d is processed in step t_pre + d - 1, before the neuron update of that step),
// at a spike registered with stamp t every unprocessed presynaptic spike has t_pre - d >=
// t + 1 - 2 * max_delay, so horizon = t + 1 - 2 * max_delay (in steps) is exact; NEST, which
// updates at reception (t_pre >= t - min_delay), uses t - min_delay - max_delay.
//
// A neuron without incoming plastic synapses keeps no history (as in NEST: n_incoming == 0).
// As in NEST, a neuron with an incoming plastic synapse whose source never spikes keeps every
// spike (that synapse never reads them): at most 20 bytes per spike of that neuron.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace myelin {

// exp(steps dt / tau) for a whole number of steps <= 0, the decay of a trace over -steps: from a
// table over the first `table_size` steps, else computed. The table holds the results of the
// very expression that computes the rest (NEST's form: dividing by tau, or multiplying by 1/tau),
// so a value does not depend on where it came from: the table saves the exp, changes no bit.
class step_decay {
 public:
  enum class form { divide_by_tau, multiply_by_inverse };
  step_decay() = default;
  step_decay(double dt_ms, double tau_ms, form f, std::size_t table_size = 0);
  double operator()(std::int64_t steps) const {
    const std::uint64_t back = std::uint64_t(0) - std::uint64_t(steps);  // steps > 0: huge, computed
    return back < table_.size() ? table_[back] : computed(steps);
  }
  double computed(std::int64_t steps) const {
    return form_ == form::divide_by_tau ? std::exp((double(steps) * dt_ms_) / tau_ms_)
                                        : std::exp((double(steps) * dt_ms_) * inv_tau_ms_);
  }
  // Steps up to 10 tau (e^-10 = 4.5e-5), at most 8192 (64 KiB): the lags that matter most.
  static std::size_t default_size(double dt_ms, double tau_ms);
  std::size_t bytes() const { return table_.capacity() * sizeof(double); }

 private:
  double dt_ms_ = 0.1, tau_ms_ = 20.0, inv_tau_ms_ = 1.0 / 20.0;
  form form_ = form::divide_by_tau;
  std::vector<double> table_;
};

struct post_spike_entry {
  std::int64_t t = 0;       // stamp
  double Kminus = 0.0;      // the neuron's trace just after this spike
  std::uint32_t reads = 0;  // incoming plastic synapses that have read it
};

// What one plastic synapse reads of its target neuron's history when a presynaptic spike of its
// source is delivered. Valid until the next register_spike, restore or prune of the same
// post_history (the pool may move); cheap to make, meant to be made per use.
class post_history_view {
 public:
  // Calls f(t) for each postsynaptic spike with t1 < t <= t2, oldest first, and counts the read
  // (NEST's get_history: the range (t1, t2], each entry's access counter + 1).
  template <class F>
  void read_window(std::int64_t t1, std::int64_t t2, F&& f) const {
    std::uint32_t end = size_;
    while (end > 0 && t_[at(end - 1)] > t2) --end;
    std::uint32_t begin = end;
    while (begin > 0 && t_[at(begin - 1)] > t1) --begin;
    for (std::uint32_t i = begin; i < end; ++i) {
      const std::uint32_t e = at(i);
      ++reads_[e];
      f(t_[e]);
    }
  }

  // The trace just before t (NEST's get_K_value): Kminus_i exp(-(t - t_i) dt / tau_minus) for
  // the latest spike t_i < t (strictly: a spike at t itself does not count); 0 if there is none.
  double Kminus_at(std::int64_t t) const {
    std::uint32_t i = size_;
    while (i > 0 && t_[at(i - 1)] >= t) --i;
    if (i == 0) return 0.0;
    const std::uint32_t e = at(i - 1);
    return K_[e] * (*decay_)(t_[e] - t);  // NEST: Kminus_i exp((t_i - t) / tau_minus)
  }

  std::uint32_t size() const { return size_; }

 private:
  friend class post_history;
  std::uint32_t at(std::uint32_t i) const { return (head_ + i) & mask_; }

  const std::int64_t* t_ = nullptr;  // the ring's first slot in the pool
  const double* K_ = nullptr;
  std::uint32_t* reads_ = nullptr;
  std::uint32_t head_ = 0, size_ = 0, mask_ = 0;
  const step_decay* decay_ = nullptr;  // the post_history's exp((steps dt) / tau_minus)
};

// The exact pruning horizon for arrival-time delivery (see above) when a spike is registered with
// stamp t: max_delay_steps is the largest delay of the plastic synapses onto the population.
inline std::int64_t arrival_time_horizon(std::int64_t t, std::int64_t max_delay_steps) {
  return t + 1 - 2 * max_delay_steps;
}

class post_history {
 public:
  post_history() = default;
  // `n_neurons` neurons (indices 0 .. n-1: the slice's local indices), trace time constant
  // tau_minus_ms (the population's), step dt_ms. No neuron has incoming plastic synapses yet.
  post_history(std::size_t n_neurons, double tau_minus_ms, double dt_ms);

  std::size_t neurons() const { return Kminus_.size(); }
  double tau_minus_ms() const { return tau_minus_ms_; }
  double dt_ms() const { return dt_ms_; }

  // NEST's n_incoming_: the plastic synapses onto `neuron` (multapses count once each). Set while
  // the synapse tables are built, before any spike.
  void add_incoming(std::size_t neuron, std::uint32_t count = 1) { n_incoming_[neuron] += count; }
  std::uint32_t incoming(std::size_t neuron) const { return n_incoming_[neuron]; }

  // A spike of `neuron` with stamp t (later than its previous one): prunes (see above), then
  // Kminus <- Kminus exp(-(t - t_last) dt / tau_minus) + 1 and remembers (t, Kminus). Only the
  // last spike time is kept for a neuron without incoming plastic synapses.
  void register_spike(std::size_t neuron, std::int64_t t, std::int64_t horizon);
  // The pruning of register_spike alone (before writing a checkpoint, say).
  void prune(std::size_t neuron, std::int64_t horizon);

  post_history_view view(std::size_t neuron);

  double Kminus(std::size_t neuron) const { return Kminus_[neuron]; }  // just after the last spike
  std::int64_t last_spike(std::size_t neuron) const { return last_spike_[neuron]; }
  static constexpr std::int64_t no_spike = std::numeric_limits<std::int64_t>::min();
  std::size_t entries(std::size_t neuron) const { return size_[neuron]; }
  post_spike_entry entry(std::size_t neuron, std::size_t i) const;  // i = 0 is the oldest

  // For a checkpoint's restart: the neuron's trace, last spike and remembered spikes (oldest
  // first, with their reads), as entry() gave them.
  void restore(std::size_t neuron, double Kminus, std::int64_t last_spike, std::span<const post_spike_entry> entries);

  std::size_t entries() const;        // remembered spikes of all neurons
  std::size_t pool_capacity() const;  // entries the pool has room for (live, spare and holes)
  std::size_t bytes() const;          // memory held, per-neuron arrays included

 private:
  void push(std::size_t neuron, const post_spike_entry& entry);
  void grow(std::size_t neuron);
  void compact();
  std::uint64_t slot(std::size_t neuron, std::uint32_t i) const {
    return ring_begin_[neuron] + ((head_[neuron] + i) & (capacity_[neuron] - 1));
  }

  double tau_minus_ms_ = 20.0, dt_ms_ = 0.1;
  step_decay decay_;  // NEST multiplies by 1/tau_minus
  // per neuron
  std::vector<double> Kminus_;
  std::vector<std::int64_t> last_spike_;
  std::vector<std::uint32_t> n_incoming_;
  std::vector<std::uint64_t> ring_begin_;
  std::vector<std::uint32_t> capacity_, head_, size_;
  // the pool
  std::vector<std::int64_t> pool_t_;
  std::vector<double> pool_K_;
  std::vector<std::uint32_t> pool_reads_;
  std::uint64_t holes_ = 0;  // pool slots no ring uses
};

}  // namespace myelin
