// Connection rules as functions of (seed, projection, target neuron): the sources, weights and
// delays of a target's incoming synapses are drawn from streams keyed by the target's global id,
// so the network is the same whatever the decomposition, and the thread that owns a target can
// draw them without talking to anyone.
#pragma once

#include <cstdint>
#include <vector>

#include "myelin/config/spec.hpp"
#include "myelin/core/network_layout.hpp"

namespace myelin {

// Per-projection facts every rank computes alike before connecting (fixed_total_number: the
// in-degree of each target, split from the total by a multinomial on a stream all ranks share).
struct projection_plan {
  std::size_t index = 0;  // position in network_spec::projections
  const projection_spec* spec = nullptr;
  std::uint64_t source_first = 0, source_n = 0;
  std::uint64_t target_first = 0, target_n = 0;
  std::vector<std::uint64_t> total_indegree;  // fixed_total_number only: per target node
};

std::vector<projection_plan> plan_projections(const network_spec& net, const network_layout& layout,
                                              std::uint64_t seed);

// Draws the sources of one target (global ids, in draw order, multapses repeated) into `sources`.
// `scratch` is per-thread working memory kept between calls.
struct source_scratch {
  std::vector<std::uint64_t> marked_words;  // bitmap over the source population (no multapses)
};
void draw_sources(const projection_plan& plan, std::uint64_t seed, std::uint64_t target_gid,
                  source_scratch& scratch, std::vector<std::uint64_t>& sources);

// The number of sources draw_sources would give, when known without drawing (all rules but
// pairwise_bernoulli); -1 otherwise.
std::int64_t known_indegree(const projection_plan& plan, std::uint64_t target_gid);

}  // namespace myelin

namespace myelin {
// Expected number of synapses of a projection (exact for every rule but pairwise_bernoulli).
double expected_synapses(const network_spec& net, const projection_spec& proj);
}  // namespace myelin
