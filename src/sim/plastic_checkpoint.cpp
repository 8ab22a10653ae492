// The plastic part of checkpoints: what learning has changed, by global identity, so that a
// restart on any number of ranks and threads continues exactly (the rest: checkpointing.cpp).
//   /plasticity/projection.<name>/{target, source (node ids), delay_steps, weight}
//       every plastic synapse in the canonical order of myelin/io/edge_order.hpp (target,
//       source, delay; multapses in the order they were drawn): the same for any decomposition,
//       and each rank reads back only its block;
//   /plasticity/projection.<name>/{trace_source, trace_t_last, trace_Kplus}
//       each source's presynaptic trace before its spikes in flight (which the restart enqueues
//       again, advancing the trace past them once more: same operations, same bits); sources
//       that never spiked are left out, ranks that share a source write it alike;
//   /plasticity/population.<name>/{node, Kminus, last_spike, entries} and
//       {entry_t, entry_Kminus, entry_reads}: the postsynaptic history of every neuron that
//       plastic synapses target, its remembered spikes flattened in node order.
// Traces and histories: each rank writes its records after the lower ranks' (offsets by exscan);
// a restart reads them all in chunks and keeps those of its own neurons.
#include <algorithm>
#include <string>

#include "myelin/io/checkpoint.hpp"
#include "myelin/io/edge_order.hpp"
#include "sim/plastic_synapses.hpp"
#include "sim/simulation_state.hpp"

namespace myelin {

namespace {

constexpr std::uint64_t read_chunk = std::uint64_t(1) << 22;  // records per read on restart

std::string projection_table(const projection_spec& p) { return "projection." + p.name; }
std::string population_table(const population_spec& p) { return "population." + p.name; }

template <class T>
void write_column(checkpoint_writer& writer, const communicator& comm, const std::string& table,
                  const std::string& column, const std::vector<T>& values) {
  const std::uint64_t count = values.size();
  const std::uint64_t offset = comm.exscan_sum(std::span<const std::uint64_t>(&count, 1))[0];
  writer.write_plasticity_column<T>(table, column, comm.allreduce_sum(count), offset, values);
}

// Calls take(first, n) for consecutive chunks of a column of `length` records (every rank alike).
template <class Take>
void in_chunks(std::uint64_t length, Take&& take) {
  for (std::uint64_t first = 0; first < length; first += read_chunk) take(first, std::min(read_chunk, length - first));
}

}  // namespace

std::uint64_t simulation::impl::plastic_checkpoint_bytes() const {
  std::uint64_t bytes = 0;
  for (const auto& ts : threads) {
    for (const auto& p : ts->plastic)
      for (const synapse_block& block : p->synapses.blocks)
        bytes += block.synapses() * (2 * sizeof(std::uint64_t) + sizeof(std::uint32_t) + sizeof(double)) +
                 block.rows() * (sizeof(std::uint64_t) + sizeof(pre_trace));
    for (const population_slice& slice : ts->slices)
      if (slice.history)
        bytes += slice.history->neurons() * 32 + slice.history->entries() * sizeof(post_spike_entry);
  }
  return comm.allreduce_sum(bytes);
}

void simulation::impl::write_plastic_state(checkpoint_writer& writer, std::int64_t step) {
  const network_spec& net = spec.network;
  for (std::size_t index = 0; index < net.projections.size(); ++index) {
    const projection_spec& projection = net.projections[index];
    if (!projection.is_plastic()) continue;
    const std::string table = projection_table(projection);
    const std::uint64_t source_first = layout.first_gid(projection.source);
    {
      // In the canonical order (edge_order.hpp): each rank writes its contiguous block.
      const plastic_synapse_list synapses(threads, part, layout, net, index);
      const edge_order order(comm, synapses.target, synapses.source, synapses.delay_ms);
      std::vector<double> weight;
      for (const synapse_ref& r : synapses.refs) weight.push_back(*r.weight);
      auto put = [&]<class T>(const char* column, const std::vector<T>& local) {
        writer.write_plasticity_column<T>(table, column, order.total_edges(), order.block_first(),
                                          order.to_canonical<T>(local));
      };
      put("target", synapses.target);
      put("source", synapses.source);
      put("delay_steps", synapses.delay_steps);
      put("weight", weight);
    }
    // Traces before the spikes in flight: those the checkpoint lists (emitted from step - max delay).
    std::vector<std::pair<std::uint64_t, pre_trace>> traces;
    for (const auto& ts : threads)
      for (const auto& p : ts->plastic)
        if (p->projection == index)
          p->arrivals->traces_before(step - layout.max_delay_steps(), [&](std::uint64_t gid, const pre_trace& trace) {
            if (trace.t_last != 0 || trace.Kplus != 0.0) traces.emplace_back(gid, trace);
          });
    std::sort(traces.begin(), traces.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    traces.erase(std::unique(traces.begin(), traces.end(), [](const auto& a, const auto& b) { return a.first == b.first; }),
                 traces.end());
    std::vector<std::uint64_t> trace_source;
    std::vector<std::int64_t> trace_t_last;
    std::vector<double> trace_Kplus;
    for (const auto& [gid, trace] : traces) {
      trace_source.push_back(gid - source_first);
      trace_t_last.push_back(trace.t_last);
      trace_Kplus.push_back(trace.Kplus);
    }
    write_column(writer, comm, table, "trace_source", trace_source);
    write_column(writer, comm, table, "trace_t_last", trace_t_last);
    write_column(writer, comm, table, "trace_Kplus", trace_Kplus);
  }

  for (std::size_t pop = 0; pop < net.populations.size(); ++pop) {
    if (!threads[0]->slices[pop].history) continue;  // every thread has one, or none
    std::vector<std::uint64_t> node;
    std::vector<double> Kminus, entry_Kminus;
    std::vector<std::int64_t> last_spike, entry_t;
    std::vector<std::uint32_t> entries, entry_reads;
    for (const local_neuron& n : local_neurons(pop)) {
      const post_history& history = *threads[n.thread]->slices[pop].history;
      if (history.incoming(n.index) == 0) continue;
      node.push_back(n.node);
      Kminus.push_back(history.Kminus(n.index));
      last_spike.push_back(history.last_spike(n.index));
      entries.push_back(std::uint32_t(history.entries(n.index)));
      for (std::size_t e = 0; e < history.entries(n.index); ++e) {
        const post_spike_entry entry = history.entry(n.index, e);
        entry_t.push_back(entry.t);
        entry_Kminus.push_back(entry.Kminus);
        entry_reads.push_back(entry.reads);
      }
    }
    const std::string table = population_table(net.populations[pop]);
    write_column(writer, comm, table, "node", node);
    write_column(writer, comm, table, "Kminus", Kminus);
    write_column(writer, comm, table, "last_spike", last_spike);
    write_column(writer, comm, table, "entries", entries);
    write_column(writer, comm, table, "entry_t", entry_t);
    write_column(writer, comm, table, "entry_Kminus", entry_Kminus);
    write_column(writer, comm, table, "entry_reads", entry_reads);
  }
}

void simulation::impl::restore_plastic_state(const checkpoint_reader& reader) {
  const network_spec& net = spec.network;
  auto length_of = [&](const std::string& table, const std::string& column) {
    const std::int64_t n = reader.plasticity_column_length(table, column);
    if (n < 0) throw checkpoint_error("the checkpoint has no /plasticity/" + table + "/" + column);
    return std::uint64_t(n);
  };
  for (std::size_t index = 0; index < net.projections.size(); ++index) {
    const projection_spec& projection = net.projections[index];
    if (!projection.is_plastic()) continue;
    const std::string table = projection_table(projection);
    const std::uint64_t source_first = layout.first_gid(projection.source);

    auto mismatch = [&](const std::string& what) {
      return checkpoint_error("the checkpoint's plastic synapses of projection " + projection.name +
                              " are not this network's (" + what + ")");
    };
    // Weights: this rank's block of the canonical order, checked against this network's
    // synapses there, then sent back to the ranks that hold them.
    const plastic_synapse_list synapses(threads, part, layout, net, index);
    const edge_order order(comm, synapses.target, synapses.source, synapses.delay_ms);
    const std::uint64_t total = length_of(table, "weight");
    std::string problem;
    if (total != order.total_edges())
      problem = std::to_string(total) + " synapses in the checkpoint, " + std::to_string(order.total_edges()) + " now";
    if (comm.any(!problem.empty())) throw mismatch(problem.empty() ? "on another rank" : problem);
    const std::uint64_t block_first = order.block_first(), block_n = order.block_size();
    const auto saved_target = reader.read_plasticity_column<std::uint64_t>(table, "target", block_first, block_n);
    const auto saved_source = reader.read_plasticity_column<std::uint64_t>(table, "source", block_first, block_n);
    const auto saved_delay = reader.read_plasticity_column<std::uint32_t>(table, "delay_steps", block_first, block_n);
    const auto target = order.to_canonical<std::uint64_t>(synapses.target);
    const auto source = order.to_canonical<std::uint64_t>(synapses.source);
    const auto delay = order.to_canonical<std::uint32_t>(synapses.delay_steps);
    for (std::uint64_t i = 0; i < block_n && problem.empty(); ++i)
      if (saved_target[i] != target[i] || saved_source[i] != source[i] || saved_delay[i] != delay[i])
        problem = "synapse " + std::to_string(block_first + i) + " is " + std::to_string(saved_source[i]) + " -> " +
                  std::to_string(saved_target[i]) + " there, " + std::to_string(source[i]) + " -> " +
                  std::to_string(target[i]) + " now";
    if (comm.any(!problem.empty())) throw mismatch(problem.empty() ? "on another rank" : problem);
    const std::vector<double> weight =
        order.from_canonical<double>(reader.read_plasticity_column<double>(table, "weight", block_first, block_n));
    for (std::size_t i = 0; i < synapses.refs.size(); ++i) *synapses.refs[i].weight = weight[i];

    // Traces: every row of each source, on every thread.
    in_chunks(length_of(table, "trace_source"), [&](std::uint64_t first, std::uint64_t n) {
      const auto source = reader.read_plasticity_column<std::uint64_t>(table, "trace_source", first, n);
      const auto t_last = reader.read_plasticity_column<std::int64_t>(table, "trace_t_last", first, n);
      const auto Kplus = reader.read_plasticity_column<double>(table, "trace_Kplus", first, n);
      for (auto& ts : threads)
        for (auto& p : ts->plastic)
          if (p->projection == index)
            for (std::uint64_t i = 0; i < n; ++i) p->arrivals->restore_trace(source_first + source[i], {t_last[i], Kplus[i]});
    });
  }

  for (std::size_t pop = 0; pop < net.populations.size(); ++pop) {
    if (!threads[0]->slices[pop].history) continue;
    const std::string table = population_table(net.populations[pop]);
    const std::uint64_t first_gid = layout.first_gid(pop);
    // Entries are read along with their nodes: the nodes of one chunk own a range of entries.
    std::uint64_t entry_at = 0;
    const std::uint64_t n_entries = length_of(table, "entry_t");
    in_chunks(length_of(table, "node"), [&](std::uint64_t first, std::uint64_t n) {
      const auto node = reader.read_plasticity_column<std::uint64_t>(table, "node", first, n);
      const auto Kminus = reader.read_plasticity_column<double>(table, "Kminus", first, n);
      const auto last_spike = reader.read_plasticity_column<std::int64_t>(table, "last_spike", first, n);
      const auto entries = reader.read_plasticity_column<std::uint32_t>(table, "entries", first, n);
      std::uint64_t chunk_entries = 0;
      for (const std::uint32_t e : entries) chunk_entries += e;
      if (chunk_entries > n_entries - entry_at)
        throw checkpoint_error("the checkpoint's spike histories of population " + net.populations[pop].name +
                               " claim more entries than it holds");
      const auto t = reader.read_plasticity_column<std::int64_t>(table, "entry_t", entry_at, chunk_entries);
      const auto K = reader.read_plasticity_column<double>(table, "entry_Kminus", entry_at, chunk_entries);
      const auto reads = reader.read_plasticity_column<std::uint32_t>(table, "entry_reads", entry_at, chunk_entries);
      std::vector<post_spike_entry> remembered;
      std::uint64_t e = 0;
      for (std::uint64_t i = 0; i < n; ++i) {
        const std::uint64_t gid = first_gid + node[i];
        const std::uint64_t begin = e;
        e += entries[i];
        if (node[i] >= net.populations[pop].n)
          throw checkpoint_error("the checkpoint's spike history names node " + std::to_string(node[i]) +
                                 " of population " + net.populations[pop].name + ", which is smaller");
        if (part.rank_of(gid) != comm.rank()) continue;
        thread_state& ts = *threads[std::size_t(part.thread_of_vp(part.vp_of(gid)))];
        population_slice& slice = ts.slices[pop];
        remembered.clear();
        for (std::uint64_t k = begin; k < e; ++k) remembered.push_back({t[k], K[k], reads[k]});
        slice.history->restore(part.local_index(gid) - slice.local_begin, Kminus[i], last_spike[i], remembered);
      }
      entry_at += chunk_entries;
    });
  }
}

}  // namespace myelin
