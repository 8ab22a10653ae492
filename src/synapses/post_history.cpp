#include "myelin/synapses/post_history.hpp"

#include <algorithm>
#include <stdexcept>

namespace myelin {

namespace {
constexpr std::uint32_t first_capacity = 4;  // a ring's capacity at its neuron's first spike
}

step_decay::step_decay(double dt_ms, double tau_ms, form f, std::size_t table_size)
    : dt_ms_(dt_ms), tau_ms_(tau_ms), inv_tau_ms_(1.0 / tau_ms), form_(f), table_(table_size) {
  for (std::size_t back = 0; back < table_size; ++back) table_[back] = computed(-std::int64_t(back));
}

std::size_t step_decay::default_size(double dt_ms, double tau_ms) {
  const double steps = std::ceil(10.0 * tau_ms / dt_ms) + 1.0;
  return steps < 8192.0 ? std::size_t(steps) : 8192;
}

post_history::post_history(std::size_t n_neurons, double tau_minus_ms, double dt_ms)
    : tau_minus_ms_(tau_minus_ms),
      dt_ms_(dt_ms),
      decay_(dt_ms, tau_minus_ms, step_decay::form::multiply_by_inverse, step_decay::default_size(dt_ms, tau_minus_ms)),
      Kminus_(n_neurons, 0.0),
      last_spike_(n_neurons, no_spike),
      n_incoming_(n_neurons, 0),
      ring_begin_(n_neurons, 0),
      capacity_(n_neurons, 0),
      head_(n_neurons, 0),
      size_(n_neurons, 0) {}

void post_history::register_spike(std::size_t neuron, std::int64_t t, std::int64_t horizon) {
  if (n_incoming_[neuron] == 0) {
    last_spike_[neuron] = t;
    return;
  }
  prune(neuron, horizon);
  // NEST: Kminus_ * exp((last_spike_ - t) / tau_minus) + 1, with Kminus_ = 0 before the first spike.
  const double decayed = last_spike_[neuron] == no_spike ? 0.0 : Kminus_[neuron] * decay_(last_spike_[neuron] - t);
  Kminus_[neuron] = decayed + 1.0;
  last_spike_[neuron] = t;
  push(neuron, {t, Kminus_[neuron], 0});
}

void post_history::prune(std::size_t neuron, std::int64_t horizon) {
  const std::uint32_t needed_reads = n_incoming_[neuron];
  while (size_[neuron] > 1) {
    const std::uint64_t front = slot(neuron, 0);
    if (pool_reads_[front] < needed_reads || pool_t_[slot(neuron, 1)] >= horizon) break;
    head_[neuron] = (head_[neuron] + 1) & (capacity_[neuron] - 1);
    --size_[neuron];
  }
}

post_history_view post_history::view(std::size_t neuron) {
  post_history_view v;
  if (capacity_[neuron] > 0) {
    const std::uint64_t begin = ring_begin_[neuron];
    v.t_ = pool_t_.data() + begin;
    v.K_ = pool_K_.data() + begin;
    v.reads_ = pool_reads_.data() + begin;
    v.mask_ = capacity_[neuron] - 1;
  }
  v.head_ = head_[neuron];
  v.size_ = size_[neuron];
  v.decay_ = &decay_;
  return v;
}

post_spike_entry post_history::entry(std::size_t neuron, std::size_t i) const {
  if (i >= size_[neuron]) throw std::out_of_range("post_history::entry: no such entry");
  const std::uint64_t e = slot(neuron, std::uint32_t(i));
  return {pool_t_[e], pool_K_[e], pool_reads_[e]};
}

void post_history::restore(std::size_t neuron, double Kminus, std::int64_t last_spike,
                           std::span<const post_spike_entry> entries) {
  Kminus_[neuron] = Kminus;
  last_spike_[neuron] = last_spike;
  head_[neuron] = 0;
  size_[neuron] = 0;
  for (const auto& e : entries) push(neuron, e);
}

std::size_t post_history::entries() const {
  std::size_t n = 0;
  for (const std::uint32_t s : size_) n += s;
  return n;
}

std::size_t post_history::pool_capacity() const { return pool_t_.capacity(); }

std::size_t post_history::bytes() const {
  return Kminus_.capacity() * sizeof(double) + last_spike_.capacity() * sizeof(std::int64_t) +
         n_incoming_.capacity() * sizeof(std::uint32_t) + ring_begin_.capacity() * sizeof(std::uint64_t) +
         (capacity_.capacity() + head_.capacity() + size_.capacity()) * sizeof(std::uint32_t) +
         pool_t_.capacity() * sizeof(std::int64_t) + pool_K_.capacity() * sizeof(double) +
         pool_reads_.capacity() * sizeof(std::uint32_t) + decay_.bytes();
}

void post_history::push(std::size_t neuron, const post_spike_entry& entry) {
  if (size_[neuron] == capacity_[neuron]) grow(neuron);
  const std::uint64_t e = slot(neuron, size_[neuron]);
  pool_t_[e] = entry.t;
  pool_K_[e] = entry.Kminus;
  pool_reads_[e] = entry.reads;
  ++size_[neuron];
}

// Moves the neuron's ring, oldest entry first, to the end of the pool with twice the capacity.
void post_history::grow(std::size_t neuron) {
  const std::uint32_t old_capacity = capacity_[neuron];
  if (old_capacity >= (std::uint32_t(1) << 31)) throw std::length_error("post_history: too many spikes remembered");
  const std::uint32_t new_capacity = old_capacity == 0 ? first_capacity : 2 * old_capacity;
  const std::uint64_t begin = pool_t_.size();
  pool_t_.resize(begin + new_capacity);
  pool_K_.resize(begin + new_capacity);
  pool_reads_.resize(begin + new_capacity);
  for (std::uint32_t i = 0; i < size_[neuron]; ++i) {
    const std::uint64_t from = slot(neuron, i);
    pool_t_[begin + i] = pool_t_[from];
    pool_K_[begin + i] = pool_K_[from];
    pool_reads_[begin + i] = pool_reads_[from];
  }
  ring_begin_[neuron] = begin;
  capacity_[neuron] = new_capacity;
  head_[neuron] = 0;
  holes_ += old_capacity;
  if (holes_ > pool_t_.size() - holes_) compact();
}

// Every ring, oldest entry first, packed in neuron order; capacities are kept.
void post_history::compact() {
  std::uint64_t total = 0;
  for (const std::uint32_t c : capacity_) total += c;
  std::vector<std::int64_t> t(total);
  std::vector<double> K(total);
  std::vector<std::uint32_t> reads(total);
  std::uint64_t begin = 0;
  for (std::size_t n = 0; n < capacity_.size(); ++n) {
    for (std::uint32_t i = 0; i < size_[n]; ++i) {
      const std::uint64_t from = slot(n, i);
      t[begin + i] = pool_t_[from];
      K[begin + i] = pool_K_[from];
      reads[begin + i] = pool_reads_[from];
    }
    ring_begin_[n] = begin;
    head_[n] = 0;
    begin += capacity_[n];
  }
  pool_t_.swap(t);
  pool_K_.swap(K);
  pool_reads_.swap(reads);
  holes_ = 0;
}

}  // namespace myelin
