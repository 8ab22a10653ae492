#include "myelin/synapses/delivery.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace myelin {

namespace {
constexpr std::size_t line = 64;
// Delivery is bound by memory latency: each segment is a random place in a table of GiBs, so its
// first access misses the cache and the TLB, and a prefetch that misses the TLB holds up the core
// until the page walk is done (slow under virtualization: nested paging). Hence, two prefetches:
//  - every translate_ahead segments, the first line of each of the next translate_ahead segments
//    (both arrays): their page walks overlap instead of one after another (~10% faster than
//    without; 16 and 32 are within noise of each other);
//  - for the segment prefetch_ahead places further, its lines, at most prefetch_lines of each
//    array (the hardware prefetcher follows longer runs): without these the calendar is ~1.4x
//    slower, with 2 lines ~1.2x slower; 2 to 16 places ahead are within noise of each other.
// (tools/microbench/delivery_bench, microcircuit-shaped table.)
constexpr std::size_t translate_ahead = 16;
constexpr std::size_t prefetch_ahead = 4;
constexpr std::size_t prefetch_lines = 8;

// Prefetches [p, p + bytes), at most max_lines lines.
inline void prefetch_range(const void* p, std::size_t bytes, std::size_t max_lines) {
  if (bytes == 0) return;
  const auto* c = static_cast<const char*>(p);
  const auto first = reinterpret_cast<std::uintptr_t>(c) / line;
  const auto last = (reinterpret_cast<std::uintptr_t>(c) + bytes - 1) / line;
  const std::size_t n = std::min<std::size_t>(last - first + 1, max_lines);
  for (std::size_t k = 0; k < n; ++k) __builtin_prefetch(c + k * line);
}

// input[2 * target + (weight < 0)] += weight over [begin, end). Indices and weights are computed
// 16 at a time with vector instructions (GCC/Clang vector extensions: AVX-512, AVX2 or SSE, as the
// build targets), then added one by one: two synapses of a segment may share a target, so the adds
// cannot be a vector scatter. ~5% faster than the scalar loop alone. The sums are exact integer
// sums, so neither this order nor the order of segments changes the result.
using u16x16 = std::uint16_t __attribute__((vector_size(32)));
using i16x16 = std::int16_t __attribute__((vector_size(32)));
using u32x16 = std::uint32_t __attribute__((vector_size(64)));
using i32x16 = std::int32_t __attribute__((vector_size(64)));

template <class Weight>
inline void add_range(const std::uint16_t* __restrict target, const Weight* __restrict weight, std::uint64_t begin,
                      std::uint64_t end, std::int64_t* __restrict input) {
  std::uint64_t k = begin;
  for (; k + 16 <= end; k += 16) {
    u16x16 t;
    std::memcpy(&t, target + k, sizeof t);
    i32x16 w;
    if constexpr (sizeof(Weight) == 2) {
      i16x16 w16;
      std::memcpy(&w16, weight + k, sizeof w16);
      w = __builtin_convertvector(w16, i32x16);
    } else {
      std::memcpy(&w, weight + k, sizeof w);
    }
    const u32x16 index = (__builtin_convertvector(t, u32x16) << 1) + (u32x16(w) >> 31);
    for (int j = 0; j < 16; ++j) input[index[j]] += w[j];
  }
  for (; k < end; ++k) {
    const Weight w = weight[k];
    input[2 * std::size_t(target[k]) + (w < 0 ? 1 : 0)] += w;
  }
}
}  // namespace

arrival_queue::arrival_queue(const synapse_table& table) : table_(table) {
  std::uint64_t max_delay = 0;
  for (const synapse_block& block : table.blocks)
    for (const std::uint16_t d : block.segment_delay) max_delay = std::max<std::uint64_t>(max_delay, d);
  slots_ = std::bit_ceil(max_delay + 1);
  calendar_.resize(table.blocks.size() * slots_);
  sample_.resize(table.blocks.size());
  for (std::size_t b = 0; b < table.blocks.size(); ++b)
    for (std::uint64_t r = 0; r < table.blocks[b].rows(); r += stride) sample_[b].push_back(table.blocks[b].source_gid[r]);
}

std::int64_t arrival_queue::find_row(std::size_t b, std::uint64_t gid) const {
  const std::vector<std::uint64_t>& sample = sample_[b];
  const auto it = std::upper_bound(sample.begin(), sample.end(), gid);
  if (it == sample.begin()) return -1;
  const std::vector<std::uint64_t>& gids = table_.blocks[b].source_gid;
  const auto lo = gids.begin() + (it - sample.begin() - 1) * std::ptrdiff_t(stride);
  const auto hi = gids.end() - lo > std::ptrdiff_t(stride) ? lo + std::ptrdiff_t(stride) : gids.end();
  const auto row = std::lower_bound(lo, hi, gid);
  return row != hi && *row == gid ? row - gids.begin() : -1;
}

void arrival_queue::enqueue(std::uint64_t source_gid, std::int64_t emitted_step, std::int64_t from_step) {
  noted_.push_back({source_gid, emitted_step, from_step});
}

void arrival_queue::admit() {
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
      const std::uint64_t row_begin = block.row_begin[r];
      const std::uint64_t first = block.segment_begin[r], end = block.segment_begin[r + 1];
      std::uint32_t begin = 0;
      bool any = false;
      for (std::uint64_t s = first; s < end; ++s) {
        const std::int64_t due = spike.emitted_step + std::int64_t(block.segment_delay[s]);
        const std::uint32_t segment_end = block.segment_end[s];
        if (due >= spike.from_step) {
          bucket_of(b, due).push_back({row_begin + begin, due, segment_end - begin, s + 1 == end ? 1u : 0u});
          any = true;
        }
        begin = segment_end;
      }
      pending_ += any ? 1 : 0;
    }
  }
  noted_.clear();
}

std::size_t arrival_queue::pending() const {
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

template <class Weight>
std::uint64_t arrival_queue::deliver_block(std::size_t b, const Weight* weight, std::int64_t step,
                                           std::int64_t* input) {
  const synapse_block& block = table_.blocks[b];
  bucket& due = bucket_of(b, step);
  const std::size_t n = due.size();
  if (n == 0) return 0;
  std::int64_t* in = input + 2 * block.first_local;
  const std::uint16_t* target = block.target.data();
  pending_segment* entry = due.data();
  std::uint64_t events = 0;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (i % translate_ahead == 0) {
      for (std::size_t j = i == 0 ? 0 : i + translate_ahead; j < std::min(n, i + 2 * translate_ahead); ++j) {
        __builtin_prefetch(target + entry[j].begin);
        __builtin_prefetch(weight + entry[j].begin);
      }
    }
    if (i + prefetch_ahead < n) {
      const pending_segment& next = entry[i + prefetch_ahead];
      prefetch_range(target + next.begin, next.size * sizeof(std::uint16_t), prefetch_lines);
      prefetch_range(weight + next.begin, next.size * sizeof(Weight), prefetch_lines);
    }
    const pending_segment p = entry[i];
    if (p.due != step) {  // due in a later turn of the ring
      entry[kept++] = p;
      continue;
    }
    add_range(target, weight, p.begin, p.begin + p.size, in);
    events += p.size;
    pending_ -= p.last;
  }
  due.resize(kept);
  return events;
}

std::uint64_t arrival_queue::deliver(std::int64_t step, std::int64_t* input) {
  if (!noted_.empty()) admit();
  std::uint64_t events = 0;
  const bool wide = table_.weight_bits == 32;
  for (std::size_t b = 0; b < table_.blocks.size(); ++b)
    events += wide ? deliver_block(b, table_.blocks[b].weight32.data(), step, input)
                   : deliver_block(b, table_.blocks[b].weight16.data(), step, input);
  return events;
}

}  // namespace myelin
