#include "sim/weight_recording.hpp"

#include <algorithm>
#include <cmath>

namespace myelin {

weight_recorders::weight_recorders(const run_spec& spec, const communicator& comm, const network_layout& layout,
                                   const partition& part,
                                   std::vector<std::unique_ptr<thread_state>>& threads,
                                   const std::filesystem::path& dir, std::int64_t start_step, std::int64_t n_steps)
    : dt_ms_(spec.simulation.dt_ms) {
  if (dir.empty()) return;
  const network_spec& net = spec.network;
  for (const weight_recording_spec& rec : spec.weight_recordings) {
    const projection_spec& projection = net.projections[rec.projection];
    recorder r;
    const plastic_synapse_list synapses(threads, part, layout, net, rec.projection);
    r.synapses = synapses.refs;
    r.by_thread.resize(threads.size());
    for (std::size_t i = 0; i < r.synapses.size(); ++i) r.by_thread[r.synapses[i].thread].push_back(std::uint32_t(i));
    weight_recording what;
    what.projection = projection.name;
    what.source_population = net.populations[projection.source].name;
    what.target_population = net.populations[projection.target].name;
    what.synapse_model = projection.synapse == synapse_model::stdp ? "stdp" : "stdp_pl";
    what.units = net.populations[projection.target].model == neuron_model::iaf_psc_delta ? "mV" : "pA";
    const std::uint64_t bins = rec.has_histograms() ? rec.histogram_bins : 1;
    const double lo = rec.has_histograms() ? rec.histogram_min : 0.0;
    const double hi = rec.has_histograms() ? rec.histogram_max : 1.0;
    for (std::uint64_t k = 0; k <= bins; ++k) what.bin_edges.push_back(lo + (hi - lo) * double(k) / double(bins));
    const auto path = dir / (rec.name + "_weights.h5");
    r.writer = start_step > 0 ? std::make_unique<weight_writer>(comm, path, what, synapses.target, synapses.source,
                                                                synapses.delay_ms, double(start_step) * dt_ms_)
                              : std::make_unique<weight_writer>(comm, path, what, synapses.target, synapses.source,
                                                                synapses.delay_ms);

    // Due rows: snapshot times and every histogram interval, at whole steps.
    std::vector<row> rows;
    for (const double t : rec.times_ms) rows.push_back({std::llround(t / dt_ms_), true, false});
    if (rec.has_histograms()) {
      const std::int64_t every = std::max<std::int64_t>(1, std::llround(rec.histogram_interval_ms / dt_ms_));
      for (std::int64_t s = 0; s <= n_steps; s += every) rows.push_back({s, false, true});
    }
    std::sort(rows.begin(), rows.end(), [](const row& a, const row& b) { return a.step < b.step; });
    for (const row& due : rows) {
      if (due.step < start_step || due.step > n_steps) continue;
      if (!r.rows.empty() && r.rows.back().step == due.step) {
        r.rows.back().snapshot |= due.snapshot;
        r.rows.back().histogram |= due.histogram;
      } else {
        r.rows.push_back(due);
      }
    }
    recorders_.push_back(std::move(r));
  }
}

weight_recorders::~weight_recorders() = default;

void weight_recorders::prepare(std::int64_t t1) {
  interval_steps_.clear();
  for (recorder& r : recorders_) {
    std::size_t n = 0;
    while (r.next + n < r.rows.size() && r.rows[r.next + n].step < t1) interval_steps_.push_back(r.rows[r.next + n++].step);
    r.taken.resize(n);
    for (auto& values : r.taken) values.resize(r.synapses.size());
  }
  std::sort(interval_steps_.begin(), interval_steps_.end());
  interval_steps_.erase(std::unique(interval_steps_.begin(), interval_steps_.end()), interval_steps_.end());
}

void weight_recorders::copy(std::size_t thread, std::int64_t step) {
  for (recorder& r : recorders_)
    for (std::size_t k = 0; k < r.taken.size(); ++k) {
      if (r.rows[r.next + k].step != step) continue;
      std::vector<double>& values = r.taken[k];
      for (const std::uint32_t i : r.by_thread[thread]) values[i] = *r.synapses[i].weight;
    }
}

void weight_recorders::write_row(recorder& r, const row& due, std::span<const double> weights) {
  const double t_ms = double(due.step) * dt_ms_;
  if (due.snapshot && due.histogram) r.writer->write_snapshot_and_histogram(t_ms, weights);
  else if (due.snapshot) r.writer->write_snapshot(t_ms, weights);
  else r.writer->write_histogram(t_ms, weights);
}

void weight_recorders::write() {
  for (recorder& r : recorders_) {
    for (std::size_t k = 0; k < r.taken.size(); ++k) write_row(r, r.rows[r.next + k], r.taken[k]);
    r.next += r.taken.size();
    r.taken.clear();
  }
  interval_steps_.clear();
}

void weight_recorders::finish(std::int64_t n_steps) {
  std::vector<double> weights;
  for (recorder& r : recorders_) {
    if (r.next < r.rows.size() && r.rows[r.next].step == n_steps) {
      weights.resize(r.synapses.size());
      for (std::size_t i = 0; i < r.synapses.size(); ++i) weights[i] = *r.synapses[i].weight;
      write_row(r, r.rows[r.next], weights);
      ++r.next;
    }
  }
}

void weight_recorders::flush() {
  for (recorder& r : recorders_) r.writer->flush();
}

void weight_recorders::close() {
  for (recorder& r : recorders_) r.writer->close();
}

}  // namespace myelin
