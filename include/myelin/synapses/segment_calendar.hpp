// The queue behind arrival-time delivery, shared by static tables (delivery.hpp) and plastic
// ones (plastic_delivery.hpp): which segments of which rows come due at which step.
//
// Layout (issue #3: delivery is the hot path, and it is bound by memory latency):
//  - a calendar per block: a ring of 2^k > max delay buckets, one per future step. Admitting a
//    spike puts each of its row's segments (first synapse, size, arrival step) into the bucket of
//    its arrival step, reading the row's segment list once, contiguously. A step then touches only
//    the segments due in it, and never the table's segment arrays: just the synapses;
//  - each segment is a random place in a table of GiBs (a cache and a TLB miss): while one is
//    delivered, the page walks of the next 16 are started together and the lines of the one 4
//    places further are prefetched (see due());
//  - note() only notes the spike; admit() takes the noted spikes together, with the row look-ups
//    and segment lists of many spikes in flight at once instead of one after another. A row is
//    found through every 32nd source gid of the block (small, cached), then a few lines.
// A bucket keeps a segment that is due only in a later turn of the ring. A segment may carry a
// payload from its spike (plastic tables: the presynaptic trace before the spike).
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

#include "myelin/synapses/synapse_table.hpp"

namespace myelin::detail {

inline constexpr std::size_t cache_line = 64;
// Delivery is bound by memory latency: each segment is a random place in a table of GiBs, so its
// first access misses the cache and the TLB, and a prefetch that misses the TLB holds up the core
// until the page walk is done (slow under virtualization: nested paging). Hence, two prefetches:
//  - every translate_ahead segments, the first line of each of the next translate_ahead segments
//    (every array): their page walks overlap instead of one after another (~10% faster than
//    without; 16 and 32 are within noise of each other);
//  - for the segment prefetch_ahead places further, its lines, at most prefetch_lines of each
//    array (the hardware prefetcher follows longer runs): without these the calendar is ~1.4x
//    slower, with 2 lines ~1.2x slower; 2 to 16 places ahead are within noise of each other.
// (tools/microbench/delivery_bench, microcircuit-shaped table.)
inline constexpr std::size_t translate_ahead = 16;
inline constexpr std::size_t prefetch_ahead = 4;
inline constexpr std::size_t prefetch_lines = 8;

// Prefetches [p, p + bytes), at most max_lines lines.
inline void prefetch_range(const void* p, std::size_t bytes, std::size_t max_lines) {
  if (bytes == 0) return;
  const auto* c = static_cast<const char*>(p);
  const auto first = reinterpret_cast<std::uintptr_t>(c) / cache_line;
  const auto last = (reinterpret_cast<std::uintptr_t>(c) + bytes - 1) / cache_line;
  const std::size_t n = std::min<std::size_t>(last - first + 1, max_lines);
  for (std::size_t k = 0; k < n; ++k) __builtin_prefetch(c + k * cache_line);
}

struct no_payload {};

// One segment of a received spike's row, waiting in the bucket of its arrival step.
template <class Payload>
struct pending_segment {
  std::uint64_t begin;  // first synapse in the block
  std::int64_t due;     // arrival step
  std::uint32_t size;   // synapses
  std::uint32_t last;   // 1 for the last segment of the row
  [[no_unique_address]] Payload payload;
};

// A spike as enqueued: its synapses arriving before from_step are skipped (delivered before a
// checkpoint).
struct noted_spike {
  std::uint64_t gid;
  std::int64_t emitted_step, from_step;
};

template <class Payload>
class segment_calendar {
 public:
  using segment = pending_segment<Payload>;

  explicit segment_calendar(const synapse_table& table) : table_(table) {
    std::uint64_t max_delay = 0;
    for (const synapse_block& block : table.blocks)
      for (const std::uint16_t d : block.segment_delay) max_delay = std::max<std::uint64_t>(max_delay, d);
    slots_ = std::bit_ceil(max_delay + 1);
    calendar_.resize(table.blocks.size() * slots_);
    sample_.resize(table.blocks.size());
    for (std::size_t b = 0; b < table.blocks.size(); ++b)
      for (std::uint64_t r = 0; r < table.blocks[b].rows(); r += stride)
        sample_[b].push_back(table.blocks[b].source_gid[r]);
  }

  void note(std::uint64_t gid, std::int64_t emitted_step, std::int64_t from_step) {
    noted_.push_back({gid, emitted_step, from_step});
  }
  bool has_noted() const { return !noted_.empty(); }

  // Files the noted spikes' segments, spike by spike in the order noted: for each block holding
  // the spike's row, payload_of(block, row, spike) once (whether or not a segment remains), then
  // every segment due at or after the spike's from_step goes to its bucket with that payload.
  template <class PayloadOf>
  void admit(PayloadOf&& payload_of) {
    const std::size_t n = noted_.size();
    rows_.resize(n);
    for (std::size_t b = 0; b < table_.blocks.size(); ++b) {
      const synapse_block& block = table_.blocks[b];
      // The look-ups of all noted spikes in flight together: source gids, then row bounds, then
      // the segment lists, each prefetched for every spike before the first is read.
      for (std::size_t i = 0; i < n; ++i) {
        const std::vector<std::uint64_t>& sample = sample_[b];
        const auto it = std::upper_bound(sample.begin(), sample.end(), noted_[i].gid);
        rows_[i] = it == sample.begin() ? -1 : (it - sample.begin() - 1) * std::int64_t(stride);
        if (rows_[i] >= 0) prefetch_range(block.source_gid.data() + rows_[i], stride * sizeof(std::uint64_t), stride);
      }
      for (std::size_t i = 0; i < n; ++i) {
        if (rows_[i] < 0) continue;
        const auto lo = block.source_gid.begin() + rows_[i];
        const auto hi = block.source_gid.end() - lo > std::ptrdiff_t(stride) ? lo + std::ptrdiff_t(stride)
                                                                              : block.source_gid.end();
        const auto row = std::lower_bound(lo, hi, noted_[i].gid);
        rows_[i] = row != hi && *row == noted_[i].gid ? row - block.source_gid.begin() : -1;
        if (rows_[i] < 0) continue;
        __builtin_prefetch(block.segment_begin.data() + rows_[i]);
        __builtin_prefetch(block.row_begin.data() + rows_[i]);
      }
      for (std::size_t i = 0; i < n; ++i) {
        if (rows_[i] < 0) continue;
        const auto r = std::size_t(rows_[i]);
        const std::uint64_t first = block.segment_begin[r], count = block.segment_begin[r + 1] - first;
        prefetch_range(block.segment_delay.data() + first, count * sizeof(std::uint16_t), 64);
        prefetch_range(block.segment_end.data() + first, count * sizeof(std::uint32_t), 64);
      }
      for (std::size_t i = 0; i < n; ++i) {
        if (rows_[i] < 0) continue;
        const auto r = std::size_t(rows_[i]);
        const noted_spike& spike = noted_[i];
        const Payload payload = payload_of(b, r, spike);
        const std::uint64_t row_begin = block.row_begin[r];
        const std::uint64_t first = block.segment_begin[r], end = block.segment_begin[r + 1];
        std::uint32_t begin = 0;
        bool any = false;
        for (std::uint64_t s = first; s < end; ++s) {
          const std::int64_t due = spike.emitted_step + std::int64_t(block.segment_delay[s]);
          const std::uint32_t segment_end = block.segment_end[s];
          if (due >= spike.from_step) {
            bucket_of(b, due).push_back({row_begin + begin, due, segment_end - begin, s + 1 == end ? 1u : 0u, payload});
            any = true;
          }
          begin = segment_end;
        }
        pending_ += any ? 1 : 0;
      }
    }
    noted_.clear();
  }

  // deliver(segment) for every segment of block b due at `step` (admitted before), in bucket
  // order; touch(segment, max_lines) prefetches at most max_lines lines of each of the segment's
  // synapse arrays. Returns the synapses delivered.
  template <class Touch, class Deliver>
  std::uint64_t due(std::size_t b, std::int64_t step, Touch&& touch, Deliver&& deliver) {
    std::vector<segment>& bucket = bucket_of(b, step);
    const std::size_t n = bucket.size();
    if (n == 0) return 0;
    segment* entry = bucket.data();
    std::uint64_t events = 0;
    std::size_t kept = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (i % translate_ahead == 0)
        for (std::size_t j = i == 0 ? 0 : i + translate_ahead; j < std::min(n, i + 2 * translate_ahead); ++j)
          touch(entry[j], 1);
      if (i + prefetch_ahead < n) touch(entry[i + prefetch_ahead], prefetch_lines);
      const segment p = entry[i];
      if (p.due != step) {  // due in a later turn of the ring
        entry[kept++] = p;
        continue;
      }
      deliver(p);
      events += p.size;
      pending_ -= p.last;
    }
    bucket.resize(kept);
    return events;
  }

  // Spikes (counted once per block holding their row) with synapses still to deliver.
  std::size_t pending() const {
    std::size_t n = pending_;
    for (const noted_spike& spike : noted_) {
      for (std::size_t b = 0; b < table_.blocks.size(); ++b) {
        const std::int64_t row = find_row(b, spike.gid);
        if (row < 0) continue;
        const synapse_block& block = table_.blocks[b];
        const std::uint64_t last = block.segment_begin[std::size_t(row) + 1] - 1;  // the latest to arrive
        n += spike.emitted_step + std::int64_t(block.segment_delay[last]) >= spike.from_step ? 1 : 0;
      }
    }
    return n;
  }

  // The row of gid in block b, or -1.
  std::int64_t find_row(std::size_t b, std::uint64_t gid) const {
    const std::vector<std::uint64_t>& sample = sample_[b];
    const auto it = std::upper_bound(sample.begin(), sample.end(), gid);
    if (it == sample.begin()) return -1;
    const std::vector<std::uint64_t>& gids = table_.blocks[b].source_gid;
    const auto lo = gids.begin() + (it - sample.begin() - 1) * std::ptrdiff_t(stride);
    const auto hi = gids.end() - lo > std::ptrdiff_t(stride) ? lo + std::ptrdiff_t(stride) : gids.end();
    const auto row = std::lower_bound(lo, hi, gid);
    return row != hi && *row == gid ? row - gids.begin() : -1;
  }

 private:
  // Rows of a block are found by binary search in every `stride`-th source gid (small, cached),
  // then in the few lines of source_gid between two of them.
  static constexpr std::uint64_t stride = 32;

  std::vector<segment>& bucket_of(std::size_t block, std::int64_t step) {
    return calendar_[block * slots_ + (std::uint64_t(step) & (slots_ - 1))];
  }

  const synapse_table& table_;
  std::uint64_t slots_ = 1;                          // buckets per block: a power of two > the largest delay
  std::vector<std::vector<segment>> calendar_;       // [block * slots_ + step % slots_]
  std::vector<std::vector<std::uint64_t>> sample_;  // [block][k] = source_gid[k * stride]
  std::vector<noted_spike> noted_;                   // noted, not yet admitted
  std::vector<std::int64_t> rows_;                   // scratch of admit()
  std::size_t pending_ = 0;                          // admitted spikes x blocks with segments left
};

}  // namespace myelin::detail
