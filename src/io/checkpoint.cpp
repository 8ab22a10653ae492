#include "myelin/io/checkpoint.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <string_view>
#include <system_error>
#include <utility>

#include "myelin/io/hdf5.hpp"

namespace myelin {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view checkpoint_magic = "myelin-checkpoint";
constexpr std::uint32_t checkpoint_format_version = 1;
constexpr std::string_view refractory_variable = "refractory_steps";
constexpr std::string_view checkpoint_prefix = "checkpoint-";
constexpr std::string_view checkpoint_suffix = ".h5";
constexpr std::size_t checkpoint_step_digits = 12;
constexpr std::string_view latest_link_name = "latest.h5";

// A name that is one link of an HDF5 path.
bool is_plain_name(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos && name != "." && name != "..";
}

// For messages: text from a file, on one line and not too long.
std::string printable_quote(std::string_view text) {
  std::string out = "\"";
  for (const char c : text.substr(0, 40)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (text.size() > 40) out += "...";
  return out + "\"";
}

// An io_error's text without its leading "<file>: " (the caller names the file itself).
std::string reason_of(const io_error& error, const std::string& file_name) {
  std::string_view text = error.what();
  if (text.starts_with(file_name + ": ")) text.remove_prefix(file_name.size() + 2);
  return std::string(text);
}

// Makes what was written to `path` (a file or a directory's entries) durable; "" or the problem.
std::string sync_to_disk(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return path.string() + ": cannot open to sync (" + std::strerror(errno) + ")";
  std::string problem;
  if (::fsync(fd) != 0) problem = path.string() + ": cannot sync (" + std::strerror(errno) + ")";
  ::close(fd);
  return problem;
}

fs::path directory_of(const fs::path& path) {
  return path.has_parent_path() ? path.parent_path() : fs::path(".");
}

template <h5::element T>
constexpr const char* type_name() {
  if constexpr (std::is_same_v<T, std::uint8_t>) return "uint8";
  else if constexpr (std::is_same_v<T, std::uint32_t>) return "uint32";
  else if constexpr (std::is_same_v<T, std::uint64_t>) return "uint64";
  else if constexpr (std::is_same_v<T, std::int32_t>) return "int32";
  else if constexpr (std::is_same_v<T, std::int64_t>) return "int64";
  else if constexpr (std::is_same_v<T, float>) return "float32";
  else return "float64";
}

// "" when node_ids are strictly increasing and below n, else what is wrong.
std::string check_node_ids(std::span<const std::uint64_t> node_ids, std::uint64_t n) {
  for (std::size_t i = 1; i < node_ids.size(); ++i)
    if (node_ids[i] <= node_ids[i - 1])
      return "node ids not strictly increasing at position " + std::to_string(i);
  if (!node_ids.empty() && node_ids.back() >= n)
    return "node id " + std::to_string(node_ids.back()) + " outside a population of " + std::to_string(n);
  return {};
}

// A population's nodes in contiguous blocks, one per rank in rank order. Each rank writes and
// reads only its block, as one contiguous piece of the file; the values travel between the
// ranks' round-robin shares and the blocks by all-to-all. Interleaved element-wise file access
// instead is slow in MPI-IO (Open MPI's OMPIO issues a write call per few elements) and on
// parallel file systems.
class block_partition {
 public:
  block_partition(std::uint64_t n, int ranks)
      : n_(n), per_rank_(std::max<std::uint64_t>(1, n / std::uint64_t(ranks) + (n % std::uint64_t(ranks) != 0))) {}

  std::uint64_t begin(int rank) const { return std::min(n_, std::uint64_t(rank) * per_rank_); }
  std::uint64_t size(int rank) const { return begin(rank + 1) - begin(rank); }
  // Whether sorted, unique `ids` are exactly the rank's block.
  bool is_block_of(int rank, std::span<const std::uint64_t> ids) const {
    return ids.size() == size(rank) && (ids.empty() || (ids.front() == begin(rank) && ids.back() == begin(rank + 1) - 1));
  }
  // How many of `ids` (each below n) fall into each rank's block.
  std::vector<std::int64_t> counts_by_owner(std::span<const std::uint64_t> ids, int ranks) const {
    std::vector<std::int64_t> counts(std::size_t(ranks), 0);
    for (const std::uint64_t id : ids) ++counts[std::size_t(id / per_rank_)];
    return counts;
  }

 private:
  std::uint64_t n_;
  std::uint64_t per_rank_;
};

struct spike_in_flight {
  std::int64_t step;
  std::uint64_t gid;
};

// --- what rank 0 learns when it validates a checkpoint, sent to the others in one broadcast ---

struct checkpoint_catalogue {
  struct population {
    std::string name;
    std::uint64_t n = 0;
    std::vector<std::string> variables;  // state variables, without the refractory counts
    bool has_refractory = false;
  };
  checkpoint_header header;
  std::vector<population> populations;  // by name
  std::uint64_t spikes_in_flight = 0;
  std::vector<std::string> counters;
  struct column {
    std::string table, name;
    std::uint8_t type = 0;  // column_type_of<T>()
    std::uint64_t length = 0;
  };
  std::vector<column> plasticity;
};

// The element types of plasticity columns, as one byte in the catalogue.
template <class T>
constexpr std::uint8_t column_type_of() {
  if constexpr (std::is_same_v<T, std::uint32_t>) return 1;
  else if constexpr (std::is_same_v<T, std::uint64_t>) return 2;
  else if constexpr (std::is_same_v<T, std::int64_t>) return 3;
  else if constexpr (std::is_same_v<T, double>) return 4;
  else static_assert(!sizeof(T), "plasticity columns hold uint32, uint64, int64 or double");
}

class byte_packer {
 public:
  template <class T>
  void put(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    bytes_.append(reinterpret_cast<const char*>(&value), sizeof value);
  }
  void put(const std::string& text) {
    put(std::uint64_t(text.size()));
    bytes_ += text;
  }
  std::string take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

class byte_unpacker {
 public:
  explicit byte_unpacker(std::string_view bytes) : rest_(bytes) {}
  template <class T>
  void get(T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    take_bytes(&value, sizeof value);
  }
  void get(std::string& text) {
    std::uint64_t size = 0;
    get(size);
    if (size > rest_.size()) throw std::logic_error("checkpoint catalogue: short message");
    text.assign(rest_.substr(0, size));
    rest_.remove_prefix(size);
  }

 private:
  void take_bytes(void* to, std::size_t n) {
    if (n > rest_.size()) throw std::logic_error("checkpoint catalogue: short message");
    std::memcpy(to, rest_.data(), n);
    rest_.remove_prefix(n);
  }
  std::string_view rest_;
};

std::string pack(const checkpoint_catalogue& catalogue) {
  byte_packer out;
  const checkpoint_header& header = catalogue.header;
  out.put(header.step);
  out.put(header.dt_ms);
  out.put(header.seed);
  out.put(header.fingerprint);
  out.put(header.network);
  out.put(header.ranks);
  out.put(header.threads);
  out.put(std::uint64_t(catalogue.populations.size()));
  for (const checkpoint_catalogue::population& population : catalogue.populations) {
    out.put(population.name);
    out.put(population.n);
    out.put(std::uint8_t(population.has_refractory));
    out.put(std::uint64_t(population.variables.size()));
    for (const std::string& variable : population.variables) out.put(variable);
  }
  out.put(catalogue.spikes_in_flight);
  out.put(std::uint64_t(catalogue.counters.size()));
  for (const std::string& counter : catalogue.counters) out.put(counter);
  out.put(std::uint64_t(catalogue.plasticity.size()));
  for (const auto& column : catalogue.plasticity) {
    out.put(column.table);
    out.put(column.name);
    out.put(column.type);
    out.put(column.length);
  }
  return out.take();
}

checkpoint_catalogue unpack(std::string_view bytes) {
  byte_unpacker in(bytes);
  checkpoint_catalogue catalogue;
  checkpoint_header& header = catalogue.header;
  in.get(header.step);
  in.get(header.dt_ms);
  in.get(header.seed);
  in.get(header.fingerprint);
  in.get(header.network);
  in.get(header.ranks);
  in.get(header.threads);
  std::uint64_t n_populations = 0;
  in.get(n_populations);
  catalogue.populations.resize(n_populations);
  for (checkpoint_catalogue::population& population : catalogue.populations) {
    in.get(population.name);
    in.get(population.n);
    std::uint8_t has_refractory = 0;
    in.get(has_refractory);
    population.has_refractory = has_refractory != 0;
    std::uint64_t n_variables = 0;
    in.get(n_variables);
    population.variables.resize(n_variables);
    for (std::string& variable : population.variables) in.get(variable);
  }
  in.get(catalogue.spikes_in_flight);
  std::uint64_t n_counters = 0;
  in.get(n_counters);
  catalogue.counters.resize(n_counters);
  for (std::string& counter : catalogue.counters) in.get(counter);
  std::uint64_t n_columns = 0;
  in.get(n_columns);
  catalogue.plasticity.resize(n_columns);
  for (auto& column : catalogue.plasticity) {
    in.get(column.table);
    in.get(column.name);
    in.get(column.type);
    in.get(column.length);
  }
  return catalogue;
}

// --- validation (rank 0, plain local HDF5): every problem is a checkpoint_error of one line ---

class checkpoint_inspector {
 public:
  explicit checkpoint_inspector(fs::path path) : path_(std::move(path)), name_(path_.string()) {}

  checkpoint_catalogue inspect() {
    std::error_code error;
    const fs::file_status status = fs::status(path_, error);
    if (!fs::exists(status)) fail("no such file");
    if (!fs::is_regular_file(status)) fail("not a regular file");
    const std::uintmax_t size = fs::file_size(path_, error);
    if (size == 0) fail("empty file, not a checkpoint");
    if (!h5::is_hdf5_file(path_)) fail("not an HDF5 file, not a checkpoint");
    h5::file file = open();
    try {
      return inspect(file);
    } catch (const io_error& failure) {
      // HDF5 found the structure damaged while reading it.
      fail("damaged checkpoint (" + reason_of(failure, name_) + ")");
    }
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const { throw checkpoint_error(name_ + ": " + problem); }

  h5::file open() const {
    try {
      return h5::file::open_read_only(path_);
    } catch (const io_error& failure) {
      // An HDF5 signature but no readable file: typically cut short ("truncated file: eof = ...").
      fail("truncated or damaged HDF5 file (" + reason_of(failure, name_) + ")");
    }
  }

  checkpoint_catalogue inspect(const h5::file& file) const {
    if (!file.has_attribute("magic")) fail("not a myelin checkpoint (no attribute magic)");
    if (!file.attribute_is_string("magic")) fail("not a myelin checkpoint (attribute magic is not a string)");
    const std::string magic = file.read_string_attribute("magic");
    if (magic != checkpoint_magic) fail("not a myelin checkpoint (magic is " + printable_quote(magic) + ")");
    const auto version = scalar_attribute<std::uint32_t>(file, "format_version");
    if (version != checkpoint_format_version)
      fail("checkpoint format version " + std::to_string(version) + ", this myelin reads version " +
           std::to_string(checkpoint_format_version));

    checkpoint_catalogue catalogue;
    checkpoint_header& header = catalogue.header;
    header.step = scalar_attribute<std::int64_t>(file, "step");
    header.dt_ms = scalar_attribute<double>(file, "dt_ms");
    header.seed = scalar_attribute<std::uint64_t>(file, "seed");
    header.fingerprint = string_attribute(file, "fingerprint");
    header.network = string_attribute(file, "network");
    header.ranks = scalar_attribute<std::int32_t>(file, "ranks");
    header.threads = scalar_attribute<std::int32_t>(file, "threads");
    if (header.step < 0) fail("attribute step is " + std::to_string(header.step) + ", negative");
    if (!(header.dt_ms > 0.0) || !std::isfinite(header.dt_ms)) fail("attribute dt_ms is not a positive time step");
    if (header.ranks < 1 || header.threads < 1) fail("attributes ranks and threads must be positive");

    const h5::group neurons = required_group(file, "neurons");
    for (const std::string& name : neurons.member_names()) catalogue.populations.push_back(inspect_population(neurons, name));

    const h5::group spikes = required_group(file, "spikes_in_flight");
    const std::uint64_t n_gids = vector_length<std::uint64_t>(spikes, "gid");
    const std::uint64_t n_steps = vector_length<std::int64_t>(spikes, "step");
    if (n_gids != n_steps)
      fail("/spikes_in_flight has " + std::to_string(n_gids) + " gids but " + std::to_string(n_steps) + " steps");
    catalogue.spikes_in_flight = n_gids;

    const h5::group counters = required_group(file, "counters");
    for (const std::string& name : counters.member_names()) {
      const std::uint64_t length = vector_length<std::uint64_t>(counters, name);
      if (length != std::uint64_t(header.ranks))
        fail(counters.path() + "/" + name + " has " + std::to_string(length) + " elements for " +
             std::to_string(header.ranks) + " ranks");
      catalogue.counters.push_back(name);
    }

    if (file.kind_of("plasticity") != h5::member_kind::missing) {
      const h5::group plasticity = required_group(file, "plasticity");
      for (const std::string& table : plasticity.member_names()) {
        if (plasticity.kind_of(table) != h5::member_kind::group) fail("/plasticity/" + table + " is not a group");
        const h5::group group = plasticity.open_group(table);
        for (const std::string& name : group.member_names()) catalogue.plasticity.push_back(inspect_column(group, table, name));
      }
    }
    return catalogue;
  }

  checkpoint_catalogue::column inspect_column(const h5::group& group, const std::string& table,
                                              const std::string& name) const {
    const std::string where = group.path() + "/" + name;
    if (group.kind_of(name) != h5::member_kind::dataset) fail(where + " is not a dataset");
    const h5::dataset data = group.open_dataset(name);
    checkpoint_catalogue::column column{table, name, 0, 0};
    if (data.holds<std::uint32_t>()) column.type = column_type_of<std::uint32_t>();
    else if (data.holds<std::uint64_t>()) column.type = column_type_of<std::uint64_t>();
    else if (data.holds<std::int64_t>()) column.type = column_type_of<std::int64_t>();
    else if (data.holds<double>()) column.type = column_type_of<double>();
    else fail("dataset " + where + " is not uint32, uint64, int64 or float64");
    const std::vector<hsize_t> dims = data.dims();
    if (dims.size() != 1) fail("dataset " + where + " is not one-dimensional");
    column.length = dims[0];
    return column;
  }

  checkpoint_catalogue::population inspect_population(const h5::group& neurons, const std::string& name) const {
    if (neurons.kind_of(name) != h5::member_kind::group) fail("/neurons/" + name + " is not a group");
    const h5::group group = neurons.open_group(name);
    checkpoint_catalogue::population population;
    population.name = name;
    std::optional<std::uint64_t> n;
    std::string first_variable;
    for (const std::string& variable : group.member_names()) {
      const bool refractory = variable == refractory_variable;
      const std::uint64_t length =
          refractory ? vector_length<std::int32_t>(group, variable) : vector_length<double>(group, variable);
      if (!n) {
        n = length;
        first_variable = variable;
      } else if (length != *n) {
        fail(group.path() + "/" + variable + " has " + std::to_string(length) + " elements but " + group.path() +
             "/" + first_variable + " has " + std::to_string(*n));
      }
      if (refractory) population.has_refractory = true;
      else population.variables.push_back(variable);
    }
    if (!n) fail(group.path() + " holds no state");
    population.n = *n;
    return population;
  }

  h5::group required_group(const h5::location& parent, const std::string& name) const {
    const h5::member_kind kind = parent.kind_of(name);
    if (kind == h5::member_kind::missing) fail("not a complete checkpoint (group /" + name + " missing)");
    if (kind != h5::member_kind::group) fail("/" + name + " is not a group");
    return parent.open_group(name);
  }

  // The length of a 1-D dataset of T; fails for anything else.
  template <h5::element T>
  std::uint64_t vector_length(const h5::location& parent, const std::string& name) const {
    const std::string where = (parent.path() == "/" ? "" : parent.path()) + "/" + name;
    const h5::member_kind kind = parent.kind_of(name);
    if (kind == h5::member_kind::missing) fail("not a complete checkpoint (dataset " + where + " missing)");
    if (kind != h5::member_kind::dataset) fail(where + " is not a dataset");
    const h5::dataset data = parent.open_dataset(name);
    if (!data.holds<T>()) fail("dataset " + where + " is not " + type_name<T>());
    const std::vector<hsize_t> dims = data.dims();
    if (dims.size() != 1) fail("dataset " + where + " is not one-dimensional");
    return dims[0];
  }

  template <h5::element T>
  T scalar_attribute(const h5::file& file, const std::string& name) const {
    if (!file.has_attribute(name)) fail("not a complete checkpoint (attribute " + name + " missing)");
    if (!file.attribute_holds<T>(name)) fail(std::string("attribute ") + name + " is not " + type_name<T>());
    const std::vector<T> values = file.read_attribute<T>(name);
    if (values.size() != 1) fail("attribute " + name + " is not a single value");
    return values[0];
  }

  std::string string_attribute(const h5::file& file, const std::string& name) const {
    if (!file.has_attribute(name)) fail("not a complete checkpoint (attribute " + name + " missing)");
    if (!file.attribute_is_string(name)) fail("attribute " + name + " is not a string");
    return file.read_string_attribute(name);
  }

  fs::path path_;
  std::string name_;
};

// Removes the temporary file of a checkpoint that was not committed. A member of the writer
// declared before the file, so that it runs after the file's handles are closed, also when the
// writer's constructor fails halfway.
class uncommitted_file_remover {
 public:
  uncommitted_file_remover(fs::path path, bool remover) : path_(std::move(path)), remover_(remover) {}
  uncommitted_file_remover(const uncommitted_file_remover&) = delete;
  uncommitted_file_remover& operator=(const uncommitted_file_remover&) = delete;
  ~uncommitted_file_remover() {
    if (!remover_ || committed_) return;
    std::error_code ignored;
    fs::remove(path_, ignored);
  }
  void committed() { committed_ = true; }

 private:
  fs::path path_;
  bool remover_;
  bool committed_ = false;
};

void validate_header(const checkpoint_header& header, const fs::path& path) {
  const auto refuse = [&](const std::string& problem) {
    throw std::invalid_argument("checkpoint " + path.string() + ": " + problem);
  };
  if (header.step < 0) refuse("negative step");
  if (!(header.dt_ms > 0.0) || !std::isfinite(header.dt_ms)) refuse("dt must be positive");
  if (header.threads < 1) refuse("threads must be positive");
}

}  // namespace

// --- writer ---

struct checkpoint_writer::impl {
  struct population_entry {
    std::uint64_t n;
    h5::group group;
    std::set<std::string> variables;  // written so far, refractory_steps included
  };

  communicator comm;
  fs::path final_path;
  fs::path temporary_path;
  // Declaration order is destruction order reversed: groups close before the file, the file
  // before the remover runs.
  uncommitted_file_remover remover;
  h5::file file;
  h5::group neurons;
  h5::group spikes_in_flight;
  h5::group counters;
  std::map<std::string, population_entry> populations;
  std::set<std::string> counter_names;
  std::optional<h5::group> plasticity;
  std::map<std::string, h5::group> plasticity_tables;
  std::set<std::string> plasticity_columns;  // "table/column" written so far
  bool spikes_written = false;
  bool committed = false;

  impl(const communicator& comm_, fs::path path, const checkpoint_header& header)
      : comm(comm_),
        final_path(std::move(path)),
        temporary_path(final_path.string() + ".tmp"),
        remover(temporary_path, comm.rank() == 0),
        file(create_file(header)),
        neurons(file.create_group("neurons")),
        spikes_in_flight(file.create_group("spikes_in_flight")),
        counters(file.create_group("counters")) {
    file.write_attribute("magic", checkpoint_magic);
    file.write_attribute("format_version", checkpoint_format_version);
    file.write_attribute("step", header.step);
    file.write_attribute("dt_ms", header.dt_ms);
    file.write_attribute("seed", header.seed);
    file.write_attribute("fingerprint", std::string_view(header.fingerprint));
    file.write_attribute("network", std::string_view(header.network));
    // The decomposition that wrote the file: counters have one element per rank of it.
    file.write_attribute("ranks", std::int32_t(comm.size()));
    file.write_attribute("threads", std::int32_t(header.threads));
  }

  h5::file create_file(const checkpoint_header& header) {
    validate_header(header, final_path);
    // The checksummed format: damage to the file's structure is found when it is read back.
    return h5::file::create_parallel(temporary_path, comm, h5::file_format::checksummed);
  }

  std::string where(const std::string& object) const { return temporary_path.string() + ": " + object; }

  void refuse_after_commit(const std::string& operation) const {
    if (committed) throw std::logic_error("checkpoint " + final_path.string() + ": " + operation + " after commit()");
  }

  // Throws std::invalid_argument on every rank when any rank has a problem, so that none goes on
  // alone into a collective call.
  void agree(const std::string& problem, const std::string& object) const {
    if (comm.any(!problem.empty()))
      throw std::invalid_argument(where(object) + ": " + (problem.empty() ? "bad arguments on another rank" : problem));
  }

  // As agree(), and every rank must pass the same `signature` (the collective call's shared
  // arguments) as rank 0.
  void agree(const std::string& signature, std::string problem, const std::string& object) const {
    if (comm.broadcast(signature) != signature && problem.empty())
      problem = "the ranks disagree on the arguments (rank " + std::to_string(comm.rank()) + " differs from rank 0)";
    agree(problem, object);
  }

  population_entry& population_of(const std::string& population, std::uint64_t n) {
    auto found = populations.find(population);
    if (found == populations.end())
      found = populations.emplace(population, population_entry{n, neurons.create_group(population), {}}).first;
    return found->second;
  }

  template <h5::element T>
  void write_values(const std::string& population, std::uint64_t n, const std::string& variable,
                    const node_values<T>& local) {
    refuse_after_commit("write " + population + "/" + variable);
    const std::string object = "/neurons/" + population + "/" + variable;
    std::string problem;
    if (!is_plain_name(population) || !is_plain_name(variable)) {
      problem = "bad population or variable name";
    } else if (const auto known = populations.find(population); known != populations.end()) {
      if (known->second.n != n)
        problem = "population size " + std::to_string(n) + ", earlier " + std::to_string(known->second.n);
      else if (known->second.variables.contains(variable))
        problem = "written twice";
    }
    if (problem.empty() && local.values.size() != local.node_ids.size())
      problem = std::to_string(local.values.size()) + " values for " + std::to_string(local.node_ids.size()) +
                " node ids";
    if (problem.empty()) problem = check_node_ids(local.node_ids, n);
    agree(population + '/' + variable + '/' + std::to_string(n), problem, object);

    // Every value to the rank whose block holds it (see block_partition), which checks that each
    // node of its block came exactly once; unless every rank holds its own block already.
    const block_partition blocks(n, comm.size());
    const std::uint64_t first = blocks.begin(comm.rank());
    std::vector<T> gathered;
    std::span<const T> block = local.values;
    if (comm.any(!blocks.is_block_of(comm.rank(), local.node_ids))) {
      const std::vector<std::int64_t> send_counts = blocks.counts_by_owner(local.node_ids, comm.size());
      std::vector<std::int64_t> receive_counts;
      const std::vector<std::uint64_t> ids = comm.alltoallv<std::uint64_t>(local.node_ids, send_counts, receive_counts);
      const std::vector<T> values = comm.alltoallv<T>(local.values, send_counts, receive_counts);
      gathered.resize(blocks.size(comm.rank()));
      std::vector<std::uint8_t> given(gathered.size(), 0);
      for (std::size_t i = 0; i < ids.size() && problem.empty(); ++i) {
        const std::uint64_t at = ids[i] - first;
        if (given[at] != 0) problem = "node " + std::to_string(ids[i]) + " given by two ranks";
        given[at] = 1;
        gathered[at] = values[i];
      }
      if (const auto missing = std::find(given.begin(), given.end(), 0); problem.empty() && missing != given.end())
        problem = "node " + std::to_string(first + std::uint64_t(missing - given.begin())) + " given by no rank";
      agree(problem, object);
      block = gathered;
    }

    population_entry& entry = population_of(population, n);
    const hsize_t length = n;
    h5::dataset data = entry.group.create_fixed_dataset<T>(variable, std::span<const hsize_t>(&length, 1));
    const hsize_t start = first;
    const hsize_t count = block.size();
    data.write_collective(block, std::span<const hsize_t>(&start, 1), std::span<const hsize_t>(&count, 1));
    data.close();
    entry.variables.insert(variable);
  }

  void write_spikes(std::span<const std::uint64_t> gids, std::span<const std::int64_t> steps) {
    refuse_after_commit("write spikes in flight");
    std::string problem;
    if (spikes_written) problem = "written twice";
    else if (gids.size() != steps.size())
      problem = std::to_string(gids.size()) + " gids but " + std::to_string(steps.size()) + " steps";
    agree("spikes_in_flight", problem, "/spikes_in_flight");
    spikes_written = true;

    // Each rank sorts one block of steps (all their spikes), the blocks in rank order, so that
    // the file is sorted by (step, gid) whatever the decomposition.
    std::int64_t local_first = std::numeric_limits<std::int64_t>::max();
    std::int64_t local_last = std::numeric_limits<std::int64_t>::min();
    for (const std::int64_t step : steps) {
      local_first = std::min(local_first, step);
      local_last = std::max(local_last, step);
    }
    const std::int64_t first_step = -comm.allreduce_max(-local_first);  // -max is representable
    const std::int64_t last_step = comm.allreduce_max(local_last);
    std::vector<spike_in_flight> owned;
    if (first_step <= last_step) {
      const auto ranks = std::uint64_t(comm.size());
      const std::uint64_t span_of_steps = std::uint64_t(last_step) - std::uint64_t(first_step) + 1;
      const std::uint64_t steps_per_rank = span_of_steps / ranks + (span_of_steps % ranks != 0 ? 1 : 0);
      const auto owner = [&](std::int64_t step) {
        return std::size_t((std::uint64_t(step) - std::uint64_t(first_step)) / steps_per_rank);
      };
      std::vector<std::int64_t> send_counts(ranks, 0);
      for (const std::int64_t step : steps) ++send_counts[owner(step)];
      std::vector<std::size_t> next(ranks, 0);
      std::exclusive_scan(send_counts.begin(), send_counts.end(), next.begin(), std::size_t(0));
      std::vector<spike_in_flight> send(gids.size());
      for (std::size_t i = 0; i < gids.size(); ++i) send[next[owner(steps[i])]++] = {steps[i], gids[i]};
      std::vector<std::int64_t> receive_counts;
      owned = comm.alltoallv<spike_in_flight>(send, send_counts, receive_counts);
      std::sort(owned.begin(), owned.end(), [](const spike_in_flight& a, const spike_in_flight& b) {
        return a.step != b.step ? a.step < b.step : a.gid < b.gid;
      });
    }

    const std::uint64_t count = owned.size();
    const std::uint64_t offset = comm.exscan_sum(std::span<const std::uint64_t>(&count, 1))[0];
    const hsize_t total = comm.allreduce_sum(count);
    std::vector<std::uint64_t> sorted_gids(owned.size());
    std::vector<std::int64_t> sorted_steps(owned.size());
    for (std::size_t i = 0; i < owned.size(); ++i) {
      sorted_gids[i] = owned[i].gid;
      sorted_steps[i] = owned[i].step;
    }
    const hsize_t start = offset;
    const hsize_t block = count;
    h5::dataset gid_data = spikes_in_flight.create_fixed_dataset<std::uint64_t>("gid", std::span<const hsize_t>(&total, 1));
    gid_data.write_collective(std::span<const std::uint64_t>(sorted_gids), std::span<const hsize_t>(&start, 1),
                              std::span<const hsize_t>(&block, 1));
    gid_data.close();
    h5::dataset step_data = spikes_in_flight.create_fixed_dataset<std::int64_t>("step", std::span<const hsize_t>(&total, 1));
    step_data.write_collective(std::span<const std::int64_t>(sorted_steps), std::span<const hsize_t>(&start, 1),
                               std::span<const hsize_t>(&block, 1));
    step_data.close();
  }

  void write_counter(const std::string& name, std::uint64_t local_value) {
    refuse_after_commit("write counter " + name);
    std::string problem;
    if (!is_plain_name(name)) problem = "bad counter name";
    else if (counter_names.contains(name)) problem = "written twice";
    agree("counter/" + name, problem, "/counters/" + name);
    const hsize_t ranks = hsize_t(comm.size());
    h5::dataset data = counters.create_fixed_dataset<std::uint64_t>(name, std::span<const hsize_t>(&ranks, 1));
    const hsize_t start = hsize_t(comm.rank());
    const hsize_t one = 1;
    data.write_collective(std::span<const std::uint64_t>(&local_value, 1), std::span<const hsize_t>(&start, 1),
                          std::span<const hsize_t>(&one, 1));
    data.close();
    counter_names.insert(name);
  }

  template <h5::element T>
  void write_column(const std::string& table, const std::string& column, std::uint64_t total, std::uint64_t offset,
                    std::span<const T> values) {
    refuse_after_commit("write plasticity column " + table + "/" + column);
    const std::string object = "/plasticity/" + table + "/" + column;
    std::string problem;
    if (!is_plain_name(table) || !is_plain_name(column)) problem = "bad table or column name";
    else if (plasticity_columns.contains(table + "/" + column)) problem = "written twice";
    else if (offset > total || values.size() > total - offset)
      problem = "elements [" + std::to_string(offset) + ", " + std::to_string(offset + values.size()) +
                ") outside the column's " + std::to_string(total);
    agree(object + "/" + std::to_string(total), problem, object);
    if (comm.allreduce_sum(std::uint64_t(values.size())) != total)
      agree("the ranks' parts do not add up to " + std::to_string(total) + " elements", object);
    if (!plasticity) plasticity.emplace(file.create_group("plasticity"));
    auto found = plasticity_tables.find(table);
    if (found == plasticity_tables.end()) found = plasticity_tables.emplace(table, plasticity->create_group(table)).first;
    const hsize_t length = total;
    h5::dataset data = found->second.create_fixed_dataset<T>(column, std::span<const hsize_t>(&length, 1));
    const hsize_t start = offset;
    const hsize_t count = values.size();
    data.write_collective(values, std::span<const hsize_t>(&start, 1), std::span<const hsize_t>(&count, 1));
    data.close();
    plasticity_columns.insert(table + "/" + column);
  }

  void commit() {
    if (committed) return;
    if (!spikes_written) write_spikes({}, {});  // the reader expects the datasets, empty or not
    for (auto& [name, table] : plasticity_tables) table.close();
    if (plasticity) plasticity->close();
    for (auto& [name, entry] : populations) entry.group.close();
    neurons.close();
    spikes_in_flight.close();
    counters.close();
    // Every rank's data to stable storage (MPI_File_sync on every rank: on a parallel file
    // system one rank's fsync covers only its own writes), then the file is closed.
    file.flush();
    file.close();
    comm.barrier();  // every rank has closed the file
    std::string problem;
    if (comm.rank() == 0) {
      // The rename makes the checkpoint visible: it must not reach the disk before the data.
      problem = sync_to_disk(temporary_path);
      if (problem.empty()) {
        std::error_code error;
        fs::rename(temporary_path, final_path, error);
        if (error)
          problem = temporary_path.string() + ": cannot rename to " + final_path.string() + " (" + error.message() + ")";
      }
      if (problem.empty()) problem = sync_to_disk(directory_of(final_path));
    }
    problem = comm.broadcast(problem);
    if (!problem.empty()) throw io_error(problem);
    committed = true;
    remover.committed();
  }
};

checkpoint_writer::checkpoint_writer(const communicator& comm, std::filesystem::path path,
                                     const checkpoint_header& header)
    : impl_(std::make_unique<impl>(comm, std::move(path), header)) {}

// Without commit() the handles close and the remover deletes the temporary file.
checkpoint_writer::~checkpoint_writer() = default;

void checkpoint_writer::write_state(const std::string& population, std::uint64_t n, const std::string& variable,
                                    const node_values<double>& local) {
  if (variable == refractory_variable)
    throw std::invalid_argument("checkpoint: '" + std::string(refractory_variable) +
                                "' is reserved for write_refractory");
  impl_->write_values(population, n, variable, local);
}

void checkpoint_writer::write_refractory(const std::string& population, std::uint64_t n,
                                         const node_values<std::int32_t>& local) {
  impl_->write_values(population, n, std::string(refractory_variable), local);
}

void checkpoint_writer::write_spikes_in_flight(std::span<const std::uint64_t> gids,
                                               std::span<const std::int64_t> steps) {
  impl_->write_spikes(gids, steps);
}

void checkpoint_writer::write_counter(const std::string& name, std::uint64_t local_value) {
  impl_->write_counter(name, local_value);
}

void checkpoint_writer::commit() { impl_->commit(); }

template <class T>
void checkpoint_writer::write_plasticity_column(const std::string& table, const std::string& column,
                                                std::uint64_t total, std::uint64_t offset, std::span<const T> values) {
  impl_->write_column<T>(table, column, total, offset, values);
}

// --- reader ---

struct checkpoint_reader::impl {
  communicator comm;
  fs::path path;
  std::string name;  // path as text, for messages
  checkpoint_catalogue catalogue;
  h5::file file;

  impl(const communicator& comm_, fs::path path_)
      : comm(comm_),
        path(std::move(path_)),
        name(path.string()),
        catalogue(agreed_catalogue()),
        file(open_collectively()) {}

  // Rank 0 validates with plain local reads and tells everyone the verdict before anyone opens
  // the file collectively: on a bad file every rank throws the same error.
  checkpoint_catalogue agreed_catalogue() const {
    std::string verdict;
    if (comm.rank() == 0) {
      try {
        verdict = "+" + pack(checkpoint_inspector(path).inspect());
      } catch (const checkpoint_error& error) {
        verdict = std::string("-") + error.what();
      } catch (const std::exception& error) {
        verdict = "-" + name + ": cannot read checkpoint (" + error.what() + ")";
      }
    }
    verdict = comm.broadcast(verdict);
    if (verdict.empty() || verdict[0] != '+') throw checkpoint_error(verdict.empty() ? name : verdict.substr(1));
    return unpack(std::string_view(verdict).substr(1));
  }

  h5::file open_collectively() const {
    std::optional<h5::file> opened;
    std::string problem;
    try {
      opened.emplace(h5::file::open_read_only(path, comm));
    } catch (const io_error& error) {
      problem = error.what();
    }
    if (comm.any(!problem.empty()))
      throw checkpoint_error(problem.empty() ? name + ": cannot open on another rank" : problem);
    return std::move(*opened);
  }

  const checkpoint_catalogue::population& population_named(const std::string& population) const {
    for (const checkpoint_catalogue::population& entry : catalogue.populations)
      if (entry.name == population) return entry;
    throw checkpoint_error(name + ": no population " + printable_quote(population));
  }

  // Runs a collective read; when it fails on any rank, every rank throws checkpoint_error.
  template <class Read>
  void read_together(const std::string& object, Read&& read) const {
    std::string problem;
    try {
      read();
    } catch (const io_error& error) {
      problem = error.what();
    }
    if (comm.any(!problem.empty()))
      throw checkpoint_error(problem.empty() ? name + ": cannot read " + object + " on another rank" : problem);
  }

  template <h5::element T>
  std::vector<T> read_values(const std::string& population, std::uint64_t n, const std::string& variable,
                             std::span<const std::uint64_t> node_ids) const {
    const checkpoint_catalogue::population& entry = population_named(population);
    const bool present = variable == refractory_variable
                             ? entry.has_refractory
                             : std::find(entry.variables.begin(), entry.variables.end(), variable) !=
                                   entry.variables.end();
    if (!present) throw checkpoint_error(name + ": population " + population + " has no " + printable_quote(variable));
    if (entry.n != n)
      throw checkpoint_error(name + ": population " + population + " has " + std::to_string(entry.n) +
                             " neurons in the checkpoint but " + std::to_string(n) + " in the network");
    // A caller's mistake on one rank must stop every rank before the collective read.
    const std::string problem = check_node_ids(node_ids, n);
    if (comm.any(!problem.empty()))
      throw std::invalid_argument(name + ": cannot read " + population + "/" + variable + " (" +
                                  (problem.empty() ? "bad node ids on another rank" : problem) + ")");
    // Each rank reads its block (see block_partition) and answers the others' requests from it.
    const std::string object = "/neurons/" + population + "/" + variable;
    const block_partition blocks(n, comm.size());
    const hsize_t start = blocks.begin(comm.rank());
    const hsize_t count = blocks.size(comm.rank());
    std::vector<T> block;
    read_together(object, [&] {
      block = file.open_dataset(object).read_collective<T>(std::span<const hsize_t>(&start, 1),
                                                           std::span<const hsize_t>(&count, 1));
    });
    if (!comm.any(!blocks.is_block_of(comm.rank(), node_ids))) return block;  // every rank asked for its block
    const std::vector<std::int64_t> request_counts = blocks.counts_by_owner(node_ids, comm.size());
    std::vector<std::int64_t> requested_counts;
    const std::vector<std::uint64_t> requested = comm.alltoallv<std::uint64_t>(node_ids, request_counts, requested_counts);
    std::vector<T> answers(requested.size());
    for (std::size_t i = 0; i < requested.size(); ++i) answers[i] = block[requested[i] - start];
    // Answers come back in rank order, as the requests went out: the order of node_ids.
    std::vector<std::int64_t> answer_counts;
    return comm.alltoallv<T>(answers, requested_counts, answer_counts);
  }

  // All of a 1-D dataset, on every rank.
  template <h5::element T>
  std::vector<T> read_whole(const std::string& object, std::uint64_t length) const {
    std::vector<T> values;
    const hsize_t start = 0;
    const hsize_t count = length;
    read_together(object, [&] {
      values = file.open_dataset(object).read_collective<T>(std::span<const hsize_t>(&start, 1),
                                                            std::span<const hsize_t>(&count, 1));
    });
    return values;
  }
};

checkpoint_reader::checkpoint_reader(const communicator& comm, std::filesystem::path path)
    : impl_(std::make_unique<impl>(comm, std::move(path))) {}

checkpoint_reader::~checkpoint_reader() = default;

const checkpoint_header& checkpoint_reader::header() const { return impl_->catalogue.header; }

std::vector<std::string> checkpoint_reader::populations() const {
  std::vector<std::string> names;
  for (const auto& population : impl_->catalogue.populations) names.push_back(population.name);
  return names;
}

std::vector<std::string> checkpoint_reader::state_variables(const std::string& population) const {
  return impl_->population_named(population).variables;
}

std::uint64_t checkpoint_reader::population_size(const std::string& population) const {
  return impl_->population_named(population).n;
}

std::vector<double> checkpoint_reader::read_state(const std::string& population, std::uint64_t n,
                                                  const std::string& variable,
                                                  std::span<const std::uint64_t> node_ids) const {
  return impl_->read_values<double>(population, n, variable, node_ids);
}

std::vector<std::int32_t> checkpoint_reader::read_refractory(const std::string& population, std::uint64_t n,
                                                             std::span<const std::uint64_t> node_ids) const {
  return impl_->read_values<std::int32_t>(population, n, std::string(refractory_variable), node_ids);
}

void checkpoint_reader::read_spikes_in_flight(std::vector<std::uint64_t>& gids, std::vector<std::int64_t>& steps) const {
  const std::uint64_t n = impl_->catalogue.spikes_in_flight;
  gids = impl_->read_whole<std::uint64_t>("/spikes_in_flight/gid", n);
  steps = impl_->read_whole<std::int64_t>("/spikes_in_flight/step", n);
}

std::uint64_t checkpoint_reader::read_counter_total(const std::string& name) const {
  const std::vector<std::string>& counters = impl_->catalogue.counters;
  if (std::find(counters.begin(), counters.end(), name) == counters.end())
    throw checkpoint_error(impl_->name + ": no counter " + printable_quote(name));
  const std::vector<std::uint64_t> per_rank =
      impl_->read_whole<std::uint64_t>("/counters/" + name, std::uint64_t(impl_->catalogue.header.ranks));
  return std::accumulate(per_rank.begin(), per_rank.end(), std::uint64_t(0));
}

std::int64_t checkpoint_reader::plasticity_column_length(const std::string& table, const std::string& column) const {
  for (const auto& entry : impl_->catalogue.plasticity)
    if (entry.table == table && entry.name == column) return std::int64_t(entry.length);
  return -1;
}

template <class T>
std::vector<T> checkpoint_reader::read_plasticity_column(const std::string& table, const std::string& column,
                                                         std::uint64_t offset, std::uint64_t count) const {
  const std::string object = "/plasticity/" + table + "/" + column;
  std::string problem;
  const checkpoint_catalogue::column* found = nullptr;
  for (const auto& entry : impl_->catalogue.plasticity)
    if (entry.table == table && entry.name == column) found = &entry;
  if (found == nullptr) problem = impl_->name + ": no " + object + " (a checkpoint of a network without it?)";
  else if (found->type != column_type_of<T>()) problem = impl_->name + ": " + object + " is not of the expected type";
  else if (offset > found->length || count > found->length - offset)
    problem = impl_->name + ": " + object + " has " + std::to_string(found->length) + " elements, fewer than needed";
  if (impl_->comm.any(!problem.empty()))
    throw checkpoint_error(problem.empty() ? impl_->name + ": cannot read " + object + " on another rank" : problem);
  std::vector<T> values;
  const hsize_t start = offset;
  const hsize_t n = count;
  impl_->read_together(object, [&] {
    values = impl_->file.open_dataset(object).read_collective<T>(std::span<const hsize_t>(&start, 1),
                                                                 std::span<const hsize_t>(&n, 1));
  });
  return values;
}

#define MYELIN_PLASTICITY_COLUMN(T)                                                                             \
  template void checkpoint_writer::write_plasticity_column<T>(const std::string&, const std::string&,         \
                                                              std::uint64_t, std::uint64_t, std::span<const T>); \
  template std::vector<T> checkpoint_reader::read_plasticity_column<T>(const std::string&, const std::string&, \
                                                                       std::uint64_t, std::uint64_t) const;
MYELIN_PLASTICITY_COLUMN(std::uint32_t)
MYELIN_PLASTICITY_COLUMN(std::uint64_t)
MYELIN_PLASTICITY_COLUMN(std::int64_t)
MYELIN_PLASTICITY_COLUMN(double)
#undef MYELIN_PLASTICITY_COLUMN

// --- rotation ---

std::string checkpoint_file_name(std::int64_t step) {
  if (step < 0) throw std::invalid_argument("checkpoint_file_name: negative step " + std::to_string(step));
  std::string digits = std::to_string(step);
  if (digits.size() < checkpoint_step_digits) digits.insert(0, checkpoint_step_digits - digits.size(), '0');
  return std::string(checkpoint_prefix) + digits + std::string(checkpoint_suffix);
}

namespace {

// The step of a file named like checkpoint_file_name's, or nothing.
std::optional<std::uint64_t> checkpoint_step_of(const std::string& file_name) {
  std::string_view text = file_name;
  if (!text.starts_with(checkpoint_prefix) || !text.ends_with(checkpoint_suffix)) return std::nullopt;
  text.remove_prefix(checkpoint_prefix.size());
  text.remove_suffix(checkpoint_suffix.size());
  if (text.size() < checkpoint_step_digits) return std::nullopt;
  std::uint64_t step = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), step);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return step;
}

}  // namespace

void rotate_checkpoints(const std::filesystem::path& dir, int keep) {
  if (keep < 1) throw std::invalid_argument("rotate_checkpoints: keep must be at least 1, not " + std::to_string(keep));
  const auto fail = [&](const std::string& operation, const std::error_code& error) {
    throw io_error(dir.string() + ": cannot " + operation + " (" + error.message() + ")");
  };
  std::error_code error;
  std::vector<std::pair<std::uint64_t, fs::path>> checkpoints;
  for (fs::directory_iterator entry(dir, error), end; !error && entry != end; entry.increment(error)) {
    const std::optional<std::uint64_t> step = checkpoint_step_of(entry->path().filename().string());
    if (step && entry->is_regular_file()) checkpoints.emplace_back(*step, entry->path());
  }
  if (error) fail("list checkpoints", error);
  if (checkpoints.empty()) return;
  // By step, not by name: a step past 12 digits still sorts right.
  std::sort(checkpoints.begin(), checkpoints.end());

  // latest.h5 moves to the newest before anything is deleted, so that it never dangles; a
  // temporary link renamed over it replaces it atomically.
  const fs::path latest = dir / latest_link_name;
  const fs::file_status latest_status = fs::symlink_status(latest, error);
  if (fs::exists(latest_status) && !fs::is_symlink(latest_status))
    throw io_error(latest.string() + ": exists and is not a symbolic link; not replaced");
  const fs::path temporary_link = dir / (std::string(latest_link_name) + ".tmp");
  fs::remove(temporary_link, error);
  if (error) fail("remove " + temporary_link.filename().string(), error);
  fs::create_symlink(checkpoints.back().second.filename(), temporary_link, error);
  if (error) fail("create link " + temporary_link.filename().string(), error);
  fs::rename(temporary_link, latest, error);
  if (error) fail("rename link to " + latest.filename().string(), error);

  const std::size_t n_delete = checkpoints.size() > std::size_t(keep) ? checkpoints.size() - std::size_t(keep) : 0;
  for (std::size_t i = 0; i < n_delete; ++i) {
    fs::remove(checkpoints[i].second, error);
    if (error) fail("remove " + checkpoints[i].second.filename().string(), error);
  }
  const std::string problem = sync_to_disk(dir);
  if (!problem.empty()) throw io_error(problem);
}

}  // namespace myelin
