// How spike_file_fuzz (and the regression test that replays its findings) reads an HDF5 file:
// the way a SONATA spike file is read with myelin's HDF5 reader API (include/myelin/io/hdf5.hpp):
// root attributes, /spikes/<population> groups with their sorting enum, timestamps (float64,
// units) and node_ids (uint64), whole and in blocks. myelin::io_error is the documented answer to
// a bad file; any other exception escapes to the caller (a bug). Returns the number of spikes
// read. `bug` is called for a wrong answer that raised nothing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "myelin/io/hdf5.hpp"

namespace myelin::fuzz {

template <class T, class Bug>
std::uint64_t read_spike_column(const h5::group& population, const char* name, Bug&& bug) {
  if (population.kind_of(name) != h5::member_kind::dataset) return 0;
  const h5::dataset data = population.open_dataset(name);
  if (!data.holds<T>()) return 0;
  const std::vector<hsize_t> dims = data.dims();
  if (dims.size() != 1) return 0;
  const std::vector<T> all = data.template read<T>();
  if (all.size() != dims[0]) bug("read() returned another number of elements than dims() says");
  if (dims[0] > 1) {  // the second half, as a reader of one time window does
    const hsize_t start = dims[0] / 2, count = dims[0] - dims[0] / 2;
    const std::vector<T> block =
        data.template read<T>(std::span<const hsize_t>(&start, 1), std::span<const hsize_t>(&count, 1));
    for (hsize_t i = 0; i < count; ++i)
      if (block[i] == block[i] && !(block[i] == all[start + i])) bug("a block read differs from the whole read");
  }
  if (data.has_attribute("units") && data.attribute_is_string("units")) (void)data.read_string_attribute("units");
  return all.size();
}

template <class Bug>
std::uint64_t read_spike_file(const std::filesystem::path& path, Bug&& bug) {
  const h5::file file = h5::file::open_read_only(path);
  for (const char* name : {"magic", "version"})
    if (file.has_attribute(name) && file.attribute_holds<std::uint32_t>(name))
      (void)file.read_attribute<std::uint32_t>(name);
  if (file.kind_of("spikes") != h5::member_kind::group) return 0;
  const h5::group spikes = file.open_group("spikes");
  std::uint64_t n = 0;
  for (const std::string& name : spikes.member_names()) {
    if (spikes.kind_of(name) != h5::member_kind::group) continue;
    const h5::group population = spikes.open_group(name);
    if (population.has_attribute("sorting")) (void)population.read_enum_attribute("sorting");
    n += read_spike_column<double>(population, "timestamps", bug);
    n += read_spike_column<std::uint64_t>(population, "node_ids", bug);
  }
  return n;
}

}  // namespace myelin::fuzz
