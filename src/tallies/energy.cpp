#include "myelin/tallies/energy.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <regex>
#include <system_error>

namespace myelin {

namespace {

// Figures and their sources: configs/README.md, section [energy].
constexpr std::array<energy_preset, 6> presets{{
    {"cpu-node", "a typical two-socket x86 HPC node (5 W per busy core, 120 W idle, DDR4 and InfiniBand HDR)",
     {.watts_per_active_core = 5.0, .idle_watts_per_node = 120.0, .joules_per_byte = 1e-9,
      .joules_per_synaptic_event = 0.6e-9}},
    {"gpu-node", "GeNN on one NVIDIA Tesla V100, microcircuit: 5.9 uJ / 14 per synaptic event (Knight & Nowotny 2018)",
     {.joules_per_synaptic_event = 5.9e-6 / 14.0}},
    {"spinnaker", "SpiNNaker, microcircuit at 20x slower than real time: 5.9 uJ per synaptic event (van Albada et al. 2018)",
     {.joules_per_synaptic_event = 5.9e-6}},
    {"spinnaker-realtime", "SpiNNaker, microcircuit in real time: 0.6 uJ per synaptic event (Rhodes et al. 2020)",
     {.joules_per_synaptic_event = 0.6e-6}},
    {"loihi", "Intel Loihi: 23.6 pJ per synaptic spike operation, chip only, no static power (Davies et al. 2018)",
     {.joules_per_synaptic_event = 23.6e-12}},
    {"brain", "the human brain: 20 W / (1e14 synapses x 1 Hz) = 0.2 pJ per synaptic event",
     {.joules_per_synaptic_event = brain_watts / (brain_synapses * 1.0)}},
}};

bool read_counter(const std::filesystem::path& file, std::uint64_t& value) {
  std::ifstream in(file);
  return static_cast<bool>(in >> value);
}

}  // namespace

std::span<const energy_preset> energy_presets() { return presets; }

const energy_preset* find_energy_preset(std::string_view name) {
  const auto it = std::find_if(presets.begin(), presets.end(), [&](const energy_preset& p) { return p.name == name; });
  return it == presets.end() ? nullptr : &*it;
}

double brain_joules_per_synaptic_event(double mean_rate_hz) {
  return mean_rate_hz > 0.0 ? brain_watts / (brain_synapses * mean_rate_hz) : 0.0;
}

double modeled_energy_joules(const energy_parameters& p, double core_seconds, double node_share_seconds,
                             double bytes_sent, double synaptic_events) {
  return p.watts_per_active_core * core_seconds + p.idle_watts_per_node * node_share_seconds +
         p.joules_per_byte * bytes_sent + p.joules_per_synaptic_event * synaptic_events;
}

powercap_meter::powercap_meter(const std::filesystem::path& powercap_dir) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::is_directory(powercap_dir, error)) {
    problem_ = powercap_dir.string() + " does not exist";
    return;
  }
  // Package zones only: intel-rapl:0, intel-rapl:1, ... (also amd's, which the kernel names the same).
  static const std::regex package_zone(R"(intel-rapl:\d+)");
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator(powercap_dir, error))
    if (std::regex_match(entry.path().filename().string(), package_zone)) dirs.push_back(entry.path());
  std::sort(dirs.begin(), dirs.end());
  for (const auto& dir : dirs) {
    zone z{dir / "energy_uj", 0, 0};
    if (!read_counter(dir / "max_energy_range_uj", z.range_uj) || !read_counter(z.energy_file, z.last_uj)) {
      problem_ = (dir / "energy_uj").string() + " is not readable";
      zones_.clear();
      return;
    }
    zones_.push_back(z);
  }
  if (zones_.empty()) problem_ = powercap_dir.string() + " has no intel-rapl:N package zone";
}

double powercap_meter::joules() {
  for (zone& z : zones_) {
    std::uint64_t now = z.last_uj;
    if (!read_counter(z.energy_file, now)) continue;  // a transient failure: counted at the next read
    const std::uint64_t delta = now >= z.last_uj ? now - z.last_uj : now + (z.range_uj - z.last_uj);
    total_joules_ += double(delta) * 1e-6;
    z.last_uj = now;
  }
  return total_joules_;
}

}  // namespace myelin
