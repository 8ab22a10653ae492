// The synapses one thread holds: those onto its own neurons ("synapses live with their target").
//
// Layout (compact, CSR-like, one array per field, no per-synapse objects):
//  - targets are split in blocks of 65,536 consecutive local neurons so a target index fits 16 bits;
//  - in a block, one row per source neuron that has targets there, rows sorted by source gid
//    (found by binary search: nothing is indexed by global id);
//  - within a row, synapses sorted by delay, then target; runs of equal delay form segments, so a
//    delay is stored once per segment instead of once per synapse, and a spike delivers exactly
//    the segment that comes due at each step (arrival-time delivery);
//  - static weights are fixed-point integers in the target population's quantum (16 or 32 bits);
//    a plastic table (one per plastic projection and thread) keeps each weight as a double in pA
//    (mV for iaf_psc_delta), as NEST does (myelin/synapses/stdp.hpp says why not float).
// Static synapse: 2 (target) + 2 or 4 (weight) bytes, plastic: 2 + 8; plus 6 bytes per segment
// and 24 per row.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "myelin/core/huge_pages.hpp"

namespace myelin {

struct synapse_block {
  std::uint64_t first_local = 0;  // local index (on this thread) of target 0 of this block
  std::vector<std::uint64_t> source_gid;     // [rows]
  std::vector<std::uint64_t> row_begin;      // [rows + 1] into target/weight
  std::vector<std::uint64_t> segment_begin;  // [rows + 1] into segment_delay/segment_end
  std::vector<std::uint16_t> segment_delay;  // steps
  std::vector<std::uint32_t> segment_end;    // end of the segment, relative to its row's begin
  huge_vector<std::uint16_t> target;         // local index - first_local
  huge_vector<std::int16_t> weight16;        // weight_bits == 16
  huge_vector<std::int32_t> weight32;        // weight_bits == 32
  huge_vector<double> weight64;              // weight_bits == plastic_weight_bits

  std::size_t rows() const { return source_gid.size(); }
  std::size_t synapses() const { return target.size(); }
  // Row of a source, or -1 when it has no target in this block.
  std::int64_t find_row(std::uint64_t gid) const;
  std::size_t bytes() const;
};

// weight_bits of a plastic table: double weights in pA (mV), not fixed-point units.
inline constexpr int plastic_weight_bits = 64;

struct synapse_table {
  static constexpr std::uint64_t block_size = 65536;
  int weight_bits = 16;
  std::vector<synapse_block> blocks;

  std::uint64_t synapses() const;
  std::size_t bytes() const;
};

// One incoming synapse as a connection rule produces it, before it is placed in the table.
struct synapse_draw {
  std::uint64_t source_gid;
  std::uint32_t target_local;  // on this thread
  std::uint16_t delay_steps;
  std::int32_t weight_units;  // static tables
  double weight = 0.0;        // plastic tables: the drawn weight itself
};

// Builds a thread's table in two passes over the same deterministic draws, writing rows in
// place, so the peak is the final table plus 1 or 2 bytes per synapse:
//   generate(block, count_only, sink) must call sink(draw) for every synapse onto targets of the
//   block, in the same order both times (count_only: weights and delays may be left 0).
// Within a row, synapses come out sorted by (delay, target) when the generator visits targets in
// increasing order, which a stable counting sort by delay preserves. max_delay_steps bounds the
// drawn delays (up to 255 the build keeps them in a byte).
template <class Generate>
synapse_table build_synapse_table(std::uint64_t n_local, std::uint64_t n_neurons, int weight_bits,
                                  Generate&& generate, std::uint64_t max_delay_steps = 0xffff);

}  // namespace myelin

#include "myelin/synapses/synapse_table_build.hpp"
