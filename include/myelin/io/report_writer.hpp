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
  // Collective. Resumes a run restarted from a checkpoint whose first row still to write is
  // `resume_row`: continues the stopped run's file (`path` + ".partial" if it exists, else
  // `path`, moved to .partial) and drops its rows >= resume_row. n_rows may differ from the
  // first run's (a run continued to a later end): mapping/time gets this run's stop time.
  // Throws io_error (on every rank, naming the file) when neither file exists, or it is not this
  // report (population, columns, variable, units, start time, interval) or has fewer than
  // resume_row rows; std::out_of_range when resume_row > n_rows.
  report_writer(const communicator& comm, std::filesystem::path path, std::string population,
                std::vector<std::uint64_t> node_ids, std::string variable, std::string units,
                double t_start_ms, double interval_ms, std::uint64_t n_rows, std::uint64_t resume_row);
  ~report_writer();
  report_writer(const report_writer&) = delete;
  report_writer& operator=(const report_writer&) = delete;

  // Local: this rank's values for row `row`: columns[i] is an index into node_ids. Throws
  // std::out_of_range for a row or column outside the report, std::logic_error for a row
  // already written.
  void append(std::uint64_t row, std::span<const std::uint32_t> columns, std::span<const float> values);
  // Collective: writes all rows < up_to_row, which must be complete: a value missing or given
  // twice throws std::logic_error on every rank. When rows were written, HDF5's metadata go to
  // disk too (H5Fflush), so that a run killed afterwards leaves a .partial file to resume.
  void flush(std::uint64_t up_to_row);
  // Collective: flush all, rename.
  void close();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace myelin
