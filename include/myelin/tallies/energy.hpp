// Energy of a run: measured from the node's RAPL energy counters (Linux powercap) where the
// machine exposes them, otherwise modeled from counts and times with four parameters. Named
// presets give the parameters for other hardware classes (their published figures and sources are
// in configs/README.md), so that the same run can be priced as if it had run there.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace myelin {

// The modeled energy of a rank over some time:
//   watts_per_active_core x core-seconds (every core of the rank counts as busy: waiting threads
//                            spin) + idle_watts_per_node x seconds x (the rank's share of its node)
//   + joules_per_byte x bytes sent to other ranks + joules_per_synaptic_event x synaptic events.
struct energy_parameters {
  double watts_per_active_core = 0.0;
  double idle_watts_per_node = 0.0;
  double joules_per_byte = 0.0;
  double joules_per_synaptic_event = 0.0;
};

struct energy_preset {
  std::string_view name;
  std::string_view what;  // one line
  energy_parameters parameters;
};

// cpu-node (the default), gpu-node, spinnaker, spinnaker-realtime, loihi, brain.
std::span<const energy_preset> energy_presets();
const energy_preset* find_energy_preset(std::string_view name);

// The brain, for comparison: ~20 W for ~86e9 neurons and ~1e14 synapses.
inline constexpr double brain_watts = 20.0;
inline constexpr double brain_neurons = 86e9;
inline constexpr double brain_synapses = 1e14;
// The brain's energy per synaptic event at a mean rate: 20 W / (1e14 synapses x rate).
double brain_joules_per_synaptic_event(double mean_rate_hz);

double modeled_energy_joules(const energy_parameters& p, double core_seconds, double node_share_seconds,
                             double bytes_sent, double synaptic_events);

// Cumulative energy of this node's CPU packages from the RAPL zones under a powercap directory
// (/sys/class/powercap/intel-rapl:N/energy_uj; subzones intel-rapl:N:M are parts of N and not
// added). Counters wrap at max_energy_range_uj; reading at least once per wrap period (minutes
// at full power) keeps the total exact, and the simulation reads once per tally window.
class powercap_meter {
 public:
  // No usable zone (missing folder, unreadable counters): available() is false and `problem`
  // says why.
  explicit powercap_meter(const std::filesystem::path& powercap_dir);

  bool available() const { return !zones_.empty(); }
  const std::string& problem() const { return problem_; }
  // Joules since construction (0 when unavailable).
  double joules();

 private:
  struct zone {
    std::filesystem::path energy_file;
    std::uint64_t range_uj;
    std::uint64_t last_uj;
  };
  std::vector<zone> zones_;
  double total_joules_ = 0.0;
  std::string problem_;
};

}  // namespace myelin
