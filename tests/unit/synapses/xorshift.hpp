// A tiny deterministic generator for the synapse tests' random tables and spike trains.
#pragma once

#include <cstdint>

namespace myelin::test {

struct xorshift {
  std::uint64_t x;
  std::uint64_t next() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
};

}  // namespace myelin::test
