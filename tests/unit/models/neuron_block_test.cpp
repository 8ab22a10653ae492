// Behaviour common to every model: DC response and firing against the analytic solution,
// refractoriness, state access and exact restore, the spike list, parameter checks.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>

#include "unit/models/model_test_support.hpp"

namespace myelin::test {
namespace {

class every_model : public ::testing::TestWithParam<neuron_model> {};

std::string model_label(const ::testing::TestParamInfo<neuron_model>& info) {
  switch (info.param) {
    case neuron_model::iaf_psc_delta: return "iaf_psc_delta";
    case neuron_model::iaf_psc_exp: return "iaf_psc_exp";
    case neuron_model::iaf_psc_alpha: return "iaf_psc_alpha";
  }
  return "unknown";
}

INSTANTIATE_TEST_SUITE_P(models, every_model,
                         ::testing::Values(neuron_model::iaf_psc_delta, neuron_model::iaf_psc_exp,
                                           neuron_model::iaf_psc_alpha),
                         model_label);

TEST_P(every_model, factory_builds_the_model_at_rest) {
  neuron_parameters p;
  p.E_L_mV = -65.0;
  driven_block b(GetParam(), p, 5);
  EXPECT_EQ(b.block->model(), GetParam());
  EXPECT_EQ(b.block->size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(b.V_m(i), -65.0);
    EXPECT_EQ(b.block->refractory_steps()[i], 0);
  }
}

// V(t) = E_L + R I (1 - exp(-t/tau_m)), R = tau_m / C_m, below threshold.
TEST_P(every_model, subthreshold_dc_response_is_exact) {
  neuron_parameters p;
  p.I_e_pA = 200.0;  // R I = 8 mV < 15 mV
  driven_block b(GetParam(), p);
  const double RI = p.tau_m_ms / p.C_m_pF * p.I_e_pA;
  for (int k = 1; k <= 2000; ++k) {
    EXPECT_FALSE(b.step());
    const double expected_rel = RI * -std::expm1(-k * dt_ms / p.tau_m_ms);
    ASSERT_TRUE(relatively_near(b.V_rel(), expected_rel)) << "step " << k;
    ASSERT_TRUE(relatively_near(b.V_m(), p.E_L_mV + expected_rel)) << "step " << k;
  }
}

TEST_P(every_model, stimulus_current_adds_to_I_e) {
  neuron_parameters p;
  p.I_e_pA = 50.0;
  driven_block b(GetParam(), p);
  b.use_stim = true;
  b.stim_pA[0] = 150.0;
  const double RI = p.tau_m_ms / p.C_m_pF * 200.0;
  for (int k = 1; k <= 500; ++k) {
    b.step();
    ASSERT_TRUE(relatively_near(b.V_rel(), RI * -std::expm1(-k * dt_ms / p.tau_m_ms))) << "step " << k;
  }
}

TEST_P(every_model, null_stimulus_equals_zero_stimulus_bitwise) {
  neuron_parameters p;
  p.I_e_pA = 400.0;
  driven_block with_null(GetParam(), p), with_zero(GetParam(), p);
  with_zero.use_stim = true;
  for (int k = 1; k <= 1000; ++k) {
    with_null.excite(0, 30.0);
    with_zero.excite(0, 30.0);
    ASSERT_EQ(with_null.step(), with_zero.step());
    ASSERT_EQ(std::bit_cast<std::uint64_t>(with_null.V_rel()), std::bit_cast<std::uint64_t>(with_zero.V_rel()));
  }
}

// First spike in the step whose end the analytic V(t) reaches V_th, i.e. ceil(t_cross / dt);
// then t_ref clamped at V_reset and the next crossing from V_reset.
TEST_P(every_model, suprathreshold_dc_fires_at_the_analytic_steps) {
  for (const double V_reset : {-70.0, -60.0}) {
    neuron_parameters p;
    p.I_e_pA = 500.0;  // R I = 20 mV
    p.V_reset_mV = V_reset;
    driven_block b(GetParam(), p);
    const double RI = p.tau_m_ms / p.C_m_pF * p.I_e_pA;
    const double theta = p.V_th_mV - p.E_L_mV;
    const long first = analytic_crossing_step(0.0, RI, theta, p.tau_m_ms);
    const long refractory = std::lround(p.t_ref_ms / dt_ms);
    const long interval = refractory + analytic_crossing_step(V_reset - p.E_L_mV, RI, theta, p.tau_m_ms);

    std::vector<long> spike_steps;
    for (long k = 1; k <= first + 4 * interval; ++k) {
      if (b.step()) spike_steps.push_back(k);
      if (!spike_steps.empty() && k > spike_steps.back() && k <= spike_steps.back() + refractory) {
        ASSERT_EQ(b.V_m(), V_reset) << "refractory at step " << k;
      }
    }
    ASSERT_EQ(spike_steps.size(), 5u) << "V_reset " << V_reset;
    EXPECT_EQ(spike_steps[0], first);
    for (std::size_t s = 1; s < spike_steps.size(); ++s) EXPECT_EQ(spike_steps[s] - spike_steps[s - 1], interval);
  }
}

TEST_P(every_model, refractory_counter_runs_t_ref_in_steps) {
  neuron_parameters p;
  p.t_ref_ms = 1.5;
  driven_block b(GetParam(), p);
  b.block->set("V_m", 0, p.V_th_mV + 5.0);  // fires in the first step, whatever the model
  ASSERT_TRUE(b.step());
  EXPECT_EQ(b.block->refractory_steps()[0], 15);
  for (int k = 14; k >= 0; --k) {
    b.step();
    EXPECT_EQ(b.block->refractory_steps()[0], k);
    EXPECT_EQ(b.V_m(), p.V_reset_mV);
  }
}

TEST_P(every_model, zero_t_ref_allows_firing_in_consecutive_steps) {
  neuron_parameters p;
  p.t_ref_ms = 0.0;
  p.V_reset_mV = -56.0;
  p.I_e_pA = 5000.0;  // R I = 200 mV: one step from V_reset crosses
  driven_block b(GetParam(), p);
  for (int k = 0; k < 10; ++k) b.step();
  for (int k = 0; k < 10; ++k) EXPECT_TRUE(b.step());
}

TEST_P(every_model, every_state_variable_round_trips) {
  neuron_parameters p;
  p.refractory_input = GetParam() == neuron_model::iaf_psc_delta;
  driven_block b(GetParam(), p, 3);
  const std::vector<std::string> names = b.block->state_names();
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.front(), "V_m_rel");
  double value = 0.123456789;
  for (const std::string& name : names) {
    EXPECT_TRUE(b.block->has_state(name));
    for (std::size_t i = 0; i < 3; ++i) {
      value = value * 3.7 - 1.1;
      b.block->set(name, i, value);
      EXPECT_EQ(b.block->get(name, i), value) << name;
    }
  }
  EXPECT_TRUE(b.block->has_state("V_m"));
  b.block->set("V_m", 1, -61.25);
  EXPECT_EQ(b.V_m(1), -61.25);
  EXPECT_EQ(b.V_rel(1), -61.25 - p.E_L_mV);
  b.block->refractory_steps()[2] = 7;
  EXPECT_EQ(b.block->refractory_steps()[2], 7);

  EXPECT_FALSE(b.block->has_state("no_such_variable"));
  EXPECT_THROW(b.block->get("no_such_variable", 0), std::invalid_argument);
  EXPECT_THROW(b.block->set("no_such_variable", 0, 1.0), std::invalid_argument);
  EXPECT_THROW(b.block->get("V_m", 3), std::out_of_range);
  EXPECT_THROW(b.block->set(names.back(), 3, 1.0), std::out_of_range);
}

TEST_P(every_model, synaptic_currents_are_state_of_the_current_based_models) {
  driven_block b(GetParam(), {});
  const bool current_based = GetParam() != neuron_model::iaf_psc_delta;
  EXPECT_EQ(b.block->has_state("I_syn_ex"), current_based);
  EXPECT_EQ(b.block->has_state("I_syn_in"), current_based);
  EXPECT_EQ(b.block->has_state("dI_syn_ex"), GetParam() == neuron_model::iaf_psc_alpha);
}

// state_names() + refractory_steps() determine the future: a block restored from them evolves
// bit for bit like the original, with neurons caught mid-refractoriness and mid-PSC.
TEST_P(every_model, restored_state_evolves_identically_bitwise) {
  for (const bool refractory_input : {false, true}) {
    if (refractory_input && GetParam() != neuron_model::iaf_psc_delta) continue;
    neuron_parameters p;
    p.refractory_input = refractory_input;
    p.I_e_pA = 300.0;
    p.tau_syn_in_ms = 5.0;
    const std::size_t n = 101;
    const bool delta = GetParam() == neuron_model::iaf_psc_delta;
    driven_block original(GetParam(), p, n), restored(GetParam(), p, n);
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> ex(0.0, delta ? 2.0 : 400.0), in(delta ? -1.5 : -100.0, 0.0);
    auto random_input = [&] {
      std::vector<std::int64_t> input(2 * n);
      for (std::size_t i = 0; i < n; ++i) {
        input[2 * i] = to_fixed(ex(rng));
        input[2 * i + 1] = to_fixed(in(rng));
      }
      return input;
    };
    std::size_t fired = 0;
    for (int k = 0; k < 300; ++k) {
      original.input = random_input();
      original.step();
      fired += original.spiked.size();
    }
    ASSERT_GT(fired, 100u) << "the test needs spiking neurons";

    for (const std::string& name : original.block->state_names()) {
      for (std::size_t i = 0; i < n; ++i) restored.block->set(name, i, original.block->get(name, i));
    }
    std::size_t refractory_now = 0;
    for (std::size_t i = 0; i < n; ++i) {
      restored.block->refractory_steps()[i] = original.block->refractory_steps()[i];
      refractory_now += original.block->refractory_steps()[i] != 0;
    }
    ASSERT_GT(refractory_now, 0u) << "the test needs refractory neurons at the copy";

    for (int k = 0; k < 500; ++k) {
      original.input = random_input();
      restored.input = original.input;
      original.step();
      restored.step();
      ASSERT_EQ(original.spiked, restored.spiked) << "step " << k;
      for (const std::string& name : original.block->state_names()) {
        for (std::size_t i = 0; i < n; ++i) {
          ASSERT_EQ(std::bit_cast<std::uint64_t>(original.block->get(name, i)),
                    std::bit_cast<std::uint64_t>(restored.block->get(name, i)))
              << name << " of neuron " << i << " at step " << k;
        }
      }
    }
  }
}

// 32-bit sums (where they fit) and 64-bit ones give the same states and spikes, bit for bit, and
// both are consumed. Inputs reach ~2000 pA (2^31 units of 2^-20 pA: the int32 limit).
TEST_P(every_model, int32_and_int64_sums_agree) {
  neuron_parameters p;
  p.I_e_pA = 300.0;
  const std::size_t n = 37;
  const bool delta = GetParam() == neuron_model::iaf_psc_delta;
  driven_block wide(GetParam(), p, n), narrow(GetParam(), p, n);
  std::vector<std::int32_t> input32(2 * n);
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> ex(0.0, delta ? 2.0 : 2000.0), in(delta ? -1.5 : -2000.0, 0.0);
  std::size_t fired = 0;
  for (int k = 0; k < 400; ++k) {
    for (std::size_t i = 0; i < n; ++i) {
      wide.input[2 * i] = to_fixed(ex(rng)) / (k % 4 == 0 ? 1 : 64);
      wide.input[2 * i + 1] = to_fixed(in(rng)) / (k % 4 == 0 ? 1 : 64);
    }
    std::copy(wide.input.begin(), wide.input.end(), input32.begin());
    wide.step();
    narrow.spiked.clear();
    narrow.block->update(input32.data(), quantum, nullptr, narrow.spiked);
    ASSERT_EQ(input32, std::vector<std::int32_t>(2 * n, 0)) << "step " << k;
    ASSERT_EQ(wide.spiked, narrow.spiked) << "step " << k;
    fired += wide.spiked.size();
    for (const std::string& name : wide.block->state_names())
      for (std::size_t i = 0; i < n; ++i)
        ASSERT_EQ(std::bit_cast<std::uint64_t>(wide.block->get(name, i)),
                  std::bit_cast<std::uint64_t>(narrow.block->get(name, i)))
            << name << " of neuron " << i << " at step " << k;
  }
  EXPECT_GT(fired, 50u) << "the test needs spiking neurons";
}

// Spikes come back ascending and complete, across the eight-neuron groups the scan skips.
TEST_P(every_model, spike_list_is_ascending_and_complete) {
  neuron_parameters p;
  const std::size_t n = 45;
  driven_block b(GetParam(), p, n);
  const std::vector<std::uint32_t> firing = {0, 3, 7, 8, 15, 16, 17, 31, 39, 40, 44};
  for (const std::uint32_t i : firing) b.block->set("V_m", i, p.V_th_mV + 5.0);
  b.spiked = {999};  // update appends
  b.block->update(b.input.data(), quantum, nullptr, b.spiked);
  std::vector<std::uint32_t> expected = {999};
  expected.insert(expected.end(), firing.begin(), firing.end());
  EXPECT_EQ(b.spiked, expected);
}

// The input of a step is consumed: zero afterwards, so the next step starts from nothing without
// a separate clearing pass; and it took effect (an excitatory input moves the state).
TEST_P(every_model, update_consumes_its_input) {
  neuron_parameters p;
  const std::size_t n = 19;
  driven_block b(GetParam(), p, n);
  for (std::size_t i = 0; i < n; ++i) {
    b.input[2 * i] = std::int64_t(100 + i);
    b.input[2 * i + 1] = -std::int64_t(i);
  }
  b.block->update(b.input.data(), quantum, nullptr, b.spiked);
  EXPECT_EQ(b.input, std::vector<std::int64_t>(2 * n, 0));
  // Where an excitatory input shows after one step: V (delta), the current (exp), its derivative (alpha).
  const std::string moved = GetParam() == neuron_model::iaf_psc_delta  ? "V_m"
                            : GetParam() == neuron_model::iaf_psc_exp ? "I_syn_ex"
                                                                       : "dI_syn_ex";
  EXPECT_NE(b.block->get(moved, 0), GetParam() == neuron_model::iaf_psc_delta ? p.E_L_mV : 0.0);
}

TEST(neuron_block_factory, rejects_invalid_parameters) {
  auto create = [](neuron_model model, auto change, double dt = dt_ms) {
    neuron_parameters p;
    change(p);
    return neuron_block::create(make_spec(model, p), dt, 1);
  };
  for (const neuron_model model :
       {neuron_model::iaf_psc_delta, neuron_model::iaf_psc_exp, neuron_model::iaf_psc_alpha}) {
    EXPECT_THROW(create(model, [](neuron_parameters& p) { p.C_m_pF = 0.0; }), std::invalid_argument);
    EXPECT_THROW(create(model, [](neuron_parameters& p) { p.tau_m_ms = -1.0; }), std::invalid_argument);
    EXPECT_THROW(create(model, [](neuron_parameters& p) { p.t_ref_ms = -0.1; }), std::invalid_argument);
    EXPECT_THROW(create(model, [](neuron_parameters& p) { p.V_reset_mV = p.V_th_mV; }), std::invalid_argument);
    EXPECT_THROW(create(model, [](neuron_parameters&) {}, 0.0), std::invalid_argument);
    EXPECT_THROW(create(model, [](neuron_parameters&) {}, 0.00025), std::invalid_argument);  // not whole tics
    EXPECT_NO_THROW(create(model, [](neuron_parameters&) {}, 0.025));
  }
  EXPECT_THROW(create(neuron_model::iaf_psc_exp, [](neuron_parameters& p) { p.tau_syn_in_ms = 0.0; }),
               std::invalid_argument);
  EXPECT_THROW(create(neuron_model::iaf_psc_alpha, [](neuron_parameters& p) { p.tau_syn_ex_ms = 0.0; }),
               std::invalid_argument);
  EXPECT_NO_THROW(create(neuron_model::iaf_psc_delta, [](neuron_parameters& p) { p.tau_syn_ex_ms = 0.0; }));
}

}  // namespace
}  // namespace myelin::test
