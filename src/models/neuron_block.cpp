#include "myelin/models/neuron_block.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "models/iaf_psc_alpha.hpp"
#include "models/iaf_psc_delta.hpp"
#include "models/iaf_psc_exp.hpp"

namespace myelin {
namespace {

const char* model_name(neuron_model model) {
  switch (model) {
    case neuron_model::iaf_psc_delta: return "iaf_psc_delta";
    case neuron_model::iaf_psc_exp: return "iaf_psc_exp";
    case neuron_model::iaf_psc_alpha: return "iaf_psc_alpha";
  }
  return "unknown model";
}

// NEST's BadProperty checks for these models. The config module reports user errors with
// context first; this guards the block's invariants (e.g. C_m > 0) against any other caller.
void check_parameters(const population_spec& spec) {
  const neuron_parameters& p = spec.params;
  const std::string where = std::string(model_name(spec.model)) + " population '" + spec.name + "': ";
  auto require = [&](bool ok, const char* message) {
    if (!ok) throw std::invalid_argument(where + message);
  };
  require(std::isfinite(p.E_L_mV) && std::isfinite(p.V_th_mV) && std::isfinite(p.V_reset_mV) &&
              std::isfinite(p.I_e_pA),
          "E_L, V_th, V_reset and I_e must be finite.");
  require(p.C_m_pF > 0 && std::isfinite(p.C_m_pF), "Capacitance C_m must be > 0.");
  require(p.tau_m_ms > 0 && std::isfinite(p.tau_m_ms), "Membrane time constant tau_m must be > 0.");
  require(p.t_ref_ms >= 0, "Refractory time t_ref must not be negative.");
  require(p.V_reset_mV < p.V_th_mV, "Reset potential must be smaller than threshold.");
  require(!std::isnan(p.V_min_mV), "V_min must be a number.");
  if (spec.model != neuron_model::iaf_psc_delta) {
    require(p.tau_syn_ex_ms > 0 && p.tau_syn_in_ms > 0 && std::isfinite(p.tau_syn_ex_ms) &&
                std::isfinite(p.tau_syn_in_ms),
            "Synaptic time constants tau_syn_ex, tau_syn_in must be > 0.");
  }
}

}  // namespace

std::unique_ptr<neuron_block> neuron_block::create(const population_spec& spec, double dt_ms, std::size_t n) {
  check_parameters(spec);
  switch (spec.model) {
    case neuron_model::iaf_psc_delta: return std::make_unique<iaf_psc_delta_block>(spec.params, dt_ms, n);
    case neuron_model::iaf_psc_exp: return std::make_unique<iaf_psc_exp_block>(spec.params, dt_ms, n);
    case neuron_model::iaf_psc_alpha: return std::make_unique<iaf_psc_alpha_block>(spec.params, dt_ms, n);
  }
  throw std::invalid_argument("neuron_block::create: unknown neuron model");
}

bool neuron_block::has_state(const std::string& name) const {
  if (name == "V_m") return true;
  const std::vector<std::string> names = state_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

void neuron_block::append_fired(std::span<const std::int32_t> fired, std::vector<std::uint32_t>& spiked) {
  // Few neurons fire in any one step: test eight flags at a time (one vector OR) and skip
  // all-zero groups.
  constexpr std::size_t group = 8;
  const std::size_t n = fired.size();
  std::size_t i = 0;
  for (; i + group <= n; i += group) {
    std::int32_t any = 0;
    for (std::size_t j = i; j < i + group; ++j) any |= fired[j];
    if (any == 0) continue;
    for (std::size_t j = i; j < i + group; ++j) {
      if (fired[j] != 0) spiked.push_back(std::uint32_t(j));
    }
  }
  for (; i < n; ++i) {
    if (fired[i] != 0) spiked.push_back(std::uint32_t(i));
  }
}

void neuron_block::throw_unknown_state(const std::string& name) const {
  std::string known = "V_m";
  for (const std::string& s : state_names()) known += ", " + s;
  throw std::invalid_argument(std::string(model_name(model())) + " has no state variable '" + name +
                              "' (known: " + known + ")");
}

}  // namespace myelin
