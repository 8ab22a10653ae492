#include "config/schema.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

namespace myelin::config_detail {
namespace {

constexpr std::array<key_info, 6> simulation_keys{{
    {"name", "run name; output goes to <output.dir>/<name>"},
    {"dt_ms", "time step in ms"},
    {"t_stop_ms", "simulated time in ms"},
    {"seed", "master random seed"},
    {"threads", "OpenMP threads per MPI rank"},
    {"weight_bits", "bits per stored weight"},
}};

constexpr std::array<key_info, 3> output_keys{{
    {"dir", "output directory"},
    {"spikes", "whether spikes are written"},
    {"flush_interval_ms", "model time between spike writes, in ms"},
}};

constexpr std::array<key_info, 3> checkpoint_keys{{
    {"interval_ms", "model time between checkpoints in ms (0: none)"},
    {"directory", "where checkpoints are written"},
    {"keep", "how many of the newest checkpoints are kept"},
}};

constexpr std::array<key_info, 1> tallies_keys{{
    {"window_ms", "model time per window of the tally time series, in ms"},
}};

constexpr std::array<key_info, 7> energy_keys{{
    {"preset", "hardware class whose energy figures model the run"},
    {"watts_per_active_core", "power of one busy core in W"},
    {"idle_watts_per_node", "power of an idle node in W"},
    {"joules_per_byte", "energy per byte sent to another rank in J"},
    {"joules_per_synaptic_event", "energy of the memory traffic of one synaptic event in J"},
    {"measure", "whether RAPL energy counters are read where present"},
    {"powercap_dir", "where the RAPL energy counters are"},
}};

constexpr std::array<key_info, 14> slurm_keys{{
    {"nodes", "number of nodes"},
    {"ntasks_per_node", "MPI ranks per node"},
    {"cpus_per_task", "cores per rank (OpenMP threads)"},
    {"time", "time limit of each job of a chain"},
    {"partition", "Slurm partition"},
    {"account", "account to charge"},
    {"qos", "quality of service"},
    {"mem", "memory per node"},
    {"constraint", "node features"},
    {"extra", "more sbatch options"},
    {"launcher", "how ranks are started"},
    {"max_segments", "jobs in a checkpoint-and-resubmit chain, at most"},
    {"signal_grace_s", "seconds before the time limit at which Slurm signals the job"},
    {"job_name", "Slurm job name"},
}};

constexpr std::array<key_info, 16> population_keys{{
    {"model", "neuron model"},
    {"n", "number of neurons"},
    {"C_m", "membrane capacitance in pF"},
    {"tau_m", "membrane time constant in ms"},
    {"t_ref", "refractory period in ms"},
    {"E_L", "resting potential in mV"},
    {"V_th", "spike threshold in mV"},
    {"V_reset", "reset potential in mV"},
    {"I_e", "constant input current in pA"},
    {"tau_syn_ex", "excitatory synaptic time constant in ms"},
    {"tau_syn_in", "inhibitory synaptic time constant in ms"},
    {"V_min", "lower bound of the membrane potential in mV"},
    {"refractory_input", "whether input arriving during refractoriness is kept"},
    {"tau_minus", "time constant of the postsynaptic STDP trace in ms"},
    {"V_m", "initial membrane potential in mV"},
    {"record_spikes", "whether this population's spikes are written"},
}};

constexpr std::array<key_info, 18> projection_keys{{
    {"source", "presynaptic population"},
    {"target", "postsynaptic population"},
    {"rule", "connection rule"},
    {"indegree", "incoming connections per target neuron"},
    {"N", "total number of connections"},
    {"p", "connection probability per pair"},
    {"allow_autapses", "whether a neuron may connect to itself"},
    {"allow_multapses", "whether a pair may be connected more than once"},
    {"weight", "synaptic weight in pA (mV for iaf_psc_delta targets)"},
    {"delay_ms", "synaptic delay in ms"},
    {"synapse", "synapse model"},
    {"tau_plus", "time constant of the presynaptic STDP trace in ms"},
    {"lambda", "STDP learning rate"},
    {"alpha", "STDP asymmetry: depression steps are alpha * lambda"},
    {"mu_plus", "STDP weight dependence exponent of potentiation"},
    {"mu_minus", "STDP weight dependence exponent of depression"},
    {"Wmax", "largest STDP weight (its sign is the weights' sign)"},
    {"mu", "power-law STDP weight dependence exponent of potentiation"},
}};

constexpr std::array<key_info, 11> input_keys{{
    {"type", "input type"},
    {"target", "population receiving the input"},
    {"neurons", "node ids within the target population"},
    {"rate_hz", "rate of each Poisson source in Hz"},
    {"indegree", "independent Poisson sources per neuron"},
    {"weight", "weight of each input spike in pA (mV for iaf_psc_delta targets)"},
    {"amplitude_pA", "DC current in pA"},
    {"times_ms", "spike emission times in ms"},
    {"delay_ms", "delay from emission to arrival in ms"},
    {"start_ms", "time the input starts, in ms"},
    {"stop_ms", "time the input stops, in ms"},
}};

constexpr std::array<key_info, 4> record_keys{{
    {"population", "recorded population"},
    {"variables", "recorded state variables"},
    {"neurons", "recorded node ids within the population"},
    {"interval_ms", "sampling interval in ms"},
}};

constexpr std::array<key_info, 6> weights_keys{{
    {"projection", "plastic projection whose weights are recorded"},
    {"times_ms", "times of weight snapshots in ms"},
    {"histogram_interval_ms", "model time between weight histograms in ms"},
    {"histogram_bins", "number of bins of each weight histogram"},
    {"histogram_min", "lower edge of the weight histograms"},
    {"histogram_max", "upper edge of the weight histograms"},
}};

struct section_info {
  section_kind kind;
  std::string_view name;
  bool has_instance_name;
};

constexpr std::array<section_info, 11> sections{{
    {section_kind::simulation, "simulation", false},
    {section_kind::output, "output", false},
    {section_kind::checkpoint, "checkpoint", false},
    {section_kind::tallies, "tallies", false},
    {section_kind::energy, "energy", false},
    {section_kind::slurm, "slurm", false},
    {section_kind::population, "population", true},
    {section_kind::projection, "projection", true},
    {section_kind::input, "input", true},
    {section_kind::record, "record", true},
    {section_kind::weights, "weights", true},
}};

constexpr std::array<named_value<neuron_model>, 3> neuron_models{{
    {"iaf_psc_delta", neuron_model::iaf_psc_delta},
    {"iaf_psc_exp", neuron_model::iaf_psc_exp},
    {"iaf_psc_alpha", neuron_model::iaf_psc_alpha},
}};

constexpr std::array<named_value<connection_rule>, 5> connection_rules{{
    {"fixed_indegree", connection_rule::fixed_indegree},
    {"fixed_total_number", connection_rule::fixed_total_number},
    {"pairwise_bernoulli", connection_rule::pairwise_bernoulli},
    {"one_to_one", connection_rule::one_to_one},
    {"all_to_all", connection_rule::all_to_all},
}};

constexpr std::array<named_value<synapse_model>, 3> synapse_models{{
    {"static", synapse_model::static_synapse},
    {"stdp", synapse_model::stdp},
    {"stdp_pl", synapse_model::stdp_pl},
}};

constexpr std::array<named_value<input_kind>, 3> input_kinds{{
    {"poisson", input_kind::poisson},
    {"dc", input_kind::dc},
    {"spike_times", input_kind::spike_times},
}};

template <class Enum>
std::string_view find_name(std::span<const named_value<Enum>> names, Enum value) {
  for (const auto& named : names) {
    if (named.value == value) return named.name;
  }
  return "?";
}

std::string lowercase(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return lower;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> previous(b.size() + 1);
  std::vector<std::size_t> current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

}  // namespace

std::optional<section_kind> section_kind_named(std::string_view type) {
  for (const auto& section : sections) {
    if (section.name == type) return section.kind;
  }
  return std::nullopt;
}

std::string_view name_of(section_kind kind) { return sections[static_cast<std::size_t>(kind)].name; }

bool has_instance_name(section_kind kind) { return sections[static_cast<std::size_t>(kind)].has_instance_name; }

std::string known_section_list() {
  std::string list;
  for (const auto& section : sections) {
    if (!list.empty()) list += ", ";
    list += section.name;
    if (section.has_instance_name) list += ".NAME";
  }
  return list;
}

std::span<const key_info> keys_of(section_kind kind) {
  switch (kind) {
    case section_kind::simulation:
      return simulation_keys;
    case section_kind::output:
      return output_keys;
    case section_kind::checkpoint:
      return checkpoint_keys;
    case section_kind::tallies:
      return tallies_keys;
    case section_kind::energy:
      return energy_keys;
    case section_kind::slurm:
      return slurm_keys;
    case section_kind::population:
      return population_keys;
    case section_kind::projection:
      return projection_keys;
    case section_kind::input:
      return input_keys;
    case section_kind::record:
      return record_keys;
    case section_kind::weights:
      return weights_keys;
  }
  return {};
}

const key_info* find_key(section_kind kind, std::string_view key) {
  for (const auto& info : keys_of(kind)) {
    if (info.key == key) return &info;
  }
  return nullptr;
}

std::string known_key_list(section_kind kind) {
  std::string list;
  for (const auto& info : keys_of(kind)) {
    if (!list.empty()) list += ", ";
    list += info.key;
  }
  return list;
}

std::string_view closest_key(section_kind kind, std::string_view key) {
  // Letter case first (NEST spells C_m, users type c_m), then a unit suffix added or left out
  // (tau_m_ms, dt), then small typos.
  const std::string lower = lowercase(key);
  for (const auto& info : keys_of(kind)) {
    if (lowercase(info.key) == lower) return info.key;
  }
  for (const std::string_view suffix : {"_ms", "_mv", "_pa", "_pf", "_hz"}) {
    for (const auto& info : keys_of(kind)) {
      const std::string known = lowercase(info.key);
      if (known + std::string(suffix) == lower || lower + std::string(suffix) == known) return info.key;
    }
  }
  std::string_view best;
  std::size_t best_distance = 3;  // farther than two edits is a different word, not a typo
  for (const auto& info : keys_of(kind)) {
    const std::size_t distance = edit_distance(lower, lowercase(info.key));
    if (distance < best_distance && 2 * distance < lower.size()) {
      best_distance = distance;
      best = info.key;
    }
  }
  return best;
}

std::span<const named_value<neuron_model>> neuron_model_names() { return neuron_models; }
std::span<const named_value<connection_rule>> connection_rule_names() { return connection_rules; }
std::span<const named_value<synapse_model>> synapse_model_names() { return synapse_models; }
std::span<const named_value<input_kind>> input_kind_names() { return input_kinds; }
std::string_view name_of(neuron_model model) { return find_name<neuron_model>(neuron_models, model); }
std::string_view name_of(connection_rule rule) { return find_name<connection_rule>(connection_rules, rule); }
std::string_view name_of(synapse_model model) { return find_name<synapse_model>(synapse_models, model); }
std::string_view name_of(input_kind kind) { return find_name<input_kind>(input_kinds, kind); }

}  // namespace myelin::config_detail
