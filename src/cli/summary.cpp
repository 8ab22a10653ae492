#include "cli/summary.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

namespace myelin::cli {

std::uint64_t peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}

namespace {
// 1.23e-06 J as "1.23 uJ": SI prefixes for energies and powers that span 15 orders of magnitude.
std::string si(double v, const char* unit) {
  static constexpr const char* prefixes[] = {"f", "p", "n", "u", "m", "", "k", "M", "G", "T"};
  int i = 5;
  double x = v;
  while (x != 0.0 && std::abs(x) < 1.0 && i > 0) {
    x *= 1000.0;
    --i;
  }
  while (std::abs(x) >= 1000.0 && i < 9) {
    x /= 1000.0;
    ++i;
  }
  char text[48];
  std::snprintf(text, sizeof text, "%.3g %s%s", x, prefixes[i], unit);
  return text;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}
}  // namespace

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024.0 && u < 4) {
    b /= 1024.0;
    ++u;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.2f %s", b, units[u]);
  return text;
}

double run_summary::rate_hz(std::size_t p) const {
  return double(population_spikes[p]) / (double(population_sizes[p]) * t_model_ms * 1e-3);
}

run_summary gather_summary(const run_spec& spec, const simulation& sim, const communicator& world, int threads) {
  const run_counts& c = sim.counts();
  run_summary s;
  s.ranks = world.size();
  s.threads = threads;
  s.t_model_ms = spec.simulation.t_stop_ms;
  s.dt_ms = spec.simulation.dt_ms;
  s.steps_simulated = c.steps_simulated;
  std::vector<std::uint64_t> totals{c.neurons,         c.synapses,       c.synapse_bytes, c.spikes_emitted,
                                    c.synaptic_events, c.poisson_events, c.bytes_sent,    c.neuron_updates,
                                    c.collectives};
  world.allreduce_sum(totals);
  s.neurons = totals[0];
  s.synapses = totals[1];
  s.synapse_bytes = totals[2];
  s.spikes = totals[3];
  s.synaptic_events = totals[4];
  s.poisson_events = totals[5];
  s.bytes_sent = totals[6];
  s.neuron_updates = totals[7];
  s.collectives = totals[8];
  std::vector<double> times{c.build_s, c.simulate_s, c.update_s, c.deliver_s, c.exchange_s, c.record_s, c.checkpoint_s};
  world.allreduce_max(times);
  s.build_s = times[0];
  s.simulate_s = times[1];
  s.update_s = times[2];
  s.deliver_s = times[3];
  s.exchange_s = times[4];
  s.record_s = times[5];
  s.checkpoint_s = times[6];
  const double peak = double(peak_rss_bytes());
  s.peak_rss_total = world.allreduce_sum(peak);
  s.peak_rss_max = world.allreduce_max(peak);
  s.population_spikes = c.spikes_per_population;
  world.allreduce_sum(s.population_spikes);
  for (const auto& pop : spec.network.populations) {
    s.population_names.push_back(pop.name);
    s.population_sizes.push_back(pop.n);
  }
  return s;
}

void print_summary(const run_summary& s) {
  auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  std::printf("  neurons      %llu\n", u(s.neurons));
  std::printf("  synapses     %llu (%.2f bytes per synapse in tables)\n", u(s.synapses),
              s.synapses ? double(s.synapse_bytes) / double(s.synapses) : 0.0);
  std::printf("  build        %.2f s\n", s.build_s);
  std::printf("  simulation   %.2f s for %.1f ms of model time: real-time factor %.3f\n", s.simulate_s,
              double(s.steps_simulated) * s.dt_ms, s.real_time_factor());
  std::printf("  phases       update %.2f s, delivery %.2f s, exchange %.2f s, recording %.2f s, checkpoints %.2f s"
              " (slowest rank)\n",
              s.update_s, s.deliver_s, s.exchange_s, s.record_s, s.checkpoint_s);
  std::printf("  spikes       %llu, synaptic events %llu (%.3g per s of wall time), sent %s\n", u(s.spikes),
              u(s.synaptic_events), s.simulate_s > 0 ? double(s.synaptic_events) / s.simulate_s : 0.0,
              human_bytes(double(s.bytes_sent)).c_str());
  std::printf("  peak memory  %s total, %s max per rank\n", human_bytes(s.peak_rss_total).c_str(),
              human_bytes(s.peak_rss_max).c_str());
  std::printf("  %-12s %10s %12s %10s\n", "population", "neurons", "spikes", "rate (Hz)");
  for (std::size_t p = 0; p < s.population_names.size(); ++p)
    std::printf("  %-12s %10llu %12llu %10.3f\n", s.population_names[p].c_str(), u(s.population_sizes[p]),
                u(s.population_spikes[p]), s.rate_hz(p));
}

void print_tally_table(const tally_report& r) {
  const char* source = r.energy_measured ? "measured, RAPL" : "modeled";
  std::printf("  energy       %s (%s%s%s), %s average, %s per synaptic event\n", si(r.energy_joules, "J").c_str(),
              source, r.energy_measured ? "" : ": preset ", r.energy_measured ? "" : r.energy_preset.c_str(),
              si(r.average_watts(), "W").c_str(), si(r.joules_per_synaptic_event(), "J").c_str());
  std::printf("  by phase    ");
  for (std::size_t p = 0; p < n_phases; ++p)
    std::printf(" %s %s%s", std::string(phase_names[p]).c_str(), si(r.energy_joules_per_phase[p], "J").c_str(),
                p + 1 < n_phases ? "," : "\n");
  std::printf("  brain        %llu neurons use %s in a brain (20 W per 86e9 neurons): this run used %.3g times that;\n"
              "               a synaptic event costs ~%s there (20 W / (1e14 synapses x %.3g Hz)): %.3g times less\n",
              static_cast<unsigned long long>(r.n_neurons), si(r.brain_watts, "W").c_str(),
              r.brain_watts > 0 ? r.average_watts() / r.brain_watts : 0.0,
              si(r.brain_joules_per_synaptic_event, "J").c_str(), r.mean_rate_hz,
              r.brain_joules_per_synaptic_event > 0 ? r.joules_per_synaptic_event() / r.brain_joules_per_synaptic_event
                                                    : 0.0);
  std::printf("  comm         %s sent between ranks in %llu collectives, %.1f%% of the time in exchange; "
              "load imbalance %.3f (max/mean compute)\n",
              human_bytes(double(r.bytes_sent)).c_str(), static_cast<unsigned long long>(r.collectives),
              100.0 * r.exchange_share, r.load_imbalance);
}

void write_summary_json(const run_summary& s, const std::filesystem::path& path) {
  std::ofstream out(path);
  out.precision(10);
  out << "{\n  \"ranks\": " << s.ranks << ",\n  \"threads\": " << s.threads << ",\n  \"t_model_ms\": " << s.t_model_ms
      << ",\n  \"neurons\": " << s.neurons << ",\n  \"synapses\": " << s.synapses
      << ",\n  \"synapse_bytes\": " << s.synapse_bytes << ",\n  \"spikes\": " << s.spikes
      << ",\n  \"synaptic_events\": " << s.synaptic_events << ",\n  \"poisson_events\": " << s.poisson_events
      << ",\n  \"bytes_sent\": " << s.bytes_sent << ",\n  \"collectives\": " << s.collectives
      << ",\n  \"neuron_updates\": " << s.neuron_updates << ",\n  \"build_s\": " << s.build_s
      << ",\n  \"simulate_s\": " << s.simulate_s << ",\n  \"real_time_factor\": " << s.real_time_factor()
      << ",\n  \"update_s\": " << s.update_s << ",\n  \"deliver_s\": " << s.deliver_s
      << ",\n  \"exchange_s\": " << s.exchange_s << ",\n  \"record_s\": " << s.record_s
      << ",\n  \"checkpoint_s\": " << s.checkpoint_s << ",\n  \"steps_simulated\": " << s.steps_simulated
      << ",\n  \"peak_rss_total_bytes\": " << s.peak_rss_total << ",\n  \"peak_rss_max_bytes\": " << s.peak_rss_max
      << ",\n  \"populations\": [";
  for (std::size_t p = 0; p < s.population_names.size(); ++p)
    out << (p ? "," : "") << "\n    {\"name\": \"" << json_escape(s.population_names[p])
        << "\", \"n\": " << s.population_sizes[p] << ", \"spikes\": " << s.population_spikes[p]
        << ", \"rate_hz\": " << s.rate_hz(p) << "}";
  out << "\n  ]\n}\n";
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace myelin::cli
