// The run's full config as INI text: every section and key with its final value, defaults
// included, for provenance (it is stored with the output). Reading it back gives an equal spec.
#pragma once

#include <string>

#include "myelin/config/spec.hpp"

namespace myelin::config_detail {

// Sections in the order simulation, output, populations, projections, inputs, records (each
// in file order); keys in schema order; only the keys the model, rule or input type uses.
std::string resolved_ini_text(const run_spec& spec);

}  // namespace myelin::config_detail
