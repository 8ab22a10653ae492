// STDP rules (stdp.hpp): NEST's stdp_synapse and stdp_pl_synapse_hom. The weight change of a
// single pair against the analytic window at time differences from -100 to +100 ms with
// dendritic delays, to 1e-12 relative; the bounds of additive and multiplicative weight
// dependence; pairing protocols against closed forms; random spike trains against an
// independent transcription of NEST's algorithm (times in ms, a history that is never pruned),
// with the source's trace kept once per row as delivery will keep it.
#include "myelin/synapses/stdp.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "myelin/synapses/post_history.hpp"

namespace myelin {
namespace {

constexpr double dt = 0.1;  // ms per step
constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();

// One synapse (delay d steps) onto one neuron, driven by presynaptic and postsynaptic spike stamps
// (each sorted), in the order of the simulation loop: in step s, first the presynaptic spikes
// that arrive in s are delivered (stamp t_pre, delay d: step t_pre + d - 1), then the neuron
// spikes (stamp s + 1). The history is pruned with the exact horizon of arrival-time delivery.
template <class Rule>
double run_pair_protocol(const Rule& rule, double w0, std::int64_t d, double tau_minus,
                         const std::vector<std::int64_t>& pre, const std::vector<std::int64_t>& post) {
  post_history history(1, tau_minus, dt);
  history.add_incoming(0);
  pre_trace trace;
  double w = w0;
  std::size_t i = 0, j = 0;
  while (i < pre.size() || j < post.size()) {
    const std::int64_t pre_step = i < pre.size() ? pre[i] + d - 1 : never;
    const std::int64_t post_step = j < post.size() ? post[j] - 1 : never;
    if (pre_step <= post_step) {
      on_presynaptic_spike(w, trace, pre[i++], d, history.view(0), rule);
    } else {
      history.register_spike(0, post[j], arrival_time_horizon(post[j], d));
      ++j;
    }
  }
  return w;
}

std::int64_t steps(double ms) { return std::llround(ms / dt); }

void expect_relative(double actual, double expected, double tolerance, const std::string& what) {
  EXPECT_LE(std::abs(actual - expected), tolerance * std::abs(expected))
      << what << ": " << actual << " vs " << expected << " (relative "
      << std::abs(actual - expected) / std::abs(expected) << ")";
}

// ---------------------------------------------------------------------------------------------
// The rules' formulas and bounds

TEST(StdpRule, WeightPowerShortcutsAreExact) {
  const weight_power zero(0.0), one(1.0), general(0.4);
  for (const double x : {0.0, 1e-300, 0.3, 0.5, 0.999999, 1.0, 7.5}) {
    EXPECT_EQ(zero(x), std::pow(x, 0.0));
    EXPECT_EQ(one(x), std::pow(x, 1.0));
    EXPECT_EQ(general(x), std::pow(x, 0.4));
  }
}

TEST(StdpRule, FormulasAreNests) {
  const stdp_parameters p{
      .tau_plus_ms = 16.8, .lambda = 0.03, .alpha = 0.7, .mu_plus = 0.4, .mu_minus = 0.9, .Wmax = 80.0};
  const stdp_rule rule(p, dt);
  const double w = 33.0, K = 1.7;
  EXPECT_DOUBLE_EQ(rule.facilitate(w, K), (w / 80.0 + 0.03 * std::pow(1.0 - w / 80.0, 0.4) * K) * 80.0);
  EXPECT_DOUBLE_EQ(rule.depress(w, K), (w / 80.0 - 0.7 * 0.03 * std::pow(w / 80.0, 0.9) * K) * 80.0);
  EXPECT_DOUBLE_EQ(rule.plus_decay(-168), std::exp(-1.0));
  const stdp_pl_rule pl({.tau_plus_ms = 15.0, .lambda = 0.1, .alpha = 0.0513, .mu = 0.4}, dt);
  EXPECT_DOUBLE_EQ(pl.facilitate(45.6, K), 45.6 + 0.1 * std::pow(45.6, 0.4) * K);
  EXPECT_DOUBLE_EQ(pl.depress(45.6, K), 45.6 - 0.1 * 0.0513 * 45.6 * K);
  EXPECT_DOUBLE_EQ(pl.plus_decay(-150), std::exp(-1.0));
  EXPECT_EQ(pl.depress(45.6, 1e6), 0.0);  // floored at 0
}

TEST(StdpRule, StdpWeightsStayWithinZeroAndWmax) {
  for (const double mu : {0.0, 0.4, 1.0}) {
    for (const double Wmax : {100.0, -50.0}) {  // excitatory, and inhibitory with negative weights
      const stdp_rule rule({.lambda = 0.5, .alpha = 1.3, .mu_plus = mu, .mu_minus = mu, .Wmax = Wmax}, dt);
      const double low = std::min(0.0, Wmax), high = std::max(0.0, Wmax);
      for (const double w0 : {0.0, 0.25 * Wmax, 0.5 * Wmax, Wmax}) {
        for (const double K : {0.0, 0.3, 1.0, 5.0, 100.0, 1e6}) {
          const double up = rule.facilitate(w0, K), down = rule.depress(w0, K);
          EXPECT_GE(up, low);
          EXPECT_LE(up, high);
          EXPECT_GE(down, low);
          EXPECT_LE(down, high);
          EXPECT_GE(std::abs(up), std::abs(w0) * (1 - 1e-15));  // facilitation moves towards Wmax
          EXPECT_LE(std::abs(down), std::abs(w0) * (1 + 1e-15));
        }
      }
      // Additive STDP is clipped at the bounds; multiplicative only approaches them.
      if (mu == 0.0) {
        EXPECT_EQ(rule.facilitate(0.9 * Wmax, 10.0), Wmax);
        EXPECT_EQ(rule.depress(0.1 * Wmax, 10.0), 0.0);
      }
      if (mu == 1.0) {
        EXPECT_NE(rule.facilitate(0.9 * Wmax, 1.0), Wmax);
        EXPECT_NE(rule.depress(0.1 * Wmax, 0.7), 0.0);
        EXPECT_EQ(rule.depress(0.0, 1.0), 0.0);  // 0 stays 0, Wmax stays Wmax
        EXPECT_EQ(rule.facilitate(Wmax, 1.0), Wmax);
      }
    }
  }
}

// Long spike trains driving the weight up and down: every weight after every update stays in
// [0, Wmax]. Additive STDP hits 0 exactly (depression is clipped there) and comes close to Wmax
// (a spike's potentiation, clipped at Wmax, is followed by its depression); multiplicative STDP
// (lambda * K < 1 here) never reaches either bound.
TEST(StdpRule, BoundsHoldAlongSpikeTrains) {
  std::uint64_t x = 12345;
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (const double mu : {0.0, 1.0}) {
    const stdp_rule rule(
        {.tau_plus_ms = 20.0, .lambda = 0.1, .alpha = 1.5, .mu_plus = mu, .mu_minus = mu, .Wmax = 10.0}, dt);
    post_history history(1, 20.0, dt);
    history.add_incoming(0);
    pre_trace trace;
    double w = 5.0, lowest = w, highest = w;
    const std::int64_t d = 12;
    std::vector<std::int64_t> pending;
    std::int64_t last_pre = -1000, last_post = -1000;
    for (std::int64_t s = 0; s < 200000; ++s) {
      if (!pending.empty() && pending.front() + d - 1 == s) {
        on_presynaptic_spike(w, trace, pending.front(), d, history.view(0), rule);
        pending.erase(pending.begin());
        ASSERT_GE(w, 0.0);
        ASSERT_LE(w, 10.0);
        lowest = std::min(lowest, w);
        highest = std::max(highest, w);
      }
      // Alternating phases: random presynaptic spikes each followed by a postsynaptic one 3 ms
      // later (Delta = +4.2 ms: potentiation), then random postsynaptic spikes each followed by a
      // presynaptic one (Delta = -3 ms: depression).
      if ((s / 20000) % 2 == 0) {
        if (next() % 300 == 0) {
          pending.push_back(s + 1);
          last_pre = s + 1;
        }
        if (last_pre == s + 1 - 30) history.register_spike(0, s + 1, arrival_time_horizon(s + 1, d));
      } else {
        if (next() % 300 == 0) {
          history.register_spike(0, s + 1, arrival_time_horizon(s + 1, d));
          last_post = s + 1;
        }
        if (last_post == s + 1 - 30 - d) pending.push_back(s + 1);
      }
    }
    if (mu == 0.0) {
      EXPECT_EQ(lowest, 0.0);
      EXPECT_GT(highest, 9.99);
    } else {
      EXPECT_GT(lowest, 0.5);
      EXPECT_LT(highest, 9.0);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Single pairs against the analytic window
//
// A pair is one presynaptic spike at t_pre and one postsynaptic spike at t_post; the synapse has
// delay d (all dendritic). Delta = t_post + d - t_pre. NEST's window, from weight w0:
//   stdp     Delta > 0:  dw = +lambda Wmax (1 - w0/Wmax)^mu_plus exp(-Delta/tau_plus)
//            Delta < 0:  dw = -alpha lambda Wmax (w0/Wmax)^mu_minus exp(+Delta/tau_minus)
//   stdp_pl  Delta > 0:  dw = +lambda w0^mu exp(-Delta/tau_plus)
//            Delta < 0:  dw = -lambda alpha w0 exp(+Delta/tau_minus)
//   Delta = 0: dw = 0.
// Potentiation is applied at the next presynaptic spike: a probe spike 100 ms after the post
// spike reaches the synapse. Its own depression uses Kminus = exp(-100 ms/tau_minus): the
// potentiation tests give the neuron tau_minus = 0.001 ms, so that it is exactly 0 and the
// measured change is the window's alone (tau_minus plays no part in potentiation).

template <class Rule>
double pair_then_probe(const Rule& rule, double w0, std::int64_t d, double tau_minus, std::int64_t delta) {
  const std::int64_t t_pre = 20000;
  const std::int64_t t_post = t_pre + delta - d;
  std::vector<std::int64_t> pre = {t_pre};
  if (delta >= 0) pre.push_back(t_post + d + steps(100.0));  // probe
  return run_pair_protocol(rule, w0, d, tau_minus, pre, {t_post});
}

TEST(StdpWindow, StdpMatchesTheAnalyticWindow) {
  const double Wmax = 100.0, w0 = 50.0, tau_plus = 20.0, tau_minus = 30.0, lambda = 0.2, alpha = 1.2;
  int checked = 0;
  for (const auto& [mu_plus, mu_minus] : {std::pair{0.0, 0.0}, std::pair{1.0, 1.0}, std::pair{0.4, 0.7}}) {
    const stdp_rule rule({.tau_plus_ms = tau_plus,
                          .lambda = lambda,
                          .alpha = alpha,
                          .mu_plus = mu_plus,
                          .mu_minus = mu_minus,
                          .Wmax = Wmax},
                         dt);
    for (const std::int64_t d : {1, 15, 40}) {
      for (std::int64_t delta = -1000; delta <= 1000; delta += 5) {  // -100 to +100 ms by 0.5 ms
        const double Delta = double(delta) * dt;
        if (delta > 0) {
          const double dw = pair_then_probe(rule, w0, d, 0.001, delta) - w0;
          const double expected = lambda * Wmax * std::pow(1.0 - w0 / Wmax, mu_plus) * std::exp(-Delta / tau_plus);
          expect_relative(dw, expected, 1e-12, "potentiation at Delta = " + std::to_string(Delta));
        } else if (delta < 0) {
          const double dw = pair_then_probe(rule, w0, d, tau_minus, delta) - w0;
          const double expected = -alpha * lambda * Wmax * std::pow(w0 / Wmax, mu_minus) * std::exp(Delta / tau_minus);
          expect_relative(dw, expected, 1e-12, "depression at Delta = " + std::to_string(Delta));
        } else {
          EXPECT_EQ(pair_then_probe(rule, w0, d, 0.001, 0), w0) << "a coincident pair changes nothing";
        }
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 3 * 3 * 401);
}

TEST(StdpWindow, StdpPlMatchesItsFormula) {
  // hpc_benchmark's rule, except tau_plus = 20 ms and w0 = 1 pA: a weight change must be large
  // against the rounding of w itself (its last bit, 2.2e-16 w0) to be measured to 1e-12.
  const double w0 = 1.0, tau_plus = 20.0, tau_minus = 30.0, lambda = 0.1, alpha = 0.0513 * 10, mu = 0.4;
  const stdp_pl_rule rule({.tau_plus_ms = tau_plus, .lambda = lambda, .alpha = alpha, .mu = mu}, dt);
  for (const std::int64_t d : {1, 15, 40}) {
    for (std::int64_t delta = -1000; delta <= 1000; delta += 5) {
      const double Delta = double(delta) * dt;
      if (delta > 0) {
        const double dw = pair_then_probe(rule, w0, d, 0.001, delta) - w0;
        expect_relative(dw, lambda * std::pow(w0, mu) * std::exp(-Delta / tau_plus), 1e-12,
                        "potentiation at Delta = " + std::to_string(Delta));
      } else if (delta < 0) {
        const double dw = pair_then_probe(rule, w0, d, tau_minus, delta) - w0;
        expect_relative(dw, -lambda * alpha * w0 * std::exp(Delta / tau_minus), 1e-12,
                        "depression at Delta = " + std::to_string(Delta));
      } else {
        EXPECT_EQ(pair_then_probe(rule, w0, d, 0.001, 0), w0);
      }
    }
  }
  // The power law: potentiation grows as w^mu, not as w.
  const double K = std::exp(-0.5);
  for (const double w : {1.0, 10.0, 45.6, 200.0}) {
    const double dw = pair_then_probe(rule, w, 15, 0.001, steps(10.0)) - w;
    expect_relative(dw, lambda * std::pow(w, mu) * K, 1e-11, "power law at w = " + std::to_string(w));
  }
}

TEST(StdpWindow, DelayShiftsThePostSpikeNotThePreSpike) {
  // Same spike times, two delays: the post spike 1 ms after the pre spike potentiates with
  // delay 1 ms as Delta = 2 ms, with delay 0.1 ms as Delta = 1.1 ms.
  const stdp_rule rule({.lambda = 0.2, .mu_plus = 0.0, .mu_minus = 0.0, .Wmax = 100.0}, dt);
  for (const std::int64_t d : {1, 10}) {
    const double w = run_pair_protocol(rule, 50.0, d, 0.001, {1000, 3000}, {1010});
    const double Delta = (10.0 + double(d)) * dt;
    expect_relative(w - 50.0, 0.2 * 100.0 * std::exp(-Delta / 20.0), 1e-12, "delay " + std::to_string(d));
  }
  // A post spike before the pre spike but within the dendritic delay still potentiates:
  // t_post = t_pre - 0.5 ms with d = 1 ms reaches the synapse at Delta = +0.5 ms.
  const double w = run_pair_protocol(rule, 50.0, 10, 0.001, {1000, 3000}, {995});
  expect_relative(w - 50.0, 0.2 * 100.0 * std::exp(-0.5 / 20.0), 1e-12, "within the delay");
}

// ---------------------------------------------------------------------------------------------
// Pairing protocols against closed forms
//
// N pairings with period T: presynaptic spikes at t_k = t_0 + k T (k = 0..N, the last one reads
// out the potentiation of pairing N - 1), postsynaptic spikes reaching the synapse at
// t_k + Delta (k = 0..N-1), 0 < Delta < T. With q = exp(-T/tau_plus), r = exp(-T/tau_minus):
// - at presynaptic spike k >= 1 the facilitation window (t_{k-1} - d, t_k - d] holds exactly the
//   post spike of pairing k - 1, and the source's trace is Kplus = sum_{j<k} q^j, so
//     facilitation with K+_k = exp(-Delta/tau_plus) (1 - q^k) / (1 - q);
// - the post spikes before t_k - d are those of pairings 0..k-1, so
//     depression with K-_k = exp(Delta/tau_minus) r (1 - r^k) / (1 - r);
// - presynaptic spike 0 changes nothing.
// Additive STDP (mu_plus = mu_minus = 0), away from the bounds: each spike adds
// lambda Wmax (K+_k - alpha K-_k), so
//   w_N = w_0 + lambda Wmax (exp(-Delta/tau_plus) S(q) - alpha exp(Delta/tau_minus) r S(r)),
//   S(x) = sum_{k=1..N} (1 - x^k) / (1 - x) = (N - x (1 - x^N) / (1 - x)) / (1 - x).
// Multiplicative potentiation alone (mu_plus = 1, alpha = 0): Wmax - w shrinks by (1 - lambda
// K+_k) at each spike: Wmax - w_N = (Wmax - w_0) prod_{k=1..N} (1 - lambda K+_k).

std::vector<std::int64_t> pairing_pre(int n_pairings, std::int64_t period) {
  std::vector<std::int64_t> pre;
  for (int k = 0; k <= n_pairings; ++k) pre.push_back(1000 + k * period);
  return pre;
}

std::vector<std::int64_t> pairing_post(int n_pairings, std::int64_t period, std::int64_t delta, std::int64_t d) {
  std::vector<std::int64_t> post;
  for (int k = 0; k < n_pairings; ++k) post.push_back(1000 + k * period + delta - d);
  return post;
}

TEST(StdpPairing, AdditiveSixtyPairingsMatchTheClosedForm) {
  const int N = 60;
  const double Wmax = 100.0, w0 = 50.0, lambda = 0.01, alpha = 1.05, tau_plus = 20.0, tau_minus = 20.0;
  const std::int64_t d = 15;
  const stdp_rule rule(
      {.tau_plus_ms = tau_plus, .lambda = lambda, .alpha = alpha, .mu_plus = 0.0, .mu_minus = 0.0, .Wmax = Wmax}, dt);
  // 1 Hz, the classic protocol (cross-pairing terms ~ e^-50), and 20 Hz, where they matter.
  for (const double T : {1000.0, 50.0}) {
    for (const double Delta : {10.0, 5.0, 30.0}) {
      const double q = std::exp(-T / tau_plus), r = std::exp(-T / tau_minus);
      const auto S = [&](double x) { return (N - x * (1.0 - std::pow(x, N)) / (1.0 - x)) / (1.0 - x); };
      const double expected =
          lambda * Wmax * (std::exp(-Delta / tau_plus) * S(q) - alpha * std::exp(Delta / tau_minus) * r * S(r));
      const double w = run_pair_protocol(rule, w0, d, tau_minus, pairing_pre(N, steps(T)),
                                         pairing_post(N, steps(T), steps(Delta), d));
      expect_relative(w - w0, expected, 1e-12, "T = " + std::to_string(T) + ", Delta = " + std::to_string(Delta));
    }
  }
  // The 1 Hz, +10 ms protocol in numbers: 60 x 0.01 x 100 x e^-0.5 = 36.39 up.
  const double w = run_pair_protocol(rule, w0, d, tau_minus, pairing_pre(N, steps(1000.0)),
                                     pairing_post(N, steps(1000.0), steps(10.0), d));
  EXPECT_NEAR(w, 50.0 + 60.0 * std::exp(-0.5), 1e-9);
}

TEST(StdpPairing, MultiplicativePotentiationMatchesTheClosedForm) {
  const int N = 60;
  const double Wmax = 100.0, w0 = 20.0, lambda = 0.05, tau_plus = 20.0;
  const std::int64_t d = 15;
  const stdp_rule rule(
      {.tau_plus_ms = tau_plus, .lambda = lambda, .alpha = 0.0, .mu_plus = 1.0, .mu_minus = 1.0, .Wmax = Wmax}, dt);
  for (const double T : {1000.0, 50.0}) {
    const double Delta = 10.0, q = std::exp(-T / tau_plus);
    double product = 1.0;
    for (int k = 1; k <= N; ++k)
      product *= 1.0 - lambda * std::exp(-Delta / tau_plus) * (1.0 - std::pow(q, k)) / (1.0 - q);
    const double w =
        run_pair_protocol(rule, w0, d, 20.0, pairing_pre(N, steps(T)), pairing_post(N, steps(T), steps(Delta), d));
    expect_relative(w - w0, (Wmax - w0) * (1.0 - product), 1e-12, "T = " + std::to_string(T));
    EXPECT_LT(w, Wmax);
  }
}

TEST(StdpPairing, PostBeforePreDepressesAsTheClosedFormSays) {
  // Post spikes reach the synapse 10 ms before each presynaptic spike (Delta = -10 ms), 60
  // pairings at 1 Hz, additive: each presynaptic spike k depresses by
  // alpha lambda Wmax e^(-10/tau_minus) (1 - r^(k+1)) / (1 - r), and the post spike of pairing k
  // falls in the window of spike k with the trace of spikes 0..k-1, which have decayed by
  // e^-(T - 10 ms)/tau_plus at least: a potentiation of e^(-(T+10)/tau_plus) (1 - q^k)/(1 - q).
  const int N = 60;
  const double Wmax = 100.0, w0 = 80.0, lambda = 0.01, alpha = 1.0, tau_plus = 20.0, tau_minus = 25.0, T = 1000.0;
  const std::int64_t d = 15;
  const stdp_rule rule(
      {.tau_plus_ms = tau_plus, .lambda = lambda, .alpha = alpha, .mu_plus = 0.0, .mu_minus = 0.0, .Wmax = Wmax}, dt);
  std::vector<std::int64_t> pre, post;
  for (int k = 0; k < N; ++k) {
    pre.push_back(1000 + k * steps(T));
    post.push_back(1000 + k * steps(T) - steps(10.0) - d);
  }
  const double q = std::exp(-T / tau_plus), r = std::exp(-T / tau_minus);
  double expected = 0.0;
  for (int k = 0; k < N; ++k) {
    expected += lambda * Wmax * std::exp(-(T - 10.0) / tau_plus) * (1.0 - std::pow(q, k)) / (1.0 - q);
    expected -= alpha * lambda * Wmax * std::exp(-10.0 / tau_minus) * (1.0 - std::pow(r, k + 1)) / (1.0 - r);
  }
  const double w = run_pair_protocol(rule, w0, d, tau_minus, pre, post);
  expect_relative(w - w0, expected, 1e-12, "Delta = -10 ms");
}

// ---------------------------------------------------------------------------------------------
// Random spike trains against an independent transcription of NEST's algorithm

// NEST's ArchivingNode and synapse send(), from their description: times in ms as doubles, an
// epsilon for comparisons, a history that is never pruned, a trace per synapse.
struct nest_neuron {
  double tau_minus;
  std::vector<double> t, K;
  double Kminus = 0.0, last = -1.0;
  void spike(double t_ms) {
    Kminus = Kminus * std::exp((last - t_ms) / tau_minus) + 1.0;
    last = t_ms;
    t.push_back(t_ms);
    K.push_back(Kminus);
  }
  double K_at(double t_ms) const {
    for (std::size_t i = t.size(); i-- > 0;)
      if (t_ms - t[i] > 1e-6) return K[i] * std::exp((t[i] - t_ms) / tau_minus);
    return 0.0;
  }
};

struct nest_synapse {
  std::size_t source, target;
  double d_ms;
  double w;
  double Kplus = 0.0, t_last = 0.0;
  template <class Facilitate, class Depress>
  void send(double t_ms, const nest_neuron& post, double tau_plus, Facilitate facilitate, Depress depress) {
    for (std::size_t i = 0; i < post.t.size(); ++i) {
      const double tp = post.t[i];
      if (tp > t_last - d_ms + 1e-6 && tp < t_ms - d_ms + 1e-6)
        w = facilitate(w, Kplus * std::exp((t_last - (tp + d_ms)) / tau_plus));
    }
    w = depress(w, post.K_at(t_ms - d_ms));
    Kplus = Kplus * std::exp((t_last - t_ms) / tau_plus) + 1.0;
    t_last = t_ms;
  }
};

// A small network as delivery will run it: sources with a pre_trace per row (here per source),
// snapshotted when a spike is received and advanced at once; synapses of several delays per
// (source, target) pair that process the spike when it arrives; targets with a pruned history.
// Returns the final weights, in synapse order; `reverse` delivers the synapses due in a step in
// the opposite order (as another thread count or rank count may).
template <class Rule>
std::vector<double> run_network(const Rule& rule, double w0, double tau_minus, bool reverse,
                                std::vector<nest_synapse>* reference_out = nullptr,
                                std::vector<std::vector<std::int64_t>>* pre_out = nullptr,
                                std::vector<std::vector<std::int64_t>>* post_out = nullptr) {
  constexpr std::size_t n_sources = 5, n_targets = 3;
  const std::vector<std::int64_t> delays = {1, 4, 15, 30};
  const std::int64_t max_delay = 30;
  struct synapse {
    std::size_t source, target;
    std::int64_t d;
    double w;
  };
  std::vector<synapse> synapses;
  for (std::size_t s = 0; s < n_sources; ++s)
    for (std::size_t t = 0; t < n_targets; ++t)
      for (const auto d : delays) synapses.push_back({s, t, d, w0});
  post_history history(n_targets, tau_minus, dt);
  for (const auto& syn : synapses) history.add_incoming(syn.target);
  std::vector<pre_trace> row_trace(n_sources);
  struct pending {
    std::size_t synapse;
    std::int64_t t_pre;
    pre_trace before;  // the row's trace before this spike
  };
  std::vector<std::vector<pending>> due(400000 + max_delay + 1);
  std::vector<std::vector<std::int64_t>> pre_spikes(n_sources), post_spikes(n_targets);

  std::uint64_t x = 0xDEADBEEFCAFEull;
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  const std::int64_t n_steps = 400000;  // 40 s
  for (std::int64_t s = 0; s < n_steps; ++s) {
    auto& now = due[std::size_t(s)];
    if (reverse) std::reverse(now.begin(), now.end());
    for (const auto& p : now) {
      synapse& syn = synapses[p.synapse];
      syn.w = weight_after(syn.w, p.before, p.t_pre, syn.d, history.view(syn.target), rule);
    }
    now.clear();
    // Sources: ~20 Hz; a spike is received at once (delivery receives it at the end of the
    // interval, before any of it is due), its rows snapshot and advance their trace.
    for (std::size_t src = 0; src < n_sources; ++src) {
      if (next() % 500 != 0) continue;
      const std::int64_t t_pre = s + 1;
      pre_spikes[src].push_back(t_pre);
      const pre_trace before = row_trace[src];
      advance_pre_trace(row_trace[src], t_pre, rule);
      for (std::size_t i = 0; i < synapses.size(); ++i) {
        if (synapses[i].source != src) continue;
        const std::int64_t step = t_pre + synapses[i].d - 1;
        if (step < n_steps) due[std::size_t(step)].push_back({i, t_pre, before});
      }
    }
    // Targets: ~10 Hz, and often 5 ms after source 0, so that pairs of both signs abound.
    for (std::size_t tgt = 0; tgt < n_targets; ++tgt) {
      const bool follows = !pre_spikes[0].empty() && pre_spikes[0].back() == s + 1 - 50 && next() % 2 == 0;
      if (next() % 1000 != 0 && !follows) continue;
      post_spikes[tgt].push_back(s + 1);
      history.register_spike(tgt, s + 1, arrival_time_horizon(s + 1, max_delay));
    }
  }
  std::vector<double> weights;
  for (const auto& syn : synapses) weights.push_back(syn.w);
  if (reference_out != nullptr) {
    reference_out->clear();
    for (const auto& syn : synapses) reference_out->push_back({syn.source, syn.target, double(syn.d) * dt, w0});
  }
  if (pre_out != nullptr) *pre_out = pre_spikes;
  if (post_out != nullptr) *post_out = post_spikes;
  // Entries that no synapse needs any more were dropped along the way.
  EXPECT_LT(history.entries(), 3u * 40u);
  return weights;
}

template <class Rule, class Facilitate, class Depress>
void expect_same_as_nest(const Rule& rule, double w0, double tau_plus, double tau_minus, Facilitate facilitate,
                         Depress depress) {
  std::vector<nest_synapse> reference;
  std::vector<std::vector<std::int64_t>> pre, post;
  const auto weights = run_network(rule, w0, tau_minus, false, &reference, &pre, &post);
  std::vector<nest_neuron> neurons(post.size(), nest_neuron{tau_minus, {}, {}});
  for (std::size_t n = 0; n < post.size(); ++n)
    for (const auto t : post[n]) neurons[n].spike(double(t) * dt);
  // Spikes of the source whose arrival falls after the end were never delivered.
  std::size_t changed = 0;
  for (std::size_t i = 0; i < reference.size(); ++i) {
    auto& syn = reference[i];
    for (const auto t : pre[syn.source]) {
      if (t + std::llround(syn.d_ms / dt) - 1 >= 400000) break;
      syn.send(double(t) * dt, neurons[syn.target], tau_plus, facilitate, depress);
    }
    expect_relative(weights[i], syn.w, 1e-12, "synapse " + std::to_string(i));
    changed += weights[i] != w0;
  }
  EXPECT_EQ(changed, reference.size());
  // The order in which synapses are delivered within a step changes no bit.
  EXPECT_EQ(run_network(rule, w0, tau_minus, true), weights);
}

TEST(StdpNest, StdpSynapseOnRandomTrains) {
  const stdp_parameters p{
      .tau_plus_ms = 16.8, .lambda = 0.02, .alpha = 1.1, .mu_plus = 0.4, .mu_minus = 0.7, .Wmax = 60.0};
  expect_same_as_nest(
      stdp_rule(p, dt), 30.0, p.tau_plus_ms, 33.7,
      [&](double w, double K) {
        const double n = w / p.Wmax + p.lambda * std::pow(1.0 - w / p.Wmax, p.mu_plus) * K;
        return n < 1.0 ? n * p.Wmax : p.Wmax;
      },
      [&](double w, double K) {
        const double n = w / p.Wmax - p.alpha * p.lambda * std::pow(w / p.Wmax, p.mu_minus) * K;
        return n > 0.0 ? n * p.Wmax : 0.0;
      });
}

TEST(StdpNest, StdpPlSynapseHomOnRandomTrains) {
  // hpc_benchmark's parameters and initial weight.
  const stdp_pl_parameters p{.tau_plus_ms = 15.0, .lambda = 0.1, .alpha = 0.0513, .mu = 0.4};
  expect_same_as_nest(
      stdp_pl_rule(p, dt), 45.6096, p.tau_plus_ms, 30.0,
      [&](double w, double K) { return w + p.lambda * std::pow(w, p.mu) * K; },
      [&](double w, double K) {
        const double n = w - p.lambda * p.alpha * w * K;
        return n > 0.0 ? n : 0.0;
      });
}

}  // namespace
}  // namespace myelin
