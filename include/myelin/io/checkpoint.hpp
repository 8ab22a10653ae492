// Checkpoint files: everything a run needs to continue exactly, stored by global identity (node
// ids within populations, global ids of spikes), so a run can restart on any number of ranks and
// threads. Static connectivity is not stored: it is a deterministic function of config and seed
// and is rebuilt on restart, which keeps checkpoints small (neurons, not synapses).
//
// Layout (one HDF5 file, written collectively with parallel HDF5):
//   root attributes: magic "myelin-checkpoint", format_version (uint32), step (int64: first step
//     not yet simulated), dt_ms, seed, fingerprint (string: hash of the network-defining config),
//     network (string: the network-defining sections as INI, to say what differs), ranks, threads
//     (the decomposition that wrote it, informative only)
//   /neurons/<population>/<state variable>   float64 [n]   by node id
//   /neurons/<population>/refractory_steps    int32 [n]     by node id
//   /spikes_in_flight/{gid uint64, step int64}  spikes emitted in the last max-delay steps,
//     sorted by (step, gid): the input still on its way to targets
//   /counters/<name>                          uint64 [ranks] per-rank tallies so far (informative)
// Writes go to "<path>.tmp"; commit() flushes, fsyncs and renames it over <path>, so a kill at any
// moment leaves the previous checkpoint intact.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "myelin/comm/communicator.hpp"

namespace myelin {

// A file given to --restart that is missing, truncated, corrupted, foreign, or from another
// network. what(): one line naming the file and what is wrong.
class checkpoint_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct checkpoint_header {
  std::int64_t step = 0;
  double dt_ms = 0.0;
  std::uint64_t seed = 0;
  std::string fingerprint;
  std::string network;
  int ranks = 1, threads = 1;
};

// This rank's part of one population variable: values[i] belongs to node_ids[i] (sorted).
template <class T>
struct node_values {
  std::vector<std::uint64_t> node_ids;
  std::vector<T> values;
};

class checkpoint_writer {
 public:
  // Collective. Creates "<path>.tmp" (replacing a stale one).
  checkpoint_writer(const communicator& comm, std::filesystem::path path, const checkpoint_header& header);
  ~checkpoint_writer();  // without commit(): removes the .tmp file, leaves <path> untouched
  checkpoint_writer(const checkpoint_writer&) = delete;
  checkpoint_writer& operator=(const checkpoint_writer&) = delete;

  // Collective: every rank passes its own nodes of the population (n nodes in all).
  void write_state(const std::string& population, std::uint64_t n, const std::string& variable,
                   const node_values<double>& local);
  void write_refractory(const std::string& population, std::uint64_t n, const node_values<std::int32_t>& local);
  // Collective: this rank's share (any order); stored sorted by (step, gid).
  void write_spikes_in_flight(std::span<const std::uint64_t> gids, std::span<const std::int64_t> steps);
  // Collective: one value per rank.
  void write_counter(const std::string& name, std::uint64_t local_value);
  // Collective: flush, close, fsync, rename to <path>.
  void commit();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

class checkpoint_reader {
 public:
  // Collective. Opens and validates (magic, version, every expected group and attribute present
  // and of the right type); throws checkpoint_error otherwise.
  checkpoint_reader(const communicator& comm, std::filesystem::path path);
  ~checkpoint_reader();

  const checkpoint_header& header() const;
  std::vector<std::string> populations() const;
  std::vector<std::string> state_variables(const std::string& population) const;
  // Collective: the values of the given node ids (sorted) of a population variable; throws
  // checkpoint_error if the population or variable is missing or has another size than n.
  std::vector<double> read_state(const std::string& population, std::uint64_t n, const std::string& variable,
                                 std::span<const std::uint64_t> node_ids) const;
  std::vector<std::int32_t> read_refractory(const std::string& population, std::uint64_t n,
                                            std::span<const std::uint64_t> node_ids) const;
  // Every spike in flight (all ranks read all; they are few).
  void read_spikes_in_flight(std::vector<std::uint64_t>& gids, std::vector<std::int64_t>& steps) const;
  // Sum over the ranks that wrote it.
  std::uint64_t read_counter_total(const std::string& name) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Keeps the newest `keep` files named "checkpoint-<step>.h5" in `dir` (deletes older ones) and
// points "latest.h5" (a symlink) at the newest. Rank 0 only.
void rotate_checkpoints(const std::filesystem::path& dir, int keep);

}  // namespace myelin
