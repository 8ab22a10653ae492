// Checkpoints of a running simulation and restarts from them. What is saved is exactly what the
// future depends on, by global identity: each neuron's state and refractory counter (by node id),
// the spikes of the last max-delay steps (their remaining synapses are still to deliver), and
// what plastic synapses have learned (plastic_checkpoint.cpp).
// Connectivity, Poisson draws (keyed by step), DC and spike-time inputs (scheduled by step) are
// functions of config, seed and step, so they are rebuilt, not stored.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include "myelin/io/checkpoint.hpp"
#include "myelin/io/output_space.hpp"
#include "sim/simulation_state.hpp"

namespace myelin {

namespace {

// One line per "section.key = value" of the INI text, comments and blank lines dropped.
std::vector<std::pair<std::string, std::string>> ini_entries(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> entries;
  std::istringstream in(text);
  std::string line, section;
  auto trim = [](std::string s) {
    const auto b = s.find_first_not_of(" \t\r"), e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  };
  while (std::getline(in, line)) {
    line = trim(line.substr(0, line.find_first_of("#;")));
    if (line.empty()) continue;
    if (line.front() == '[') {
      section = line.substr(1, line.find(']') - 1);
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    entries.emplace_back(section + "." + trim(line.substr(0, eq)), trim(line.substr(eq + 1)));
  }
  return entries;
}

bool defines_network(const std::string& key) {
  for (const char* prefix : {"population.", "projection.", "input.", "record."})
    if (key.rfind(prefix, 0) == 0) return true;
  return key == "simulation.dt_ms" || key == "simulation.seed" || key == "simulation.weight_bits";
}

std::string fingerprint_of(const std::string& text) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a, 64 bit: stable across builds and machines
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016" PRIx64, h);
  return hex;
}

// "population.exc.n is 160 in the checkpoint, 200 now; ..." (the first few differences).
std::string describe_differences(const std::string& saved, const std::string& now) {
  std::map<std::string, std::string> a, b;
  for (auto& [k, v] : ini_entries(saved)) a[k] = v;
  for (auto& [k, v] : ini_entries(now)) b[k] = v;
  std::vector<std::string> diffs;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end())
      diffs.push_back(k + " = " + v + " in the checkpoint, absent now");
    else if (it->second != v)
      diffs.push_back(k + " is " + v + " in the checkpoint, " + it->second + " now");
  }
  for (const auto& [k, v] : b)
    if (!a.count(k)) diffs.push_back(k + " = " + v + " now, absent in the checkpoint");
  std::string out;
  for (std::size_t i = 0; i < diffs.size() && i < 3; ++i) out += (i ? "; " : "") + diffs[i];
  if (diffs.size() > 3) out += "; and " + std::to_string(diffs.size() - 3) + " more";
  return out;
}

std::string checkpoint_name(std::int64_t step) {
  char name[64];
  std::snprintf(name, sizeof name, "checkpoint-%012" PRId64 ".h5", step);
  return name;
}

}  // namespace

std::string network_definition(const run_spec& spec) {
  std::string text, section;
  for (const auto& [key, value] : ini_entries(spec.resolved_ini)) {
    if (!defines_network(key)) continue;
    text += key + " = " + value + "\n";
  }
  return text;
}

std::vector<simulation::impl::local_neuron> simulation::impl::local_neurons(std::size_t pop) const {
  std::vector<local_neuron> out;
  const std::uint64_t first = layout.first_gid(pop);
  for (std::size_t t = 0; t < threads.size(); ++t) {
    const thread_state& ts = *threads[t];
    const population_slice& slice = ts.slices[pop];
    for (std::uint64_t l = slice.local_begin; l < slice.local_end; ++l)
      out.push_back({part.gid(ts.vp, l) - first, t, std::size_t(l - slice.local_begin)});
  }
  std::sort(out.begin(), out.end(), [](const local_neuron& a, const local_neuron& b) { return a.node < b.node; });
  return out;
}

void simulation::impl::write_checkpoint(const run_control& control, std::int64_t step) {
  const std::filesystem::path dir = control.checkpoint_dir;
  std::string problem;
  if (comm.rank() == 0) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) problem = "cannot create checkpoint directory " + dir.string() + ": " + ec.message();
  }
  problem = comm.broadcast(problem);
  if (!problem.empty()) throw std::runtime_error(problem);

  const std::string network = network_definition(spec);
  checkpoint_header header;
  header.step = step;
  header.dt_ms = spec.simulation.dt_ms;
  header.seed = spec.simulation.seed;
  header.fingerprint = fingerprint_of(network);
  header.network = network;
  header.ranks = comm.size();
  header.threads = part.n_threads();
  const std::filesystem::path path = dir / checkpoint_name(step);
  // Room for the whole file before any of it is written (myelin/io/output_space.hpp): a write
  // that fails inside parallel HDF5 can hang the job instead of failing it. Refused, the run
  // stops with a clear error and the checkpoints written before stay as they are. The size is
  // somewhat over: the values, and a few KiB of HDF5 metadata per dataset and for the header.
  std::uint64_t spikes_in_flight = 0;
  for (const auto& s : recent_spikes) spikes_in_flight += s.step >= step - layout.max_delay_steps() ? 1 : 0;
  constexpr std::uint64_t per_dataset = 4096;
  std::uint64_t bytes = (std::uint64_t(64) << 10) + 2 * network.size();
  for (std::size_t p = 0; p < spec.network.populations.size(); ++p) {
    const std::uint64_t variables = threads[0]->slices[p].neurons->state_names().size();
    bytes += spec.network.populations[p].n * (variables * sizeof(double) + sizeof(std::int32_t)) +
             (variables + 1) * per_dataset;
  }
  bytes += comm.allreduce_sum(spikes_in_flight) * (sizeof(std::uint64_t) + sizeof(std::int64_t)) + 2 * per_dataset;
  bytes += (4 + spec.network.populations.size()) * (std::uint64_t(comm.size()) * sizeof(std::uint64_t) + per_dataset);
  bytes += plastic_checkpoint_bytes() + 10 * spec.network.projections.size() * per_dataset;
  require_space_for_file(comm, dir, bytes, "checkpoint " + path.string() + "; the checkpoints written before are kept");
  checkpoint_writer writer(comm, path, header);

  for (std::size_t p = 0; p < spec.network.populations.size(); ++p) {
    const population_spec& pop = spec.network.populations[p];
    const std::vector<local_neuron> mine = local_neurons(p);
    node_values<double> values;
    node_values<std::int32_t> refractory;
    for (const auto& n : mine) {
      values.node_ids.push_back(n.node);
      refractory.node_ids.push_back(n.node);
      refractory.values.push_back(threads[n.thread]->slices[p].neurons->refractory_steps()[n.index]);
    }
    for (const std::string& var : threads[0]->slices[p].neurons->state_names()) {
      values.values.clear();
      for (const auto& n : mine) values.values.push_back(threads[n.thread]->slices[p].neurons->get(var, n.index));
      writer.write_state(pop.name, pop.n, var, values);
    }
    writer.write_refractory(pop.name, pop.n, refractory);
  }

  std::vector<std::uint64_t> gids;
  std::vector<std::int64_t> steps;
  for (const auto& s : recent_spikes)
    if (s.step >= step - layout.max_delay_steps()) {
      gids.push_back(s.gid);
      steps.push_back(s.step);
    }
  writer.write_spikes_in_flight(gids, steps);
  write_plastic_state(writer, step);

  std::uint64_t updates = counts.neuron_updates, events = counts.synaptic_events, poisson = counts.poisson_events;
  for (const auto& ts : threads) {
    updates += ts->neuron_updates;
    events += ts->synaptic_events;
    poisson += ts->poisson_events;
  }
  writer.write_counter("neuron_updates", updates);
  writer.write_counter("synaptic_events", events);
  writer.write_counter("poisson_events", poisson);
  writer.write_counter("spikes_emitted", counts.spikes_emitted);
  for (std::size_t p = 0; p < spec.network.populations.size(); ++p)
    writer.write_counter("spikes." + spec.network.populations[p].name, counts.spikes_per_population[p]);
  writer.commit();
  if (comm.rank() == 0) rotate_checkpoints(dir, control.keep_checkpoints);
  comm.barrier();
}

void simulation::impl::restore(const std::filesystem::path& path) {
  checkpoint_reader reader(comm, path);
  const checkpoint_header& header = reader.header();
  const std::string network = network_definition(spec);
  if (header.fingerprint != fingerprint_of(network)) {
    std::string diff = describe_differences(header.network, network);
    if (diff.empty()) diff = "its fingerprint does not match";
    throw checkpoint_error(path.string() + ": written by a different network: " + diff);
  }
  if (header.step > n_steps)
    throw checkpoint_error(path.string() + ": taken at step " + std::to_string(header.step) +
                           ", beyond simulation.t_stop_ms (" + std::to_string(n_steps) + " steps)");

  for (std::size_t p = 0; p < spec.network.populations.size(); ++p) {
    const population_spec& pop = spec.network.populations[p];
    const std::vector<local_neuron> mine = local_neurons(p);
    std::vector<std::uint64_t> nodes;
    for (const auto& n : mine) nodes.push_back(n.node);
    for (const std::string& var : threads[0]->slices[p].neurons->state_names()) {
      const std::vector<double> values = reader.read_state(pop.name, pop.n, var, nodes);
      for (std::size_t i = 0; i < mine.size(); ++i)
        threads[mine[i].thread]->slices[p].neurons->set(var, mine[i].index, values[i]);
    }
    const std::vector<std::int32_t> refractory = reader.read_refractory(pop.name, pop.n, nodes);
    for (std::size_t i = 0; i < mine.size(); ++i)
      threads[mine[i].thread]->slices[p].neurons->refractory_steps()[mine[i].index] = refractory[i];
  }

  restore_plastic_state(reader);

  // Spikes in flight: every thread takes what still has to arrive at its neurons (plastic rows
  // advance their traces past them again, from the traces restored before them); this rank
  // keeps its own for the next checkpoint.
  std::vector<std::uint64_t> gids;
  std::vector<std::int64_t> steps;
  reader.read_spikes_in_flight(gids, steps);
  const std::int64_t resume = header.step;
  on_every_thread(threads, [&](thread_state& ts) {
    for (std::size_t i = 0; i < gids.size(); ++i) {
      ts.arrivals->enqueue(gids[i], steps[i], resume);
      for (auto& p : ts.plastic) p->arrivals->enqueue(gids[i], steps[i], resume);
    }
  });
  recent_spikes.clear();
  for (std::size_t i = 0; i < gids.size(); ++i)
    if (part.rank_of(gids[i]) == comm.rank()) recent_spikes.push_back({gids[i], steps[i]});
  received.clear();

  // Counts of the earlier segments, once (on rank 0), so that sums over ranks cover the whole run.
  if (comm.rank() == 0) {
    counts.neuron_updates += reader.read_counter_total("neuron_updates");
    counts.synaptic_events += reader.read_counter_total("synaptic_events");
    counts.poisson_events += reader.read_counter_total("poisson_events");
    counts.spikes_emitted += reader.read_counter_total("spikes_emitted");
    for (std::size_t p = 0; p < spec.network.populations.size(); ++p)
      counts.spikes_per_population[p] += reader.read_counter_total("spikes." + spec.network.populations[p].name);
  } else {
    for (const char* name : {"neuron_updates", "synaptic_events", "poisson_events", "spikes_emitted"})
      reader.read_counter_total(name);
    for (const auto& pop : spec.network.populations) reader.read_counter_total("spikes." + pop.name);
  }
  start_step = resume;
}

}  // namespace myelin
