// Spike-timing-dependent plasticity as NEST computes it in stdp_synapse and stdp_pl_synapse_hom
// (nestkernel 3.x), written as plain functions over plain data for delivery to call on each
// plastic synapse a presynaptic spike reaches. Event-driven: a synapse whose source does not spike
// costs nothing; the postsynaptic side is post_history.hpp.
//
// Semantics. Times are integer stamps in steps of dt (post_history.hpp: a spike of step s has
// stamp s + 1). d is the synapse's delay in steps, all of it dendritic, as in NEST: the
// presynaptic spike reaches the synapse when it is emitted, a postsynaptic spike reaches it d
// later. For a presynaptic spike with stamp t_pre, with (t_last, Kplus) the source's previous
// spike stamp and presynaptic trace just after it (NEST starts every synapse at t_last = 0,
// Kplus = 0), the synapse does, in this order:
//   1. facilitation: for each postsynaptic spike t_post in (t_last - d, t_pre - d], oldest first,
//        w <- facilitate(w, Kplus * exp(-(t_post + d - t_last) dt / tau_plus));
//   2. depression, with the postsynaptic trace just before t_pre - d:
//        w <- depress(w, Kminus(t_pre - d)),
//        Kminus(t) = Kminus_i * exp(-(t - t_i) dt / tau_minus) for the latest post spike t_i < t
//        (strictly), 0 if none; each post spike sets Kminus <- Kminus exp(-(t - t_prev) dt /
//        tau_minus) + 1 (post_history);
//   3. the spike is transmitted with the new w (it arrives at t_pre + d with it);
//   4. Kplus <- Kplus * exp(-(t_pre - t_last) dt / tau_plus) + 1, t_last <- t_pre.
// Rules (NEST's formulas, operation for operation):
//   stdp     facilitate(w, K) = min(w/Wmax + lambda (1 - w/Wmax)^mu_plus K, 1) * Wmax
//            depress(w, K)    = max(w/Wmax - alpha lambda (w/Wmax)^mu_minus K, 0) * Wmax
//   stdp_pl  facilitate(w, K) = w + lambda w^mu K
//            depress(w, K)    = max(w - lambda alpha w K, 0)
// For one pair, with Delta = t_post + d - t_pre (when the post spike reaches the synapse, minus
// when the pre spike does), in ms:
//   Delta > 0  potentiation with K = Kplus e^(-Delta/tau_plus), applied at the NEXT presynaptic
//              spike (weights change only when a presynaptic spike is delivered);
//   Delta < 0  depression with K = Kminus e^(Delta/tau_minus), applied at this presynaptic spike;
//   Delta = 0  neither: the post spike falls in this spike's facilitation window, but with the
//              trace from before this spike, and Kminus is taken strictly before t_pre - d.
// The pairing is all-to-all: the traces sum over all earlier spikes.
//
// When. The update reads only postsynaptic spikes up to t_pre - d, so it gives the same weight
// whether it runs when the spike is received (NEST) or when it arrives at t_pre + d (myelin's
// arrival-time delivery): later postsynaptic spikes are outside the window and ignored, provided
// post_history has not pruned what the window needs (post_history.hpp, the horizon).
//
// Data. Per plastic synapse: its weight, a double as in NEST: float's 2^-24 relative step would
// silently drop every update smaller than half of it (lambda K (1 - w/Wmax)^mu < 6e-8 of Wmax,
// the far tails of the all-to-all window), a systematic bias rather than noise, and 1e-12 exact
// windows need doubles. NEST also keeps Kplus and t_lastspike in every synapse; here they are
// the pre_trace of the SOURCE: with homogeneous parameters per projection they depend only on
// the source's spike times and tau_plus, so every synapse of one source and projection has the
// same. Stored once per row (source x target block x thread) of a plastic projection, they cost
// 16 bytes per row instead of 16 per synapse: 2 (target) + 8 (weight) = 10 bytes per plastic
// synapse (NEST: 32 bytes for stdp_pl_synapse_hom_hpc, 80 for stdp_synapse_hpc), plus the row's
// 24 + 16 and 6 per delay segment. With arrival-time delivery the synapses of a row with
// different delays process one spike at different steps, while the source may spike again
// meanwhile: delivery therefore takes a snapshot of the row's pre_trace when it receives the
// spike (the trace before it, kept with the pending spike) and advances the row's trace at once
// (advance_pre_trace); every segment then calls weight_after with the snapshot.
// on_presynaptic_spike is the one-synapse form (NEST's send), for tests and for tables that keep
// a trace per synapse.
//
// Cost per synapse and presynaptic spike: one exp (pre trace) per postsynaptic spike in the window
// and one (Kminus) per update, both read from per-lag tables (step_decay: same bits), a pow when
// mu is neither 0 nor 1, and the reads of the target's history: ~60 ns per update in a throwaway
// micro-benchmark (random targets among 10,000 neurons with 20 remembered spikes each, -O3; 200 ns
// with exp computed), against ~3-6 ns per static synaptic event.
//
// Differences from NEST, all below 1e-15 relative: time differences are taken exactly in integer
// steps and converted to ms once (NEST subtracts times in ms as doubles).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "myelin/config/spec.hpp"
#include "myelin/synapses/post_history.hpp"

namespace myelin {

// The presynaptic side: stamp of the source's last spike and its trace just after it (NEST's
// t_lastspike_ and Kplus_, which start at 0 and 0).
struct pre_trace {
  std::int64_t t_last = 0;
  double Kplus = 0.0;
};

// Memory of the compact plastic layout (see above).
inline constexpr std::size_t plastic_synapse_bytes = sizeof(std::uint16_t) + sizeof(double);  // target + weight
inline constexpr std::size_t plastic_row_extra_bytes = sizeof(pre_trace);                     // per row

// x^mu, with mu = 0 (additive) and mu = 1 (multiplicative) taken without calling pow: pow(x, 0)
// is 1 and pow(x, 1) is x exactly, so the shortcut changes no bit.
class weight_power {
 public:
  explicit weight_power(double mu) : mu_(mu), kind_(mu == 0.0 ? zero : mu == 1.0 ? one : general) {}
  double operator()(double x) const {
    switch (kind_) {
      case zero:
        return 1.0;
      case one:
        return x;
      case general:
        break;
    }
    return std::pow(x, mu_);
  }

 private:
  double mu_;
  enum { zero, one, general } kind_;
};

// NEST's stdp_synapse with its parameters, ready to apply at step dt_ms.
class stdp_rule {
 public:
  stdp_rule(const stdp_parameters& p, double dt_ms)
      : p_(p),
        plus_decay_(dt_ms, p.tau_plus_ms, step_decay::form::divide_by_tau,
                    step_decay::default_size(dt_ms, p.tau_plus_ms)),
        alpha_lambda_(p.alpha * p.lambda),
        mu_plus_(p.mu_plus),
        mu_minus_(p.mu_minus) {}

  double facilitate(double w, double kplus) const {
    const double norm_w = (w / p_.Wmax) + (p_.lambda * mu_plus_(1.0 - (w / p_.Wmax)) * kplus);
    return norm_w < 1.0 ? norm_w * p_.Wmax : p_.Wmax;
  }
  double depress(double w, double kminus) const {
    const double norm_w = (w / p_.Wmax) - (alpha_lambda_ * mu_minus_(w / p_.Wmax) * kminus);
    return norm_w > 0.0 ? norm_w * p_.Wmax : 0.0;
  }
  // exp(steps dt / tau_plus) for steps <= 0: the presynaptic trace's decay over -steps (NEST
  // divides by tau_plus here).
  double plus_decay(std::int64_t steps) const { return plus_decay_(steps); }
  const stdp_parameters& parameters() const { return p_; }

 private:
  stdp_parameters p_;
  step_decay plus_decay_;
  double alpha_lambda_;  // NEST's alpha_ * lambda_, multiplied first
  weight_power mu_plus_, mu_minus_;
};

// NEST's stdp_pl_synapse_hom with its (homogeneous) parameters, ready to apply at step dt_ms.
class stdp_pl_rule {
 public:
  stdp_pl_rule(const stdp_pl_parameters& p, double dt_ms)
      : p_(p),
        plus_decay_(dt_ms, p.tau_plus_ms, step_decay::form::multiply_by_inverse,
                    step_decay::default_size(dt_ms, p.tau_plus_ms)),
        lambda_alpha_(p.lambda * p.alpha),
        mu_(p.mu) {}

  double facilitate(double w, double kplus) const { return w + (p_.lambda * mu_(w) * kplus); }
  double depress(double w, double kminus) const {
    const double new_w = w - (lambda_alpha_ * w * kminus);
    return new_w > 0.0 ? new_w : 0.0;
  }
  // exp(steps dt / tau_plus) for steps <= 0 (NEST multiplies by 1/tau_plus here).
  double plus_decay(std::int64_t steps) const { return plus_decay_(steps); }
  const stdp_pl_parameters& parameters() const { return p_; }

 private:
  stdp_pl_parameters p_;
  step_decay plus_decay_;
  double lambda_alpha_;  // NEST's lambda_ * alpha_, multiplied first
  weight_power mu_;
};

// Steps 1 and 2: the weight after the presynaptic spike with stamp t_pre reaches a synapse of
// delay d (steps) with weight w, given the source's trace before this spike and the target's
// history. Counts the reads of the postsynaptic spikes in its window (post_history pruning).
template <class Rule>
double weight_after(double w, const pre_trace& before, std::int64_t t_pre, std::int64_t d,
                    const post_history_view& post, const Rule& rule) {
  post.read_window(before.t_last - d, t_pre - d, [&](std::int64_t t_post) {
    w = rule.facilitate(w, before.Kplus * rule.plus_decay(before.t_last - (t_post + d)));
  });
  return rule.depress(w, post.Kminus_at(t_pre - d));
}

// Step 4: the source's trace after its spike with stamp t_pre (>= trace.t_last).
template <class Rule>
void advance_pre_trace(pre_trace& trace, std::int64_t t_pre, const Rule& rule) {
  trace.Kplus = trace.Kplus * rule.plus_decay(trace.t_last - t_pre) + 1.0;
  trace.t_last = t_pre;
}

// Steps 1 to 4 for one synapse with its own trace: NEST's send(). Returns the weight to transmit.
template <class Rule>
double on_presynaptic_spike(double& weight, pre_trace& trace, std::int64_t t_pre, std::int64_t d,
                            const post_history_view& post, const Rule& rule) {
  weight = weight_after(weight, trace, t_pre, d, post, rule);
  advance_pre_trace(trace, t_pre, rule);
  return weight;
}

}  // namespace myelin
