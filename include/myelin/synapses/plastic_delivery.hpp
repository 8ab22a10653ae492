// Arrival-time delivery of plastic synapses: one table and queue per plastic projection and
// thread, beside the thread's static table (delivery.hpp), on the same calendar of segments
// (segment_calendar.hpp). The rules' semantics are myelin/synapses/stdp.hpp's; this is when and
// with what they run:
//  - admission (the first deliver() after a spike is enqueued): for each row of the spike's
//    source, the row's presynaptic trace before the spike is taken as the spike's snapshot and
//    the trace is advanced past it (spikes of one source are admitted in time order);
//  - each segment, in the step it arrives (t_pre + d - 1, before that step's neuron update):
//    every synapse's weight goes through weight_after() with the snapshot and the target's
//    post_history, is stored, and is transmitted. Synapses of sources that do not spike cost
//    nothing.
// Transmission: the target population's input is summed in integers of its quantum (exact and
// order-free, hence the same for any decomposition), so the new weight is added as
// nearbyint(w / quantum) units; the weight itself stays a double. With weight_bits = 16 the
// quantum is the largest weight (Wmax for stdp) / 32767, with 32 bits / 2^31.
// Checkpoints (state by source gid): the trace each row had before the spikes still in flight,
// which a restart enqueues again and so advances past once more, giving the same bits.
#pragma once

#include <cstdint>
#include <variant>
#include <vector>

#include "myelin/synapses/post_history.hpp"
#include "myelin/synapses/segment_calendar.hpp"
#include "myelin/synapses/stdp.hpp"
#include "myelin/synapses/synapse_table.hpp"

namespace myelin {

using plasticity_rule = std::variant<stdp_rule, stdp_pl_rule>;

class plastic_arrival_queue {
 public:
  // table: a plastic projection's synapses on this thread (weight_bits == plastic_weight_bits),
  // all onto one population slice whose first local index is slice_begin and whose history is
  // `post`; quantum: that population's input unit; keep_steps: how far back (in emission steps)
  // a checkpoint may ask for traces before a spike (the network's largest delay).
  plastic_arrival_queue(synapse_table& table, plasticity_rule rule, post_history& post, std::uint64_t slice_begin,
                        double quantum, std::int64_t keep_steps);

  // As arrival_queue::enqueue.
  void enqueue(std::uint64_t source_gid, std::int64_t emitted_step, std::int64_t from_step = INT64_MIN) {
    calendar_.note(source_gid, emitted_step, from_step);
  }
  // Updates and adds every synapse arriving at `step` to input[2 * local + (units < 0)].
  // Returns the number of synaptic events delivered. Sum: std::int32_t (stdp only: its weights
  // are bounded by Wmax) or std::int64_t.
  template <class Sum>
  std::uint64_t deliver(std::int64_t step, Sum* input);
  std::size_t pending() const { return calendar_.pending(); }

  // For a checkpoint at a step where the spikes emitted from `first_in_flight_step` on are in
  // flight (a restart enqueues them again): f(source_gid, trace) for every source of the table,
  // once, with its trace before the first of those spikes. Call between intervals.
  template <class F>
  void traces_before(std::int64_t first_in_flight_step, F&& f) const;
  // On restart, before the spikes in flight are enqueued: the trace of every row of source_gid.
  void restore_trace(std::uint64_t source_gid, const pre_trace& trace);

 private:
  struct spike_snapshot {
    std::int64_t t_pre;  // stamp (emitted step + 1)
    pre_trace before;    // the source's trace before this spike
  };
  struct admitted_spike {
    std::uint64_t gid;
    std::int64_t emitted_step;
    pre_trace before;
  };
  template <class Rule, class Sum>
  std::uint64_t deliver_block(std::size_t b, std::int64_t step, Sum* input, const Rule& rule);

  synapse_table& table_;
  plasticity_rule rule_;
  post_history& post_;
  std::uint64_t slice_begin_;
  double inverse_quantum_;  // quantum is a power of two: multiplying is dividing, exactly
  std::int64_t keep_steps_;
  std::vector<std::vector<pre_trace>> traces_;  // [block][row]
  std::vector<admitted_spike> admitted_;        // recent admissions, oldest first from admitted_head_
  std::size_t admitted_head_ = 0;
  detail::segment_calendar<spike_snapshot> calendar_;
};

template <class F>
void plastic_arrival_queue::traces_before(std::int64_t first_in_flight_step, F&& f) const {
  // The earliest in-flight admission of each source says what its trace was before; the others'
  // traces are as they are now (their in-flight spikes, if any, are not admitted yet).
  std::vector<std::pair<std::uint64_t, const pre_trace*>> earliest;
  for (std::size_t i = admitted_head_; i < admitted_.size(); ++i)
    if (admitted_[i].emitted_step >= first_in_flight_step) earliest.emplace_back(admitted_[i].gid, &admitted_[i].before);
  std::stable_sort(earliest.begin(), earliest.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::uint64_t> sources;
  for (const synapse_block& block : table_.blocks) sources.insert(sources.end(), block.source_gid.begin(), block.source_gid.end());
  std::sort(sources.begin(), sources.end());
  sources.erase(std::unique(sources.begin(), sources.end()), sources.end());
  auto e = earliest.begin();
  for (const std::uint64_t gid : sources) {
    while (e != earliest.end() && e->first < gid) ++e;
    if (e != earliest.end() && e->first == gid) {
      f(gid, *e->second);
      continue;
    }
    for (std::size_t b = 0; b < table_.blocks.size(); ++b) {
      const std::int64_t row = calendar_.find_row(b, gid);
      if (row >= 0) {
        f(gid, traces_[b][std::size_t(row)]);
        break;
      }
    }
  }
}

}  // namespace myelin
