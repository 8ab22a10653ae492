// Sampled state of chosen neurons to a SONATA report file, collectively with parallel HDF5:
// /report/<population>/data float32 [T x V] (attribute units), /report/<population>/mapping/
// {node_ids uint64 [V], index_pointers uint64 [V+1], element_ids uint32 [V], time float64 [3]}
// where time = {start, stop, step} in ms. One file per recorded variable.
// Rows are canonical: each rank gives the values of its own columns and the writer assembles full
// rows on the rank that owns the row block, so the file is identical for any decomposition.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "myelin/comm/communicator.hpp"

namespace myelin {

class report_writer {
 public:
  // Collective. node_ids: the recorded neurons (0-based in the population, sorted, unique): the
  // columns. t_start_ms: time of row 0; interval_ms: time between rows; n_rows: rows in the run.
  // Written to `path` + ".partial" and renamed by close() (an older file under the final name is
  // removed here); destroyed without close() (an error path), only the .partial file remains.
  // Also written: attribute variable_name on data, units="ms" on mapping/time, sorted=1 on
  // mapping/node_ids (libsonata reads them).
  report_writer(const communicator& comm, std::filesystem::path path, std::string population,
                std::vector<std::uint64_t> node_ids, std::string variable, std::string units,
                double t_start_ms, double interval_ms, std::uint64_t n_rows);
  ~report_writer();
  report_writer(const report_writer&) = delete;
  report_writer& operator=(const report_writer&) = delete;

  // Local: this rank's values for row `row`: columns[i] is an index into node_ids. Throws
  // std::out_of_range for a row or column outside the report, std::logic_error for a row
  // already written.
  void append(std::uint64_t row, std::span<const std::uint32_t> columns, std::span<const float> values);
  // Collective: writes all rows < up_to_row, which must be complete: a value missing or given
  // twice throws std::logic_error on every rank.
  void flush(std::uint64_t up_to_row);
  // Collective: flush all, rename.
  void close();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace myelin
