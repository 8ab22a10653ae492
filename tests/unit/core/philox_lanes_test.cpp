// philox4x32_10_lanes, on its own: the same file is also built with -march=native
// (tests/CMakeLists.txt) so the AVX-512 path is tested where the machine has it.
#include <gtest/gtest.h>

#include <algorithm>

#include "myelin/core/random.hpp"

namespace myelin {
// The vectorized form (Poisson input, random_stream's refills) draws exactly what the scalar
// bijection draws, for any number of lanes: the vector paths take multiples of 16 (AVX-512), 8
// (AVX2) or 4 (SSE2) lanes, 4, 2 or 1 registers at a time; other counts take the scalar loop.
template <std::size_t lanes>
void expect_lanes_equal_scalar() {
  std::uint32_t c0[lanes], c1[lanes], c2[lanes], c3[lanes];
  const std::array<std::uint32_t, 2> key{0xdeadbeefu, 0x12345678u};
  for (std::size_t k = 0; k < lanes; ++k) {
    c0[k] = std::uint32_t(k * 7919u);
    c1[k] = std::uint32_t(0xffffffffu - k);
    c2[k] = std::uint32_t(k << 20);
    c3[k] = std::uint32_t(k * k * 0x9E3779B9u);
  }
  std::uint32_t in0[lanes], in1[lanes], in2[lanes], in3[lanes];
  std::copy(c0, c0 + lanes, in0);
  std::copy(c1, c1 + lanes, in1);
  std::copy(c2, c2 + lanes, in2);
  std::copy(c3, c3 + lanes, in3);
  philox4x32_10_lanes<lanes>(c0, c1, c2, c3, key);
  for (std::size_t k = 0; k < lanes; ++k) {
    const auto expected = philox4x32_10({in0[k], in1[k], in2[k], in3[k]}, key);
    EXPECT_EQ(c0[k], expected[0]) << lanes << " lanes, lane " << k;
    EXPECT_EQ(c1[k], expected[1]) << lanes << " lanes, lane " << k;
    EXPECT_EQ(c2[k], expected[2]) << lanes << " lanes, lane " << k;
    EXPECT_EQ(c3[k], expected[3]) << lanes << " lanes, lane " << k;
  }
}

TEST(philox_lanes, equals_the_scalar_bijection_in_every_lane) {
  expect_lanes_equal_scalar<7>();
  expect_lanes_equal_scalar<4>();
  expect_lanes_equal_scalar<8>();
  expect_lanes_equal_scalar<12>();
  expect_lanes_equal_scalar<16>();
  expect_lanes_equal_scalar<24>();
  expect_lanes_equal_scalar<48>();
  expect_lanes_equal_scalar<32>();
  expect_lanes_equal_scalar<64>();
  expect_lanes_equal_scalar<128>();
}
}  // namespace myelin
