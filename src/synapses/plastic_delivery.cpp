#include "myelin/synapses/plastic_delivery.hpp"

#include <cmath>
#include <stdexcept>

namespace myelin {

plastic_arrival_queue::plastic_arrival_queue(synapse_table& table, plasticity_rule rule, post_history& post,
                                             std::uint64_t slice_begin, double quantum, std::int64_t keep_steps)
    : table_(table),
      rule_(std::move(rule)),
      post_(post),
      slice_begin_(slice_begin),
      inverse_quantum_(1.0 / quantum),
      keep_steps_(keep_steps),
      calendar_(table) {
  if (table.weight_bits != plastic_weight_bits)
    throw std::logic_error("plastic_arrival_queue: the table has fixed-point weights");
  traces_.resize(table.blocks.size());
  for (std::size_t b = 0; b < table.blocks.size(); ++b) traces_[b].assign(table.blocks[b].rows(), pre_trace{});
}

void plastic_arrival_queue::restore_trace(std::uint64_t source_gid, const pre_trace& trace) {
  for (std::size_t b = 0; b < table_.blocks.size(); ++b) {
    const std::int64_t row = calendar_.find_row(b, source_gid);
    if (row >= 0) traces_[b][std::size_t(row)] = trace;
  }
}

template <class Rule, class Sum>
std::uint64_t plastic_arrival_queue::deliver_block(std::size_t b, std::int64_t step, Sum* input, const Rule& rule) {
  synapse_block& block = table_.blocks[b];
  const std::uint16_t* target = block.target.data();
  double* weight = block.weight64.data();
  using segment = detail::pending_segment<spike_snapshot>;
  return calendar_.due(
      b, step,
      [&](const segment& s, std::size_t lines) {
        detail::prefetch_range(target + s.begin, s.size * sizeof(std::uint16_t), lines);
        detail::prefetch_range(weight + s.begin, s.size * sizeof(double), lines);
      },
      [&](const segment& s) {
        const std::int64_t t_pre = s.payload.t_pre;
        const std::int64_t d = s.due - t_pre + 1;  // due = emitted step + d, t_pre = emitted step + 1
        for (std::uint64_t k = s.begin; k < s.begin + s.size; ++k) {
          const std::uint64_t local = block.first_local + target[k];
          const double w = weight_after(weight[k], s.payload.before, t_pre, d, post_.view(local - slice_begin_), rule);
          weight[k] = w;
          const auto units = std::int64_t(std::nearbyint(w * inverse_quantum_));
          input[2 * local + (units < 0 ? 1 : 0)] += Sum(units);
        }
      });
}

template <class Sum>
std::uint64_t plastic_arrival_queue::deliver(std::int64_t step, Sum* input) {
  return std::visit(
      [&](const auto& rule) {
        if (calendar_.has_noted()) {
          // Admissions older than a checkpoint can ask about are forgotten (no allocation once
          // the log has its size: the live part moves to the front when the dead part is larger).
          while (admitted_head_ < admitted_.size() && admitted_[admitted_head_].emitted_step < step - keep_steps_)
            ++admitted_head_;
          if (admitted_head_ > admitted_.size() / 2) {
            admitted_.erase(admitted_.begin(), admitted_.begin() + std::ptrdiff_t(admitted_head_));
            admitted_head_ = 0;
          }
          calendar_.admit([&](std::size_t blk, std::size_t row, const detail::noted_spike& spike) {
            pre_trace& trace = traces_[blk][row];
            const spike_snapshot snapshot{spike.emitted_step + 1, trace};
            advance_pre_trace(trace, snapshot.t_pre, rule);
            // Rows of one source in several blocks hold the same trace: the spike is logged by
            // the first of them.
            bool first_row = true;
            for (std::size_t earlier = 0; earlier < blk && first_row; ++earlier)
              first_row = calendar_.find_row(earlier, spike.gid) < 0;
            if (first_row) admitted_.push_back({spike.gid, spike.emitted_step, snapshot.before});
            return snapshot;
          });
        }
        std::uint64_t events = 0;
        for (std::size_t b = 0; b < table_.blocks.size(); ++b) events += deliver_block(b, step, input, rule);
        return events;
      },
      rule_);
}

template std::uint64_t plastic_arrival_queue::deliver(std::int64_t, std::int32_t*);
template std::uint64_t plastic_arrival_queue::deliver(std::int64_t, std::int64_t*);

}  // namespace myelin
