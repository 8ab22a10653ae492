// edge_order and weight_writer under mpirun -np 1, 2 and 4. One global edge set (multapses and
// targets without synapses included) is dealt out to the ranks by target, each rank's targets in
// a scrambled order; every rank can compute the single-process reference (the global list in
// canonical order), and the tests compare the blocks, the files and the statistics with it
// exactly. A file written by all ranks is also compared byte for byte with the one rank 0 writes
// alone (MPI_COMM_SELF) from the same edges: the file does not depend on the decomposition.
#include "myelin/io/edge_order.hpp"
#include "myelin/io/weight_writer.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "myelin/io/hdf5.hpp"
#include "mpi/scratch_directory.hpp"

namespace myelin {
namespace {

namespace fs = std::filesystem;

using test::fresh_path;
using test::scratch_directory;


// --- the edge set ---

struct test_edge {
  std::uint64_t target;
  std::uint64_t source;
  double delay_ms;
  std::uint64_t id;  // identity, for the weights: the order of generation
};

// n_targets targets (ids 0 .. n_targets-1), 0 to 6 synapses each, with multapses (same source,
// same delay) and same-source pairs with other delays. In canonical order, with the multapses
// of a target in *decreasing* id order: the order their rank passes them, which a writer
// sorting by anything but (target, source, delay) would lose.
std::vector<test_edge> global_edges(std::uint64_t n_targets, std::uint64_t n_sources, std::uint64_t seed,
                                    int max_per_target = 7) {
  std::mt19937_64 random(seed);
  std::vector<test_edge> edges;
  for (std::uint64_t t = 0; t < n_targets; ++t) {
    const std::size_t group = edges.size();
    const auto n = std::uint64_t(random() % std::uint64_t(max_per_target));
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::uint64_t source = random() % n_sources;
      const double delay_ms = 0.1 * double(1 + random() % 3);
      edges.push_back({t, source, delay_ms, edges.size()});
      if (random() % 3 == 0) edges.push_back({t, source, delay_ms, edges.size()});  // a multapse
    }
    std::sort(edges.begin() + std::ptrdiff_t(group), edges.end(), [](const test_edge& a, const test_edge& b) {
      if (a.source != b.source) return a.source < b.source;
      if (a.delay_ms != b.delay_ms) return a.delay_ms < b.delay_ms;
      return a.id > b.id;
    });
  }
  return edges;
}

enum class dealing { round_robin, reversed_round_robin };

// This rank's edges: targets dealt round robin (or the other way round), each target's synapses
// in the canonical order, the targets themselves scrambled.
std::vector<test_edge> local_edges(const std::vector<test_edge>& global, const communicator& comm,
                                   dealing how = dealing::round_robin, std::uint64_t scramble_seed = 1) {
  const auto size = std::uint64_t(comm.size());
  const auto rank_of = [&](std::uint64_t t) { return how == dealing::round_robin ? t % size : size - 1 - t % size; };
  std::vector<std::vector<test_edge>> groups;
  for (const test_edge& edge : global) {
    if (rank_of(edge.target) != std::uint64_t(comm.rank())) continue;
    if (groups.empty() || groups.back().front().target != edge.target) groups.emplace_back();
    groups.back().push_back(edge);
  }
  std::mt19937_64 scramble(scramble_seed * 7919 + std::uint64_t(comm.rank()));
  std::shuffle(groups.begin(), groups.end(), scramble);
  std::vector<test_edge> local;
  for (const auto& group : groups) local.insert(local.end(), group.begin(), group.end());
  return local;
}

struct edge_columns {
  std::vector<std::uint64_t> target;
  std::vector<std::uint64_t> source;
  std::vector<double> delay_ms;
  std::vector<std::uint64_t> id;
};

edge_columns columns_of(const std::vector<test_edge>& edges) {
  edge_columns columns;
  for (const test_edge& edge : edges) {
    columns.target.push_back(edge.target);
    columns.source.push_back(edge.source);
    columns.delay_ms.push_back(edge.delay_ms);
    columns.id.push_back(edge.id);
  }
  return columns;
}

// The weight of edge `id` at snapshot `step`: inexact in binary, so that the order of summation
// shows in the statistics' last bits.
double weight_of(std::uint64_t id, int step) { return 40.0 * std::sin(0.37 * double(id) + 1.3 * double(step)) + 5.0; }

std::vector<double> weights_of(const std::vector<test_edge>& edges, int step) {
  std::vector<double> weights;
  for (const test_edge& edge : edges) weights.push_back(weight_of(edge.id, step));
  return weights;
}

// --- the reference statistics: the canonical order in fixed chunks, merged in order ---

struct statistics {
  std::vector<std::uint64_t> counts;
  std::uint64_t below = 0;
  std::uint64_t above = 0;
  double mean = std::numeric_limits<double>::quiet_NaN();
  double standard_deviation = std::numeric_limits<double>::quiet_NaN();
  double min = std::numeric_limits<double>::quiet_NaN();
  double max = std::numeric_limits<double>::quiet_NaN();
};

statistics reference_statistics(const std::vector<double>& canonical, const std::vector<double>& bin_edges,
                                std::uint64_t chunk) {
  statistics result;
  const std::size_t n_bins = bin_edges.size() - 1;
  result.counts.assign(n_bins, 0);
  for (const double w : canonical) {
    if (w < bin_edges.front()) {
      ++result.below;
      continue;
    }
    if (w > bin_edges.back()) {
      ++result.above;
      continue;
    }
    std::size_t k = 0;
    while (k + 1 < n_bins && w >= bin_edges[k + 1]) ++k;
    ++result.counts[k];
  }
  if (canonical.empty()) return result;
  double n = 0;
  double sum = 0;
  double m2 = 0;
  result.min = result.max = canonical.front();
  for (std::size_t at = 0; at < canonical.size(); at += chunk) {
    const std::size_t end = std::min<std::size_t>(at + chunk, canonical.size());
    double chunk_sum = 0;
    for (std::size_t i = at; i < end; ++i) chunk_sum += canonical[i];
    const auto chunk_n = double(end - at);
    const double chunk_mean = chunk_sum / chunk_n;
    double chunk_m2 = 0;
    for (std::size_t i = at; i < end; ++i) chunk_m2 += (canonical[i] - chunk_mean) * (canonical[i] - chunk_mean);
    for (std::size_t i = at; i < end; ++i) {
      result.min = std::min(result.min, canonical[i]);
      result.max = std::max(result.max, canonical[i]);
    }
    if (at == 0) {
      n = chunk_n;
      sum = chunk_sum;
      m2 = chunk_m2;
      continue;
    }
    const double delta = chunk_sum / chunk_n - sum / n;
    m2 = m2 + chunk_m2 + delta * delta * (n * chunk_n / (n + chunk_n));
    sum = sum + chunk_sum;
    n = n + chunk_n;
  }
  result.mean = sum / double(canonical.size());
  result.standard_deviation = std::sqrt(m2 / double(canonical.size()));
  return result;
}

// --- reading the file (rank 0, without MPI-IO) ---

template <h5::element T>
std::vector<T> read_dataset(const h5::file& file, const std::string& path, std::vector<hsize_t>& dims) {
  const h5::dataset dataset = file.open_dataset(path);
  EXPECT_TRUE(dataset.holds<T>()) << path << " has the wrong element type";
  dims = dataset.dims();
  return dataset.read<T>();
}

template <h5::element T>
std::vector<T> read_dataset(const h5::file& file, const std::string& path) {
  std::vector<hsize_t> dims;
  return read_dataset<T>(file, path, dims);
}

// Identical bits, NaN included (EXPECT_EQ on doubles would call two NaNs different).
void expect_same_bits(const std::vector<double>& actual, const std::vector<double>& expected, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    if (std::isnan(expected[i])) {
      EXPECT_TRUE(std::isnan(actual[i])) << what << "[" << i << "]";
    } else {
      EXPECT_EQ(actual[i], expected[i]) << what << "[" << i << "]";
    }
  }
}

struct expected_rows {
  std::vector<double> snapshot_times_ms;
  std::vector<int> snapshot_steps;
  std::vector<double> histogram_times_ms;
  std::vector<int> histogram_steps;
};

weight_recording recording_of(std::uint64_t chunk = 65536) {
  weight_recording recording;
  recording.projection = "L23E_to_L23E";
  recording.source_population = "L23E";
  recording.target_population = "L23I";
  recording.synapse_model = "stdp";
  recording.units = "pA";
  recording.bin_edges = {-30.0, -10.0, 0.0, 10.0, 30.0};
  recording.statistics_chunk_edges = chunk;
  return recording;
}

// Rank 0: `path` holds `canonical` (the reference edges) and the rows, exactly.
void expect_recording(const fs::path& path, const weight_recording& recording, const std::vector<test_edge>& canonical,
                      const expected_rows& rows, const std::vector<double>& weights_override = {}) {
  ASSERT_TRUE(fs::exists(path)) << path;
  EXPECT_FALSE(fs::exists(path.string() + ".partial"));
  const h5::file file = h5::file::open_read_only(path);
  EXPECT_EQ(file.read_attribute<std::uint32_t>("magic"), std::vector<std::uint32_t>{0x0A7A});
  EXPECT_TRUE(file.attribute_holds<std::uint32_t>("version"));
  EXPECT_EQ(file.read_attribute<std::uint32_t>("version"), (std::vector<std::uint32_t>{0, 1}));

  const std::uint64_t n = canonical.size();
  const edge_columns expected = columns_of(canonical);
  const std::string edges = "/edges/" + recording.projection;
  std::vector<hsize_t> dims;
  EXPECT_EQ(read_dataset<std::uint64_t>(file, edges + "/source_node_id", dims), expected.source);
  EXPECT_EQ(dims, std::vector<hsize_t>{n});
  EXPECT_EQ(read_dataset<std::uint64_t>(file, edges + "/target_node_id"), expected.target);
  EXPECT_EQ(file.open_dataset(edges + "/source_node_id").read_string_attribute("node_population"),
            recording.source_population);
  EXPECT_EQ(file.open_dataset(edges + "/target_node_id").read_string_attribute("node_population"),
            recording.target_population);
  EXPECT_EQ(read_dataset<std::uint32_t>(file, edges + "/edge_type_id"), std::vector<std::uint32_t>(n, 0));
  EXPECT_EQ(read_dataset<std::uint16_t>(file, edges + "/edge_group_id"), std::vector<std::uint16_t>(n, 0));
  std::vector<std::uint64_t> index(n);
  std::iota(index.begin(), index.end(), std::uint64_t(0));
  EXPECT_EQ(read_dataset<std::uint64_t>(file, edges + "/edge_group_index"), index);
  EXPECT_EQ(read_dataset<double>(file, edges + "/0/delay"), expected.delay_ms);

  const std::string weights = "/weights/" + recording.projection;
  const h5::group snapshots = file.open_group(weights);
  EXPECT_EQ(snapshots.read_string_attribute("source_population"), recording.source_population);
  EXPECT_EQ(snapshots.read_string_attribute("target_population"), recording.target_population);
  EXPECT_EQ(snapshots.read_string_attribute("synapse_model"), recording.synapse_model);
  EXPECT_EQ(snapshots.read_string_attribute("units"), recording.units);
  EXPECT_EQ(read_dataset<double>(file, weights + "/time", dims), rows.snapshot_times_ms);
  EXPECT_EQ(file.open_dataset(weights + "/time").read_string_attribute("units"), "ms");
  std::vector<double> data;
  for (const int step : rows.snapshot_steps) {
    const std::vector<double> row = weights_of(canonical, step);
    data.insert(data.end(), row.begin(), row.end());
  }
  if (!weights_override.empty()) data = weights_override;
  EXPECT_EQ(read_dataset<double>(file, weights + "/data", dims), data);
  EXPECT_EQ(dims, (std::vector<hsize_t>{rows.snapshot_steps.size(), n}));
  const std::vector<double> latest = rows.snapshot_steps.empty()
                                         ? std::vector<double>(n, std::nan(""))
                                         : std::vector<double>(data.end() - std::ptrdiff_t(n), data.end());
  expect_same_bits(read_dataset<double>(file, edges + "/0/syn_weight"), latest, "syn_weight");

  const std::string histograms = "/histograms/" + recording.projection;
  EXPECT_EQ(read_dataset<double>(file, histograms + "/bin_edges"), recording.bin_edges);
  EXPECT_EQ(file.open_group(histograms).read_attribute<std::uint64_t>("statistics_chunk_edges"),
            std::vector<std::uint64_t>{recording.statistics_chunk_edges});
  EXPECT_EQ(read_dataset<double>(file, histograms + "/time"), rows.histogram_times_ms);
  std::vector<std::uint64_t> counts, below, above;
  std::vector<double> mean, deviation, min, max;
  for (const int step : rows.histogram_steps) {
    const statistics s =
        reference_statistics(weights_of(canonical, step), recording.bin_edges, recording.statistics_chunk_edges);
    counts.insert(counts.end(), s.counts.begin(), s.counts.end());
    below.push_back(s.below);
    above.push_back(s.above);
    mean.push_back(s.mean);
    deviation.push_back(s.standard_deviation);
    min.push_back(s.min);
    max.push_back(s.max);
  }
  EXPECT_EQ(read_dataset<std::uint64_t>(file, histograms + "/counts", dims), counts);
  EXPECT_EQ(dims, (std::vector<hsize_t>{rows.histogram_steps.size(), recording.bin_edges.size() - 1}));
  EXPECT_EQ(read_dataset<std::uint64_t>(file, histograms + "/below"), below);
  EXPECT_EQ(read_dataset<std::uint64_t>(file, histograms + "/above"), above);
  // Bitwise: the chunked summation does not depend on the ranks' blocks.
  expect_same_bits(read_dataset<double>(file, histograms + "/mean"), mean, "mean");
  expect_same_bits(read_dataset<double>(file, histograms + "/std"), deviation, "std");
  expect_same_bits(read_dataset<double>(file, histograms + "/min"), min, "min");
  expect_same_bits(read_dataset<double>(file, histograms + "/max"), max, "max");
}

std::vector<char> bytes_of(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Writes snapshots and histograms of the recording: snapshot steps at 1, 2, ... ms, histograms
// in between and with them; `offset` makes the weights from `stale_from_step` on wrong.
expected_rows write_rows(weight_writer& writer, const std::vector<test_edge>& local, int first_step, int end_step,
                         double offset = 0.0, int stale_from_step = std::numeric_limits<int>::max()) {
  expected_rows rows;
  for (int step = first_step; step < end_step; ++step) {
    std::vector<double> weights = weights_of(local, step);
    if (step >= stale_from_step)
      for (double& w : weights) w += offset;
    writer.write_histogram(double(step) + 0.5, weights);
    rows.histogram_times_ms.push_back(double(step) + 0.5);
    rows.histogram_steps.push_back(step);
    if (step % 2 == 0) {
      writer.write_snapshot_and_histogram(double(step) + 1.0, weights);
      rows.histogram_times_ms.push_back(double(step) + 1.0);
      rows.histogram_steps.push_back(step);
    } else {
      writer.write_snapshot(double(step) + 1.0, weights);
    }
    rows.snapshot_times_ms.push_back(double(step) + 1.0);
    rows.snapshot_steps.push_back(step);
  }
  return rows;
}

void write_recording(const communicator& comm, const fs::path& path, const weight_recording& recording,
                     const std::vector<test_edge>& local, int n_steps) {
  const edge_columns columns = columns_of(local);
  weight_writer writer(comm, path, recording, columns.target, columns.source, columns.delay_ms);
  write_rows(writer, local, 0, n_steps);
  writer.close();
}

// --- edge_order ---

TEST(EdgeOrder, BlocksAreTheCanonicalOrderSplitOnTargets) {
  const communicator comm;
  const std::vector<test_edge> global = global_edges(301, 50, 11);
  const std::vector<test_edge> local = local_edges(global, comm);
  const edge_columns columns = columns_of(local);
  const edge_order order(comm, columns.target, columns.source, columns.delay_ms);
  ASSERT_EQ(order.total_edges(), global.size());
  EXPECT_EQ(order.local_edges(), local.size());
  const std::span<const std::uint64_t> starts = order.block_starts();
  ASSERT_EQ(starts.size(), std::size_t(comm.size()) + 1);
  EXPECT_EQ(starts.front(), 0u);
  EXPECT_EQ(starts.back(), global.size());
  for (std::size_t r = 0; r + 1 < starts.size(); ++r) {
    EXPECT_LE(starts[r], starts[r + 1]);
    // Blocks end on target boundaries, and are balanced within a few targets' synapses.
    if (starts[r] > 0 && starts[r] < global.size()) {
      EXPECT_NE(global[starts[r] - 1].target, global[starts[r]].target) << "block " << r;
    }
    EXPECT_LE(starts[r + 1] - starts[r], global.size() / std::uint64_t(comm.size()) + 14) << "block " << r;
  }
  EXPECT_EQ(order.block_first(), starts[std::size_t(comm.rank())]);

  // The keys and the identities of this rank's block are the reference's, exactly.
  const std::vector<std::uint64_t> ids = order.to_canonical(std::span<const std::uint64_t>(columns.id));
  ASSERT_EQ(ids.size(), order.block_size());
  std::vector<std::uint64_t> expected_ids;
  for (std::uint64_t j = 0; j < order.block_size(); ++j) expected_ids.push_back(global[order.block_first() + j].id);
  EXPECT_EQ(ids, expected_ids);
  const std::vector<double> delays = order.to_canonical(std::span<const double>(columns.delay_ms));
  for (std::uint64_t j = 0; j < order.block_size(); ++j) EXPECT_EQ(delays[j], global[order.block_first() + j].delay_ms);
}

TEST(EdgeOrder, FromCanonicalReturnsEachRanksOwnValues) {
  const communicator comm;
  const std::vector<test_edge> global = global_edges(97, 20, 5);
  const std::vector<test_edge> local = local_edges(global, comm, dealing::reversed_round_robin, 3);
  const edge_columns columns = columns_of(local);
  const edge_order order(comm, columns.target, columns.source, columns.delay_ms);
  // A round trip gives back the local values in the local order.
  const std::vector<double> weights = weights_of(local, 4);
  EXPECT_EQ(order.from_canonical(std::span<const double>(order.to_canonical(std::span<const double>(weights)))),
            weights);
  // A block read from a file (here: the reference's) gives each rank the values of its own synapses.
  std::vector<std::uint64_t> block;
  for (std::uint64_t j = 0; j < order.block_size(); ++j) block.push_back(global[order.block_first() + j].id);
  EXPECT_EQ(order.from_canonical(std::span<const std::uint64_t>(block)), columns.id);
}

TEST(EdgeOrder, MultapsesKeepTheOrderTheirRankPassesThem) {
  // Target 3 gets five synapses from source 2 with the same delay, passed in the order 4 0 3 1 2.
  const communicator comm;
  std::vector<std::uint64_t> target, source, id;
  std::vector<double> delay;
  if (comm.rank() == comm.size() - 1) {
    for (const std::uint64_t i : {4u, 0u, 3u, 1u, 2u}) {
      target.push_back(3);
      source.push_back(2);
      delay.push_back(1.5);
      id.push_back(i);
    }
  }
  const edge_order order(comm, target, source, delay);
  const std::vector<std::uint64_t> ids = order.to_canonical(std::span<const std::uint64_t>(id));
  if (order.block_size() > 0) {
    EXPECT_EQ(ids, (std::vector<std::uint64_t>{4, 0, 3, 1, 2}));
  }
  EXPECT_EQ(comm.allreduce_sum(std::uint64_t(ids.size())), 5u);
}

TEST(EdgeOrder, RefusesBrokenContractsOnEveryRank) {
  const communicator comm;
  const std::vector<test_edge> global = global_edges(40, 10, 2);
  edge_columns columns = columns_of(local_edges(global, comm));
  const auto refused = [&](const edge_columns& c) {
    try {
      edge_order(comm, c.target, c.source, c.delay_ms);
    } catch (const std::invalid_argument& error) {
      return std::string(error.what());
    }
    return std::string();
  };
  // Only rank 0's records are wrong; every rank must throw (or the others would wait forever).
  edge_columns wrong = columns;
  if (comm.rank() == 0) wrong.delay_ms.push_back(1.0);
  EXPECT_NE(refused(wrong).find("edge_order"), std::string::npos);
  wrong = columns;
  if (comm.rank() == 0) {
    wrong.target = {5, 6, 5};
    wrong.source = {1, 1, 2};
    wrong.delay_ms = {1.0, 1.0, 1.0};
  }
  EXPECT_FALSE(refused(wrong).empty()) << "target 5 not consecutive";
  wrong = columns;
  if (comm.rank() == 0) {
    wrong.target = {5, 5};
    wrong.source = {2, 1};
    wrong.delay_ms = {1.0, 1.0};
  }
  EXPECT_FALSE(refused(wrong).empty()) << "sources not increasing";
  wrong = columns;
  if (comm.rank() == 0) {
    wrong.target = {5, 5};
    wrong.source = {1, 1};
    wrong.delay_ms = {2.0, 1.0};
  }
  EXPECT_FALSE(refused(wrong).empty()) << "delays not increasing";
  if (comm.size() > 1) {
    // Target 7's synapses on every rank: the rank that owns target 7 names it, the others refuse too.
    wrong = {{7}, {std::uint64_t(comm.rank())}, {1.0}, {}};
    const std::string message = refused(wrong);
    EXPECT_FALSE(message.empty());
    EXPECT_TRUE(comm.any(message.find("target 7") != std::string::npos)) << message;
  }
  EXPECT_TRUE(refused(columns).empty());
  const edge_order order(comm, columns.target, columns.source, columns.delay_ms);
  std::vector<double> values(order.local_edges(), 1.0);
  if (comm.rank() == 0) values.push_back(2.0);
  EXPECT_THROW(order.to_canonical(std::span<const double>(values)), std::invalid_argument);
  std::vector<double> block(order.block_size() + (comm.rank() == comm.size() - 1 ? 1 : 0), 1.0);
  EXPECT_THROW(order.from_canonical(std::span<const double>(block)), std::invalid_argument);
}

TEST(EdgeOrder, NoEdgesAndRanksWithout) {
  const communicator comm;
  const edge_order none(comm, {}, {}, {});
  EXPECT_EQ(none.total_edges(), 0u);
  EXPECT_EQ(none.block_size(), 0u);
  EXPECT_TRUE(none.to_canonical(std::span<const double>()).empty());
  // One target only: one rank holds every synapse, the others none.
  const std::vector<test_edge> global = global_edges(1, 30, 9, 40);
  ASSERT_FALSE(global.empty());
  const std::vector<test_edge> local = local_edges(global, comm);
  const edge_columns columns = columns_of(local);
  const edge_order order(comm, columns.target, columns.source, columns.delay_ms);
  EXPECT_EQ(order.total_edges(), global.size());
  const std::vector<std::uint64_t> ids = order.to_canonical(std::span<const std::uint64_t>(columns.id));
  std::vector<std::uint64_t> expected;
  for (std::uint64_t j = 0; j < order.block_size(); ++j) expected.push_back(global[order.block_first() + j].id);
  EXPECT_EQ(ids, expected);
  EXPECT_EQ(order.from_canonical(std::span<const std::uint64_t>(ids)), columns.id);
}

// --- weight_writer ---

TEST(WeightWriter, FileHoldsTheCanonicalEdgesRowsAndStatistics) {
  // Chunks of 7 edges: many chunks straddle the ranks' blocks.
  const communicator comm;
  const fs::path path = fresh_path(comm, "weights-canonical.h5");
  const weight_recording recording = recording_of(7);
  const std::vector<test_edge> global = global_edges(203, 40, 21);
  const std::vector<test_edge> local = local_edges(global, comm);
  const edge_columns columns = columns_of(local);
  expected_rows rows;
  {
    weight_writer writer(comm, path, recording, columns.target, columns.source, columns.delay_ms);
    rows = write_rows(writer, local, 0, 3);
    writer.flush();
    comm.barrier();
    EXPECT_FALSE(fs::exists(path)) << "a final file before close()";
    EXPECT_TRUE(fs::exists(path.string() + ".partial"));
    const expected_rows more = write_rows(writer, local, 3, 6);
    for (const auto& [to, from] : {std::pair{&rows.snapshot_times_ms, &more.snapshot_times_ms},
                                   std::pair{&rows.histogram_times_ms, &more.histogram_times_ms}})
      to->insert(to->end(), from->begin(), from->end());
    for (const auto& [to, from] : {std::pair{&rows.snapshot_steps, &more.snapshot_steps},
                                   std::pair{&rows.histogram_steps, &more.histogram_steps}})
      to->insert(to->end(), from->begin(), from->end());
    EXPECT_EQ(writer.snapshots_written(), 6u);
    EXPECT_EQ(writer.histograms_written(), 9u);
    writer.close();
  }
  if (comm.rank() == 0) expect_recording(path, recording, global, rows);
  comm.barrier();
}

TEST(WeightWriter, StatisticsOverManyChunksAreTheReferencesBitForBit) {
  // The default chunk of 65,536 edges, about 160,000 edges: three chunks, cut differently from
  // the ranks' blocks at every number of ranks.
  const communicator comm;
  const fs::path path = fresh_path(comm, "weights-large.h5");
  const weight_recording recording = recording_of();
  const std::vector<test_edge> global = global_edges(40'000, 1000, 33);
  ASSERT_GT(global.size(), 2 * recording.statistics_chunk_edges);
  const std::vector<test_edge> local = local_edges(global, comm);
  write_recording(comm, path, recording, local, 2);
  if (comm.rank() == 0) expect_recording(path, recording, global, {{1.0, 2.0}, {0, 1}, {0.5, 1.0, 1.5}, {0, 0, 1}});
  comm.barrier();
}

TEST(WeightWriter, FileIsByteIdenticalForAnyDecomposition) {
  // All ranks (targets round robin), all ranks again (dealt the other way, scrambled otherwise),
  // and rank 0 alone: the same bytes.
  const communicator comm;
  const weight_recording recording = recording_of(5);
  const std::vector<test_edge> global = global_edges(151, 30, 7);
  const fs::path dealt = fresh_path(comm, "weights-dealt.h5");
  const fs::path reversed = fresh_path(comm, "weights-reversed.h5");
  const fs::path alone = fresh_path(comm, "weights-alone.h5");
  write_recording(comm, dealt, recording, local_edges(global, comm), 4);
  write_recording(comm, reversed, recording, local_edges(global, comm, dealing::reversed_round_robin, 99), 4);
  if (comm.rank() == 0) {
    const communicator self(MPI_COMM_SELF);
    write_recording(self, alone, recording, local_edges(global, self, dealing::round_robin, 5), 4);
    const std::vector<char> bytes = bytes_of(alone);
    ASSERT_FALSE(bytes.empty());
    EXPECT_TRUE(bytes_of(dealt) == bytes) << dealt << " differs from " << alone;
    EXPECT_TRUE(bytes_of(reversed) == bytes) << reversed << " differs from " << alone;
    expect_recording(alone, recording, global,
                     {{1, 2, 3, 4}, {0, 1, 2, 3}, {0.5, 1, 1.5, 2.5, 3, 3.5}, {0, 0, 1, 2, 2, 3}});
  }
  comm.barrier();
}

TEST(WeightWriter, BinsCountTheirLowerEdgeAndTheLastBinItsUpperEdge) {
  // Rank 0 holds target 0 with weights on and around every edge; the other ranks hold nothing.
  const communicator comm;
  const fs::path path = fresh_path(comm, "weights-bins.h5");
  weight_recording recording = recording_of(3);
  recording.bin_edges = {-1.0, 0.0, 2.0, 5.0};
  const std::vector<double> weights{-1.5, -1.0, -0.5, 0.0, 1.0, 2.0, 4.999, 5.0, 5.001, 7.0};
  std::vector<std::uint64_t> target, source;
  std::vector<double> delay, local_weights;
  if (comm.rank() == 0) {
    target.assign(weights.size(), 0);
    source.resize(weights.size());
    std::iota(source.begin(), source.end(), std::uint64_t(0));
    delay.assign(weights.size(), 1.0);
    local_weights = weights;
  }
  {
    weight_writer writer(comm, path, recording, target, source, delay);
    writer.write_histogram(0.0, local_weights);
    writer.close();
  }
  if (comm.rank() == 0) {
    const h5::file file = h5::file::open_read_only(path);
    const std::string base = "/histograms/" + recording.projection;
    EXPECT_EQ(read_dataset<std::uint64_t>(file, base + "/counts"), (std::vector<std::uint64_t>{2, 2, 3}));
    EXPECT_EQ(read_dataset<std::uint64_t>(file, base + "/below"), std::vector<std::uint64_t>{1});
    EXPECT_EQ(read_dataset<std::uint64_t>(file, base + "/above"), std::vector<std::uint64_t>{2});
    EXPECT_EQ(read_dataset<double>(file, base + "/min"), std::vector<double>{-1.5});
    EXPECT_EQ(read_dataset<double>(file, base + "/max"), std::vector<double>{7.0});
    const statistics s = reference_statistics(weights, recording.bin_edges, 3);
    EXPECT_EQ(read_dataset<double>(file, base + "/mean"), std::vector<double>{s.mean});
    EXPECT_EQ(read_dataset<double>(file, base + "/std"), std::vector<double>{s.standard_deviation});
    EXPECT_NEAR(s.mean, 2.2, 1e-12);  // the reference itself is right: 22 / 10
    EXPECT_EQ(read_dataset<double>(file, "/weights/" + recording.projection + "/time").size(), 0u);
  }
  comm.barrier();
}

TEST(WeightWriter, NoEdgesAndRanksWithoutEdges) {
  const communicator comm;
  const weight_recording recording = recording_of(4);
  const fs::path empty = fresh_path(comm, "weights-empty.h5");
  {
    weight_writer writer(comm, empty, recording, {}, {}, {});
    writer.write_snapshot_and_histogram(1.0, {});
    writer.write_snapshot(2.0, {});
    writer.close();
  }
  if (comm.rank() == 0) {
    expect_recording(empty, recording, {}, {{1.0, 2.0}, {0, 1}, {1.0}, {0}});
    const h5::file file = h5::file::open_read_only(empty);
    EXPECT_EQ(read_dataset<std::uint64_t>(file, "/histograms/" + recording.projection + "/counts"),
              (std::vector<std::uint64_t>{0, 0, 0, 0}));
  }
  // Two targets: with 4 ranks, two ranks hold no synapse.
  const fs::path few = fresh_path(comm, "weights-few.h5");
  const std::vector<test_edge> global = global_edges(2, 10, 4, 20);
  write_recording(comm, few, recording, local_edges(global, comm), 3);
  if (comm.rank() == 0)
    expect_recording(few, recording, global, {{1, 2, 3}, {0, 1, 2}, {0.5, 1, 1.5, 2.5, 3}, {0, 0, 1, 2, 2}});
  comm.barrier();
}

TEST(WeightWriter, RefusesBadArgumentsOnEveryRank) {
  const communicator comm;
  const fs::path path = fresh_path(comm, "weights-refused.h5");
  const std::vector<test_edge> local = local_edges(global_edges(30, 10, 8), comm);
  const edge_columns columns = columns_of(local);
  weight_recording recording = recording_of();
  for (const std::vector<double>& edges : {std::vector<double>{0.0}, std::vector<double>{0.0, 1.0, 1.0},
                                           std::vector<double>{1.0, 0.0}, std::vector<double>{0.0, INFINITY}}) {
    recording.bin_edges = edges;
    EXPECT_THROW(weight_writer(comm, path, recording, columns.target, columns.source, columns.delay_ms),
                 std::invalid_argument);
  }
  recording = recording_of();
  recording.units = "nS";
  EXPECT_THROW(weight_writer(comm, path, recording, columns.target, columns.source, columns.delay_ms),
               std::invalid_argument);
  recording = recording_of();
  std::vector<std::uint64_t> sources = columns.source;
  if (comm.rank() == 0) sources.push_back(1);
  EXPECT_THROW(weight_writer(comm, path, recording, columns.target, sources, columns.delay_ms), std::invalid_argument);

  weight_writer writer(comm, path, recording, columns.target, columns.source, columns.delay_ms);
  std::vector<double> weights = weights_of(local, 0);
  std::vector<double> wrong = weights;
  if (comm.rank() == 0) wrong.push_back(1.0);
  EXPECT_THROW(writer.write_snapshot(1.0, wrong), std::invalid_argument);
  wrong = weights;
  if (comm.rank() == comm.size() - 1) wrong.push_back(1.0);
  EXPECT_THROW(writer.write_histogram(1.0, wrong), std::invalid_argument);
  if (comm.size() > 1) {
    EXPECT_THROW(writer.write_snapshot(comm.rank() == 0 ? 1.0 : 1.5, weights), std::invalid_argument);
  }
  EXPECT_THROW(writer.write_snapshot(std::nan(""), weights), std::invalid_argument);
  wrong = weights;
  if (!wrong.empty()) wrong.back() = std::nan("");
  ASSERT_TRUE(comm.any(!wrong.empty()));
  EXPECT_THROW(writer.write_snapshot(1.0, wrong), std::invalid_argument);
  writer.write_snapshot_and_histogram(2.0, weights);
  EXPECT_THROW(writer.write_snapshot(2.0, weights), std::invalid_argument);
  EXPECT_THROW(writer.write_histogram(1.0, weights), std::invalid_argument);
  writer.write_snapshot(3.0, weights);
  writer.close();
  EXPECT_EQ(writer.snapshots_written(), 2u);
}

// --- resuming after a restart ---

constexpr double stale = 1000.0;  // offset of the rows a stopped run wrote after its checkpoint

// Rank 0: both files hold the same rows and edges, exactly.
void expect_same_content(const fs::path& a, const fs::path& b, const std::string& projection) {
  const h5::file one = h5::file::open_read_only(a);
  const h5::file other = h5::file::open_read_only(b);
  for (const std::string& name : {"/edges/" + projection + "/0/syn_weight", "/weights/" + projection + "/time",
                                  "/weights/" + projection + "/data", "/histograms/" + projection + "/time",
                                  "/histograms/" + projection + "/mean", "/histograms/" + projection + "/std",
                                  "/histograms/" + projection + "/min", "/histograms/" + projection + "/max"}) {
    std::vector<hsize_t> dims_a, dims_b;
    EXPECT_EQ(read_dataset<double>(one, name, dims_a), read_dataset<double>(other, name, dims_b)) << name;
    EXPECT_EQ(dims_a, dims_b) << name;
  }
  for (const std::string& name : {"/histograms/" + projection + "/counts", "/histograms/" + projection + "/below",
                                  "/histograms/" + projection + "/above", "/edges/" + projection + "/source_node_id"})
    EXPECT_EQ(read_dataset<std::uint64_t>(one, name), read_dataset<std::uint64_t>(other, name)) << name;
}

TEST(WeightWriter, ResumedRunCutsTheRowsAfterItsCheckpointAndContinues) {
  const communicator comm;
  const weight_recording recording = recording_of(6);
  const std::vector<test_edge> global = global_edges(120, 25, 17);
  const std::vector<test_edge> local = local_edges(global, comm);
  const edge_columns columns = columns_of(local);
  const fs::path unbroken = fresh_path(comm, "weights-unbroken.h5");
  write_recording(comm, unbroken, recording, local, 8);
  const expected_rows all_rows = [&] {
    expected_rows rows;
    for (int step = 0; step < 8; ++step) {
      rows.histogram_times_ms.push_back(step + 0.5);
      rows.histogram_steps.push_back(step);
      if (step % 2 == 0) {
        rows.histogram_times_ms.push_back(step + 1.0);
        rows.histogram_steps.push_back(step);
      }
      rows.snapshot_times_ms.push_back(step + 1.0);
      rows.snapshot_steps.push_back(step);
    }
    return rows;
  }();
  if (comm.rank() == 0) expect_recording(unbroken, recording, global, all_rows);

  // A run that finished, with wrong rows from step 4 (time 4.5) on; restarted at 4.5 ms.
  const fs::path closed = fresh_path(comm, "weights-resume-closed.h5");
  {
    weight_writer writer(comm, closed, recording, columns.target, columns.source, columns.delay_ms);
    write_rows(writer, local, 0, 8, stale, 4);
    writer.close();
  }
  {
    weight_writer writer(comm, closed, recording, columns.target, columns.source, columns.delay_ms, 4.5);
    comm.barrier();
    EXPECT_FALSE(fs::exists(closed));
    EXPECT_TRUE(fs::exists(closed.string() + ".partial"));
    EXPECT_EQ(writer.snapshots_written(), 4u);   // times 1 .. 4
    EXPECT_EQ(writer.histograms_written(), 6u);  // times 0.5 1 1.5 2.5 3 3.5
    EXPECT_THROW(writer.write_snapshot(4.0, weights_of(local, 3)), std::invalid_argument);
    write_rows(writer, local, 4, 8);
    writer.close();
  }
  if (comm.rank() == 0) {
    expect_recording(closed, recording, global, all_rows);
    expect_same_content(closed, unbroken, recording.projection);
  }

  // A killed run (flushed, never closed), restarted at 2.5 ms and killed again before writing a
  // snapshot: syn_weight goes back to the snapshot at 2 ms. Then restarted at 2.5 ms to the end.
  const fs::path killed = fresh_path(comm, "weights-resume-killed.h5");
  {
    weight_writer writer(comm, killed, recording, columns.target, columns.source, columns.delay_ms);
    write_rows(writer, local, 0, 6, stale, 2);
    writer.flush();
  }
  {
    weight_writer writer(comm, killed, recording, columns.target, columns.source, columns.delay_ms, 2.5);
    EXPECT_EQ(writer.snapshots_written(), 2u);
  }
  comm.barrier();
  if (comm.rank() == 0) {
    const h5::file file = h5::file::open_read_only(killed.string() + ".partial");
    const std::string base = "/edges/" + recording.projection + "/0/syn_weight";
    EXPECT_EQ(read_dataset<double>(file, base), weights_of(global, 1));
    EXPECT_EQ(read_dataset<double>(file, "/weights/" + recording.projection + "/time"), (std::vector<double>{1, 2}));
    EXPECT_EQ(read_dataset<double>(file, "/histograms/" + recording.projection + "/time"),
              (std::vector<double>{0.5, 1, 1.5}));
  }
  comm.barrier();
  {
    weight_writer writer(comm, killed, recording, columns.target, columns.source, columns.delay_ms, 2.5);
    write_rows(writer, local, 2, 8);
    writer.close();
  }
  if (comm.rank() == 0) {
    expect_recording(killed, recording, global, all_rows);
    expect_same_content(killed, unbroken, recording.projection);
  }
  comm.barrier();
}

TEST(WeightWriter, ResumeRefusesAnotherRecordingOnEveryRankNamingTheFile) {
  const communicator comm;
  const weight_recording recording = recording_of(6);
  const std::vector<test_edge> global = global_edges(60, 25, 23);
  const std::vector<test_edge> local = local_edges(global, comm);
  const edge_columns columns = columns_of(local);
  const fs::path path = fresh_path(comm, "weights-resume-refused.h5");
  const auto message_of = [&](const weight_recording& r, const edge_columns& c) {
    try {
      weight_writer(comm, path, r, c.target, c.source, c.delay_ms, 1.5);
    } catch (const io_error& error) {
      return std::string(error.what());
    }
    return std::string("no io_error");
  };
  EXPECT_NE(message_of(recording, columns).find("no weight recording file to resume"), std::string::npos);
  write_recording(comm, path, recording, local, 3);
  const std::vector<char> before = comm.rank() == 0 ? bytes_of(path) : std::vector<char>();

  // The same number of edges, one delay different (on the last rank's last synapse).
  edge_columns other = columns;
  const bool changes = comm.rank() == comm.size() - 1 && !other.delay_ms.empty();
  if (changes) other.delay_ms.back() += 0.05;
  ASSERT_TRUE(comm.any(changes));
  std::string message = message_of(recording, other);
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  EXPECT_NE(message.find("edges differ"), std::string::npos) << message;
  // One synapse fewer.
  other = columns;
  if (changes) {
    other.target.pop_back();
    other.source.pop_back();
    other.delay_ms.pop_back();
  }
  message = message_of(recording, other);
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  weight_recording different = recording;
  different.bin_edges.back() = 31.0;
  EXPECT_NE(message_of(different, columns).find("bin edges"), std::string::npos);
  different = recording;
  different.source_population = "L4E";
  EXPECT_NE(message_of(different, columns).find("populations"), std::string::npos);
  different = recording;
  different.statistics_chunk_edges = 7;
  EXPECT_NE(message_of(different, columns).find(path.string()), std::string::npos);
  comm.barrier();
  if (comm.rank() == 0) {
    EXPECT_FALSE(fs::exists(path.string() + ".partial")) << "a refused file must stay where it was";
    EXPECT_TRUE(bytes_of(path) == before) << "a refused file must stay as it was";
  }
  comm.barrier();
}

}  // namespace
}  // namespace myelin
