#include "myelin/synapses/delivery.hpp"

namespace myelin {

arrival_queue::arrival_queue(const synapse_table& table) : table_(table), pending_(table.blocks.size()) {}

void arrival_queue::enqueue(std::uint64_t source_gid, std::int64_t emitted_step, std::int64_t from_step) {
  for (std::size_t b = 0; b < table_.blocks.size(); ++b) {
    const synapse_block& block = table_.blocks[b];
    const std::int64_t row = block.find_row(source_gid);
    if (row < 0) continue;
    const auto r = std::size_t(row);
    pending_spike p{block.row_begin[r], block.segment_begin[r], block.segment_begin[r + 1], emitted_step, 0};
    while (p.next_segment < p.end_segment &&
           emitted_step + std::int64_t(block.segment_delay[p.next_segment]) < from_step)
      p.segment_offset = block.segment_end[p.next_segment++];
    if (p.next_segment < p.end_segment) pending_[b].push_back(p);
  }
}

namespace {
template <class Weight>
inline std::uint64_t deliver_range(const std::uint16_t* target, const Weight* weight, std::uint64_t begin,
                                   std::uint64_t end, std::int64_t* input) {
  for (std::uint64_t i = begin; i < end; ++i) {
    const Weight w = weight[i];
    input[2 * std::size_t(target[i]) + (w < 0 ? 1 : 0)] += w;
  }
  return end - begin;
}
}  // namespace

std::uint64_t arrival_queue::deliver(std::int64_t step, std::int64_t* input) {
  std::uint64_t events = 0;
  const bool wide = table_.weight_bits == 32;
  for (std::size_t b = 0; b < table_.blocks.size(); ++b) {
    const synapse_block& block = table_.blocks[b];
    std::int64_t* block_input = input + 2 * block.first_local;
    const std::uint16_t* target = block.target.data();
    auto& queue = pending_[b];
    for (std::size_t q = 0; q < queue.size();) {
      pending_spike& p = queue[q];
      const std::uint64_t seg = p.next_segment;
      if (std::int64_t(block.segment_delay[seg]) == step - p.emitted_step) {
        const std::uint64_t begin = p.row_begin + p.segment_offset;
        const std::uint64_t end = p.row_begin + block.segment_end[seg];
        p.segment_offset = block.segment_end[seg];
        events += wide ? deliver_range(target, block.weight32.data(), begin, end, block_input)
                       : deliver_range(target, block.weight16.data(), begin, end, block_input);
        if (++p.next_segment == p.end_segment) {
          p = queue.back();
          queue.pop_back();
          continue;
        }
      }
      ++q;
    }
  }
  return events;
}

std::size_t arrival_queue::pending() const {
  std::size_t n = 0;
  for (const auto& q : pending_) n += q.size();
  return n;
}

}  // namespace myelin
