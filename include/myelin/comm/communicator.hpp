// All of myelin's MPI traffic goes through this class: every call is checked, and with one rank
// no MPI call is made at all (collectives become local copies).
#pragma once

#include <mpi.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace myelin {

class mpi_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws mpi_error naming the call when rc is not MPI_SUCCESS.
void check_mpi(int rc, const char* call);

class communicator {
 public:
  // Wraps MPI_COMM_WORLD (after mpi_environment).
  communicator();
  explicit communicator(MPI_Comm comm);

  int rank() const { return rank_; }
  int size() const { return size_; }
  MPI_Comm native() const { return comm_; }

  void barrier() const;

  // Every rank sends counts[r] to rank r; returns what each rank sent here.
  std::vector<std::int64_t> alltoall_counts(std::span<const std::int64_t> counts) const;

  // Variable all-to-all of trivially copyable elements: send holds per-destination blocks in rank
  // order with send_counts[r] elements each; returns the received blocks in rank order and fills
  // recv_counts. Counts are exchanged first (MPI_Alltoall), then the payload (MPI_Alltoallv).
  template <class T>
  std::vector<T> alltoallv(std::span<const T> send, std::span<const std::int64_t> send_counts,
                           std::vector<std::int64_t>& recv_counts) const {
    static_assert(std::is_trivially_copyable_v<T>);
    std::vector<std::int64_t> byte_counts(send_counts.size());
    for (std::size_t r = 0; r < send_counts.size(); ++r) byte_counts[r] = send_counts[r] * std::int64_t(sizeof(T));
    std::vector<std::int64_t> recv_bytes;
    std::vector<unsigned char> raw = alltoallv_bytes(
        std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(send.data()), send.size_bytes()),
        byte_counts, recv_bytes);
    recv_counts.resize(recv_bytes.size());
    for (std::size_t r = 0; r < recv_bytes.size(); ++r) recv_counts[r] = recv_bytes[r] / std::int64_t(sizeof(T));
    std::vector<T> out(raw.size() / sizeof(T));
    if (!raw.empty()) std::memcpy(out.data(), raw.data(), raw.size());
    return out;
  }

  // Same with raw bytes; recv_counts (bytes per source rank) are filled.
  std::vector<unsigned char> alltoallv_bytes(std::span<const unsigned char> send,
                                             std::span<const std::int64_t> send_counts,
                                             std::vector<std::int64_t>& recv_counts) const;

  // Into a caller-owned buffer that keeps its capacity between calls (no allocation per interval).
  // `flag` travels with the counts at no extra cost: on return it is true on every rank if it was
  // true on any (used to agree on stopping at the same interval).
  void alltoallv_bytes_into(std::span<const unsigned char> send, std::span<const std::int64_t> send_counts,
                            std::vector<std::int64_t>& recv_counts, std::vector<unsigned char>& recv,
                            bool& flag) const;

  std::uint64_t allreduce_sum(std::uint64_t v) const;
  std::int64_t allreduce_max(std::int64_t v) const;
  double allreduce_sum(double v) const;
  double allreduce_max(double v) const;
  void allreduce_sum(std::span<std::uint64_t> values) const;  // in place, element-wise
  void allreduce_sum(std::span<double> values) const;
  void allreduce_max(std::span<double> values) const;
  // Exclusive prefix sum over ranks (rank 0 gets 0), element-wise.
  std::vector<std::uint64_t> exscan_sum(std::span<const std::uint64_t> values) const;
  // Every rank's value, in rank order.
  std::vector<double> allgather(double v) const;
  // Every rank's values (the same count on every rank), concatenated in rank order.
  std::vector<double> allgather(std::span<const double> values) const;
  // true on every rank if `flag` is true on any rank.
  bool any(bool flag) const;
  // Rank 0's string on every rank.
  std::string broadcast(const std::string& s) const;

  // Number of ranks on this rank's node (they share its memory).
  int ranks_on_node() const;

  // Where this rank runs: nodes are MPI shared-memory domains, numbered in the order of their
  // lowest rank; the node's leader is its lowest rank. Collective.
  struct node_placement {
    int node = 0;
    int n_nodes = 1;
    int ranks_on_node = 1;
    bool leader = true;
  };
  node_placement placement() const;

  // Ends every rank of the job now (MPI_Abort); for errors found on one rank only.
  [[noreturn]] void abort(int exit_code) const;

 private:
  // alltoallv_bytes_into's counts and displacements, reused between intervals.
  struct interval_scratch {
    std::vector<std::int64_t> counts;
    std::vector<int> send_counts, send_displs, recv_counts, recv_displs;
  };
  mutable interval_scratch scratch_;
  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace myelin
