// Checkpoint files under mpirun -np 1, 2 and 4: ranks write their round-robin share (over ranks x
// threads) of three populations plus an empty one, and read it back with other shares (another
// decomposition); every value must come back exactly. Commit is atomic; bad files (missing, not
// HDF5, truncated, foreign, another version, missing or wrongly typed parts, wrong lengths) make
// every rank throw the same one-line checkpoint_error, and so does damage to the file's structure
// (checksummed metadata); rotation keeps the newest files.
#include "myelin/io/checkpoint.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "myelin/io/hdf5.hpp"
#include "mpi/scratch_directory.hpp"

namespace myelin {
namespace {

namespace fs = std::filesystem;

constexpr int simulated_threads = 2;

using test::scratch_directory;  // shared by all ranks, one per job

// An empty directory for one test.
fs::path fresh_directory(const communicator& comm, const std::string& name) {
  const fs::path directory = scratch_directory(comm) / name;
  if (comm.rank() == 0) {
    fs::remove_all(directory);
    fs::create_directories(directory);
  }
  comm.barrier();
  return directory;
}

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finalizer
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

struct population_spec {
  std::string name;
  std::uint64_t n;
  std::vector<std::string> variables;
};

// Edge cases: a population of one neuron and an empty one.
std::vector<population_spec> test_populations() {
  return {{"L23E", 1000, {"V_m", "I_syn_ex", "I_syn_in"}},
          {"L4I", 37, {"V_m", "I_syn"}},
          {"single", 1, {"V_m"}},
          {"empty", 0, {"V_m"}}};
}

// Distinct, not round numbers, negative and positive: any change shows.
double state_value(std::size_t population, std::size_t variable, std::uint64_t id) {
  return double(mix(population * 1000003u + variable * 7919u + id) % 2000001) / 7.0 - 1.5e5;
}

std::int32_t refractory_value(std::size_t population, std::uint64_t id) {
  return std::int32_t(mix(population * 31u + id) % 25);
}

// The ids this rank owns when nodes are dealt round-robin to n_vp = ranks x threads virtual
// processes (vp = id mod n_vp) and the rank's threads hold vps [rank x threads, (rank+1) x threads).
std::vector<std::uint64_t> round_robin_share(const communicator& comm, std::uint64_t n) {
  const auto n_vp = std::uint64_t(comm.size() * simulated_threads);
  std::vector<std::uint64_t> ids;
  for (std::uint64_t id = 0; id < n; ++id)
    if (id % n_vp / simulated_threads == std::uint64_t(comm.rank())) ids.push_back(id);
  return ids;
}

// Another decomposition: ids = rank mod (ranks + 1); the last residue is read by no one.
std::vector<std::uint64_t> strided_share(const communicator& comm, std::uint64_t n) {
  std::vector<std::uint64_t> ids;
  for (std::uint64_t id = std::uint64_t(comm.rank()); id < n; id += std::uint64_t(comm.size() + 1)) ids.push_back(id);
  return ids;
}

std::vector<std::uint64_t> all_ids(std::uint64_t n) {
  std::vector<std::uint64_t> ids(n);
  for (std::uint64_t id = 0; id < n; ++id) ids[id] = id;
  return ids;
}

// No regular pattern at all (a point selection in the file).
std::vector<std::uint64_t> irregular_share(const communicator& comm, std::uint64_t n) {
  std::vector<std::uint64_t> ids;
  for (std::uint64_t id = 0; id < n; ++id)
    if (mix(id ^ 0x5555) % 3 == std::uint64_t(comm.rank()) % 3) ids.push_back(id);
  return ids;
}

struct spike {
  std::uint64_t gid;
  std::int64_t step;
};

// The spikes in flight of the whole network, sorted by (step, gid); several per step and gid.
std::vector<spike> global_spikes_in_flight() {
  std::vector<spike> spikes;
  for (std::int64_t step = 985; step < 1000; ++step)
    for (std::uint64_t gid = 0; gid < 1038; ++gid)
      if (mix(std::uint64_t(step) * 65537u + gid) % 20 == 0) spikes.push_back({gid, step});
  return spikes;
}

checkpoint_header test_header() {
  checkpoint_header header;
  header.step = 123456789012;
  header.dt_ms = 0.1;
  header.seed = 0xDEADBEEFCAFEBABEull;
  header.fingerprint = "3f2a9c0d11e84b7a";
  header.network = "[network]\nscale = 0.1\n\n[L23E]\nn = 1000\n";
  header.ranks = 999;  // ignored: the writer stores its own number of ranks
  header.threads = simulated_threads;
  return header;
}

// Writes the test checkpoint: each rank its round-robin share, spikes scrambled.
void write_contents(const communicator& comm, checkpoint_writer& writer) {
  const std::vector<population_spec> populations = test_populations();
  for (std::size_t p = 0; p < populations.size(); ++p) {
    const population_spec& population = populations[p];
    const std::vector<std::uint64_t> ids = round_robin_share(comm, population.n);
    for (std::size_t v = 0; v < population.variables.size(); ++v) {
      node_values<double> local;
      local.node_ids = ids;
      for (const std::uint64_t id : ids) local.values.push_back(state_value(p, v, id));
      writer.write_state(population.name, population.n, population.variables[v], local);
    }
    node_values<std::int32_t> refractory;
    refractory.node_ids = ids;
    for (const std::uint64_t id : ids) refractory.values.push_back(refractory_value(p, id));
    writer.write_refractory(population.name, population.n, refractory);
  }

  std::vector<spike> mine;
  for (const spike& s : global_spikes_in_flight())
    if (mix(s.gid + 17) % std::uint64_t(comm.size()) == std::uint64_t(comm.rank())) mine.push_back(s);
  std::shuffle(mine.begin(), mine.end(), std::mt19937_64(std::uint64_t(comm.rank()) + 5));
  std::vector<std::uint64_t> gids;
  std::vector<std::int64_t> steps;
  for (const spike& s : mine) {
    gids.push_back(s.gid);
    steps.push_back(s.step);
  }
  writer.write_spikes_in_flight(gids, steps);

  writer.write_counter("spikes_emitted", std::uint64_t(comm.rank() + 1));
  writer.write_counter("synapse_events", 1000000000000ull + std::uint64_t(comm.rank()));
}

void write_test_checkpoint(const communicator& comm, const fs::path& path, const checkpoint_header& header) {
  checkpoint_writer writer(comm, path, header);
  write_contents(comm, writer);
  writer.commit();
}

// On every rank: opening `path` throws checkpoint_error, one line naming the file and holding
// `fragment`, the same message everywhere.
void expect_refused(const communicator& comm, const fs::path& path, const std::string& fragment) {
  std::string message;
  try {
    checkpoint_reader reader(comm, path);
    ADD_FAILURE() << path << " was accepted; expected an error with \"" << fragment << "\"";
  } catch (const checkpoint_error& error) {
    message = error.what();
  }
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  EXPECT_NE(message.find(fragment), std::string::npos) << "expected \"" << fragment << "\" in: " << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_EQ(comm.broadcast(message), message) << "ranks disagree";
}

TEST(Checkpoint, RoundTripWithAnotherDecomposition) {
  const communicator comm;
  const fs::path path = fresh_directory(comm, "checkpoint-roundtrip") / checkpoint_file_name(1000);
  write_test_checkpoint(comm, path, test_header());

  checkpoint_reader reader(comm, path);
  const checkpoint_header& header = reader.header();
  const checkpoint_header expected = test_header();
  EXPECT_EQ(header.step, expected.step);
  EXPECT_EQ(header.dt_ms, expected.dt_ms);
  EXPECT_EQ(header.seed, expected.seed);
  EXPECT_EQ(header.fingerprint, expected.fingerprint);
  EXPECT_EQ(header.network, expected.network);
  EXPECT_EQ(header.ranks, comm.size());
  EXPECT_EQ(header.threads, simulated_threads);

  const std::vector<population_spec> populations = test_populations();
  EXPECT_EQ(reader.populations(), (std::vector<std::string>{"L23E", "L4I", "empty", "single"}));  // name order
  for (std::size_t p = 0; p < populations.size(); ++p) {
    const population_spec& population = populations[p];
    SCOPED_TRACE(population.name);
    EXPECT_EQ(reader.population_size(population.name), population.n);
    std::vector<std::string> variables = population.variables;
    std::sort(variables.begin(), variables.end());
    EXPECT_EQ(reader.state_variables(population.name), variables);

    for (const std::vector<std::uint64_t>& ids :
         {strided_share(comm, population.n), all_ids(population.n), irregular_share(comm, population.n),
          round_robin_share(comm, population.n), std::vector<std::uint64_t>{}}) {
      for (std::size_t v = 0; v < population.variables.size(); ++v) {
        std::vector<double> expected_values;
        for (const std::uint64_t id : ids) expected_values.push_back(state_value(p, v, id));
        EXPECT_EQ(reader.read_state(population.name, population.n, population.variables[v], ids), expected_values)
            << population.variables[v] << ", " << ids.size() << " ids";
      }
      std::vector<std::int32_t> expected_refractory;
      for (const std::uint64_t id : ids) expected_refractory.push_back(refractory_value(p, id));
      EXPECT_EQ(reader.read_refractory(population.name, population.n, ids), expected_refractory);
    }
  }

  std::vector<std::uint64_t> gids;
  std::vector<std::int64_t> steps;
  reader.read_spikes_in_flight(gids, steps);
  const std::vector<spike> expected_spikes = global_spikes_in_flight();
  ASSERT_EQ(gids.size(), expected_spikes.size());
  ASSERT_EQ(steps.size(), expected_spikes.size());
  for (std::size_t i = 0; i < expected_spikes.size(); ++i) {
    ASSERT_EQ(gids[i], expected_spikes[i].gid) << "at " << i;
    ASSERT_EQ(steps[i], expected_spikes[i].step) << "at " << i;
  }

  const auto ranks = std::uint64_t(comm.size());
  EXPECT_EQ(reader.read_counter_total("spikes_emitted"), ranks * (ranks + 1) / 2);
  EXPECT_EQ(reader.read_counter_total("synapse_events"), ranks * 1000000000000ull + ranks * (ranks - 1) / 2);
}

TEST(Checkpoint, MissingPartsOfTheNetworkAreErrors) {
  const communicator comm;
  const fs::path path = fresh_directory(comm, "checkpoint-lookup") / "checkpoint.h5";
  write_test_checkpoint(comm, path, test_header());
  checkpoint_reader reader(comm, path);
  const std::vector<std::uint64_t> ids = strided_share(comm, 1000);
  const auto message_of = [&](auto&& read) {
    try {
      read();
    } catch (const checkpoint_error& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  std::string message = message_of([&] { reader.read_state("L23E", 999, "V_m", ids); });
  EXPECT_NE(message.find("1000 neurons in the checkpoint but 999"), std::string::npos) << message;
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  message = message_of([&] { reader.read_state("L23E", 1000, "w", ids); });
  EXPECT_NE(message.find("has no \"w\""), std::string::npos) << message;
  message = message_of([&] { reader.read_state("L5E", 1000, "V_m", ids); });
  EXPECT_NE(message.find("no population \"L5E\""), std::string::npos) << message;
  message = message_of([&] { reader.read_refractory("L5E", 1000, ids); });
  EXPECT_NE(message.find("no population"), std::string::npos) << message;
  message = message_of([&] { reader.read_counter_total("nothing"); });
  EXPECT_NE(message.find("no counter \"nothing\""), std::string::npos) << message;
  EXPECT_THROW(reader.state_variables("L5E"), checkpoint_error);

  // Ids not increasing on one rank only: every rank refuses, none waits in the collective read.
  std::vector<std::uint64_t> unsorted = ids;
  if (comm.rank() == comm.size() - 1) std::swap(unsorted[0], unsorted[1]);
  EXPECT_THROW(reader.read_state("L23E", 1000, "V_m", unsorted), std::invalid_argument);
  std::vector<std::uint64_t> outside = ids;
  if (comm.rank() == 0) outside.push_back(1000);
  EXPECT_THROW(reader.read_state("L23E", 1000, "V_m", outside), std::invalid_argument);
  // Still usable afterwards.
  EXPECT_EQ(reader.read_state("L23E", 1000, "V_m", ids).size(), ids.size());
}

TEST(Checkpoint, WriterRefusesBadSharesOnEveryRank) {
  const communicator comm;
  const fs::path path = fresh_directory(comm, "checkpoint-refused") / "checkpoint.h5";
  {
    checkpoint_writer writer(comm, path, test_header());
    // One rank loses a node, or gives one that another rank gives too.
    node_values<double> doubled;
    doubled.node_ids = round_robin_share(comm, 100);
    if (comm.rank() == comm.size() - 1 && comm.size() > 1) {
      doubled.node_ids.pop_back();                                    // missing
      doubled.node_ids.insert(doubled.node_ids.begin(), 0);          // rank 0's too
    }
    doubled.values.assign(doubled.node_ids.size(), 1.0);
    if (comm.size() > 1) {
      EXPECT_THROW(writer.write_state("L23E", 100, "V_m", doubled), std::invalid_argument);
    }
    node_values<double> short_share;
    short_share.node_ids = round_robin_share(comm, 100);
    if (comm.rank() == 0) short_share.node_ids.pop_back();
    short_share.values.assign(short_share.node_ids.size(), 1.0);
    EXPECT_THROW(writer.write_state("L23E", 100, "V_m", short_share), std::invalid_argument);
    // Ids not increasing on the last rank only.
    node_values<double> unsorted;
    unsorted.node_ids = round_robin_share(comm, 100);
    if (comm.rank() == comm.size() - 1) std::swap(unsorted.node_ids[0], unsorted.node_ids[1]);
    unsorted.values.assign(unsorted.node_ids.size(), 1.0);
    EXPECT_THROW(writer.write_state("L23E", 100, "V_m", unsorted), std::invalid_argument);
    // Ranks that disagree on the population.
    node_values<double> good;
    good.node_ids = round_robin_share(comm, 100);
    good.values.assign(good.node_ids.size(), 1.0);
    if (comm.size() > 1) {
      EXPECT_THROW(writer.write_state(comm.rank() == 1 ? "L4E" : "L23E", 100, "V_m", good), std::invalid_argument);
    }
    writer.write_state("L23E", 100, "V_m", good);
    EXPECT_THROW(writer.write_state("L23E", 100, "V_m", good), std::invalid_argument);  // twice
    EXPECT_THROW(writer.write_state("L23E", 101, "u", good), std::invalid_argument);    // another n
    EXPECT_THROW(writer.write_state("L23E", 100, "refractory_steps", good), std::invalid_argument);
    EXPECT_THROW(writer.write_state("a/b", 100, "V_m", good), std::invalid_argument);
    const std::array<std::uint64_t, 2> gids{1, 2};
    const std::array<std::int64_t, 1> steps{3};
    EXPECT_THROW(writer.write_spikes_in_flight(gids, steps), std::invalid_argument);
    writer.write_counter("spikes", 1);
    EXPECT_THROW(writer.write_counter("spikes", 1), std::invalid_argument);
    writer.commit();
    EXPECT_THROW(writer.write_counter("late", 1), std::logic_error);
    writer.commit();  // a second commit does nothing
  }
  checkpoint_reader reader(comm, path);
  EXPECT_EQ(reader.populations(), std::vector<std::string>{"L23E"});
  EXPECT_EQ(reader.read_counter_total("spikes"), std::uint64_t(comm.size()));
  std::vector<std::uint64_t> gids;
  std::vector<std::int64_t> steps;
  reader.read_spikes_in_flight(gids, steps);  // never written: empty
  EXPECT_TRUE(gids.empty() && steps.empty());
  EXPECT_THROW(checkpoint_writer(comm, path, checkpoint_header{}), std::invalid_argument);  // dt 0
}

TEST(Checkpoint, CommitIsAtomic) {
  const communicator comm;
  const fs::path path = fresh_directory(comm, "checkpoint-atomic") / "checkpoint.h5";
  const fs::path temporary = path.string() + ".tmp";
  checkpoint_header old_header = test_header();
  old_header.step = 1;
  write_test_checkpoint(comm, path, old_header);
  EXPECT_FALSE(fs::exists(temporary));

  // Abandoned: the old checkpoint stays as it was, the temporary file goes.
  checkpoint_header new_header = test_header();
  new_header.step = 2;
  {
    checkpoint_writer writer(comm, path, new_header);
    write_contents(comm, writer);
    comm.barrier();
    EXPECT_TRUE(fs::exists(temporary));
    EXPECT_EQ(checkpoint_reader(comm, path).header().step, 1);
  }
  comm.barrier();
  EXPECT_FALSE(fs::exists(temporary));
  EXPECT_EQ(checkpoint_reader(comm, path).header().step, 1);

  // Abandoned before anything was written, where no checkpoint existed: nothing at all.
  const fs::path other = path.parent_path() / "other.h5";
  { checkpoint_writer writer(comm, other, new_header); }
  comm.barrier();
  EXPECT_FALSE(fs::exists(other));
  EXPECT_FALSE(fs::exists(other.string() + ".tmp"));

  // A stale temporary file of a killed writer is replaced; commit replaces the old checkpoint.
  if (comm.rank() == 0) std::ofstream(temporary) << "left by a killed run\n";
  comm.barrier();
  {
    checkpoint_writer writer(comm, path, new_header);
    write_contents(comm, writer);
    writer.commit();
  }
  comm.barrier();
  EXPECT_FALSE(fs::exists(temporary));
  EXPECT_EQ(checkpoint_reader(comm, path).header().step, 2);
}

// A checkpoint made with the HDF5 wrappers directly, valid or with one defect.
enum class defect {
  none,
  no_magic,
  wrong_magic,
  numeric_magic,
  future_version,
  version_as_int64,
  no_seed,
  step_as_double,
  fingerprint_as_number,
  no_counters_group,
  neurons_as_dataset,
  no_spike_steps,
  gids_as_double,
  spike_steps_two_dimensional,
  short_variable,
  refractory_as_double,
  counter_too_short,
};

void craft_checkpoint(const communicator& comm, const fs::path& path, defect flaw) {
  h5::file file = h5::file::create_parallel(path, comm);
  if (flaw == defect::numeric_magic) file.write_attribute("magic", std::uint32_t{0x0A7A});
  else if (flaw == defect::wrong_magic) file.write_attribute("magic", "sonata-report");
  else if (flaw != defect::no_magic) file.write_attribute("magic", "myelin-checkpoint");
  if (flaw == defect::version_as_int64) file.write_attribute("format_version", std::int64_t{1});
  else file.write_attribute("format_version", std::uint32_t(flaw == defect::future_version ? 2 : 1));
  if (flaw == defect::step_as_double) file.write_attribute("step", 100.0);
  else file.write_attribute("step", std::int64_t{100});
  file.write_attribute("dt_ms", 0.1);
  if (flaw != defect::no_seed) file.write_attribute("seed", std::uint64_t{7});
  if (flaw == defect::fingerprint_as_number) file.write_attribute("fingerprint", std::uint64_t{7});
  else file.write_attribute("fingerprint", "f");
  file.write_attribute("network", "n");
  file.write_attribute("ranks", std::int32_t(comm.size()));
  file.write_attribute("threads", std::int32_t{1});

  const hsize_t ten = 10;
  const hsize_t none = 0;
  const hsize_t start = 0;
  const auto one_d = [](const hsize_t& n) { return std::span<const hsize_t>(&n, 1); };
  if (flaw == defect::neurons_as_dataset) {
    file.create_fixed_dataset<double>("neurons", one_d(ten)).close();
  } else {
    h5::group neurons = file.create_group("neurons");
    h5::group population = neurons.create_group("L23E");
    h5::dataset v = population.create_fixed_dataset<double>("V_m", one_d(ten));
    std::vector<double> values(comm.rank() == 0 ? 10 : 0);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = -70.0 + double(i);
    const hsize_t count = values.size();
    v.write_collective(std::span<const double>(values), one_d(start), one_d(count));
    const hsize_t u_length = flaw == defect::short_variable ? 9 : 10;
    population.create_fixed_dataset<double>("u", one_d(u_length)).close();
    if (flaw == defect::refractory_as_double) population.create_fixed_dataset<double>("refractory_steps", one_d(ten)).close();
    else population.create_fixed_dataset<std::int32_t>("refractory_steps", one_d(ten)).close();
  }
  h5::group spikes = file.create_group("spikes_in_flight");
  if (flaw == defect::gids_as_double) spikes.create_fixed_dataset<double>("gid", one_d(none)).close();
  else spikes.create_fixed_dataset<std::uint64_t>("gid", one_d(none)).close();
  if (flaw == defect::spike_steps_two_dimensional) {
    const std::array<hsize_t, 2> shape{0, 2};
    spikes.create_fixed_dataset<std::int64_t>("step", shape).close();
  } else if (flaw != defect::no_spike_steps) {
    spikes.create_fixed_dataset<std::int64_t>("step", one_d(none)).close();
  }
  if (flaw != defect::no_counters_group) {
    h5::group counters = file.create_group("counters");
    const hsize_t length = hsize_t(comm.size()) - (flaw == defect::counter_too_short ? 1 : 0);
    counters.create_fixed_dataset<std::uint64_t>("spikes", one_d(length)).close();
  }
}

TEST(Checkpoint, BadFilesAreRefusedOnEveryRankWithOneLine) {
  const communicator comm;
  const fs::path directory = fresh_directory(comm, "checkpoint-bad");

  expect_refused(comm, directory / "nothing-here.h5", "no such file");

  const fs::path text = directory / "notes.h5";
  if (comm.rank() == 0) std::ofstream(text) << "step = 100\nthis is not a checkpoint\n";
  comm.barrier();
  expect_refused(comm, text, "not an HDF5 file");

  const fs::path empty = directory / "empty.h5";
  if (comm.rank() == 0) std::ofstream{empty};
  comm.barrier();
  expect_refused(comm, empty, "empty file");

  expect_refused(comm, directory, "not a regular file");

  // The first half of a real checkpoint, as a copy cut short by a full disk or a kill; and other
  // cuts, down to one byte short.
  const fs::path real = directory / "real.h5";
  write_test_checkpoint(comm, real, test_header());
  std::uint64_t real_size = comm.rank() == 0 ? fs::file_size(real) : 0;
  real_size = comm.allreduce_sum(real_size);
  ASSERT_GT(real_size, 10000u);
  for (const std::uint64_t kept : {real_size / 2, real_size / 8, real_size * 7 / 8, real_size - 1}) {
    const fs::path truncated = directory / ("truncated-" + std::to_string(kept) + ".h5");
    if (comm.rank() == 0) {
      std::ifstream in(real, std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::ofstream(truncated, std::ios::binary) << bytes.substr(0, kept);
    }
    comm.barrier();
    expect_refused(comm, truncated, "truncated or damaged HDF5 file");
  }

  // A bit flipped in the file's structure: the checkpoint format has checksummed metadata. One
  // in the superblock (the root group's address), one in the first object header after it.
  const auto flipped_copy = [&](const std::string& name, auto&& position_of) -> fs::path {
    const fs::path flipped = directory / name;
    if (comm.rank() == 0) {
      std::ifstream in(real, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      const std::size_t at = std::min(position_of(bytes), bytes.size() - 1);
      bytes[at] = char(bytes[at] ^ 0x10);
      std::ofstream(flipped, std::ios::binary) << bytes;
    }
    comm.barrier();
    return flipped;
  };
  expect_refused(comm, flipped_copy("flipped-superblock.h5", [](const std::string&) { return std::size_t(40); }),
                 "damaged");
  expect_refused(comm, flipped_copy("flipped-object-header.h5",
                                    [](const std::string& bytes) { return bytes.find("OHDR", 48) + 20; }),
                 "damaged");

  // The crafted file is good without a defect (so that each defect below is what is refused).
  const fs::path good = directory / "crafted-good.h5";
  craft_checkpoint(comm, good, defect::none);
  {
    checkpoint_reader reader(comm, good);
    EXPECT_EQ(reader.header().step, 100);
    const std::vector<std::uint64_t> ids{0, 4, 9};
    EXPECT_EQ(reader.read_state("L23E", 10, "V_m", ids), (std::vector<double>{-70.0, -66.0, -61.0}));
  }

  const struct {
    defect flaw;
    std::string fragment;
  } cases[] = {
      {defect::no_magic, "not a myelin checkpoint (no attribute magic)"},
      {defect::wrong_magic, "not a myelin checkpoint (magic is \"sonata-report\")"},
      {defect::numeric_magic, "attribute magic is not a string"},
      {defect::future_version, "checkpoint format version 2, this myelin reads version 1"},
      {defect::version_as_int64, "attribute format_version is not uint32"},
      {defect::no_seed, "attribute seed missing"},
      {defect::step_as_double, "attribute step is not int64"},
      {defect::fingerprint_as_number, "attribute fingerprint is not a string"},
      {defect::no_counters_group, "group /counters missing"},
      {defect::neurons_as_dataset, "/neurons is not a group"},
      {defect::no_spike_steps, "dataset /spikes_in_flight/step missing"},
      {defect::gids_as_double, "dataset /spikes_in_flight/gid is not uint64"},
      {defect::spike_steps_two_dimensional, "/spikes_in_flight/step is not one-dimensional"},
      {defect::short_variable, "/neurons/L23E/u has 9 elements but /neurons/L23E/V_m has 10"},
      {defect::refractory_as_double, "/neurons/L23E/refractory_steps is not int32"},
      {defect::counter_too_short, "/counters/spikes has " + std::to_string(comm.size() - 1) + " elements"},
  };
  int index = 0;
  for (const auto& [flaw, fragment] : cases) {
    const fs::path path = directory / ("crafted-" + std::to_string(index++) + ".h5");
    craft_checkpoint(comm, path, flaw);
    expect_refused(comm, path, fragment);
  }
}

TEST(Checkpoint, RotationKeepsTheNewestAndPointsLatestAtIt) {
  const communicator comm;
  const fs::path directory = fresh_directory(comm, "checkpoint-rotation");
  EXPECT_EQ(checkpoint_file_name(1000), "checkpoint-000000001000.h5");
  EXPECT_EQ(checkpoint_file_name(0), "checkpoint-000000000000.h5");
  EXPECT_THROW(checkpoint_file_name(-1), std::invalid_argument);

  const fs::path latest = directory / "latest.h5";
  const auto checkpoint_at = [&](std::int64_t step) {
    checkpoint_header header = test_header();
    header.step = step;
    checkpoint_writer writer(comm, directory / checkpoint_file_name(step), header);
    writer.commit();
    if (comm.rank() == 0) rotate_checkpoints(directory, 2);
    comm.barrier();
  };
  if (comm.rank() == 0) {
    std::ofstream(directory / "notes.txt") << "not a checkpoint\n";
    std::ofstream(directory / "checkpoint-12.h5") << "too few digits: not one of ours\n";
  }
  comm.barrier();
  // Steps out of order: the newest is the largest step, not the last written.
  for (const std::int64_t step : {300, 100, 200, 500, 400}) checkpoint_at(step);

  const auto names = [&] {
    std::vector<std::string> found;
    for (const fs::directory_entry& entry : fs::directory_iterator(directory)) found.push_back(entry.path().filename());
    std::sort(found.begin(), found.end());
    return found;
  };
  EXPECT_EQ(names(), (std::vector<std::string>{"checkpoint-000000000400.h5", "checkpoint-000000000500.h5",
                                               "checkpoint-12.h5", "latest.h5", "notes.txt"}));
  EXPECT_TRUE(fs::is_symlink(latest));
  EXPECT_EQ(fs::read_symlink(latest), fs::path("checkpoint-000000000500.h5"));  // relative: the directory can move
  EXPECT_EQ(checkpoint_reader(comm, latest).header().step, 500);

  checkpoint_at(10000000000000);  // 13 digits: still sorts by step
  EXPECT_EQ(names(), (std::vector<std::string>{"checkpoint-000000000500.h5", "checkpoint-10000000000000.h5",
                                               "checkpoint-12.h5", "latest.h5", "notes.txt"}));
  EXPECT_EQ(fs::read_symlink(latest), fs::path("checkpoint-10000000000000.h5"));
  EXPECT_EQ(checkpoint_reader(comm, latest).header().step, 10000000000000);

  if (comm.rank() == 0) {
    EXPECT_THROW(rotate_checkpoints(directory, 0), std::invalid_argument);
    rotate_checkpoints(directory, 1);
    EXPECT_EQ(names(), (std::vector<std::string>{"checkpoint-10000000000000.h5", "checkpoint-12.h5", "latest.h5",
                                                 "notes.txt"}));
    // latest.h5 as a real file is somebody else's: not replaced.
    fs::remove(latest);
    std::ofstream(latest) << "a user's file\n";
    EXPECT_THROW(rotate_checkpoints(directory, 1), io_error);
    EXPECT_FALSE(fs::is_symlink(latest));
  }
  comm.barrier();
}

}  // namespace
}  // namespace myelin
