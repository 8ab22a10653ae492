#include "config/resolved_ini.hpp"

#include <sstream>
#include <string_view>
#include <vector>

#include "config/distribution_parser.hpp"
#include "config/schema.hpp"
#include "config/value_parsers.hpp"

namespace myelin::config_detail {
namespace {

class ini_writer {
 public:
  ini_writer() { text_ << "# Resolved config: every key with its final value, defaults included.\n"; }
  void section(std::string_view name) { text_ << "\n[" << name << "]\n"; }
  void key(std::string_view key, std::string_view value) { text_ << key << " = " << value << "\n"; }
  void number(std::string_view key, double value) { this->key(key, format_number(value)); }
  void integer(std::string_view key, std::uint64_t value) { this->key(key, std::to_string(value)); }
  void flag(std::string_view key, bool value) { this->key(key, format_bool(value)); }
  // The text as the user wrote it, so reading it back is exact; the parameters with the bounds
  // that were implied (sign of a weight, dt_ms/2 for delays) follow as a comment where they differ.
  void distribution_value(std::string_view key, const distribution& value) {
    text_ << key << " = " << value.text;
    if (const auto resolved = canonical_text(value); !value.is_constant() && resolved != value.text) {
      text_ << "  # = " << resolved;
    }
    text_ << "\n";
  }
  std::string str() const { return text_.str(); }

 private:
  std::ostringstream text_;
};

}  // namespace

std::string resolved_ini_text(const run_spec& spec) {
  ini_writer ini;
  const auto& simulation = spec.simulation;
  ini.section("simulation");
  ini.key("name", simulation.name);
  ini.number("dt_ms", simulation.dt_ms);
  ini.number("t_stop_ms", simulation.t_stop_ms);
  ini.integer("seed", simulation.seed);
  ini.integer("threads", static_cast<std::uint64_t>(simulation.threads));
  ini.integer("weight_bits", static_cast<std::uint64_t>(simulation.weight_bits));

  ini.section("output");
  ini.key("dir", spec.output.dir);
  ini.flag("spikes", spec.output.spikes);
  ini.number("flush_interval_ms", spec.output.flush_interval_ms);

  ini.section("checkpoint");
  ini.number("interval_ms", spec.checkpoint.interval_ms);
  if (!spec.checkpoint.directory.empty()) ini.key("directory", spec.checkpoint.directory);
  ini.integer("keep", static_cast<std::uint64_t>(spec.checkpoint.keep));

  ini.section("tallies");
  ini.number("window_ms", spec.tallies.window_ms);

  ini.section("energy");
  ini.key("preset", spec.energy.preset);
  ini.number("watts_per_active_core", spec.energy.parameters.watts_per_active_core);
  ini.number("idle_watts_per_node", spec.energy.parameters.idle_watts_per_node);
  ini.number("joules_per_byte", spec.energy.parameters.joules_per_byte);
  ini.number("joules_per_synaptic_event", spec.energy.parameters.joules_per_synaptic_event);
  ini.flag("measure", spec.energy.measure);
  ini.key("powercap_dir", spec.energy.powercap_dir);

  if (!spec.slurm.keys.empty()) {
    ini.section("slurm");
    for (const auto& [key, value] : spec.slurm.keys) ini.key(key, value);
  }

  const auto& populations = spec.network.populations;
  // tau_minus is written where it is read: for targets of plastic projections only, so that the
  // resolved config (and a checkpoint's network fingerprint) of a static network is unchanged.
  std::vector<bool> plastic_target(populations.size(), false);
  for (const auto& projection : spec.network.projections)
    if (projection.is_plastic()) plastic_target[projection.target] = true;
  for (std::size_t p = 0; p < populations.size(); ++p) {
    const auto& population = populations[p];
    const auto& params = population.params;
    const bool is_delta = population.model == neuron_model::iaf_psc_delta;
    ini.section("population." + population.name);
    ini.key("model", name_of(population.model));
    ini.integer("n", population.n);
    ini.number("C_m", params.C_m_pF);
    ini.number("tau_m", params.tau_m_ms);
    ini.number("t_ref", params.t_ref_ms);
    ini.number("E_L", params.E_L_mV);
    ini.number("V_th", params.V_th_mV);
    ini.number("V_reset", params.V_reset_mV);
    ini.number("I_e", params.I_e_pA);
    if (!is_delta) {
      ini.number("tau_syn_ex", params.tau_syn_ex_ms);
      ini.number("tau_syn_in", params.tau_syn_in_ms);
    }
    if (population.model != neuron_model::iaf_psc_exp) ini.number("V_min", params.V_min_mV);
    if (is_delta) ini.flag("refractory_input", params.refractory_input);
    if (plastic_target[p]) ini.number("tau_minus", population.tau_minus_ms);
    ini.distribution_value("V_m", population.V_m_init);
    ini.flag("record_spikes", population.record_spikes);
  }

  for (const auto& projection : spec.network.projections) {
    ini.section("projection." + projection.name);
    ini.key("source", populations[projection.source].name);
    ini.key("target", populations[projection.target].name);
    ini.key("rule", name_of(projection.rule));
    if (projection.rule == connection_rule::fixed_indegree) ini.integer("indegree", projection.indegree);
    if (projection.rule == connection_rule::fixed_total_number) ini.integer("N", projection.total);
    if (projection.rule == connection_rule::pairwise_bernoulli) ini.number("p", projection.p);
    ini.flag("allow_autapses", projection.allow_autapses);
    ini.flag("allow_multapses", projection.allow_multapses);
    ini.distribution_value("weight", projection.weight);
    ini.distribution_value("delay_ms", projection.delay_ms);
    ini.key("synapse", name_of(projection.synapse));
    switch (projection.synapse) {
      case synapse_model::static_synapse:
        break;
      case synapse_model::stdp:
        ini.number("tau_plus", projection.stdp.tau_plus_ms);
        ini.number("lambda", projection.stdp.lambda);
        ini.number("alpha", projection.stdp.alpha);
        ini.number("mu_plus", projection.stdp.mu_plus);
        ini.number("mu_minus", projection.stdp.mu_minus);
        ini.number("Wmax", projection.stdp.Wmax);
        break;
      case synapse_model::stdp_pl:
        ini.number("tau_plus", projection.stdp_pl.tau_plus_ms);
        ini.number("lambda", projection.stdp_pl.lambda);
        ini.number("alpha", projection.stdp_pl.alpha);
        ini.number("mu", projection.stdp_pl.mu);
        break;
    }
  }

  for (const auto& input : spec.network.inputs) {
    ini.section("input." + input.name);
    ini.key("type", name_of(input.kind));
    ini.key("target", populations[input.target].name);
    if (!input.neurons.empty()) ini.key("neurons", format_node_ids(input.neurons));
    switch (input.kind) {
      case input_kind::poisson:
        ini.number("rate_hz", input.rate_hz);
        ini.integer("indegree", input.indegree);
        ini.number("weight", input.weight);
        break;
      case input_kind::dc:
        ini.number("amplitude_pA", input.amplitude_pA);
        break;
      case input_kind::spike_times:
        ini.key("times_ms", format_numbers(input.times_ms));
        ini.number("weight", input.weight);
        ini.number("delay_ms", input.delay_ms);
        break;
    }
    ini.number("start_ms", input.start_ms);
    ini.number("stop_ms", input.stop_ms);
  }

  for (const auto& record : spec.records) {
    ini.section("record." + record.name);
    ini.key("population", populations[record.population].name);
    std::string variables;
    for (const auto& variable : record.variables) variables += (variables.empty() ? "" : ", ") + variable;
    ini.key("variables", variables);
    ini.key("neurons", format_node_ids(record.neurons));
    ini.number("interval_ms", record.interval_ms);
  }

  for (const auto& recording : spec.weight_recordings) {
    ini.section("weights." + recording.name);
    ini.key("projection", spec.network.projections[recording.projection].name);
    if (!recording.times_ms.empty()) ini.key("times_ms", format_numbers(recording.times_ms));
    if (recording.has_histograms()) {  // the histogram keys are an error without an interval
      ini.number("histogram_interval_ms", recording.histogram_interval_ms);
      ini.integer("histogram_bins", recording.histogram_bins);
      ini.number("histogram_min", recording.histogram_min);
      ini.number("histogram_max", recording.histogram_max);
    }
  }
  return ini.str();
}

}  // namespace myelin::config_detail
