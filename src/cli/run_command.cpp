#include "cli/run_command.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "cli/commands.hpp"
#include "cli/progress.hpp"
#include "cli/signals.hpp"
#include "cli/summary.hpp"
#include "myelin/io/checkpoint.hpp"
#include "myelin/io/tally_file.hpp"
#include "myelin/config/config.hpp"
#include "myelin/connect/connection_rules.hpp"
#include "myelin/core/network_layout.hpp"
#include "myelin/sim/simulation.hpp"
#include "myelin/synapses/synapse_table.hpp"

namespace myelin::cli {

namespace fs = std::filesystem;

namespace {

constexpr const char* run_marker = ".myelin-run";
constexpr const char* submit_marker = ".myelin-submit";  // written by tools/myelin-submit

// Rank 0 decides, every rank learns the outcome: the output directory is new, or a previous
// run's (marked) directory replaced under --force, or, for a restart, the run's own directory to
// continue, or a directory tools/myelin-submit prepared for it; anything else is refused.
fs::path prepare_output_dir(const run_spec& spec, bool force, bool restart, const communicator& world) {
  const fs::path dir = fs::path(spec.output.dir) / spec.simulation.name;
  std::string problem;
  if (world.rank() == 0) {
    std::error_code ec;
    if (restart) {
      if (!fs::exists(dir / run_marker))
        problem = "cannot continue the run: its output directory " + dir.string() + " is missing or not a myelin run's";
    } else if (fs::exists(dir / submit_marker) && !fs::exists(dir / run_marker)) {
      // Prepared by tools/myelin-submit (job script, provenance) for this run: run in it, keeping its files.
    } else if (fs::exists(dir)) {
      if (!force)
        problem = "output directory " + dir.string() + " exists (use --force to replace it)";
      else if (!fs::exists(dir / run_marker))
        problem = "output directory " + dir.string() + " exists and is not a myelin run's output; not replacing it";
      else
        fs::remove_all(dir, ec);
    }
    if (problem.empty() && !restart) {
      fs::create_directories(dir, ec);
      if (ec) problem = "cannot create output directory " + dir.string() + ": " + ec.message();
    }
    if (problem.empty()) {
      std::ofstream(dir / run_marker) << "myelin " << MYELIN_VERSION << '\n';
      std::ofstream resolved(dir / "config.ini");
      resolved << spec.resolved_ini;
      if (!resolved) problem = "cannot write " + (dir / "config.ini").string();
    }
  }
  problem = world.broadcast(problem);
  // A config_error: one line "myelin: error: ..." and exit status 2 (not a usage error, whose
  // "Try 'myelin --help'" would mislead about a directory that cannot be written).
  if (!problem.empty()) throw config_error(problem);
  return dir;
}

struct estimate {
  double neurons = 0, synapses = 0, bytes_per_rank = 0;
};

estimate estimate_memory(const run_spec& spec, int ranks, int threads) {
  estimate e;
  for (const auto& p : spec.network.populations) e.neurons += double(p.n);
  // 2 bytes of target index + the weight (fixed-point, or a double for plastic synapses), and 1
  // more byte of delay (2 where a delay can exceed 255 steps) while the rows are sorted at build
  // time (the peak), with each thread's buffer of draws (synapse_table_build.hpp); neurons: ~100
  // bytes of state, input and bookkeeping each, and ~200 more of spike history for STDP targets.
  const network_layout layout(spec.network, spec.simulation.dt_ms, spec.simulation.weight_bits);
  const double delay_bytes = layout.max_delay_steps() <= 0xff ? 1.0 : 2.0;
  const double static_weight_bytes = spec.simulation.weight_bits / 8.0;
  double bytes = 0.0;
  std::vector<bool> plastic_target(spec.network.populations.size(), false);
  for (const auto& proj : spec.network.projections) {
    const double n = expected_synapses(spec.network, proj);
    e.synapses += n;
    bytes += n * (2.0 + (proj.is_plastic() ? double(sizeof(double)) : static_weight_bytes) + delay_bytes);
    if (proj.is_plastic()) plastic_target[proj.target] = true;
  }
  for (std::size_t p = 0; p < spec.network.populations.size(); ++p)
    bytes += double(spec.network.populations[p].n) * (plastic_target[p] ? 300.0 : 100.0);
  using chunk = detail::chunk_writer;
  const auto per_thread = std::uint64_t(e.synapses / double(ranks) / double(threads));
  const double chunk_bytes = double(chunk::bytes_per_entry * chunk::capacity_for(per_thread));
  e.bytes_per_rank = bytes / double(ranks) + double(threads) * chunk_bytes;
  return e;
}

std::uint64_t available_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  std::uint64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  return 0;
}

void print_network(const run_spec& spec, const estimate& e, int ranks, int threads) {
  std::printf("myelin %s: %s\n", MYELIN_VERSION, spec.config_path.c_str());
  std::printf("  network      %.0f neurons in %zu populations, ~%.4g synapses in %zu projections, %zu inputs\n",
              e.neurons, spec.network.populations.size(), e.synapses, spec.network.projections.size(),
              spec.network.inputs.size());
  std::printf("  decomposition %d rank(s) x %d thread(s)\n", ranks, threads);
  std::printf("  memory       ~%s per rank estimated (peak during build)\n", human_bytes(e.bytes_per_rank).c_str());
}

void refuse_if_too_big(const estimate& e, const communicator& world) {
  // Ranks of one node share its memory: compare the node's share with what is available.
  const double node_need = e.bytes_per_rank * double(world.ranks_on_node());
  const std::uint64_t available = available_memory_bytes();
  if (available > 0 && node_need > double(available))
    throw config_error("the network needs ~" + human_bytes(node_need) + " on this node but only " +
                       human_bytes(double(available)) + " is available; use more nodes or a smaller network");
}

}  // namespace

int check_command(const run_options_values& opts, const communicator& world) {
  run_spec spec = load_config(opts.config_path, opts.overrides);
  const int threads = opts.threads > 0 ? opts.threads : spec.simulation.threads;
  const estimate e = estimate_memory(spec, world.size(), threads);
  if (world.rank() == 0) {
    print_network(spec, e, world.size(), threads);
    std::printf("  config is valid\n");
  }
  return 0;
}

int run_command(const run_options_values& opts, const communicator& world) {
  // Before the build: a stop signal during the build is honoured at the first interval.
  const volatile std::sig_atomic_t* stop_requested = install_stop_handlers();
  run_spec spec = load_config(opts.config_path, opts.overrides);
  const int threads = opts.threads > 0 ? opts.threads : spec.simulation.threads;
  spec.simulation.threads = threads;
  const estimate e = estimate_memory(spec, world.size(), threads);
  if (world.rank() == 0) print_network(spec, e, world.size(), threads);
  refuse_if_too_big(e, world);
  const bool restart = !opts.restart_path.empty();
  if (restart && !fs::exists(opts.restart_path))
    throw checkpoint_error(opts.restart_path + ": no such checkpoint file");
  const fs::path dir = prepare_output_dir(spec, opts.force, restart, world);

  const bool show_progress = !opts.quiet && world.rank() == 0;
  progress_line build_line("building  ");
  simulation sim(spec, world, threads,
                 show_progress ? std::function<void(double)>([&](double f) { build_line.update(f); })
                               : std::function<void(double)>());
  if (show_progress) build_line.update(1.0);
  if (restart) {
    sim.restore(opts.restart_path);
    if (show_progress)
      std::fprintf(stderr, "[myelin] continuing from %s at %.1f ms\n", opts.restart_path.c_str(),
                   double(sim.start_step()) * spec.simulation.dt_ms);
  }

  progress_line sim_line("simulating", double(sim.start_step()) / double(std::max<std::int64_t>(1, sim.steps())));
  auto progress = [&](double done) {
    char detail[64];
    std::snprintf(detail, sizeof detail, "%.1f of %.1f ms", done * spec.simulation.t_stop_ms, spec.simulation.t_stop_ms);
    sim_line.update(done, detail);
  };
  run_control control;
  control.output_dir = dir;
  control.checkpoint_dir = spec.checkpoint.directory.empty() ? dir / "checkpoints" : fs::path(spec.checkpoint.directory);
  control.checkpoint_every_steps = std::llround(spec.checkpoint.interval_ms / spec.simulation.dt_ms);
  control.keep_checkpoints = spec.checkpoint.keep;
  control.checkpoint_at_end = opts.checkpoint_at_end;
  control.stop_requested = stop_requested;
  if (show_progress) control.progress = progress;
  const run_outcome outcome = sim.run(control);

  const run_summary summary = gather_summary(spec, sim, world, threads);
  rank_facts facts;
  facts.threads = threads;
  facts.neurons = sim.counts().neurons;
  facts.synapses = sim.counts().synapses;
  facts.peak_rss_bytes = peak_rss_bytes();
  facts.wall_seconds = sim.counts().simulate_s;
  facts.build_seconds = sim.counts().build_s;
  facts.min_delay_ms = double(sim.min_delay_steps()) * spec.simulation.dt_ms;
  const tally_report tallies = gather_tally_report(world, spec, sim.tallies(), facts);
  write_tally_file(world, dir / "tallies.h5", tallies);
  if (world.rank() == 0) {
    print_summary(summary);
    if (!sim.tallies().energy_notice.empty())
      std::fprintf(stderr, "[myelin] energy is modeled (preset %s): %s\n", spec.energy.preset.c_str(),
                   sim.tallies().energy_notice.c_str());
    print_tally_table(tallies);
    write_summary_json(summary, dir / "summary.json");
    std::printf("  output       %s\n", dir.string().c_str());
    if (outcome == run_outcome::stopped_with_checkpoint)
      std::printf("  stopped      on request at %.1f ms after writing a checkpoint; continue with --restart %s\n",
                  double(sim.start_step() + summary.steps_simulated) * spec.simulation.dt_ms,
                  (control.checkpoint_dir / "latest.h5").string().c_str());
  }
  if (outcome == run_outcome::stopped_with_checkpoint) return exit_checkpointed_resume;
  return 0;
}

}  // namespace myelin::cli
