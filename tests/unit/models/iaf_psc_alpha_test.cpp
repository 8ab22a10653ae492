// iaf_psc_alpha against closed forms: alpha PSCs normalized to peak at w, their PSPs (and the
// tau_syn == tau_m limit), separate channels, refractoriness, the V_min bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "unit/models/model_test_support.hpp"

namespace myelin::test {
namespace {

// I(t) = w e t/tau_s exp(-t/tau_s): peaks at w, at t = tau_s.
double alpha_psc(double w, double tau_s, double t) { return w * std::numbers::e * t / tau_s * std::exp(-t / tau_s); }

// V(t) = w e/(tau_s C) exp(-t/tau_s) (exp(k t) - 1 - k t) / k^2, k = 1/tau_s - 1/tau_m: the
// membrane's response to alpha_psc from rest (limit k = 0: w e/(tau_s C) t^2/2 exp(-t/tau_s)).
double alpha_psp(double w, double tau_s, double tau_m, double C, double t) {
  const double scale = w * std::numbers::e / (tau_s * C) * std::exp(-t / tau_s);
  const double k = (tau_m - tau_s) / (tau_s * tau_m);
  if (k == 0) return scale * t * t / 2;
  return scale * (std::expm1(k * t) - k * t) / (k * k);
}

TEST(iaf_psc_alpha, single_input_gives_the_exact_psc_peaking_at_w) {
  neuron_parameters p;
  p.tau_syn_ex_ms = 2.0;
  driven_block b(neuron_model::iaf_psc_alpha, p);
  const double w = 100.0;
  b.excite(0, w);
  b.step();
  EXPECT_EQ(b.get("I_syn_ex"), 0.0);
  EXPECT_TRUE(relatively_near(b.get("dI_syn_ex"), w * std::numbers::e / p.tau_syn_ex_ms));
  double peak = 0.0;
  int peak_step = 0;
  for (int k = 1; k <= 1000; ++k) {
    b.step();
    const double t = k * dt_ms;
    ASSERT_TRUE(relatively_near(b.get("I_syn_ex"), alpha_psc(w, p.tau_syn_ex_ms, t))) << k;
    if (b.get("I_syn_ex") > peak) {
      peak = b.get("I_syn_ex");
      peak_step = k;
    }
  }
  EXPECT_EQ(peak_step, 20);  // t = tau_syn
  EXPECT_TRUE(relatively_near(peak, w));
}

TEST(iaf_psc_alpha, single_input_gives_the_exact_psp) {
  for (const double tau_s : {2.0, 0.5, 10.0 /* == tau_m */}) {
    neuron_parameters p;
    p.tau_syn_ex_ms = tau_s;
    driven_block b(neuron_model::iaf_psc_alpha, p);
    const double w = 100.0;
    b.excite(0, w);
    b.step();
    EXPECT_EQ(b.V_rel(), 0.0);
    for (int k = 1; k <= 1000; ++k) {
      b.step();
      ASSERT_TRUE(relatively_near(b.V_rel(), alpha_psp(w, tau_s, p.tau_m_ms, p.C_m_pF, k * dt_ms)))
          << tau_s << " step " << k;
    }
  }
}

TEST(iaf_psc_alpha, channels_have_their_own_time_constants_and_add) {
  neuron_parameters p;
  p.tau_syn_ex_ms = 0.5;
  p.tau_syn_in_ms = 3.0;
  driven_block b(neuron_model::iaf_psc_alpha, p);
  const double w_ex = 300.0, w_in = -80.0;
  b.excite(0, w_ex);
  b.inhibit(0, w_in);
  b.step();
  for (int k = 1; k <= 1000; ++k) {
    b.step();
    const double t = k * dt_ms;
    ASSERT_TRUE(relatively_near(b.get("I_syn_ex"), alpha_psc(w_ex, 0.5, t))) << k;
    ASSERT_TRUE(relatively_near(b.get("I_syn_in"), alpha_psc(w_in, 3.0, t))) << k;
    const double psp_ex = alpha_psp(w_ex, 0.5, p.tau_m_ms, p.C_m_pF, t);
    const double psp_in = alpha_psp(w_in, 3.0, p.tau_m_ms, p.C_m_pF, t);
    ASSERT_TRUE(relatively_near(b.V_rel(), psp_ex + psp_in, std::max(std::abs(psp_ex), std::abs(psp_in)))) << k;
  }
}

TEST(iaf_psc_alpha, refractoriness_clamps_V_but_not_the_current) {
  neuron_parameters p;
  driven_block b(neuron_model::iaf_psc_alpha, p);
  b.block->set("V_m", 0, p.V_th_mV + 5.0);
  ASSERT_TRUE(b.step());  // step 1: spike; steps 2..21 refractory
  const double w = 200.0;
  b.excite(0, w);
  b.step();  // step 2
  for (int k = 3; k <= 21; ++k) {
    EXPECT_FALSE(b.step());
    EXPECT_EQ(b.V_m(), p.V_reset_mV) << k;
    EXPECT_TRUE(relatively_near(b.get("I_syn_ex"), alpha_psc(w, p.tau_syn_ex_ms, (k - 2) * dt_ms))) << k;
  }
  b.step();  // step 22: free, driven by the current built up meanwhile
  EXPECT_GT(b.V_m(), p.V_reset_mV);
}

TEST(iaf_psc_alpha, V_min_bounds_the_membrane_potential) {
  neuron_parameters p;
  p.V_min_mV = -72.0;
  driven_block b(neuron_model::iaf_psc_alpha, p);
  b.inhibit(0, -5000.0);
  double lowest = 0.0;
  int steps_at_bound = 0;
  for (int k = 0; k < 500; ++k) {
    b.step();
    ASSERT_GE(b.V_m(), p.V_min_mV);
    lowest = std::min(lowest, b.V_rel());
    steps_at_bound += b.V_rel() == p.V_min_mV - p.E_L_mV;
  }
  EXPECT_EQ(lowest, p.V_min_mV - p.E_L_mV);
  EXPECT_GT(steps_at_bound, 10);
  EXPECT_GT(b.V_m(), p.V_min_mV);  // and recovers once the current has gone
}

}  // namespace
}  // namespace myelin::test
