// How checkpoint_fuzz (and the regression test that replays its findings) reads a file: as a
// restart does, through myelin::checkpoint_reader (include/myelin/io/checkpoint.hpp): the
// validation and header, every population's state variables and refractory counts (all node ids,
// and every other one, which takes the reader's exchange path), the spikes in flight and the
// counters a run writes. checkpoint_error is the documented answer to a bad file; any other
// exception escapes to the caller (a bug). Returns the number of values read. `bug` is called for
// a wrong answer that raised nothing.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "myelin/comm/communicator.hpp"
#include "myelin/io/checkpoint.hpp"

namespace myelin::fuzz {

// Populations claiming more neurons are read with no node ids (the reader still reads its block
// of the dataset, which a file cannot make big without storing it), so that the harness itself
// allocates little.
inline constexpr std::uint64_t checkpoint_fuzz_max_ids = std::uint64_t(1) << 16;

template <class T, class Read, class Bug>
std::uint64_t read_checkpoint_values(std::uint64_t n, Read&& read, Bug&& bug) {
  if (n > checkpoint_fuzz_max_ids) {
    if (!read(std::vector<std::uint64_t>{}).empty()) bug("values returned for no node ids");
    return 0;
  }
  std::vector<std::uint64_t> all(n);
  std::iota(all.begin(), all.end(), std::uint64_t(0));
  const std::vector<T> values = read(all);
  if (values.size() != n) bug("read returned another number of values than node ids asked for");
  std::vector<std::uint64_t> every_other;
  for (std::uint64_t id = 1; id < n; id += 2) every_other.push_back(id);
  const std::vector<T> some = read(every_other);
  if (some.size() != every_other.size()) bug("a read of some nodes returned another number of values");
  for (std::size_t i = 0; i < some.size(); ++i)
    if (std::memcmp(&some[i], &values[every_other[i]], sizeof(T)) != 0)
      bug("a read of some nodes differs from the read of all nodes");
  return values.size() + some.size();
}

template <class Bug>
std::uint64_t read_checkpoint_file(const communicator& comm, const std::filesystem::path& path, Bug&& bug) {
  const checkpoint_reader reader(comm, path);
  const checkpoint_header& header = reader.header();
  if (header.step < 0 || !(header.dt_ms > 0.0) || !std::isfinite(header.dt_ms) || header.ranks < 1 ||
      header.threads < 1)
    bug("a header the reader accepted has impossible values");
  std::uint64_t n_read = 0;
  std::vector<std::string> counters = {"neuron_updates", "synaptic_events", "poisson_events", "spikes_emitted"};
  for (const std::string& population : reader.populations()) {
    counters.push_back("spikes." + population);
    const std::uint64_t n = reader.population_size(population);
    for (const std::string& variable : reader.state_variables(population)) {
      n_read += read_checkpoint_values<double>(
          n, [&](const std::vector<std::uint64_t>& ids) { return reader.read_state(population, n, variable, ids); },
          bug);
    }
    try {
      n_read += read_checkpoint_values<std::int32_t>(
          n, [&](const std::vector<std::uint64_t>& ids) { return reader.read_refractory(population, n, ids); }, bug);
    } catch (const checkpoint_error&) {
      // no refractory counts (a restart refuses the file here); the rest is still read
    }
    try {
      (void)reader.read_state(population, n + 1, "V_m", std::span<const std::uint64_t>());
      bug("a read with another population size than the file's was not refused");
    } catch (const checkpoint_error&) {
    }
  }
  std::vector<std::uint64_t> gids;
  std::vector<std::int64_t> steps;
  reader.read_spikes_in_flight(gids, steps);
  if (gids.size() != steps.size()) bug("spikes in flight: another number of gids than steps");
  n_read += gids.size();
  for (const std::string& counter : counters) {
    try {
      (void)reader.read_counter_total(counter);
      ++n_read;
    } catch (const checkpoint_error&) {
      // a counter the file lacks
    }
  }
  return n_read;
}

}  // namespace myelin::fuzz
