// Where each neuron lives. Global ids (gids) number all neurons, population after population.
// Neurons are dealt round-robin over virtual processes (vp = rank x thread, NEST's scheme):
// vp = gid mod n_vp, rank = vp mod n_ranks, thread = vp / n_ranks, and a neuron's local index
// on its vp is gid / n_vp. Every population is thus split evenly, and the mapping is arithmetic:
// no table on any rank grows with the network.
#pragma once

#include <cstdint>
#include <vector>

namespace myelin {

class partition {
 public:
  partition(std::uint64_t n_neurons, int n_ranks, int n_threads, int rank)
      : n_neurons_(n_neurons), n_ranks_(n_ranks), n_threads_(n_threads), rank_(rank),
        n_vp_(std::uint64_t(n_ranks) * std::uint64_t(n_threads)) {}

  std::uint64_t n_neurons() const { return n_neurons_; }
  int n_ranks() const { return n_ranks_; }
  int n_threads() const { return n_threads_; }
  int rank() const { return rank_; }
  std::uint64_t n_vp() const { return n_vp_; }

  std::uint64_t vp_of(std::uint64_t gid) const { return gid % n_vp_; }
  int rank_of(std::uint64_t gid) const { return int(gid % std::uint64_t(n_ranks_)); }
  int thread_of_vp(std::uint64_t vp) const { return int(vp / std::uint64_t(n_ranks_)); }
  std::uint64_t vp_of(int thread) const { return std::uint64_t(thread) * std::uint64_t(n_ranks_) + std::uint64_t(rank_); }
  std::uint64_t local_index(std::uint64_t gid) const { return gid / n_vp_; }
  std::uint64_t gid(std::uint64_t vp, std::uint64_t local) const { return local * n_vp_ + vp; }

  // Neurons of gid range [first, last) on vp: local indices [local_begin, local_end).
  std::uint64_t local_begin(std::uint64_t vp, std::uint64_t first_gid) const {
    return first_gid <= vp ? 0 : (first_gid - vp + n_vp_ - 1) / n_vp_;
  }
  std::uint64_t n_local(std::uint64_t vp) const { return local_begin(vp, n_neurons_); }

 private:
  std::uint64_t n_neurons_;
  int n_ranks_;
  int n_threads_;
  int rank_;
  std::uint64_t n_vp_;
};

}  // namespace myelin
