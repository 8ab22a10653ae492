// Recordings of the synaptic weights of one projection (plastic synapses) to an HDF5 file,
// written collectively with parallel HDF5. One file per recording, e.g. out/<name>_weights.h5:
//
//   root attributes magic (uint32 0x0A7A), version (uint32[2] {0, 1})
//   /edges/<projection>/                 a SONATA edge population, E edges in canonical order
//     source_node_id    uint64 [E]       attribute node_population = source population
//     target_node_id    uint64 [E]       attribute node_population = target population
//     edge_type_id      uint32 [E]       all 0
//     edge_group_id     uint16 [E]       all 0
//     edge_group_index  uint64 [E]       0 .. E-1
//     0/delay           float64 [E]      ms
//     0/syn_weight      float64 [E]      the latest snapshot written (NaN before the first)
//   /weights/<projection>/               attributes source_population, target_population,
//                                        synapse_model, units ("pA" or "mV")
//     time              float64 [T]      ms (attribute units = "ms"), increasing
//     data              float64 [T x E]  one snapshot per row, columns in the edge order
//   /histograms/<projection>/            attribute statistics_chunk_edges (uint64)
//     bin_edges         float64 [B+1]    strictly increasing
//     time              float64 [H]      ms (attribute units = "ms"), increasing
//     counts            uint64 [H x B]   bin k: bin_edges[k] <= w < bin_edges[k+1]; the last
//                                        bin also holds w == bin_edges[B]
//     below, above      uint64 [H]       weights outside [bin_edges[0], bin_edges[B]]
//     mean, std, min, max float64 [H]    over all E weights; std is the population standard
//                                        deviation; NaN when E == 0
//
// Canonical order: by (target node id, source node id, delay), multapses in the order their rank
// passes them (see edge_order.hpp); the file is the same for any number of ranks or threads.
// The statistics are too: the canonical order is cut into chunks of statistics_chunk_edges
// edges (not into the ranks' blocks); each chunk is summed in order, giving (n, sum, m2, min,
// max) with m2 = sum of (w - chunk mean)^2; rank 0 then merges the chunks in order:
//   delta = sum_b / n_b - sum_a / n_a;  m2 = m2_a + m2_b + delta * delta * (n_a * n_b / (n_a + n_b));
//   sum = sum_a + sum_b;  mean = sum / E;  std = sqrt(m2 / E).
//
// Files are written under path + ".partial" and renamed by close(); destroyed without close()
// (an error path), only the .partial file remains, and a run restarted from a checkpoint
// continues it (the resuming constructor).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "myelin/comm/communicator.hpp"
#include "myelin/io/edge_order.hpp"

namespace myelin {

// What a weight recording is: the same on every rank.
struct weight_recording {
  std::string projection;  // the edge population's name
  std::string source_population;
  std::string target_population;
  std::string synapse_model;      // e.g. "stdp"
  std::string units;              // of the weights: "pA" or "mV"
  std::vector<double> bin_edges;  // of the histograms: at least two, finite, strictly increasing
  // Edges per chunk of the decomposition-independent summation (see above).
  std::uint64_t statistics_chunk_edges = 65536;
};

class weight_writer {
 public:
  // Collective. This rank's synapses of the projection, in the contract order of edge_order
  // (grouped by target, increasing (source, delay) within a target; all of a target's synapses
  // on one rank). Every later call passes weights in exactly this order. Writes the edge
  // structure; an older file under the final name is removed. Throws std::invalid_argument for
  // a bad recording or records (on every rank), io_error when the file cannot be written.
  weight_writer(const communicator& comm, std::filesystem::path path, weight_recording recording,
                std::span<const std::uint64_t> target, std::span<const std::uint64_t> source,
                std::span<const double> delay_ms);
  // Collective. Resumes a run restarted from a checkpoint at resume_time_ms: continues the
  // stopped run's file (path + ".partial" if it exists, else the completed file of a run
  // continued to a later end, moved to .partial) and drops its snapshots and histogram rows
  // with time >= resume_time_ms; syn_weight then holds the latest snapshot kept. Throws io_error
  // on every rank, naming the file, when neither file exists or it is not this recording
  // (projection, populations, synapse model, units, E, bin edges, chunk size, or edge structure
  // in canonical order); the refused file stays where it was.
  weight_writer(const communicator& comm, std::filesystem::path path, weight_recording recording,
                std::span<const std::uint64_t> target, std::span<const std::uint64_t> source,
                std::span<const double> delay_ms, double resume_time_ms);
  ~weight_writer();
  weight_writer(const weight_writer&) = delete;
  weight_writer& operator=(const weight_writer&) = delete;

  // Collective. This rank's weights (local order, local_edges() values, finite) at time_ms (the
  // same on every rank, later than the previous snapshot / histogram row): a snapshot row, a
  // histogram row, or both from one redistribution. Rows are buffered; a snapshot row reaches
  // the file when the buffer is full, at flush() or at close(). Throws std::invalid_argument on
  // every rank when any rank's arguments are wrong.
  void write_snapshot(double time_ms, std::span<const double> weights);
  void write_histogram(double time_ms, std::span<const double> weights);
  void write_snapshot_and_histogram(double time_ms, std::span<const double> weights);

  // Collective: writes the buffered rows and syn_weight, then HDF5's metadata (H5Fflush), so
  // that a run killed afterwards leaves a .partial file to resume.
  void flush();
  // Collective: flush, close, rename to the final name.
  void close();

  // The redistribution plan (this rank's block of the canonical order), for reuse.
  const edge_order& order() const noexcept;
  std::uint64_t snapshots_written() const noexcept;  // rows of /weights/<projection>/data, buffered included
  std::uint64_t histograms_written() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace myelin
