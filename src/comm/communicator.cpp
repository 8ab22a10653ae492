#include "myelin/comm/communicator.hpp"

#include <cstring>
#include <limits>
#include <numeric>
#include <algorithm>
#include <cstdlib>

#include "myelin/comm/mpi_environment.hpp"

namespace myelin {

void check_mpi(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw mpi_error(std::string(call) + " failed: " + std::string(text, std::size_t(len)));
}

mpi_environment::mpi_environment(int& argc, char**& argv) {
  int provided = 0;
  check_mpi(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  if (provided < MPI_THREAD_FUNNELED) throw mpi_error("MPI does not provide MPI_THREAD_FUNNELED");
  // Errors come back as return codes so that they can be reported with context.
  check_mpi(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
}

mpi_environment::~mpi_environment() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

communicator::communicator() : communicator(MPI_COMM_WORLD) {}

communicator::communicator(MPI_Comm comm) : comm_(comm) {
  check_mpi(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  check_mpi(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
}

void communicator::barrier() const {
  if (size_ > 1) check_mpi(MPI_Barrier(comm_), "MPI_Barrier");
}

std::vector<std::int64_t> communicator::alltoall_counts(std::span<const std::int64_t> counts) const {
  std::vector<std::int64_t> recv(std::size_t(size_), 0);
  if (size_ == 1) {
    recv[0] = counts[0];
    return recv;
  }
  check_mpi(MPI_Alltoall(counts.data(), 1, MPI_INT64_T, recv.data(), 1, MPI_INT64_T, comm_), "MPI_Alltoall");
  return recv;
}

void communicator::alltoallv_bytes_into(std::span<const unsigned char> send, std::span<const std::int64_t> send_counts,
                                        std::vector<std::int64_t>& recv_counts, std::vector<unsigned char>& recv,
                                        bool& flag) const {
  if (size_ == 1) {
    recv_counts.assign(1, send_counts[0]);
    recv.assign(send.begin(), send.begin() + send_counts[0]);
    return;
  }
  // Counts are far below 2^62: bit 62 carries the flag. The scratch vectors keep their capacity
  // from one interval to the next: no allocation in the simulation loop.
  constexpr std::int64_t flag_bit = std::int64_t(1) << 62;
  const auto n = static_cast<std::size_t>(size_);
  interval_scratch& x = scratch_;
  x.counts.assign(send_counts.begin(), send_counts.end());
  if (flag)
    for (auto& c : x.counts) c |= flag_bit;
  recv_counts.resize(n);
  check_mpi(MPI_Alltoall(x.counts.data(), 1, MPI_INT64_T, recv_counts.data(), 1, MPI_INT64_T, comm_), "MPI_Alltoall");
  for (auto& c : recv_counts) {
    if (c & flag_bit) flag = true;
    c &= ~flag_bit;
  }
  // MPI_Alltoallv takes int counts and displacements: refuse clearly instead of overflowing.
  x.send_counts.resize(n);
  x.send_displs.resize(n);
  x.recv_counts.resize(n);
  x.recv_displs.resize(n);
  std::int64_t soff = 0, roff = 0;
  constexpr std::int64_t int_max = std::numeric_limits<int>::max();
  for (std::size_t r = 0; r < n; ++r) {
    if (soff > int_max || roff > int_max || send_counts[r] > int_max || recv_counts[r] > int_max)
      throw mpi_error("MPI_Alltoallv: exchange larger than 2 GiB per rank");
    x.send_counts[r] = int(send_counts[r]);
    x.send_displs[r] = int(soff);
    x.recv_counts[r] = int(recv_counts[r]);
    x.recv_displs[r] = int(roff);
    soff += send_counts[r];
    roff += recv_counts[r];
  }
  recv.resize(std::size_t(roff));
  check_mpi(MPI_Alltoallv(send.data(), x.send_counts.data(), x.send_displs.data(), MPI_BYTE, recv.data(),
                          x.recv_counts.data(), x.recv_displs.data(), MPI_BYTE, comm_),
            "MPI_Alltoallv");
}

std::vector<unsigned char> communicator::alltoallv_bytes(std::span<const unsigned char> send,
                                                         std::span<const std::int64_t> send_counts,
                                                         std::vector<std::int64_t>& recv_counts) const {
  std::vector<unsigned char> recv;
  bool no_flag = false;
  alltoallv_bytes_into(send, send_counts, recv_counts, recv, no_flag);
  return recv;
}

namespace {
template <class T>
void allreduce(MPI_Comm comm, int size, T* values, int n, MPI_Datatype type, MPI_Op op) {
  if (size == 1 || n == 0) return;
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, values, n, type, op, comm), "MPI_Allreduce");
}
}  // namespace

std::uint64_t communicator::allreduce_sum(std::uint64_t v) const {
  allreduce(comm_, size_, &v, 1, MPI_UINT64_T, MPI_SUM);
  return v;
}
std::int64_t communicator::allreduce_max(std::int64_t v) const {
  allreduce(comm_, size_, &v, 1, MPI_INT64_T, MPI_MAX);
  return v;
}
double communicator::allreduce_sum(double v) const {
  allreduce(comm_, size_, &v, 1, MPI_DOUBLE, MPI_SUM);
  return v;
}
double communicator::allreduce_max(double v) const {
  allreduce(comm_, size_, &v, 1, MPI_DOUBLE, MPI_MAX);
  return v;
}
void communicator::allreduce_sum(std::span<std::uint64_t> values) const {
  allreduce(comm_, size_, values.data(), int(values.size()), MPI_UINT64_T, MPI_SUM);
}
void communicator::allreduce_sum(std::span<double> values) const {
  allreduce(comm_, size_, values.data(), int(values.size()), MPI_DOUBLE, MPI_SUM);
}
void communicator::allreduce_max(std::span<double> values) const {
  allreduce(comm_, size_, values.data(), int(values.size()), MPI_DOUBLE, MPI_MAX);
}

std::vector<std::uint64_t> communicator::exscan_sum(std::span<const std::uint64_t> values) const {
  std::vector<std::uint64_t> out(values.size(), 0);
  if (size_ == 1 || values.empty()) return out;
  check_mpi(MPI_Exscan(values.data(), out.data(), int(values.size()), MPI_UINT64_T, MPI_SUM, comm_), "MPI_Exscan");
  if (rank_ == 0) std::fill(out.begin(), out.end(), 0);  // MPI leaves rank 0's result undefined
  return out;
}

std::vector<double> communicator::allgather(double v) const {
  std::vector<double> out(std::size_t(size_), v);
  if (size_ == 1) return out;
  check_mpi(MPI_Allgather(&v, 1, MPI_DOUBLE, out.data(), 1, MPI_DOUBLE, comm_), "MPI_Allgather");
  return out;
}

std::vector<double> communicator::allgather(std::span<const double> values) const {
  std::vector<double> out(values.size() * std::size_t(size_));
  if (size_ == 1 || values.empty()) {
    if (size_ == 1) std::copy(values.begin(), values.end(), out.begin());
    return out;
  }
  check_mpi(MPI_Allgather(values.data(), int(values.size()), MPI_DOUBLE, out.data(), int(values.size()), MPI_DOUBLE,
                          comm_),
            "MPI_Allgather");
  return out;
}

bool communicator::any(bool flag) const {
  int v = flag ? 1 : 0;
  allreduce(comm_, size_, &v, 1, MPI_INT, MPI_MAX);
  return v != 0;
}

std::string communicator::broadcast(const std::string& s) const {
  if (size_ == 1) return s;
  std::uint64_t n = s.size();
  check_mpi(MPI_Bcast(&n, 1, MPI_UINT64_T, 0, comm_), "MPI_Bcast");
  std::string out = rank_ == 0 ? s : std::string(n, '\0');
  if (n > 0) check_mpi(MPI_Bcast(out.data(), int(n), MPI_CHAR, 0, comm_), "MPI_Bcast");
  return out;
}

int communicator::ranks_on_node() const {
  if (size_ == 1) return 1;
  MPI_Comm node;
  check_mpi(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node), "MPI_Comm_split_type");
  int n = 1;
  const int rc = MPI_Comm_size(node, &n);
  MPI_Comm_free(&node);
  check_mpi(rc, "MPI_Comm_size");
  return n;
}

communicator::node_placement communicator::placement() const {
  node_placement where;
  if (size_ == 1) return where;
  MPI_Comm node;
  check_mpi(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node), "MPI_Comm_split_type");
  // Ranks are ordered by world rank within the node (key = rank), so node rank 0 is the leader;
  // it tells the others its world rank.
  int node_rank = 0;
  int leader_rank = rank_;
  int rc = MPI_Comm_rank(node, &node_rank);
  if (rc == MPI_SUCCESS) rc = MPI_Comm_size(node, &where.ranks_on_node);
  if (rc == MPI_SUCCESS) rc = MPI_Bcast(&leader_rank, 1, MPI_INT, 0, node);
  MPI_Comm_free(&node);
  check_mpi(rc, "MPI_Comm_rank, MPI_Comm_size or MPI_Bcast on the node's communicator");
  where.leader = node_rank == 0;
  // The node's number: how many leaders have a lower world rank than its own leader.
  where.n_nodes = 0;
  where.node = 0;
  for (double r : allgather(where.leader ? double(rank_) : -1.0)) {
    if (r < 0.0) continue;
    ++where.n_nodes;
    if (r < double(leader_rank)) ++where.node;
  }
  return where;
}

void communicator::abort(int exit_code) const {
  MPI_Abort(comm_, exit_code);
  std::_Exit(exit_code);
}

}  // namespace myelin
