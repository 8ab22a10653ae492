// The typed description of one run, as the config module produces it from an INI file plus
// --set overrides. Everything downstream (build, simulate, record) reads only these structs;
// every user-facing validation happens while filling them (src/config), none later.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "myelin/tallies/energy.hpp"

namespace myelin {

// A value drawn per synapse or per neuron. Draws outside [min, max] are redrawn (NEST's
// nest.math.redraw semantics), so a normal weight with min = 0 keeps its sign.
struct distribution {
  enum class kind { constant, normal, uniform, lognormal };
  kind type = kind::constant;
  double a = 0.0;  // constant: value; normal: mean; uniform: low; lognormal: mu (of log)
  double b = 0.0;  // normal: std; uniform: high; lognormal: sigma (of log)
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  std::string text;  // as the user wrote it, for messages

  static distribution constant_value(double v) {
    distribution d;
    d.a = v;
    d.text = std::to_string(v);
    return d;
  }
  bool is_constant() const { return type == kind::constant; }
};

enum class neuron_model { iaf_psc_delta, iaf_psc_exp, iaf_psc_alpha };

// NEST's parameter names and units; defaults are NEST's for the chosen model.
struct neuron_parameters {
  double C_m_pF = 250.0;
  double tau_m_ms = 10.0;
  double t_ref_ms = 2.0;
  double E_L_mV = -70.0;
  double V_th_mV = -55.0;
  double V_reset_mV = -70.0;
  double I_e_pA = 0.0;
  double tau_syn_ex_ms = 2.0;  // iaf_psc_exp, iaf_psc_alpha
  double tau_syn_in_ms = 2.0;  // iaf_psc_exp, iaf_psc_alpha
  double V_min_mV = -std::numeric_limits<double>::infinity();  // iaf_psc_delta, iaf_psc_alpha
  bool refractory_input = false;  // iaf_psc_delta: keep input arriving while refractory
};

struct population_spec {
  std::string name;
  neuron_model model = neuron_model::iaf_psc_exp;
  std::uint64_t n = 0;
  neuron_parameters params;
  distribution V_m_init;  // mV; default: constant E_L
  bool record_spikes = true;
  // Time constant of the postsynaptic STDP trace Kminus (NEST's ArchivingNode parameter, set on
  // the neuron there too): it lives with the neuron because the trace does (post_history.hpp).
  // Read only for a population that a plastic projection (synapse stdp or stdp_pl) targets.
  double tau_minus_ms = 20.0;
};

enum class connection_rule { fixed_indegree, fixed_total_number, pairwise_bernoulli, one_to_one, all_to_all };

// static: fixed weights. stdp: NEST's stdp_synapse. stdp_pl: NEST's stdp_pl_synapse_hom
// (Morrison et al. 2007). myelin/synapses/stdp.hpp states the rules' exact semantics.
enum class synapse_model { static_synapse, stdp, stdp_pl };

// NEST's stdp_synapse: parameter names and defaults as NEST's. Weight dependence
//   facilitation  w/Wmax += lambda * (1 - w/Wmax)^mu_plus * Kplus, capped at 1;
//   depression    w/Wmax -= alpha * lambda * (w/Wmax)^mu_minus * Kminus, floored at 0;
// mu = 0 is additive STDP, mu = 1 multiplicative (van Rossum), in between Guetig et al. (2003).
// Wmax has the sign of the weights (negative for inhibitory synapses), in the weight's unit.
struct stdp_parameters {
  double tau_plus_ms = 20.0;  // presynaptic trace Kplus (tau_minus belongs to the target population)
  double lambda = 0.01;
  double alpha = 1.0;
  double mu_plus = 1.0;
  double mu_minus = 1.0;
  double Wmax = 100.0;
};

// NEST's stdp_pl_synapse_hom (the E -> E synapse of NEST's hpc_benchmark): names and defaults as
// NEST's. Power-law potentiation w += lambda * w^mu * Kplus, multiplicative depression
// w -= lambda * alpha * w * Kminus, floored at 0; no upper bound. Weights are >= 0.
struct stdp_pl_parameters {
  double tau_plus_ms = 20.0;
  double lambda = 0.1;
  double alpha = 1.0;
  double mu = 0.4;
};

struct projection_spec {
  std::string name;
  std::size_t source = 0;  // index into network_spec::populations
  std::size_t target = 0;
  connection_rule rule = connection_rule::fixed_indegree;
  std::uint64_t indegree = 0;  // fixed_indegree
  std::uint64_t total = 0;     // fixed_total_number
  double p = 0.0;              // pairwise_bernoulli
  bool allow_autapses = true;
  bool allow_multapses = true;
  distribution weight;    // pA for current-based models (mV for iaf_psc_delta); sign picks the channel
  distribution delay_ms;  // rounded to whole steps, at least one step; for plastic synapses all of
                          // it counts as dendritic delay in the STDP rule, as in NEST
  synapse_model synapse = synapse_model::static_synapse;
  stdp_parameters stdp;        // read when synapse == stdp
  stdp_pl_parameters stdp_pl;  // read when synapse == stdp_pl
  bool is_plastic() const { return synapse != synapse_model::static_synapse; }
};

enum class input_kind { poisson, dc, spike_times };

struct input_spec {
  std::string name;
  input_kind kind = input_kind::poisson;
  std::size_t target = 0;              // population index
  std::vector<std::uint64_t> neurons;  // node ids within the population; empty = all
  double rate_hz = 0.0;                // poisson: rate of each of `indegree` independent sources
  std::uint64_t indegree = 1;          // poisson
  double weight = 0.0;                 // poisson, spike_times: pA (mV for iaf_psc_delta)
  double amplitude_pA = 0.0;           // dc
  double start_ms = 0.0;
  double stop_ms = std::numeric_limits<double>::infinity();
  std::vector<double> times_ms;  // spike_times: emission times; arrive after delay_ms
  double delay_ms = 0.0;         // spike_times only; 0 means one step
};

struct record_spec {
  std::string name;
  std::size_t population = 0;
  std::vector<std::string> variables;  // "V_m", "I_syn_ex", "I_syn_in"
  std::vector<std::uint64_t> neurons;  // node ids within the population, sorted, unique
  double interval_ms = 0.1;
};

// [weights.NAME]: the weights of one plastic projection, written to <output dir>/<NAME>_weights.h5.
// A snapshot at t holds every weight after all presynaptic spikes arriving before t have changed
// it; a histogram is taken of all the projection's weights at 0, interval, 2 interval, ... <=
// t_stop_ms. Recording is not part of the network: a restart may record differently.
struct weight_recording_spec {
  std::string name;
  std::size_t projection = 0;     // index into network_spec::projections; always a plastic one
  std::vector<double> times_ms;   // snapshot times: multiples of dt_ms in [0, t_stop_ms], increasing
  double histogram_interval_ms = 0.0;  // 0: no histograms
  std::uint64_t histogram_bins = 50;   // the fields below are read only with histograms
  double histogram_min = 0.0;  // bin range in the weights' unit, min < max; defaults resolved:
  double histogram_max = 0.0;  // stdp [0, Wmax] ordered, stdp_pl [0, 2 x the largest initial weight]
  bool has_histograms() const { return histogram_interval_ms > 0.0; }
};

struct simulation_spec {
  std::string name;  // run name: output goes to <output.dir>/<name>
  double dt_ms = 0.1;
  double t_stop_ms = 0.0;
  std::uint64_t seed = 12345;
  int threads = 1;         // OpenMP threads per rank
  int weight_bits = 16;    // 16: int16 fixed-point weights; 32: int32 (full precision)
};

struct output_spec {
  std::string dir = "out";
  bool spikes = true;
  double flush_interval_ms = 100.0;  // spikes are written collectively once per this much model time
};

struct checkpoint_spec {
  double interval_ms = 0.0;  // 0: no periodic checkpoints
  std::string directory;     // empty: <output.dir>/<simulation.name>/checkpoints
  int keep = 3;              // newest checkpoints kept
};

// [tallies]: how the run's counts are cut into a time series (tallies.h5).
struct tallies_spec {
  double window_ms = 100.0;  // model time per window, rounded to whole communication intervals
};

// [energy]: measured from RAPL (powercap) where readable, else modeled with a preset's
// parameters, each of which a key may override (myelin/tallies/energy.hpp has the model).
struct energy_spec {
  std::string preset = "cpu-node";
  energy_parameters parameters;  // the preset's values unless set
  bool measure = true;           // read powercap when it is there
  std::string powercap_dir = "/sys/class/powercap";
};

// [slurm]: read by tools/myelin-submit, which validates every value before it enters a job
// script; myelin itself only checks the types and keeps the keys given, in file order.
struct slurm_spec {
  std::vector<std::pair<std::string, std::string>> keys;
};

struct network_spec {
  std::vector<population_spec> populations;
  std::vector<projection_spec> projections;
  std::vector<input_spec> inputs;
};

struct run_spec {
  std::string config_path;  // as given
  simulation_spec simulation;
  output_spec output;
  checkpoint_spec checkpoint;
  tallies_spec tallies;
  energy_spec energy;
  slurm_spec slurm;
  network_spec network;
  std::vector<record_spec> records;
  std::vector<weight_recording_spec> weight_recordings;
  std::string resolved_ini;  // every key with its final value, for provenance
};

}  // namespace myelin
