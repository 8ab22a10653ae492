// The .partial life cycle shared by the output writers (spikes, reports): a file is written under
// <path>.partial and renamed to <path> only when complete; a restart continues it.
#pragma once

#include <filesystem>
#include <string>
#include <system_error>

#include "myelin/comm/communicator.hpp"
#include "myelin/io/hdf5.hpp"

namespace myelin::io_detail {

// Rank 0, before a resumed run reopens its file: the file to continue, moved to `partial_path`.
// The run was killed (only <path>.partial exists) or had finished (only <path>); when both
// exist, the .partial file is the newer (a writer makes it before removing <path>).
// `inspect` looks at the file before anything is moved; it throws io_error to refuse it.
template <class Inspect>
void prepare_resumed_file(const std::filesystem::path& final_path, const std::filesystem::path& partial_path,
                          const std::string& kind, Inspect&& inspect) {
  namespace fs = std::filesystem;
  std::error_code error;
  const bool partial_exists = fs::exists(partial_path, error);
  const bool final_exists = fs::exists(final_path, error);
  if (!partial_exists && !final_exists)
    throw io_error(final_path.string() + ": no " + kind + " file to resume (neither it nor " +
                   partial_path.filename().string() + " exists)");
  inspect(partial_exists ? partial_path : final_path);
  if (partial_exists) {
    if (final_exists) fs::remove(final_path, error);
  } else {
    fs::rename(final_path, partial_path, error);
  }
  if (error)
    throw io_error(final_path.string() + ": cannot move the " + kind + " file to " + partial_path.filename().string() +
                   " (" + error.message() + ")");
}

// Collective, after the file is closed on every rank: rank 0 renames <path>.partial to <path>;
// the broadcast shares the outcome and keeps the others from returning before the file exists.
inline void publish_partial_file(const communicator& comm, const std::filesystem::path& partial_path,
                                 const std::filesystem::path& final_path) {
  std::string rename_error;
  if (comm.rank() == 0) {
    std::error_code error;
    std::filesystem::rename(partial_path, final_path, error);
    if (error)
      rename_error = partial_path.string() + ": cannot rename to " + final_path.string() + " (" + error.message() + ")";
  }
  rename_error = comm.broadcast(rename_error);
  if (!rename_error.empty()) throw io_error(rename_error);
}

}  // namespace myelin::io_detail
