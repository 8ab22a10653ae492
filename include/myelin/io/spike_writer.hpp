// Spikes of a run to ONE SONATA HDF5 file, written collectively with parallel HDF5.
// Layout: /spikes/<population>/timestamps (float64, ms, attribute units="ms"),
// /spikes/<population>/node_ids (uint64, 0-based within the population), attribute
// sorting="by_time" on the group (by time, then node id); root attributes magic=0x0A7A and
// version=[0,1]. Every population of `populations` gets its group, also when it never spikes.
//
// The file's content is canonical: ranks hand in their spikes in any order and with any
// decomposition; each flush moves the window's spikes to the rank that owns their time block
// (MPI all-to-all), sorts them by (step, global id) and writes contiguous slices, so the file is
// bitwise identical for any number of ranks.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "myelin/comm/communicator.hpp"

namespace myelin {

struct spike_event {
  std::uint64_t gid;   // global neuron id
  std::int64_t step;   // step in which the neuron crossed threshold; written time = (step + 1) * dt
};

struct population_range {
  std::string name;
  std::uint64_t first_gid;  // global ids [first_gid, first_gid + n)
  std::uint64_t n;
};

class spike_writer {
 public:
  // Collective. Creates `path` + ".partial"; close() renames it to `path` when complete, so a file
  // under the final name is always whole (an older file under that name is removed here).
  // Throws std::invalid_argument for bad populations (empty or repeated names, overlapping
  // ranges) or dt, io_error when the file cannot be made. Destroyed without close() (an error
  // path), it leaves only the .partial file.
  spike_writer(const communicator& comm, std::filesystem::path path, std::vector<population_range> populations,
               double dt_ms);
  // Collective. Resumes a run restarted from a checkpoint at `resume_step`: continues the file
  // of the run that was stopped (`path` + ".partial" if it exists, else `path`, moved to
  // .partial) and drops its spikes of steps >= resume_step (written after that checkpoint), so
  // that with what the resumed run appends every spike is in the file once. Steps are
  // recovered from the times as llround(t / dt) - 1: dt must be the earlier run's. Throws
  // io_error (on every rank, naming the file) when neither file exists or it is not a spike
  // file of these populations; spikes of steps < resume_step are refused by append().
  spike_writer(const communicator& comm, std::filesystem::path path, std::vector<population_range> populations,
               double dt_ms, std::int64_t resume_step);
  ~spike_writer();
  spike_writer(const spike_writer&) = delete;
  spike_writer& operator=(const spike_writer&) = delete;

  // Local, no communication: buffers this rank's spikes. Throws std::invalid_argument for a gid
  // in no population and std::logic_error for a step already flushed (it would break the order).
  void append(std::span<const spike_event> spikes);
  // Collective: writes every spike appended so far (on all ranks) whose step is < `up_to_step`.
  // Spikes of later steps stay buffered. When something was written, HDF5's metadata go to disk
  // too (H5Fflush), so that a run killed afterwards leaves a .partial file that can be resumed.
  void flush(std::int64_t up_to_step);
  // Collective: flushes everything and renames the file to its final name.
  void close();

  std::uint64_t spikes_written() const;  // on all ranks together, so far

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace myelin
