#include "myelin/synapses/synapse_table.hpp"

#include <algorithm>
#include <limits>

namespace myelin {

std::int64_t synapse_block::find_row(std::uint64_t gid) const {
  auto it = std::lower_bound(source_gid.begin(), source_gid.end(), gid);
  if (it == source_gid.end() || *it != gid) return -1;
  return it - source_gid.begin();
}

std::size_t synapse_block::bytes() const {
  return source_gid.capacity() * sizeof(std::uint64_t) + row_begin.capacity() * sizeof(std::uint64_t) +
         segment_begin.capacity() * sizeof(std::uint64_t) + segment_delay.capacity() * sizeof(std::uint16_t) +
         segment_end.capacity() * sizeof(std::uint32_t) + target.capacity() * sizeof(std::uint16_t) +
         weight16.capacity() * sizeof(std::int16_t) + weight32.capacity() * sizeof(std::int32_t) +
         weight64.capacity() * sizeof(double);
}

std::uint64_t synapse_table::synapses() const {
  std::uint64_t n = 0;
  for (const auto& b : blocks) n += b.synapses();
  return n;
}

std::size_t synapse_table::bytes() const {
  std::size_t n = 0;
  for (const auto& b : blocks) n += b.bytes();
  return n;
}

namespace detail {

namespace {
// Stable counting sort of one row by delay: targets, already increasing within each delay, stay so.
template <class Weight, class Delay>
void sort_row_by_delay(std::uint64_t begin, std::uint64_t end, huge_vector<Delay>& delays,
                       huge_vector<std::uint16_t>& target, huge_vector<Weight>& weight,
                       std::vector<std::uint16_t>& tmp_target, std::vector<Weight>& tmp_weight,
                       std::vector<Delay>& tmp_delay, std::vector<std::uint32_t>& bucket) {
  const std::size_t n = end - begin;
  bool sorted = true;
  for (std::uint64_t i = begin + 1; i < end && sorted; ++i) sorted = delays[i - 1] <= delays[i];
  if (sorted) return;
  Delay lo = std::numeric_limits<Delay>::max(), hi = 0;
  for (std::uint64_t i = begin; i < end; ++i) {
    lo = std::min(lo, delays[i]);
    hi = std::max(hi, delays[i]);
  }
  bucket.assign(std::size_t(hi - lo) + 2, 0);
  for (std::uint64_t i = begin; i < end; ++i) ++bucket[delays[i] - lo + 1];
  for (std::size_t k = 1; k < bucket.size(); ++k) bucket[k] += bucket[k - 1];
  tmp_target.resize(n);
  tmp_weight.resize(n);
  tmp_delay.resize(n);
  for (std::uint64_t i = begin; i < end; ++i) {
    const std::uint32_t at = bucket[delays[i] - lo]++;
    tmp_target[at] = target[i];
    tmp_weight[at] = weight[i];
    tmp_delay[at] = delays[i];
  }
  std::copy(tmp_target.begin(), tmp_target.end(), target.begin() + std::ptrdiff_t(begin));
  std::copy(tmp_weight.begin(), tmp_weight.end(), weight.begin() + std::ptrdiff_t(begin));
  std::copy(tmp_delay.begin(), tmp_delay.end(), delays.begin() + std::ptrdiff_t(begin));
}

template <class Weight, class Delay>
void finish_rows_typed(synapse_block& block, huge_vector<Delay>& delays, huge_vector<Weight>& weight) {
  std::vector<std::uint16_t> tmp_target;
  std::vector<Delay> tmp_delay;
  std::vector<Weight> tmp_weight;
  std::vector<std::uint32_t> bucket;
  block.segment_begin.assign(block.rows() + 1, 0);
  for (std::size_t r = 0; r < block.rows(); ++r) {
    const std::uint64_t begin = block.row_begin[r], end = block.row_begin[r + 1];
    sort_row_by_delay(begin, end, delays, block.target, weight, tmp_target, tmp_weight, tmp_delay, bucket);
    for (std::uint64_t i = begin; i < end; ++i) {
      if (i + 1 == end || delays[i + 1] != delays[i]) {
        block.segment_delay.push_back(delays[i]);
        block.segment_end.push_back(std::uint32_t(i + 1 - begin));
      }
    }
    block.segment_begin[r + 1] = block.segment_delay.size();
  }
  block.segment_delay.shrink_to_fit();
  block.segment_end.shrink_to_fit();
}
}  // namespace

template <class Delay>
void finish_rows(synapse_block& block, huge_vector<Delay>& delays, int weight_bits) {
  if (weight_bits == plastic_weight_bits)
    finish_rows_typed(block, delays, block.weight64);
  else if (weight_bits == 32)
    finish_rows_typed(block, delays, block.weight32);
  else
    finish_rows_typed(block, delays, block.weight16);
  delays.clear();
  delays.shrink_to_fit();
}
template void finish_rows(synapse_block&, huge_vector<std::uint8_t>&, int);
template void finish_rows(synapse_block&, huge_vector<std::uint16_t>&, int);

}  // namespace detail
}  // namespace myelin
