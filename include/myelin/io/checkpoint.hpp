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
//   /plasticity/<table>/<column>              1-D uint32, uint64, int64 or float64 columns of the
//     plastic state (weights, traces, spike histories; src/sim/checkpointing.cpp says which),
//     only in checkpoints of networks with plastic synapses; each rank writes the part the caller
//     places it at
// Writes go to "<path>.tmp"; commit() flushes, fsyncs and renames it over <path>, so a kill at any
// moment leaves the previous checkpoint intact. The file uses HDF5's 1.10 format, whose metadata
// carry checksums (damage to its structure is found on reading; HDF5 1.8 cannot read it). Each
// rank writes and reads one contiguous block of every dataset; values travel between the ranks'
// own (round-robin) shares and these blocks by all-to-all.
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
  // The decomposition that wrote the file (informative). The writer stores its communicator's
  // size as ranks, whatever this says: the counters have one element per writing rank.
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
  // Collective. Creates "<path>.tmp" (replacing a stale one). Throws std::invalid_argument for a
  // bad header (negative step, dt not positive, threads < 1), io_error when the file cannot be made.
  // Every write below is collective with the same population, variable, n and name on every rank;
  // a mistake (ids not sorted or outside [0, n), a node given by no rank or by two, a name written
  // twice) throws std::invalid_argument on every rank, and a write after commit() std::logic_error.
  // Population, variable and counter names are single HDF5 link names (no '/').
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
  // Collective: /plasticity/<table>/<column> of `total` elements, this rank's values at
  // [offset, offset + values.size()); the ranks' parts must tile [0, total). T is one of
  // uint32, uint64, int64, double.
  template <class T>
  void write_plasticity_column(const std::string& table, const std::string& column, std::uint64_t total,
                               std::uint64_t offset, std::span<const T> values);
  // Collective: flush, close, fsync, rename to <path>, fsync its directory. A second call does
  // nothing; io_error on every rank when the file cannot be made durable or renamed.
  void commit();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

class checkpoint_reader {
 public:
  // Collective. Opens and validates (magic, version, every expected group and attribute present
  // and of the right type); throws checkpoint_error otherwise. Rank 0 validates and tells the
  // others, so on a bad file every rank throws the same error before any collective read.
  checkpoint_reader(const communicator& comm, std::filesystem::path path);
  ~checkpoint_reader();

  const checkpoint_header& header() const;
  std::vector<std::string> populations() const;  // in name order
  // Both throw checkpoint_error for a population not in the file.
  std::vector<std::string> state_variables(const std::string& population) const;  // without refractory_steps
  std::uint64_t population_size(const std::string& population) const;
  // Collective: the values of the given node ids (sorted) of a population variable; throws
  // checkpoint_error if the population or variable is missing or has another size than n, and
  // std::invalid_argument (on every rank) for ids not strictly increasing or not below n.
  std::vector<double> read_state(const std::string& population, std::uint64_t n, const std::string& variable,
                                 std::span<const std::uint64_t> node_ids) const;
  std::vector<std::int32_t> read_refractory(const std::string& population, std::uint64_t n,
                                            std::span<const std::uint64_t> node_ids) const;
  // Every spike in flight (all ranks read all; they are few).
  void read_spikes_in_flight(std::vector<std::uint64_t>& gids, std::vector<std::int64_t>& steps) const;
  // Sum over the ranks that wrote it.
  std::uint64_t read_counter_total(const std::string& name) const;
  // Elements of /plasticity/<table>/<column>, or -1 when the file has no such column.
  std::int64_t plasticity_column_length(const std::string& table, const std::string& column) const;
  // Collective: elements [offset, offset + count) of the column (each rank its own range);
  // checkpoint_error when it is missing, of another type or shorter.
  template <class T>
  std::vector<T> read_plasticity_column(const std::string& table, const std::string& column, std::uint64_t offset,
                                        std::uint64_t count) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// "checkpoint-<step>.h5" with the step zero-padded to 12 digits, so that names sort by step.
std::string checkpoint_file_name(std::int64_t step);

// Keeps the newest `keep` (>= 1) files named "checkpoint-<step>.h5" in `dir` (deletes older ones)
// and points "latest.h5" (a relative symlink) at the newest, replacing it atomically before
// anything is deleted. Rank 0 only. io_error on a file system failure, or when latest.h5 exists
// and is not a symlink.
void rotate_checkpoints(const std::filesystem::path& dir, int keep);

}  // namespace myelin
