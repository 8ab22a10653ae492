#include "myelin/core/network_layout.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace myelin {

namespace {
network_spec two_populations() {
  network_spec net;
  net.populations.resize(2);
  net.populations[0].name = "a";
  net.populations[0].n = 100;
  net.populations[1].name = "b";
  net.populations[1].n = 50;
  return net;
}

distribution normal(double mean, double std, double min = -INFINITY, double max = INFINITY) {
  distribution d;
  d.type = distribution::kind::normal;
  d.a = mean;
  d.b = std;
  d.min = min;
  d.max = max;
  return d;
}
}  // namespace

TEST(network_layout, gid_ranges_follow_population_order) {
  network_layout layout(two_populations(), 0.1, 16);
  EXPECT_EQ(layout.n_neurons(), 150u);
  EXPECT_EQ(layout.first_gid(1), 100u);
  EXPECT_EQ(layout.population_of(0), 0u);
  EXPECT_EQ(layout.population_of(99), 0u);
  EXPECT_EQ(layout.population_of(100), 1u);
  EXPECT_EQ(layout.population_of(149), 1u);
}

TEST(network_layout, quantum_is_the_finest_power_of_two_that_fits_the_largest_weight) {
  network_spec net = two_populations();
  projection_spec exc;
  exc.source = 0;
  exc.target = 1;
  exc.weight = normal(87.8, 8.78, 0.0);  // bound: 87.8 + 8 * 8.78 = 158.04 pA
  exc.delay_ms = distribution::constant_value(1.5);
  projection_spec inh = exc;
  inh.weight = normal(-351.2, 35.12, -INFINITY, 0.0);  // bound 632.16 pA
  net.projections = {exc, inh};
  network_layout layout(net, 0.1, 16);
  const weight_scale& s = layout.scale(1);
  EXPECT_DOUBLE_EQ(s.quantum, 1.0 / 32.0);  // 632.16 * 32 = 20229 <= 32767 < 632.16 * 64
  EXPECT_EQ(s.max_units, 32767);
  EXPECT_EQ(s.to_units(87.8), std::llround(87.8 * 32));
  EXPECT_EQ(s.to_units(1e6), 32767);  // saturates instead of wrapping
  EXPECT_EQ(s.to_units(-1e6), -32767);

  network_layout wide(net, 0.1, 32);
  EXPECT_DOUBLE_EQ(wide.scale(1).quantum, std::ldexp(1.0, -21));  // 632.16 * 2^21 < 2^31 - 1
  EXPECT_EQ(wide.scale(1).max_units, 2147483647);
}

TEST(network_layout, delays_round_to_steps_and_bound_the_interval) {
  network_spec net = two_populations();
  projection_spec p;
  p.source = 0;
  p.target = 1;
  p.weight = distribution::constant_value(1.0);
  p.delay_ms = normal(1.5, 0.75, 0.05);
  projection_spec q = p;
  q.delay_ms = distribution::constant_value(2.0);
  net.projections = {p, q};
  network_layout layout(net, 0.1, 16);
  EXPECT_EQ(layout.delay_steps(1.5), 15);
  EXPECT_EQ(layout.delay_steps(0.04), 1);  // never below one step
  EXPECT_EQ(layout.min_delay_steps(), 1);
  EXPECT_EQ(layout.max_delay_steps(), 75);  // 1.5 + 8 * 0.75 = 7.5 ms
}

TEST(network_layout, constant_delays_give_their_own_interval) {
  network_spec net = two_populations();
  projection_spec p;
  p.weight = distribution::constant_value(0.1);
  p.delay_ms = distribution::constant_value(1.5);
  net.projections = {p};
  network_layout layout(net, 0.1, 16);
  EXPECT_EQ(layout.min_delay_steps(), 15);
  EXPECT_EQ(layout.max_delay_steps(), 15);
}

}  // namespace myelin
