#include "sim/recording.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

namespace myelin {

run_recorders::run_recorders(const run_spec& spec, const communicator& comm, const network_layout& layout,
                             const partition& part, std::vector<std::unique_ptr<thread_state>>& threads,
                             const std::filesystem::path& dir, std::int64_t start_step, std::int64_t n_steps)
    : layout_(layout) {
  const network_spec& net = spec.network;
  const double dt = spec.simulation.dt_ms;
  const bool resumed = start_step > 0;
  records_spikes_.assign(net.populations.size(), 0);
  weights_ = std::make_unique<weight_recorders>(spec, comm, layout, part, threads, dir, start_step, n_steps);
  if (dir.empty()) return;
  if (spec.output.spikes) {
    std::vector<population_range> ranges;
    for (std::size_t p = 0; p < net.populations.size(); ++p) {
      records_spikes_[p] = net.populations[p].record_spikes ? 1 : 0;
      if (records_spikes_[p]) ranges.push_back({net.populations[p].name, layout.first_gid(p), net.populations[p].n});
    }
    const auto path = dir / "spikes.h5";
    spikes_ = resumed ? std::make_unique<spike_writer>(comm, path, ranges, dt, start_step)
                      : std::make_unique<spike_writer>(comm, path, ranges, dt);
  }
  // One report file per recorded variable; each thread notes which of its neurons it samples.
  for (const record_spec& rec : spec.records) {
    const population_spec& pop = net.populations[rec.population];
    const std::int64_t every = std::max<std::int64_t>(1, std::llround(rec.interval_ms / dt));
    const auto n_rows = std::uint64_t(n_steps / every);
    for (const std::string& var : rec.variables) {
      const auto writer = std::uint32_t(reports_.size());
      const std::string units = var == "V_m" ? "mV" : "pA";
      const auto path = dir / (rec.name + "_" + var + ".h5");
      const double interval_ms = double(every) * dt;
      reports_.push_back(resumed ? std::make_unique<report_writer>(comm, path, pop.name, rec.neurons, var, units,
                                                                   interval_ms, interval_ms, n_rows,
                                                                   std::uint64_t(start_step / every))
                                 : std::make_unique<report_writer>(comm, path, pop.name, rec.neurons, var, units,
                                                                   interval_ms, interval_ms, n_rows));
      report_every_.push_back(every);
      for (auto& ts : threads) {
        for (std::size_t c = 0; c < rec.neurons.size(); ++c) {
          const std::uint64_t gid = layout.first_gid(rec.population) + rec.neurons[c];
          if (part.vp_of(gid) != ts->vp) continue;
          const std::uint64_t l = part.local_index(gid);
          const population_slice& slice = ts->slices[rec.population];
          ts->recorded.push_back({writer, std::uint32_t(c), std::uint32_t(rec.population),
                                  std::uint32_t(l - slice.local_begin), every, var});
        }
      }
    }
  }
}

void run_recorders::record(std::span<const received_spike> spikes,
                           std::vector<std::unique_ptr<thread_state>>& threads) {
  if (spikes_) {
    spike_events_.clear();
    for (const auto& s : spikes)
      if (records_spikes_[layout_.population_of(s.gid)]) spike_events_.push_back({s.gid, s.step});
    spikes_->append(spike_events_);
  }
  if (reports_.empty()) return;
  // Samples of all threads, grouped by (report, row): one append per row and report.
  samples_.clear();
  for (auto& ts : threads) {
    samples_.insert(samples_.end(), ts->samples.begin(), ts->samples.end());
    ts->samples.clear();
  }
  std::sort(samples_.begin(), samples_.end(),
            [](const sample& a, const sample& b) { return std::tie(a.writer, a.row) < std::tie(b.writer, b.row); });
  for (std::size_t i = 0; i < samples_.size();) {
    columns_.clear();
    values_.clear();
    std::size_t j = i;
    for (; j < samples_.size() && samples_[j].writer == samples_[i].writer && samples_[j].row == samples_[i].row; ++j) {
      columns_.push_back(samples_[j].column);
      values_.push_back(samples_[j].value);
    }
    reports_[samples_[i].writer]->append(samples_[i].row, columns_, values_);
    i = j;
  }
}

void run_recorders::flush(std::int64_t up_to_step) {
  if (spikes_) spikes_->flush(up_to_step);
  for (std::size_t w = 0; w < reports_.size(); ++w) reports_[w]->flush(std::uint64_t(up_to_step / report_every_[w]));
  weights_->flush();
}

void run_recorders::close() {
  if (spikes_) spikes_->close();
  for (auto& r : reports_) r->close();
  weights_->close();
}

}  // namespace myelin
