// From INI text plus --set overrides to a validated run_spec. Every user-facing check lives
// here; the order is: syntax (ini_document), names of sections and keys (schema), then the
// sections in dependency order (simulation for dt, populations for names and sizes, then
// projections, inputs, records, weight recordings), each key parsed and range-checked where it
// is read.
#include "myelin/config/config.hpp"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <optional>
#include <span>
#include <sstream>
#include <type_traits>
#include <utility>

#include "config/distribution_parser.hpp"
#include "config/ini_document.hpp"
#include "config/resolved_ini.hpp"
#include "config/schema.hpp"
#include "config/value_parsers.hpp"
#include "myelin/core/network_layout.hpp"
#include "myelin/tallies/energy.hpp"

namespace myelin {
namespace config_detail {
namespace {

// Bins of one weight histogram, at most: each histogram row is held in full on every rank, so a
// few bytes of config must not be able to ask for gigabytes.
constexpr std::uint64_t max_histogram_bins = std::uint64_t(1) << 20;  // 1,048,576

// '#' and ';' would start a comment when the resolved config is read back.
std::string directory_path(std::string_view text) {
  if (text.empty() || text.find_first_of("#;") != std::string_view::npos) {
    throw invalid_value{"a directory path without '#' or ';'"};
  }
  return std::string(text);
}


// Reads the keys of one section, turning a parser's invalid_value into the one-line
// config_error that names origin, section, key and value.
class section_reader {
 public:
  section_reader(const ini_section& section, section_kind kind, const std::string& file_name)
      : section_(section), kind_(kind), file_name_(file_name) {}

  const std::string& section_name() const { return section_.name; }
  // "<file>:<line>" of the section header, for an error about the section as a whole.
  const std::string& section_origin() const { return section_.origin; }
  // "L23E" of [population.L23E]
  std::string instance_name() const { return section_.name.substr(section_.name.find('.') + 1); }
  const ini_entry* entry(std::string_view key) const { return section_.find(key); }

  [[noreturn]] void fail(const ini_entry& bad, std::string_view expected) const {
    throw config_error(bad.origin + ": [" + section_.name + "] key '" + bad.key + "': expected " +
                       std::string(expected) + ", got '" + bad.value + "'");
  }
  [[noreturn]] void fail(std::string_view key, std::string_view expected) const { fail(*entry(key), expected); }
  [[noreturn]] void fail_missing(std::string_view key, std::string_view form) const {
    const key_info* info = find_key(kind_, key);
    const std::string meaning = info != nullptr ? std::string(info->meaning) + ", " : "";
    throw config_error(file_name_ + ": [" + section_.name + "]: missing required key '" + std::string(key) + "' (" +
                       meaning + std::string(form) + ")");
  }
  // A value of the right form that this config cannot use, with the reason.
  [[noreturn]] void refuse(const ini_entry& given, std::string_view reason) const {
    throw config_error(given.origin + ": [" + section_.name + "] key '" + given.key + "' = '" + given.value +
                       "': " + std::string(reason));
  }
  // For a key of this section kind that the chosen model, rule or type does not use.
  void reject_if_present(std::string_view key, std::string_view reason) const {
    if (const auto* given = entry(key)) refuse(*given, reason);
  }

  template <class Parse>
  auto optional(std::string_view key, Parse&& parse) const
      -> std::optional<std::invoke_result_t<Parse&, std::string_view>> {
    const ini_entry* given = entry(key);
    if (given == nullptr) return std::nullopt;
    try {
      return parse(std::string_view(given->value));
    } catch (const invalid_value& bad) {
      fail(*given, bad.expected);
    }
  }
  template <class Parse>
  auto required(std::string_view key, std::string_view form, Parse&& parse) const {
    if (entry(key) == nullptr) fail_missing(key, form);
    return *optional(key, std::forward<Parse>(parse));
  }

  double number(std::string_view key, const number_range& range, double fallback) const {
    return optional(key, [&](std::string_view text) { return parse_number(text, range); }).value_or(fallback);
  }
  double required_number(std::string_view key, const number_range& range) const {
    return required(key, range.expected(), [&](std::string_view text) { return parse_number(text, range); });
  }
  std::uint64_t integer(std::string_view key, const integer_range& range, std::uint64_t fallback) const {
    return optional(key, [&](std::string_view text) { return parse_integer(text, range); }).value_or(fallback);
  }
  std::uint64_t required_integer(std::string_view key, const integer_range& range) const {
    return required(key, range.expected(), [&](std::string_view text) { return parse_integer(text, range); });
  }
  bool flag(std::string_view key, bool fallback) const {
    return optional(key, [](std::string_view text) { return parse_bool(text); }).value_or(fallback);
  }

  template <class Enum>
  Enum required_choice(std::string_view key, std::span<const named_value<Enum>> choices) const {
    return required(key, one_of(choices), [&](std::string_view text) { return parse_choice(text, choices); });
  }
  template <class Enum>
  Enum choice(std::string_view key, std::span<const named_value<Enum>> choices, Enum fallback) const {
    return optional(key, [&](std::string_view text) { return parse_choice(text, choices); }).value_or(fallback);
  }

 private:
  template <class Enum>
  static std::string one_of(std::span<const named_value<Enum>> choices) {
    std::string text = "one of ";
    for (std::size_t i = 0; i < choices.size(); ++i) {
      if (i > 0) text += i + 1 == choices.size() ? " or " : ", ";
      text += choices[i].name;
    }
    return text;
  }
  template <class Enum>
  static Enum parse_choice(std::string_view text, std::span<const named_value<Enum>> choices) {
    for (const auto& choice : choices) {
      if (choice.name == trim(text)) return choice.value;
    }
    throw invalid_value{one_of(choices)};
  }

  const ini_section& section_;
  section_kind kind_;
  const std::string& file_name_;
};

// dt-grid checks (t_stop_ms, interval_ms): a whole number of steps within 1e-9 relative, so
// 0.3 / 0.1 = 2.9999999999999996 counts as 3 steps.
bool is_multiple_of(double value, double step) {
  const double steps = std::round(value / step);
  return steps >= 1.0 && std::abs(value - steps * step) <= 1e-9 * std::abs(value);
}

// A delay of exactly one step written as 0.1 with dt 0.1 must pass despite rounding.
bool is_at_least(double value, double bound) { return value >= bound * (1.0 - 1e-12); }

// Run names become a directory under output.dir and must survive the resolved config.
bool is_run_name(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find_first_of("/\\#; \t") == std::string_view::npos;
}

bool is_instance_name(std::string_view name) {
  return !name.empty() &&
         std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '-'; });
}

// Names of sections and keys, before any value is read, so a typo in a key is reported as
// such rather than as a missing key.
void check_names(const ini_document& document) {
  for (const auto& section : document.sections) {
    const auto dot = section.name.find('.');
    const std::string type = section.name.substr(0, dot);
    const auto kind = section_kind_named(type);
    if (!kind) {
      throw config_error(section.origin + ": [" + section.name + "]: unknown section type '" + type +
                         "' (known: " + known_section_list() + ")");
    }
    if (has_instance_name(*kind)) {
      if (dot == std::string::npos || !is_instance_name(section.name.substr(dot + 1))) {
        throw config_error(section.origin + ": [" + section.name + "]: expected [" + type +
                           ".NAME] with NAME made of letters, digits, '_' or '-'");
      }
    } else if (dot != std::string::npos) {
      throw config_error(section.origin + ": [" + section.name + "]: expected [" + type + "] without a name");
    }
    for (const auto& entry : section.entries) {
      if (find_key(*kind, entry.key) != nullptr) continue;
      if (*kind == section_kind::projection && entry.key == "tau_minus") {
        throw config_error(entry.origin + ": [" + section.name +
                           "] key 'tau_minus': unknown key of [projection.NAME]; the postsynaptic STDP trace "
                           "belongs to the target neurons, as in NEST: set tau_minus in the target's "
                           "[population.NAME]");
      }
      const auto suggestion = closest_key(*kind, entry.key);
      throw config_error(entry.origin + ": [" + section.name + "] key '" + entry.key + "': unknown key" +
                         (suggestion.empty() ? "" : " (did you mean '" + std::string(suggestion) + "'?)") +
                         "; known keys of [" + type + (has_instance_name(*kind) ? ".NAME" : "") +
                         "]: " + known_key_list(*kind));
    }
  }
}

class spec_builder {
 public:
  explicit spec_builder(const ini_document& document) : document_(document) {}

  run_spec build() {
    check_names(document_);
    run_spec spec;
    spec.config_path = document_.file_name;
    spec.simulation = read_simulation();
    spec.output = read_output();
    spec.checkpoint = read_checkpoint();
    spec.tallies = read_tallies();
    spec.energy = read_energy();
    spec.slurm = read_slurm();
    dt_ms_ = spec.simulation.dt_ms;
    t_stop_ms_ = spec.simulation.t_stop_ms;
    for (const auto* section : sections_of(section_kind::population)) {
      spec.network.populations.push_back(read_population(reader_for(*section, section_kind::population)));
    }
    if (spec.network.populations.empty()) {
      throw config_error(document_.file_name + ": no [population.NAME] section; at least one population is required");
    }
    populations_ = &spec.network.populations;
    for (const auto* section : sections_of(section_kind::projection)) {
      spec.network.projections.push_back(read_projection(reader_for(*section, section_kind::projection)));
    }
    check_tau_minus(spec);
    for (const auto* section : sections_of(section_kind::input)) {
      spec.network.inputs.push_back(read_input(reader_for(*section, section_kind::input)));
    }
    for (const auto* section : sections_of(section_kind::record)) {
      spec.records.push_back(read_record(reader_for(*section, section_kind::record)));
    }
    for (const auto* section : sections_of(section_kind::weights)) {
      spec.weight_recordings.push_back(
          read_weight_recording(reader_for(*section, section_kind::weights), spec.network.projections));
    }
    spec.resolved_ini = resolved_ini_text(spec);
    return spec;
  }

 private:
  std::vector<const ini_section*> sections_of(section_kind kind) const {
    std::vector<const ini_section*> found;
    for (const auto& section : document_.sections) {
      if (section_kind_named(section.name.substr(0, section.name.find('.'))) == kind) found.push_back(&section);
    }
    return found;
  }
  section_reader reader_for(const ini_section& section, section_kind kind) const {
    return section_reader(section, kind, document_.file_name);
  }
  // [simulation] and [output] may be absent: their keys then take defaults (or are missing).
  ini_section singleton(section_kind kind) const {
    const auto* found = document_.find(name_of(kind));
    return found != nullptr ? *found : ini_section{std::string(name_of(kind)), document_.file_name, {}};
  }

  simulation_spec read_simulation() const {
    const ini_section section = singleton(section_kind::simulation);
    const section_reader reader = reader_for(section, section_kind::simulation);
    simulation_spec simulation;
    const std::string default_name = std::filesystem::path(document_.file_name).stem().string();
    simulation.name = reader
                          .optional("name",
                                    [](std::string_view text) {
                                      if (!is_run_name(text)) {
                                        throw invalid_value{"a run name without '/', spaces, '#' or ';'"};
                                      }
                                      return std::string(text);
                                    })
                          .value_or(default_name);
    if (!is_run_name(simulation.name)) {
      throw config_error(document_.file_name + ": [simulation]: the file's stem '" + simulation.name +
                         "' cannot be the run name (it has '/', spaces, '#' or ';'); set key 'name'");
    }
    simulation.dt_ms = reader.number("dt_ms", positive_number(), simulation.dt_ms);
    simulation.t_stop_ms = reader.required_number("t_stop_ms", positive_number());
    if (!is_multiple_of(simulation.t_stop_ms, simulation.dt_ms)) {
      reader.fail("t_stop_ms", "a multiple of dt_ms = " + format_number(simulation.dt_ms) + " (within 1e-9 relative)");
    }
    simulation.seed = reader.integer("seed", {}, simulation.seed);
    simulation.threads = static_cast<int>(reader.integer("threads", {.min = 1, .max = INT_MAX}, 1));
    simulation.weight_bits = reader
                                 .optional("weight_bits",
                                           [](std::string_view text) {
                                             const std::string_view bits = trim(text);
                                             if (bits == "16") return 16;
                                             if (bits == "32") return 32;
                                             throw invalid_value{"16 (int16 fixed-point weights) or 32 (int32)"};
                                           })
                                 .value_or(simulation.weight_bits);
    return simulation;
  }

  output_spec read_output() const {
    const ini_section section = singleton(section_kind::output);
    const section_reader reader = reader_for(section, section_kind::output);
    output_spec output;
    output.dir = reader
                     .optional("dir", directory_path)
                     .value_or(output.dir);
    output.spikes = reader.flag("spikes", output.spikes);
    output.flush_interval_ms = reader.number("flush_interval_ms", positive_number(), output.flush_interval_ms);
    return output;
  }

  checkpoint_spec read_checkpoint() const {
    const ini_section section = singleton(section_kind::checkpoint);
    const section_reader reader = reader_for(section, section_kind::checkpoint);
    checkpoint_spec checkpoint;
    checkpoint.interval_ms = reader.number("interval_ms", non_negative_number(), checkpoint.interval_ms);
    checkpoint.directory = reader
                               .optional("directory", directory_path)
                               .value_or(checkpoint.directory);
    checkpoint.keep = static_cast<int>(reader.integer("keep", {.min = 1, .max = 1000000}, std::uint64_t(checkpoint.keep)));
    return checkpoint;
  }

  tallies_spec read_tallies() const {
    const ini_section section = singleton(section_kind::tallies);
    const section_reader reader = reader_for(section, section_kind::tallies);
    tallies_spec tallies;
    tallies.window_ms = reader.number("window_ms", positive_number(), tallies.window_ms);
    return tallies;
  }

  energy_spec read_energy() const {
    const ini_section section = singleton(section_kind::energy);
    const section_reader reader = reader_for(section, section_kind::energy);
    energy_spec energy;
    const energy_preset* preset = find_energy_preset(energy.preset);
    energy.preset = reader
                        .optional("preset",
                                  [&](std::string_view text) {
                                    preset = find_energy_preset(trim(text));
                                    if (preset == nullptr) {
                                      std::string names;
                                      for (const auto& p : energy_presets())
                                        names += (names.empty() ? "" : ", ") + std::string(p.name);
                                      throw invalid_value{"one of " + names};
                                    }
                                    return std::string(preset->name);
                                  })
                        .value_or(energy.preset);
    const energy_parameters& p = preset->parameters;
    energy.parameters.watts_per_active_core = reader.number("watts_per_active_core", non_negative_number(), p.watts_per_active_core);
    energy.parameters.idle_watts_per_node = reader.number("idle_watts_per_node", non_negative_number(), p.idle_watts_per_node);
    energy.parameters.joules_per_byte = reader.number("joules_per_byte", non_negative_number(), p.joules_per_byte);
    energy.parameters.joules_per_synaptic_event =
        reader.number("joules_per_synaptic_event", non_negative_number(), p.joules_per_synaptic_event);
    energy.measure = reader.flag("measure", energy.measure);
    energy.powercap_dir = reader.optional("powercap_dir", directory_path).value_or(energy.powercap_dir);
    return energy;
  }

  slurm_spec read_slurm() const {
    const ini_section section = singleton(section_kind::slurm);
    const section_reader reader = reader_for(section, section_kind::slurm);
    for (const char* key : {"nodes", "ntasks_per_node", "cpus_per_task", "max_segments", "signal_grace_s"})
      reader.integer(key, {.min = 1}, 1);
    reader.optional("launcher", [](std::string_view text) {
      if (text != "srun" && text != "mpirun") throw invalid_value{"srun or mpirun"};
      return std::string(text);
    });
    slurm_spec slurm;
    for (const ini_entry& e : section.entries) slurm.keys.emplace_back(e.key, e.value);
    return slurm;
  }

  population_spec read_population(const section_reader& reader) const {
    population_spec population;
    population.name = reader.instance_name();
    population.model = reader.required_choice<neuron_model>("model", neuron_model_names());
    const std::string model_name(name_of(population.model));
    switch (population.model) {
      case neuron_model::iaf_psc_delta:
        for (const auto key : {"tau_syn_ex", "tau_syn_in"}) {
          reader.reject_if_present(key,
                                   "iaf_psc_delta has no synaptic time constants (its input is a jump in V_m); "
                                   "only iaf_psc_exp and iaf_psc_alpha have tau_syn_ex and tau_syn_in");
        }
        break;
      case neuron_model::iaf_psc_exp:
        reader.reject_if_present("V_min", "not a parameter of iaf_psc_exp (only of iaf_psc_delta and iaf_psc_alpha)");
        [[fallthrough]];
      case neuron_model::iaf_psc_alpha:
        reader.reject_if_present("refractory_input", "not a parameter of " + model_name + " (only of iaf_psc_delta)");
        break;
    }
    population.n = reader.required_integer("n", {.min = 1});

    auto& params = population.params;
    params.C_m_pF = reader.number("C_m", positive_number(), params.C_m_pF);
    params.tau_m_ms = reader.number("tau_m", positive_number(), params.tau_m_ms);
    params.t_ref_ms = reader.number("t_ref", non_negative_number(), params.t_ref_ms);
    params.E_L_mV = reader.number("E_L", any_number(), params.E_L_mV);
    params.V_th_mV = reader.number("V_th", any_number(), params.V_th_mV);
    params.V_reset_mV = reader.number("V_reset", any_number(), params.V_reset_mV);
    params.I_e_pA = reader.number("I_e", any_number(), params.I_e_pA);
    params.tau_syn_ex_ms = reader.number("tau_syn_ex", positive_number(), params.tau_syn_ex_ms);
    params.tau_syn_in_ms = reader.number("tau_syn_in", positive_number(), params.tau_syn_in_ms);
    params.V_min_mV = reader.number("V_min", {.allow_infinite = true}, params.V_min_mV);
    params.refractory_input = reader.flag("refractory_input", params.refractory_input);
    population.tau_minus_ms = reader.number("tau_minus", positive_number(), population.tau_minus_ms);
    if (!(params.V_reset_mV < params.V_th_mV)) {
      // Blame the key the user wrote; the defaults alone satisfy the condition.
      if (reader.entry("V_reset") != nullptr) {
        reader.fail("V_reset", "a number < V_th = " + format_number(params.V_th_mV));
      }
      reader.fail("V_th", "a number > V_reset = " + format_number(params.V_reset_mV));
    }
    if (params.V_min_mV > params.V_reset_mV) {  // NEST: "Reset potential must be greater equal minimum potential"
      reader.fail("V_min", "a number <= V_reset = " + format_number(params.V_reset_mV) + " (or -inf)");
    }

    if (reader.entry("V_m") != nullptr) {
      population.V_m_init = *reader.optional(
          "V_m", [](std::string_view text) { return parse_distribution(text, "normal(mean=-58, std=10)").value; });
    } else {  // at rest (E_L); the text is what the resolved config writes back
      population.V_m_init.a = params.E_L_mV;
      population.V_m_init.text = format_number(params.E_L_mV);
    }
    population.record_spikes = reader.flag("record_spikes", population.record_spikes);
    return population;
  }

  // Population index from its name, for source/target/population keys.
  std::size_t population_index(std::string_view name) const {
    for (std::size_t i = 0; i < populations_->size(); ++i) {
      if ((*populations_)[i].name == trim(name)) return i;
    }
    std::string known;
    for (const auto& population : *populations_) known += (known.empty() ? "" : ", ") + population.name;
    throw invalid_value{"the name of a population (known: " + known + ")"};
  }
  std::size_t required_population(const section_reader& reader, std::string_view key) const {
    return reader.required(key, "a population name", [&](std::string_view text) { return population_index(text); });
  }
  const population_spec& population(std::size_t index) const { return (*populations_)[index]; }

  projection_spec read_projection(const section_reader& reader) const {
    projection_spec projection;
    projection.name = reader.instance_name();
    projection.source = required_population(reader, "source");
    projection.target = required_population(reader, "target");
    projection.rule = reader.required_choice<connection_rule>("rule", connection_rule_names());
    const std::string rule_name(name_of(projection.rule));
    const std::pair<const char*, connection_rule> rule_keys[] = {{"indegree", connection_rule::fixed_indegree},
                                                                 {"N", connection_rule::fixed_total_number},
                                                                 {"p", connection_rule::pairwise_bernoulli}};
    for (const auto& [key, rule] : rule_keys) {
      if (rule != projection.rule) {
        reader.reject_if_present(
            key, "used only by rule " + std::string(name_of(rule)) + ", not by this projection's rule " + rule_name);
      }
    }
    projection.allow_autapses = reader.flag("allow_autapses", projection.allow_autapses);
    projection.allow_multapses = reader.flag("allow_multapses", projection.allow_multapses);

    const auto& source = population(projection.source);
    const auto& target = population(projection.target);
    const bool same_population = projection.source == projection.target;
    const bool autapses_excluded = same_population && !projection.allow_autapses;
    const std::string no_repeats = std::string(" (without multapses") + (autapses_excluded ? " or autapses" : "") + ")";
    switch (projection.rule) {
      case connection_rule::fixed_indegree: {
        projection.indegree = reader.required_integer("indegree", {});
        const std::uint64_t most = source.n - (autapses_excluded ? 1 : 0);
        if (!projection.allow_multapses && projection.indegree > most) {
          reader.fail("indegree", "an indegree <= " + std::to_string(most) + ", as source " + source.name +
                                      " has n = " + std::to_string(source.n) + no_repeats);
        }
        break;
      }
      case connection_rule::fixed_total_number: {
        projection.total = reader.required_integer("N", {});
        // n_source * n_target (less the autapses) may not fit 64 bits.
        const unsigned __int128 pairs =
            static_cast<unsigned __int128>(source.n) * target.n - (autapses_excluded ? source.n : 0);
        if (!projection.allow_multapses && projection.total > pairs) {
          const std::uint64_t most = static_cast<std::uint64_t>(pairs);  // < total, so it fits
          reader.fail("N", "N <= " + std::to_string(most) + ", the number of distinct pairs" + no_repeats);
        }
        break;
      }
      case connection_rule::pairwise_bernoulli:
        projection.p = reader.required_number("p", {.min = 0.0, .max = 1.0});
        break;
      case connection_rule::one_to_one:
        if (source.n != target.n) {
          reader.fail("rule", "source and target of equal n for one_to_one (" + source.name + " has " +
                                  std::to_string(source.n) + ", " + target.name + " has " + std::to_string(target.n) +
                                  ")");
        }
        break;
      case connection_rule::all_to_all:
        break;
    }

    projection.weight = read_weight(reader, "weight", "normal(mean=87.8, std=8.78)");
    projection.delay_ms = read_delay(reader);
    projection.synapse = reader.choice<synapse_model>("synapse", synapse_model_names(), projection.synapse);
    read_plasticity(reader, projection);
    return projection;
  }

  // The STDP parameters of [projection.NAME] (NEST's names and defaults), for the synapse model
  // chosen; a parameter of another model is an error. Weights must stay where the rule keeps
  // them, or NEST's formulas would produce NaN (a negative base to a fractional power).
  void read_plasticity(const section_reader& reader, projection_spec& projection) const {
    const std::string synapse_name(name_of(projection.synapse));
    struct synapse_key {
      const char* key;
      bool stdp, stdp_pl;  // which synapse models use it
    };
    constexpr synapse_key synapse_keys[] = {{"tau_plus", true, true},  {"lambda", true, true},
                                            {"alpha", true, true},     {"mu_plus", true, false},
                                            {"mu_minus", true, false}, {"Wmax", true, false},
                                            {"mu", false, true}};
    for (const auto& [key, stdp, stdp_pl] : synapse_keys) {
      if ((stdp && projection.synapse == synapse_model::stdp) ||
          (stdp_pl && projection.synapse == synapse_model::stdp_pl))
        continue;
      const std::string users = stdp && stdp_pl ? "stdp and stdp_pl" : stdp ? "stdp" : "stdp_pl";
      reader.reject_if_present(key,
                               "used only by synapse " + users + ", not by this projection's synapse " + synapse_name);
    }

    const distribution& weight = projection.weight;
    switch (projection.synapse) {
      case synapse_model::static_synapse:
        break;
      case synapse_model::stdp: {
        auto& p = projection.stdp;
        p.tau_plus_ms = reader.number("tau_plus", positive_number(), p.tau_plus_ms);
        p.lambda = reader.number("lambda", non_negative_number(), p.lambda);
        p.alpha = reader.number("alpha", non_negative_number(), p.alpha);
        p.mu_plus = reader.number("mu_plus", non_negative_number(), p.mu_plus);
        p.mu_minus = reader.number("mu_minus", non_negative_number(), p.mu_minus);
        p.Wmax = reader.number("Wmax", any_number(), p.Wmax);
        if (p.Wmax == 0.0) reader.fail("Wmax", "a nonzero number (the bound of the weights, with their sign)");
        const double low = std::min(0.0, p.Wmax), high = std::max(0.0, p.Wmax);
        if (!support_within(weight, low, high)) {
          reader.fail("weight", "weights in [" + format_number(low) + ", " + format_number(high) +
                                    "] for synapse stdp with Wmax = " + format_number(p.Wmax) +
                                    " (a distribution needs min and max inside; the rule keeps weights between 0 "
                                    "and Wmax)");
        }
        break;
      }
      case synapse_model::stdp_pl: {
        auto& p = projection.stdp_pl;
        p.tau_plus_ms = reader.number("tau_plus", positive_number(), p.tau_plus_ms);
        p.lambda = reader.number("lambda", non_negative_number(), p.lambda);
        p.alpha = reader.number("alpha", non_negative_number(), p.alpha);
        p.mu = reader.number("mu", non_negative_number(), p.mu);
        if (!support_within(weight, 0.0, std::numeric_limits<double>::infinity())) {
          reader.fail("weight", "weights >= 0 for synapse stdp_pl (a distribution needs min >= 0; the rule takes "
                                "w^mu and keeps weights >= 0)");
        }
        break;
      }
    }
  }

  // Whether every value `d` can draw lies in [low, high].
  static bool support_within(const distribution& d, double low, double high) {
    double lowest = d.min, highest = d.max;
    switch (d.type) {
      case distribution::kind::constant:
        lowest = highest = d.a;
        break;
      case distribution::kind::normal:
        break;
      case distribution::kind::uniform:
        lowest = std::max(lowest, d.a);
        highest = std::min(highest, d.b);
        break;
      case distribution::kind::lognormal:
        lowest = std::max(lowest, 0.0);
        break;
    }
    return lowest >= low && highest <= high;
  }

  // tau_minus belongs to the target of a plastic projection (the postsynaptic trace lives with the
  // neuron); elsewhere it would be a key that changes nothing, which is an error as for any model.
  void check_tau_minus(const run_spec& spec) const {
    const auto& populations = spec.network.populations;
    const auto sections = sections_of(section_kind::population);
    for (std::size_t i = 0; i < populations.size(); ++i) {
      const bool targeted = std::any_of(spec.network.projections.begin(), spec.network.projections.end(),
                                        [&](const projection_spec& p) { return p.is_plastic() && p.target == i; });
      if (targeted) continue;
      reader_for(*sections[i], section_kind::population)
          .reject_if_present("tau_minus", "used only by a population that a projection with synapse stdp or stdp_pl "
                                          "targets (the postsynaptic STDP trace); none targets " +
                                              populations[i].name);
    }
  }

  // A weight distribution keeps the sign of its mean (NEST PD14 redraws at 0): excitatory
  // synapses must not turn inhibitory, as the sign picks the receptor.
  distribution read_weight(const section_reader& reader, std::string_view key, std::string_view example) const {
    const auto parsed = reader.required(key, "a number or a distribution like " + std::string(example),
                                        [&](std::string_view text) { return parse_distribution(text, example); });
    distribution weight = parsed.value;
    if (weight.is_constant()) return weight;
    const double mean = unbounded_mean(weight);
    if (mean > 0.0 && !parsed.has_min) weight.min = 0.0;
    if (mean < 0.0 && !parsed.has_max) weight.max = 0.0;
    check_implied_bounds(reader, key, weight, "weights without min/max keep the sign of their mean");
    return weight;
  }

  // Delays shorter than half a step would round to zero steps; the PD14 reference redraws them.
  distribution read_delay(const section_reader& reader) const {
    const std::string example = "normal(mean=1.5, std=0.75)";
    const std::string form = "a delay >= dt_ms = " + format_number(dt_ms_) + " or a distribution like " + example;
    const auto parsed =
        reader.required("delay_ms", form, [&](std::string_view text) { return parse_distribution(text, example); });
    distribution delay = parsed.value;
    if (delay.is_constant()) {
      if (!is_at_least(delay.a, dt_ms_)) reader.fail("delay_ms", form);
      return delay;
    }
    if (parsed.has_min && delay.min < 0.0) reader.fail("delay_ms", "min >= 0 in a delay distribution");
    if (!parsed.has_min) delay.min = 0.5 * dt_ms_;
    check_implied_bounds(reader, "delay_ms", delay, "delays without min get min = dt_ms/2");
    return delay;
  }

  // The user's own bounds were checked while parsing; this covers the implied ones.
  static void check_implied_bounds(const section_reader& reader, std::string_view key, const distribution& value,
                                   std::string_view implied_rule) {
    try {
      check_bounds_usable(value);
    } catch (const invalid_value& bad) {
      reader.fail(key, bad.expected + " (" + std::string(implied_rule) + ")");
    }
  }

  input_spec read_input(const section_reader& reader) const {
    input_spec input;
    input.name = reader.instance_name();
    input.kind = reader.required_choice<input_kind>("type", input_kind_names());
    input.target = required_population(reader, "target");
    const std::string type_name(name_of(input.kind));
    const auto reject_unless = [&](const char* key, std::initializer_list<input_kind> users) {
      for (const auto user : users) {
        if (user == input.kind) return;
      }
      std::string user_names;
      for (const auto user : users) user_names += (user_names.empty() ? "" : " and ") + std::string(name_of(user));
      reader.reject_if_present(key, "used only by type " + user_names + ", not by this input's type " + type_name);
    };
    reject_unless("rate_hz", {input_kind::poisson});
    reject_unless("indegree", {input_kind::poisson});
    reject_unless("weight", {input_kind::poisson, input_kind::spike_times});
    reject_unless("amplitude_pA", {input_kind::dc});
    reject_unless("times_ms", {input_kind::spike_times});
    reject_unless("delay_ms", {input_kind::spike_times});

    const auto& target = population(input.target);
    input.neurons = reader.optional("neurons", [&](std::string_view text) { return parse_node_ids(text, target.n); })
                        .value_or(std::vector<std::uint64_t>{});
    switch (input.kind) {
      case input_kind::poisson:
        input.rate_hz = reader.required_number("rate_hz", non_negative_number());
        input.indegree = reader.integer("indegree", {.min = 1}, input.indegree);
        input.weight = reader.required_number("weight", any_number());
        break;
      case input_kind::dc:
        input.amplitude_pA = reader.required_number("amplitude_pA", any_number());
        break;
      case input_kind::spike_times:
        input.times_ms = reader.required("times_ms", "comma-separated non-negative, non-decreasing times in ms",
                                         [](std::string_view text) { return parse_spike_times(text); });
        input.weight = reader.required_number("weight", any_number());
        input.delay_ms = reader.number("delay_ms", positive_number(), dt_ms_);
        if (!is_at_least(input.delay_ms, dt_ms_)) {
          reader.fail("delay_ms", "a delay >= dt_ms = " + format_number(dt_ms_));
        }
        break;
    }
    input.start_ms = reader.number("start_ms", non_negative_number(), input.start_ms);
    input.stop_ms = reader.number("stop_ms", {.allow_infinite = true}, input.stop_ms);
    if (!(input.stop_ms > input.start_ms)) {
      reader.fail(reader.entry("stop_ms") != nullptr ? "stop_ms" : "start_ms",
                  "stop_ms > start_ms (start_ms = " + format_number(input.start_ms) +
                      ", stop_ms = " + format_number(input.stop_ms) + ")");
    }
    return input;
  }

  record_spec read_record(const section_reader& reader) const {
    record_spec record;
    record.name = reader.instance_name();
    record.population = required_population(reader, "population");
    const auto& recorded = population(record.population);
    const bool has_synaptic_currents = recorded.model != neuron_model::iaf_psc_delta;
    const std::string allowed = has_synaptic_currents ? "a comma list of V_m, I_syn_ex, I_syn_in"
                                                      : "V_m (iaf_psc_delta has no synaptic currents)";
    record.variables = reader.required("variables", allowed, [&](std::string_view text) {
      std::vector<std::string> variables;
      for (const auto item : split_list(text)) {
        const bool known = item == "V_m" || (has_synaptic_currents && (item == "I_syn_ex" || item == "I_syn_in"));
        if (!known) throw invalid_value{allowed};
        if (std::find(variables.begin(), variables.end(), item) != variables.end()) {
          throw invalid_value{allowed + ", each once"};
        }
        variables.emplace_back(item);
      }
      if (variables.empty()) throw invalid_value{allowed};
      return variables;
    });
    record.neurons = reader.optional("neurons", [&](std::string_view text) { return parse_node_ids(text, recorded.n); })
                         .value_or(std::vector<std::uint64_t>{});
    if (reader.entry("neurons") == nullptr) {
      if (recorded.n > max_node_ids) {
        throw config_error(document_.file_name + ": [" + reader.section_name() + "]: population " + recorded.name +
                           " has " + std::to_string(recorded.n) + " neurons, more than the " +
                           std::to_string(max_node_ids) + " one record may list; give key 'neurons'");
      }
      record.neurons.resize(recorded.n);
      for (std::uint64_t id = 0; id < recorded.n; ++id) record.neurons[id] = id;
    }
    record.interval_ms = reader.number("interval_ms", positive_number(), dt_ms_);
    if (!is_multiple_of(record.interval_ms, dt_ms_)) {
      reader.fail("interval_ms", "a multiple of dt_ms = " + format_number(dt_ms_) + " (at least one step)");
    }
    return record;
  }

  // [weights.NAME]: snapshots at given times and/or histograms at a fixed interval of one plastic
  // projection's weights. Histogram ranges default to where the rule keeps the weights.
  weight_recording_spec read_weight_recording(const section_reader& reader,
                                              const std::vector<projection_spec>& projections) const {
    weight_recording_spec recording;
    recording.name = reader.instance_name();
    recording.projection = reader.required("projection", "a plastic projection name", [&](std::string_view text) {
      return projection_index(projections, text);
    });
    const projection_spec& recorded = projections[recording.projection];
    if (!recorded.is_plastic()) {
      std::string plastic;
      for (const auto& p : projections)
        if (p.is_plastic()) plastic += (plastic.empty() ? "" : ", ") + p.name;
      reader.refuse(*reader.entry("projection"),
                    recorded.name + " is a static projection, its weights never change; record a plastic one "
                                    "(synapse stdp or stdp_pl; " +
                        (plastic.empty() ? std::string("this config has none") : "here: " + plastic) + ")");
    }

    recording.times_ms = reader.optional("times_ms", [&](std::string_view text) { return parse_snapshot_times(text); })
                             .value_or(std::vector<double>{});
    recording.histogram_interval_ms = reader.number("histogram_interval_ms", positive_number(), 0.0);
    if (reader.entry("histogram_interval_ms") != nullptr && !is_multiple_of(recording.histogram_interval_ms, dt_ms_)) {
      reader.fail("histogram_interval_ms", "a multiple of dt_ms = " + format_number(dt_ms_) + " (at least one step)");
    }
    if (!recording.has_histograms()) {
      for (const char* key : {"histogram_bins", "histogram_min", "histogram_max"})
        reader.reject_if_present(key, "used only with histogram_interval_ms, which [" + reader.section_name() +
                                          "] does not set");
      if (recording.times_ms.empty()) {
        throw config_error(reader.section_origin() + ": [" + reader.section_name() +
                           "]: nothing to record; give times_ms (weight snapshots), histogram_interval_ms (weight "
                           "histograms) or both");
      }
      return recording;
    }

    recording.histogram_bins = reader.integer("histogram_bins", {.min = 1, .max = max_histogram_bins}, 50);
    double default_min = 0.0, default_max = 0.0;
    std::string default_rule;
    if (recorded.synapse == synapse_model::stdp) {  // the rule keeps weights between 0 and Wmax
      default_min = std::min(0.0, recorded.stdp.Wmax);
      default_max = std::max(0.0, recorded.stdp.Wmax);
      default_rule = "0 and Wmax = " + format_number(recorded.stdp.Wmax);
    } else {  // stdp_pl has no upper bound: leave the initial weights room to double
      default_max = 2.0 * magnitude_bound(recorded.weight);
      default_rule = "0 and twice the largest initial weight, " + format_number(default_max);
    }
    recording.histogram_min = reader.number("histogram_min", any_number(), default_min);
    recording.histogram_max = reader.number("histogram_max", any_number(), default_max);
    // A distribution's bound can be huge (lognormal's e^(mu + 8 sigma)); the range must stay
    // finite, also in the resolved config, which writes it back.
    if (!std::isfinite(recording.histogram_max - recording.histogram_min)) {
      if (reader.entry("histogram_max") == nullptr) {
        throw config_error(reader.section_origin() + ": [" + reader.section_name() +
                           "]: the default histogram_max, twice the largest initial weight of projection " +
                           recorded.name + " (weight = " + recorded.weight.text + "), is " +
                           format_number(default_max) + "; give histogram_max");
      }
      reader.fail(reader.entry("histogram_min") != nullptr ? "histogram_min" : "histogram_max",
                  "a histogram range histogram_max - histogram_min that is a finite number");
    }
    if (!(recording.histogram_min < recording.histogram_max)) {
      // Blame a key the user wrote; only stdp_pl with all initial weights 0 has an empty default range.
      if (reader.entry("histogram_max") != nullptr) {
        reader.fail("histogram_max", "a number > histogram_min = " + format_number(recording.histogram_min));
      }
      if (reader.entry("histogram_min") != nullptr) {
        reader.fail("histogram_min", "a number < histogram_max = " + format_number(recording.histogram_max) +
                                         " (the default: between " + default_rule + ")");
      }
      throw config_error(reader.section_origin() + ": [" + reader.section_name() +
                         "]: the default histogram range, between " + default_rule + ", is empty for projection " +
                         recorded.name + "; give histogram_max");
    }
    return recording;
  }

  // Projection index from its name, for the projection key of [weights.NAME].
  static std::size_t projection_index(const std::vector<projection_spec>& projections, std::string_view name) {
    for (std::size_t i = 0; i < projections.size(); ++i) {
      if (projections[i].name == trim(name)) return i;
    }
    std::string known;
    for (const auto& projection : projections) known += (known.empty() ? "" : ", ") + projection.name;
    throw invalid_value{"the name of a plastic projection (" +
                        (known.empty() ? std::string("this config has no projection") : "known: " + known) + ")"};
  }

  // Snapshot times: the list syntax of a spike_times input's times_ms, on the step grid (a
  // snapshot is taken between steps) within the run, each time once.
  std::vector<double> parse_snapshot_times(std::string_view text) const {
    const std::string form = "comma-separated, strictly increasing times in ms, multiples of dt_ms = " +
                             format_number(dt_ms_) + " in [0, t_stop_ms = " + format_number(t_stop_ms_) + "]";
    const auto items = split_list(text);
    if (items.empty()) throw invalid_value{form};
    std::vector<double> times;
    double previous_step = -1.0;
    for (const auto item : items) {
      double time_ms = 0.0;
      try {
        time_ms = parse_number(item, non_negative_number());
      } catch (const invalid_value&) {
        throw invalid_value{form};
      }
      if (time_ms != 0.0 && !is_multiple_of(time_ms, dt_ms_)) {
        throw invalid_value{"times that are multiples of dt_ms = " + format_number(dt_ms_) + " (" +
                            format_number(time_ms) + " is not)"};
      }
      const double step = std::round(time_ms / dt_ms_);
      if (step > std::round(t_stop_ms_ / dt_ms_)) {
        throw invalid_value{"times <= t_stop_ms = " + format_number(t_stop_ms_) + " (" + format_number(time_ms) +
                            " is later)"};
      }
      if (step <= previous_step) {
        throw invalid_value{"strictly increasing times (" + format_number(time_ms) + " comes after " +
                            format_number(times.back()) + ")"};
      }
      previous_step = step;
      times.push_back(time_ms);
    }
    return times;
  }

  const ini_document& document_;
  double dt_ms_ = 0.1;
  double t_stop_ms_ = 0.0;
  const std::vector<population_spec>* populations_ = nullptr;  // set once populations are read
};

}  // namespace
}  // namespace config_detail

run_spec parse_config(const std::string& text, const std::string& name, const std::vector<std::string>& overrides) {
  auto document = config_detail::read_ini(text, name);
  for (const auto& override_text : overrides) config_detail::apply_override(document, override_text);
  return config_detail::spec_builder(document).build();
}

run_spec load_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream file(path, std::ios::binary);
  if (!file || std::filesystem::is_directory(path)) throw config_error(path + ": cannot open config file");
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) throw config_error(path + ": cannot read config file");
  return parse_config(text.str(), path, overrides);
}

}  // namespace myelin
