// The sections and keys a config may contain. Which keys apply to which model, rule or input
// type, their ranges and defaults are checked where the values are read (config.cpp); this
// table is the one list of names, used to reject unknown keys (also from --set) and to order
// the resolved config. configs/README.md documents the same keys.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "myelin/config/spec.hpp"

namespace myelin::config_detail {

enum class section_kind {
  simulation, output, checkpoint, tallies, energy, slurm, population, projection, input, record, weights
};

struct key_info {
  std::string_view key;
  std::string_view meaning;  // completes "missing required key 'k' (<meaning>, <form>)"
};

// The type word before the first dot of a section name ("population" in "population.L23E").
std::optional<section_kind> section_kind_named(std::string_view type);
std::string_view name_of(section_kind kind);
// population, projection, input, record and weights sections carry a NAME: [population.L23E].
bool has_instance_name(section_kind kind);
// "simulation, output, ..., population.NAME, projection.NAME, input.NAME, record.NAME, weights.NAME"
std::string known_section_list();

// Every key a section of this kind may hold, in the order the resolved config writes them.
std::span<const key_info> keys_of(section_kind kind);
const key_info* find_key(section_kind kind, std::string_view key);
std::string known_key_list(section_kind kind);

// The known key closest to a misspelt one ("tau_m_ms" -> "tau_m"), or "" when none is close.
std::string_view closest_key(section_kind kind, std::string_view key);

// The words a config uses for the enumerations of spec.hpp.
template <class Enum>
struct named_value {
  std::string_view name;
  Enum value;
};
std::span<const named_value<neuron_model>> neuron_model_names();
std::span<const named_value<connection_rule>> connection_rule_names();
std::span<const named_value<synapse_model>> synapse_model_names();
std::span<const named_value<input_kind>> input_kind_names();
std::string_view name_of(neuron_model model);
std::string_view name_of(connection_rule rule);
std::string_view name_of(synapse_model model);
std::string_view name_of(input_kind kind);

}  // namespace myelin::config_detail
