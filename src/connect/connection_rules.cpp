#include "myelin/connect/connection_rules.hpp"

#include <cmath>
#include <stdexcept>

#include "myelin/core/random.hpp"

namespace myelin {

std::vector<projection_plan> plan_projections(const network_spec& net, const network_layout& layout,
                                              std::uint64_t seed) {
  std::vector<projection_plan> plans;
  for (std::size_t i = 0; i < net.projections.size(); ++i) {
    const projection_spec& proj = net.projections[i];
    projection_plan plan;
    plan.index = i;
    plan.spec = &proj;
    plan.source_first = layout.first_gid(proj.source);
    plan.source_n = net.populations[proj.source].n;
    plan.target_first = layout.first_gid(proj.target);
    plan.target_n = net.populations[proj.target].n;
    if (proj.rule == connection_rule::fixed_total_number) {
      plan.total_indegree.resize(plan.target_n);
      random_stream shared(seed, stream_purpose::shared_split, std::uint32_t(i), 0);
      multinomial_equal(shared, proj.total, plan.target_n, plan.total_indegree.data());
    }
    plans.push_back(std::move(plan));
  }
  return plans;
}

std::int64_t known_indegree(const projection_plan& plan, std::uint64_t target_gid) {
  const projection_spec& proj = *plan.spec;
  const std::uint64_t target_node = target_gid - plan.target_first;
  const bool self = proj.source == proj.target;
  switch (proj.rule) {
    case connection_rule::fixed_indegree: return std::int64_t(proj.indegree);
    case connection_rule::fixed_total_number: return std::int64_t(plan.total_indegree[target_node]);
    case connection_rule::one_to_one: return (self && !proj.allow_autapses) ? 0 : 1;
    case connection_rule::all_to_all: return std::int64_t(plan.source_n) - ((self && !proj.allow_autapses) ? 1 : 0);
    case connection_rule::pairwise_bernoulli: return -1;
  }
  return -1;
}

namespace {

// k distinct sources from the population, excluding `excluded` (a node index, or source_n for
// none): rejection against a bitmap when k is small next to n, which is the usual case.
void draw_distinct(random_stream& stream, std::uint64_t k, std::uint64_t source_n, std::uint64_t excluded,
                   source_scratch& scratch, std::vector<std::uint64_t>& nodes) {
  const std::uint64_t available = source_n - (excluded < source_n ? 1 : 0);
  if (k > available)
    throw std::runtime_error("cannot draw " + std::to_string(k) + " distinct sources from " +
                             std::to_string(available));
  auto& bits = scratch.marked_words;
  if (bits.size() < (source_n + 63) / 64) bits.assign((source_n + 63) / 64, 0);
  auto marked = [&](std::uint64_t i) { return (bits[i >> 6] >> (i & 63)) & 1u; };
  auto mark = [&](std::uint64_t i) { bits[i >> 6] |= std::uint64_t(1) << (i & 63); };
  if (excluded < source_n) mark(excluded);
  const std::size_t first = nodes.size();
  if (2 * k <= available) {
    while (nodes.size() - first < k) {
      std::uint64_t s = stream.uniform_int(source_n);
      if (!marked(s)) {
        mark(s);
        nodes.push_back(s);
      }
    }
  } else {
    // Dense: choose the ones to leave out instead, then list the rest in order.
    std::uint64_t to_skip = available - k;
    std::vector<std::uint64_t> skipped;
    while (skipped.size() < to_skip) {
      std::uint64_t s = stream.uniform_int(source_n);
      if (!marked(s)) {
        mark(s);
        skipped.push_back(s);
      }
    }
    for (std::uint64_t s = 0; s < source_n; ++s)
      if (!marked(s)) nodes.push_back(s);
    for (std::uint64_t s : skipped) bits[s >> 6] = 0;
  }
  // Clear only the words touched, so the cost stays proportional to k.
  for (std::size_t i = first; i < nodes.size(); ++i) bits[nodes[i] >> 6] = 0;
  if (excluded < source_n) bits[excluded >> 6] = 0;
}

}  // namespace

void draw_sources(const projection_plan& plan, std::uint64_t seed, std::uint64_t target_gid,
                  source_scratch& scratch, std::vector<std::uint64_t>& sources) {
  sources.clear();
  const projection_spec& proj = *plan.spec;
  const std::uint64_t target_node = target_gid - plan.target_first;
  const std::uint64_t n = plan.source_n;
  const bool self = proj.source == proj.target;
  const std::uint64_t excluded = (self && !proj.allow_autapses) ? target_node : n;
  random_stream stream(seed, stream_purpose::connectivity, std::uint32_t(plan.index), target_gid);

  auto draw_with_replacement = [&](std::uint64_t k) {
    const std::uint64_t choices = excluded < n ? n - 1 : n;
    if (k > 0 && choices == 0) throw std::runtime_error("no source to draw from");
    for (std::uint64_t i = 0; i < k; ++i) {
      std::uint64_t s = stream.uniform_int(choices);
      if (s >= excluded) ++s;  // skip the excluded node without bias
      sources.push_back(s);
    }
  };

  switch (proj.rule) {
    case connection_rule::fixed_indegree:
    case connection_rule::fixed_total_number: {
      const std::uint64_t k = std::uint64_t(known_indegree(plan, target_gid));
      if (proj.allow_multapses)
        draw_with_replacement(k);
      else
        draw_distinct(stream, k, n, excluded, scratch, sources);
      break;
    }
    case connection_rule::one_to_one:
      if (target_node != excluded) sources.push_back(target_node);
      break;
    case connection_rule::all_to_all:
      for (std::uint64_t s = 0; s < n; ++s)
        if (s != excluded) sources.push_back(s);
      break;
    case connection_rule::pairwise_bernoulli: {
      const double p = proj.p;
      if (p <= 0.0) break;
      if (p >= 1.0) {
        for (std::uint64_t s = 0; s < n; ++s)
          if (s != excluded) sources.push_back(s);
        break;
      }
      // Geometric gaps between successes: one draw per synapse instead of one per pair.
      const double log_q = std::log1p(-p);
      std::uint64_t s = 0;
      while (true) {
        const double gap = std::floor(std::log(stream.uniform()) / log_q);
        if (gap >= double(n - s)) break;
        s += std::uint64_t(gap);
        if (s != excluded) sources.push_back(s);
        if (++s >= n) break;
      }
      break;
    }
  }
  for (auto& s : sources) s += plan.source_first;
}

}  // namespace myelin

namespace myelin {
double expected_synapses(const network_spec& net, const projection_spec& proj) {
  const double n_pre = double(net.populations[proj.source].n), n_post = double(net.populations[proj.target].n);
  const bool no_self = proj.source == proj.target && !proj.allow_autapses;
  switch (proj.rule) {
    case connection_rule::fixed_indegree: return double(proj.indegree) * n_post;
    case connection_rule::fixed_total_number: return double(proj.total);
    case connection_rule::one_to_one: return no_self ? 0.0 : n_post;
    case connection_rule::all_to_all: return n_post * (no_self ? n_pre - 1 : n_pre);
    case connection_rule::pairwise_bernoulli: return proj.p * n_post * (no_self ? n_pre - 1 : n_pre);
  }
  return 0.0;
}
}  // namespace myelin
