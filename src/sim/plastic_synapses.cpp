#include "sim/plastic_synapses.hpp"

#include <algorithm>

namespace myelin {

std::vector<synapse_ref> plastic_synapses(std::vector<std::unique_ptr<thread_state>>& threads, const partition& part,
                                          std::size_t index) {
  std::vector<synapse_ref> refs;
  for (std::size_t t = 0; t < threads.size(); ++t) {
    thread_state& ts = *threads[t];
    for (auto& p : ts.plastic) {
      if (p->projection != index) continue;
      for (synapse_block& block : p->synapses.blocks)
        for (std::size_t row = 0; row < block.rows(); ++row) {
          std::uint64_t k = block.row_begin[row];
          for (std::uint64_t seg = block.segment_begin[row]; seg < block.segment_begin[row + 1]; ++seg)
            for (; k < block.row_begin[row] + block.segment_end[seg]; ++k)
              refs.push_back({part.gid(ts.vp, block.first_local + block.target[k]), block.source_gid[row],
                              block.segment_delay[seg], &block.weight64[k], std::uint32_t(t)});
        }
    }
  }
  std::stable_sort(refs.begin(), refs.end(),
                   [](const synapse_ref& a, const synapse_ref& b) { return a.target_gid < b.target_gid; });
  return refs;
}

plastic_synapse_list::plastic_synapse_list(std::vector<std::unique_ptr<thread_state>>& threads,
                                           const partition& part, const network_layout& layout,
                                           const network_spec& net, std::size_t index)
    : refs(plastic_synapses(threads, part, index)) {
  const std::uint64_t target_first = layout.first_gid(net.projections[index].target);
  const std::uint64_t source_first = layout.first_gid(net.projections[index].source);
  for (const synapse_ref& r : refs) {
    target.push_back(r.target_gid - target_first);
    source.push_back(r.source_gid - source_first);
    delay_steps.push_back(r.delay_steps);
    delay_ms.push_back(double(r.delay_steps) * layout.dt_ms());
  }
}

}  // namespace myelin
