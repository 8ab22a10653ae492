// iaf_psc_delta against closed forms: jumps by the weight and exponential relaxation,
// refractoriness with input discarded or (refractory_input) kept, the V_min bound.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "unit/models/model_test_support.hpp"

namespace myelin::test {
namespace {

TEST(iaf_psc_delta, input_jumps_V_in_its_step_then_relaxes) {
  neuron_parameters p;
  driven_block b(neuron_model::iaf_psc_delta, p);
  const double w = 0.5;
  b.excite(0, w);
  b.step();
  EXPECT_EQ(b.V_rel(), w);
  EXPECT_EQ(b.V_m(), p.E_L_mV + w);
  for (int k = 1; k <= 1000; ++k) {
    b.step();
    ASSERT_TRUE(relatively_near(b.V_rel(), w * std::exp(-k * dt_ms / p.tau_m_ms))) << k;
  }
}

TEST(iaf_psc_delta, both_channels_add_to_V) {
  driven_block b(neuron_model::iaf_psc_delta, {});
  b.excite(0, 1.0);
  b.inhibit(0, -0.25);
  b.step();
  EXPECT_EQ(b.V_rel(), 0.75);
  b.inhibit(0, -2.0);
  b.step();
  EXPECT_TRUE(relatively_near(b.V_rel(), 0.75 * std::exp(-dt_ms / 10.0) - 2.0));
}

TEST(iaf_psc_delta, input_reaching_threshold_fires_in_its_step) {
  neuron_parameters p;
  driven_block b(neuron_model::iaf_psc_delta, p);
  b.excite(0, p.V_th_mV - p.E_L_mV);  // exactly to V_th: V >= V_th fires
  EXPECT_TRUE(b.step());
  EXPECT_EQ(b.V_m(), p.V_reset_mV);
}

// Spike in step 1 leaves steps 2..21 refractory; input of step 6 arrives with 16 steps left.
struct refractory_scenario {
  static constexpr double w = 5.0;
  neuron_parameters p;
  driven_block b;
  explicit refractory_scenario(bool refractory_input)
      : p([&] {
          neuron_parameters q;
          q.V_reset_mV = -65.0;
          q.refractory_input = refractory_input;
          return q;
        }()),
        b(neuron_model::iaf_psc_delta, p) {
    b.excite(0, 20.0);
    EXPECT_TRUE(b.step());
    for (int k = 2; k <= 21; ++k) {
      if (k == 6) b.excite(0, w);
      EXPECT_FALSE(b.step());
      EXPECT_EQ(b.V_m(), p.V_reset_mV) << k;
    }
    b.step();  // step 22: first free step
  }
};

TEST(iaf_psc_delta, input_while_refractory_is_discarded) {
  refractory_scenario s(false);
  EXPECT_TRUE(relatively_near(s.b.V_rel(), 5.0 * std::exp(-dt_ms / 10.0)));
  EXPECT_FALSE(s.b.block->has_state("refr_spikes_buffer"));
}

// NEST's refractory_input: the input is decayed by exp(-r h / tau_m) (r = steps left when it
// arrives) and added in the first free step.
TEST(iaf_psc_delta, refractory_input_is_kept_and_released_after_t_ref) {
  refractory_scenario s(true);
  const double released = refractory_scenario::w * std::exp(-16 * dt_ms / 10.0);
  EXPECT_TRUE(relatively_near(s.b.V_rel(), 5.0 * std::exp(-dt_ms / 10.0) + released));
  EXPECT_EQ(s.b.get("refr_spikes_buffer"), 0.0);
}

TEST(iaf_psc_delta, refractory_input_buffer_is_state) {
  neuron_parameters p;
  p.refractory_input = true;
  driven_block b(neuron_model::iaf_psc_delta, p);
  b.excite(0, 20.0);
  ASSERT_TRUE(b.step());
  b.excite(0, 2.0);
  b.step();  // 20 steps left when it arrives
  EXPECT_TRUE(relatively_near(b.get("refr_spikes_buffer"), 2.0 * std::exp(-20 * dt_ms / 10.0)));
  b.excite(0, -1.0);
  b.step();
  EXPECT_TRUE(relatively_near(b.get("refr_spikes_buffer"),
                              2.0 * std::exp(-20 * dt_ms / 10.0) - 1.0 * std::exp(-19 * dt_ms / 10.0)));
}

TEST(iaf_psc_delta, V_min_bounds_the_membrane_potential) {
  neuron_parameters p;
  p.V_min_mV = -75.0;
  driven_block b(neuron_model::iaf_psc_delta, p);
  b.inhibit(0, -10.0);
  b.step();
  EXPECT_EQ(b.V_m(), -75.0);
  b.step();
  EXPECT_TRUE(relatively_near(b.V_rel(), -5.0 * std::exp(-dt_ms / 10.0)));
}

TEST(iaf_psc_delta, V_min_defaults_to_unbounded) {
  driven_block b(neuron_model::iaf_psc_delta, {});
  b.inhibit(0, -1000.0);
  b.step();
  EXPECT_EQ(b.V_rel(), -1000.0);
}

}  // namespace
}  // namespace myelin::test
