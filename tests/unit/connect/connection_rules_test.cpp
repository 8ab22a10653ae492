#include "myelin/connect/connection_rules.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace myelin {

namespace {
struct fixture {
  network_spec net;
  std::unique_ptr<network_layout> layout;
  std::vector<projection_plan> plans;

  // Populations: "pre" (n_pre) then "post" (n_post); one projection pre -> post (or post -> post).
  fixture(projection_spec proj, std::uint64_t n_pre, std::uint64_t n_post, std::uint64_t seed = 42) {
    net.populations.resize(2);
    net.populations[0].name = "pre";
    net.populations[0].n = n_pre;
    net.populations[1].name = "post";
    net.populations[1].n = n_post;
    proj.weight = distribution::constant_value(1.0);
    proj.delay_ms = distribution::constant_value(1.0);
    net.projections = {proj};
    layout = std::make_unique<network_layout>(net, 0.1, 16);
    plans = plan_projections(net, *layout, seed);
  }

  std::vector<std::uint64_t> sources_of(std::uint64_t target_node, std::uint64_t seed = 42) {
    source_scratch scratch;
    std::vector<std::uint64_t> sources;
    draw_sources(plans[0], seed, plans[0].target_first + target_node, scratch, sources);
    return sources;
  }
};

projection_spec rule(connection_rule r) {
  projection_spec p;
  p.source = 0;
  p.target = 1;
  p.rule = r;
  return p;
}
}  // namespace

TEST(fixed_indegree, every_target_gets_exactly_k_sources_from_the_source_population) {
  projection_spec p = rule(connection_rule::fixed_indegree);
  p.indegree = 37;
  fixture f(p, 200, 50);
  for (std::uint64_t t = 0; t < 50; ++t) {
    const auto s = f.sources_of(t);
    ASSERT_EQ(s.size(), 37u);
    for (std::uint64_t gid : s) {
      EXPECT_GE(gid, 0u);
      EXPECT_LT(gid, 200u);
    }
  }
}

TEST(fixed_indegree, sources_are_uniform) {
  projection_spec p = rule(connection_rule::fixed_indegree);
  p.indegree = 100;
  fixture f(p, 10, 1000);
  std::vector<double> count(10, 0.0);
  for (std::uint64_t t = 0; t < 1000; ++t)
    for (std::uint64_t s : f.sources_of(t)) count[s] += 1;
  // 1e5 draws over 10 sources: chi-square with 9 degrees of freedom, far tail at 40.
  double chi2 = 0;
  for (double c : count) chi2 += (c - 1e4) * (c - 1e4) / 1e4;
  EXPECT_LT(chi2, 40.0);
}

TEST(fixed_indegree, without_multapses_or_autapses_sources_are_distinct_and_not_self) {
  projection_spec p = rule(connection_rule::fixed_indegree);
  p.source = 1;  // recurrent
  p.indegree = 99;  // all but self: the dense path
  p.allow_multapses = false;
  p.allow_autapses = false;
  fixture f(p, 10, 100);
  for (std::uint64_t t = 0; t < 100; ++t) {
    const auto s = f.sources_of(t);
    ASSERT_EQ(s.size(), 99u);
    std::set<std::uint64_t> unique(s.begin(), s.end());
    EXPECT_EQ(unique.size(), 99u);
    EXPECT_EQ(unique.count(f.plans[0].target_first + t), 0u);
  }
  p.indegree = 20;  // the sparse path
  fixture g(p, 10, 100);
  for (std::uint64_t t = 0; t < 100; ++t) {
    const auto s = g.sources_of(t);
    std::set<std::uint64_t> unique(s.begin(), s.end());
    EXPECT_EQ(unique.size(), 20u);
    EXPECT_EQ(unique.count(g.plans[0].target_first + t), 0u);
  }
}

TEST(fixed_total_number, total_is_exact_and_indegrees_are_multinomial) {
  projection_spec p = rule(connection_rule::fixed_total_number);
  p.total = 100000;
  fixture f(p, 300, 1000);
  std::uint64_t total = 0;
  double sum_sq = 0;
  for (std::uint64_t t = 0; t < 1000; ++t) {
    const auto k = f.sources_of(t).size();
    total += k;
    sum_sq += double(k) * double(k);
  }
  EXPECT_EQ(total, 100000u);
  // Each in-degree ~ Binomial(1e5, 1e-3): variance 99.9; the sample variance of 1000 targets has
  // a standard error of ~4.5.
  const double var = sum_sq / 1000 - 100.0 * 100.0;
  EXPECT_NEAR(var, 99.9, 5 * 4.5);
}

TEST(fixed_total_number, every_rank_computes_the_same_split) {
  projection_spec p = rule(connection_rule::fixed_total_number);
  p.total = 5000;
  fixture a(p, 30, 40), b(p, 30, 40);
  EXPECT_EQ(a.plans[0].total_indegree, b.plans[0].total_indegree);
}

TEST(pairwise_bernoulli, connection_count_within_five_sigma) {
  projection_spec p = rule(connection_rule::pairwise_bernoulli);
  p.p = 0.1;
  fixture f(p, 500, 400);
  std::uint64_t n = 0;
  for (std::uint64_t t = 0; t < 400; ++t) {
    const auto s = f.sources_of(t);
    EXPECT_TRUE(std::is_sorted(s.begin(), s.end()));
    EXPECT_EQ(std::set<std::uint64_t>(s.begin(), s.end()).size(), s.size());  // no multapses
    n += s.size();
  }
  const double pairs = 500.0 * 400.0, mean = pairs * 0.1, sigma = std::sqrt(pairs * 0.1 * 0.9);
  EXPECT_NEAR(double(n), mean, 5 * sigma);
}

TEST(pairwise_bernoulli, autapses_excluded_when_asked) {
  projection_spec p = rule(connection_rule::pairwise_bernoulli);
  p.source = 1;
  p.p = 1.0;
  p.allow_autapses = false;
  fixture f(p, 5, 20);
  for (std::uint64_t t = 0; t < 20; ++t) {
    const auto s = f.sources_of(t);
    EXPECT_EQ(s.size(), 19u);
    EXPECT_EQ(std::count(s.begin(), s.end(), f.plans[0].target_first + t), 0);
  }
}

TEST(one_to_one_and_all_to_all, give_the_obvious_sources) {
  fixture one(rule(connection_rule::one_to_one), 30, 30);
  for (std::uint64_t t = 0; t < 30; ++t) EXPECT_EQ(one.sources_of(t), std::vector<std::uint64_t>{t});
  fixture all(rule(connection_rule::all_to_all), 7, 3);
  for (std::uint64_t t = 0; t < 3; ++t) EXPECT_EQ(all.sources_of(t), (std::vector<std::uint64_t>{0, 1, 2, 3, 4, 5, 6}));
}

TEST(connection_rules, draws_depend_on_seed_and_target_only) {
  projection_spec p = rule(connection_rule::fixed_indegree);
  p.indegree = 10;
  fixture a(p, 1000, 100), b(p, 1000, 100);
  EXPECT_EQ(a.sources_of(17), b.sources_of(17));  // any rank, any thread, any order
  EXPECT_NE(a.sources_of(17), a.sources_of(18));
  EXPECT_NE(a.sources_of(17, 1), a.sources_of(17, 2));
}

TEST(expected_synapses, matches_each_rule) {
  projection_spec p = rule(connection_rule::fixed_indegree);
  p.indegree = 10;
  fixture f(p, 100, 50);
  EXPECT_DOUBLE_EQ(expected_synapses(f.net, f.net.projections[0]), 500.0);
  f.net.projections[0].rule = connection_rule::all_to_all;
  EXPECT_DOUBLE_EQ(expected_synapses(f.net, f.net.projections[0]), 5000.0);
  f.net.projections[0].rule = connection_rule::pairwise_bernoulli;
  f.net.projections[0].p = 0.5;
  EXPECT_DOUBLE_EQ(expected_synapses(f.net, f.net.projections[0]), 2500.0);
}

}  // namespace myelin
