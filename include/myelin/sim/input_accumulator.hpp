// One thread's synaptic input of the current step: two integer sums per neuron, interleaved
// (exc, inh), as neuron_block.hpp's input contract says; delivery and the inputs add to it, the
// neuron update reads and clears it.
//
// The sums are int32 when no neuron can receive more than INT32_MAX weight units in one step (the
// build proves it from each neuron's in-degree and the inputs' largest counts): half the bytes of
// int64, so that the accumulator, which delivery writes at random neurons, stays in cache, and the
// update streams half as much. Otherwise (32-bit weights, unbounded plastic weights, huge
// in-degrees) they are int64. Integer sums either way: the width changes no result.
#pragma once

#include <cstdint>
#include <vector>

namespace myelin {

class input_accumulator {
 public:
  input_accumulator() = default;
  // Zeroed sums for `neurons`; narrow when `worst_case_units`, the most units (sum of |units|
  // over both channels) that any one neuron can receive in one step, fits in an int32.
  input_accumulator(std::size_t neurons, std::uint64_t worst_case_units)
      : narrow_(worst_case_units <= std::uint64_t(INT32_MAX)) {
    if (narrow_)
      narrow_sums_.assign(2 * neurons, 0);
    else
      wide_sums_.assign(2 * neurons, 0);
  }

  bool narrow() const { return narrow_; }
  // f(std::int32_t*) or f(std::int64_t*), given the sums (2 per neuron): one dispatch per call,
  // so call it outside the step loop.
  template <class F>
  decltype(auto) visit(F&& f) {
    return narrow_ ? f(narrow_sums_.data()) : f(wide_sums_.data());
  }

 private:
  bool narrow_ = true;
  std::vector<std::int32_t> narrow_sums_;
  std::vector<std::int64_t> wide_sums_;
};

}  // namespace myelin
