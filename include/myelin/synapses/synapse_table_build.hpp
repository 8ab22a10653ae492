// Implementation of build_synapse_table (a template: the generator is inlined into the passes).
#pragma once

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "myelin/synapses/synapse_table.hpp"

namespace myelin {

namespace detail {
// Slot (then row) of each source during a build only. Up to dense_limit neurons a flat array over
// global ids is fastest (4 bytes per neuron, freed after the build); beyond, a hash map keeps the
// memory proportional to the sources present, not to the network.
class source_row_index {
 public:
  static constexpr std::uint64_t dense_limit = std::uint64_t(1) << 27;
  static constexpr std::uint32_t none = 0xffffffffu;
  explicit source_row_index(std::uint64_t n_neurons) {
    if (n_neurons <= dense_limit) dense_.assign(n_neurons, none);
  }
  // Slot of gid, inserting next_slot when absent; returns {slot, inserted}.
  std::pair<std::uint32_t, bool> insert(std::uint64_t gid, std::uint32_t next_slot) {
    if (!dense_.empty()) {
      std::uint32_t& s = dense_[gid];
      if (s != none) return {s, false};
      s = next_slot;
      return {s, true};
    }
    auto [it, inserted] = sparse_.try_emplace(gid, next_slot);
    return {it->second, inserted};
  }
  std::uint32_t& at(std::uint64_t gid) { return dense_.empty() ? sparse_.find(gid)->second : dense_[gid]; }

 private:
  std::vector<std::uint32_t> dense_;
  std::unordered_map<std::uint64_t, std::uint32_t> sparse_;
};

// Sorts each row by delay (stable) and sets its segments; delays (per synapse) is freed.
template <class Delay>
void finish_rows(synapse_block& block, huge_vector<Delay>& delays, int weight_bits);

// A chunk of pass-2 draws, put in row order (stable) before it is written.
struct chunk_writer {
  // Entries: 1/32 of the block's synapses, between 64 Ki and 1 Mi (a fixed 1 Mi, 16 MiB per
  // thread, was 2 bytes per synapse of Brunel at 1 rank x 2 threads; 4 Mi measured only ~3%
  // faster on the microcircuit): 0.5 bytes per synapse at most, above a floor of 1 MiB.
  static constexpr std::size_t bytes_per_entry = 16;  // row, order, entry
  static std::size_t capacity_for(std::uint64_t synapses) {
    return std::clamp<std::size_t>(synapses / 32, std::size_t(1) << 16, std::size_t(1) << 20);
  }
  struct entry {  // one draw, packed so that reading it in row order misses the cache once
    std::uint16_t target, delay;
    std::int32_t weight;
  };
  std::size_t capacity;
  std::vector<std::uint32_t> row, order, row_end;
  std::vector<entry> entries;
  std::vector<double> exact_weight;  // plastic tables only
  bool plastic;

  chunk_writer(std::size_t rows, std::uint64_t synapses, bool plastic_table)
      : capacity(capacity_for(synapses)), row_end(rows), plastic(plastic_table) {
    row.reserve(capacity);
    entries.reserve(capacity);
    if (plastic) exact_weight.reserve(capacity);
  }
  void add(std::uint32_t r, std::uint16_t t, std::uint16_t d, std::int32_t w, double exact) {
    row.push_back(r);
    entries.push_back({t, d, w});
    if (plastic) exact_weight.push_back(exact);
  }
  bool full() const { return row.size() == capacity; }
  // order = indices of the chunk sorted by row, stable (counting sort); row r's are
  // order[row_end[r - 1] .. row_end[r]).
  void order_by_row() {
    std::fill(row_end.begin(), row_end.end(), 0);
    for (const std::uint32_t r : row) ++row_end[r];
    std::uint32_t start = 0;
    for (std::uint32_t& n : row_end) start += std::exchange(n, start);
    order.resize(row.size());
    for (std::uint32_t i = 0; i < row.size(); ++i) order[row_end[row[i]]++] = i;
  }
  void clear() {
    row.clear();
    entries.clear();
    exact_weight.clear();
  }
};

// Pass 2 of build_synapse_table for block b, whose rows and their sizes are set.
template <class Delay, class Generate>
void place_synapses(synapse_block& block, std::uint64_t b, source_row_index& row_of, int weight_bits,
                    Generate& generate) {
  // Place every synapse in its row, targets in generation order. Draws are buffered in
  // chunks and each chunk is written row by row in increasing address order: writing every
  // synapse straight to its (random) row costs a cache and TLB miss each, 20x slower.
  const std::uint64_t n_syn = block.row_begin.back();
  block.target.resize(n_syn);
  const bool plastic = weight_bits == plastic_weight_bits;
  if (plastic) block.weight64.resize(n_syn);
  else if (weight_bits == 32) block.weight32.resize(n_syn);
  else block.weight16.resize(n_syn);
  huge_vector<Delay> delays(n_syn);
  std::vector<std::uint64_t> cursor(block.row_begin.begin(), block.row_begin.end() - 1);
  chunk_writer chunk(block.rows(), n_syn, plastic);
  // The chunk's synapses go row after row to their rows' cursors, reading the chunk's entries
  // in row order: a cache miss each unless prefetched a few ahead (~8% of the build's CPU time;
  // prefetching the rows' destinations as well measured no faster).
  constexpr std::size_t entries_ahead = 16;
  auto write_chunk = [&] {
    chunk.order_by_row();
    const std::size_t n = chunk.order.size();
    std::size_t k = 0;
    for (std::size_t r = 0; r < block.rows(); ++r) {
      std::uint64_t at = cursor[r];
      for (; k < chunk.row_end[r]; ++k, ++at) {
        if (k + entries_ahead < n) __builtin_prefetch(chunk.entries.data() + chunk.order[k + entries_ahead]);
        const std::uint32_t i = chunk.order[k];
        const chunk_writer::entry& e = chunk.entries[i];
        block.target[at] = e.target;
        delays[at] = Delay(e.delay);
        if (plastic) block.weight64[at] = chunk.exact_weight[i];
        else if (weight_bits == 32) block.weight32[at] = e.weight;
        else block.weight16[at] = std::int16_t(e.weight);
      }
      cursor[r] = at;
    }
    chunk.clear();
  };
  generate(b, false, [&](const synapse_draw& d) {
    if (d.delay_steps > std::numeric_limits<Delay>::max())
      throw std::logic_error("synapse generator drew a delay above max_delay_steps");
    chunk.add(row_of.at(d.source_gid), std::uint16_t(d.target_local - block.first_local), d.delay_steps,
              d.weight_units, d.weight);
    if (chunk.full()) write_chunk();
  });
  write_chunk();
  for (std::size_t r = 0; r < block.rows(); ++r)
    if (cursor[r] != block.row_begin[r + 1])
      throw std::logic_error("synapse generator drew differently in its two passes");
  finish_rows(block, delays, weight_bits);
}
}  // namespace detail

template <class Generate>
synapse_table build_synapse_table(std::uint64_t n_local, std::uint64_t n_neurons, int weight_bits,
                                  Generate&& generate, std::uint64_t max_delay_steps) {
  synapse_table table;
  table.weight_bits = weight_bits;
  const std::uint64_t n_blocks = (n_local + synapse_table::block_size - 1) / synapse_table::block_size;
  table.blocks.resize(n_blocks);
  for (std::uint64_t b = 0; b < n_blocks; ++b) {
    synapse_block& block = table.blocks[b];
    block.first_local = b * synapse_table::block_size;

    // Pass 1: count synapses per source.
    detail::source_row_index row_of(n_neurons);
    std::vector<std::uint64_t> count;
    generate(b, true, [&](const synapse_draw& d) {
      auto [slot, inserted] = row_of.insert(d.source_gid, std::uint32_t(count.size()));
      if (inserted) {
        count.push_back(0);
        block.source_gid.push_back(d.source_gid);
      }
      ++count[slot];
    });

    // Rows sorted by source gid.
    std::sort(block.source_gid.begin(), block.source_gid.end());
    block.source_gid.shrink_to_fit();
    block.row_begin.assign(block.rows() + 1, 0);
    for (std::size_t r = 0; r < block.rows(); ++r) {
      std::uint32_t& slot = row_of.at(block.source_gid[r]);
      block.row_begin[r + 1] = block.row_begin[r] + count[slot];
      slot = std::uint32_t(r);
    }
    count.clear();
    count.shrink_to_fit();

    // Pass 2. While the build runs, each synapse's delay is kept apart (sorted into segments at
    // the end): in one byte where every delay fits (saves 1 byte per synapse of peak memory).
    if (max_delay_steps <= 0xff) detail::place_synapses<std::uint8_t>(block, b, row_of, weight_bits, generate);
    else detail::place_synapses<std::uint16_t>(block, b, row_of, weight_bits, generate);
  }
  return table;
}

}  // namespace myelin
