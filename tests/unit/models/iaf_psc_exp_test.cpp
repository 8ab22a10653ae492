// iaf_psc_exp against closed forms: exponential PSCs, difference-of-exponentials PSPs (and the
// tau_syn == tau_m limit), separate channels, refractoriness.
#include <gtest/gtest.h>

#include <cmath>

#include "unit/models/model_test_support.hpp"

namespace myelin::test {
namespace {

// PSP (mV) at t after a current jump of w pA decaying with tau_s, on a membrane at rest:
// w/C tau_s tau_m/(tau_m - tau_s) (exp(-t/tau_m) - exp(-t/tau_s)), written with expm1 so that
// it stays accurate as tau_s nears tau_m (limit: w/C t exp(-t/tau_m)).
double exp_psp(double w, double tau_s, double tau_m, double C, double t) {
  const double rate_gap = (tau_m - tau_s) / (tau_s * tau_m);  // 1/tau_s - 1/tau_m
  if (rate_gap == 0) return w / C * t * std::exp(-t / tau_m);
  return w / C * std::exp(-t / tau_s) * std::expm1(rate_gap * t) / rate_gap;
}

TEST(iaf_psc_exp, single_input_gives_the_exact_psc_and_psp) {
  for (const double tau_s : {2.0, 0.5, 10.0 /* == tau_m */, 9.9999999}) {
    neuron_parameters p;
    p.tau_syn_ex_ms = tau_s;
    driven_block b(neuron_model::iaf_psc_exp, p);
    const double w = 100.0;
    b.excite(0, w);
    b.step();
    // The input acts in the step it arrives, after that step's V propagation.
    EXPECT_EQ(b.get("I_syn_ex"), w);
    EXPECT_EQ(b.V_rel(), 0.0);
    double peak = 0.0;
    for (int k = 1; k <= 1000; ++k) {
      b.step();
      const double t = k * dt_ms;
      ASSERT_TRUE(relatively_near(b.get("I_syn_ex"), w * std::exp(-t / tau_s))) << tau_s << " step " << k;
      ASSERT_TRUE(relatively_near(b.V_rel(), exp_psp(w, tau_s, p.tau_m_ms, p.C_m_pF, t))) << tau_s << " step " << k;
      peak = std::max(peak, b.V_rel());
      EXPECT_EQ(b.get("I_syn_in"), 0.0);
    }
    EXPECT_GT(peak, 0.0);
  }
}

TEST(iaf_psc_exp, channels_have_their_own_time_constants_and_add) {
  neuron_parameters p;
  p.tau_syn_ex_ms = 2.0;
  p.tau_syn_in_ms = 5.0;
  driven_block b(neuron_model::iaf_psc_exp, p);
  const double w_ex = 150.0, w_in = -120.0;
  b.excite(0, w_ex);
  b.inhibit(0, w_in);
  b.step();
  for (int k = 1; k <= 1000; ++k) {
    b.step();
    const double t = k * dt_ms;
    const double psp_ex = exp_psp(w_ex, 2.0, p.tau_m_ms, p.C_m_pF, t);
    const double psp_in = exp_psp(w_in, 5.0, p.tau_m_ms, p.C_m_pF, t);
    ASSERT_TRUE(relatively_near(b.get("I_syn_ex"), w_ex * std::exp(-t / 2.0))) << k;
    ASSERT_TRUE(relatively_near(b.get("I_syn_in"), w_in * std::exp(-t / 5.0))) << k;
    // The sum crosses zero: compare relative to the larger part.
    ASSERT_TRUE(relatively_near(b.V_rel(), psp_ex + psp_in, std::max(std::abs(psp_ex), std::abs(psp_in)))) << k;
  }
}

TEST(iaf_psc_exp, inputs_arriving_together_superpose) {
  neuron_parameters p;
  driven_block b(neuron_model::iaf_psc_exp, p);
  b.excite(0, 40.0);
  b.excite(0, 60.0);
  b.step();
  EXPECT_EQ(b.get("I_syn_ex"), 100.0);
}

// While refractory V is clamped, but the synaptic current keeps integrating input and decaying;
// after t_ref V starts from V_reset driven by it (NEST's iaf_psc_exp).
TEST(iaf_psc_exp, refractoriness_clamps_V_but_not_the_current) {
  neuron_parameters p;
  p.V_reset_mV = -65.0;
  driven_block b(neuron_model::iaf_psc_exp, p);
  b.block->set("V_m", 0, p.V_th_mV + 5.0);
  ASSERT_TRUE(b.step());  // step 1: spike, V = V_reset, 20 refractory steps follow
  const double w = 200.0;
  b.excite(0, w);
  b.step();  // step 2: input arrives while refractory
  EXPECT_EQ(b.get("I_syn_ex"), w);
  for (int k = 3; k <= 21; ++k) {
    EXPECT_FALSE(b.step());
    EXPECT_EQ(b.V_m(), p.V_reset_mV) << k;
  }
  b.step();  // step 22: first free step
  const double V_reset_rel = p.V_reset_mV - p.E_L_mV;
  const double I_start = w * std::exp(-19 * dt_ms / p.tau_syn_ex_ms);  // decayed over steps 3..21
  const double expected = V_reset_rel * std::exp(-dt_ms / p.tau_m_ms) +
                          exp_psp(I_start, p.tau_syn_ex_ms, p.tau_m_ms, p.C_m_pF, dt_ms);
  EXPECT_TRUE(relatively_near(b.V_rel(), expected));
}

}  // namespace
}  // namespace myelin::test
