// Move-only owners of HDF5 handles (file, group, dataset, dataspace, property list), the only
// place besides the SONATA writers where myelin calls HDF5. Every HDF5 return code is checked: a
// failure throws myelin::io_error with one line naming the file, the operation and HDF5's own
// innermost reason, e.g.
//   out/run/spikes.h5: cannot create dataset /spikes/L23E/timestamps (<HDF5's reason>)
// HDF5's automatic error-stack printing is switched off whenever a file is created or opened, so
// that the exception is the only report.
//
// Datasets are created with little-endian standard types (the file is the same on every machine)
// and without object time stamps (the file is the same on every run). They get no fill values:
// whoever creates or extends a dataset writes all of it, or leaves unwritten elements undefined.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "myelin/comm/communicator.hpp"

namespace myelin {

class io_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace h5 {

// The element types the wrappers read and write.
template <class T>
concept element = std::is_same_v<T, std::uint8_t> || std::is_same_v<T, std::uint16_t> ||
                  std::is_same_v<T, std::uint32_t> || std::is_same_v<T, std::uint64_t> ||
                  std::is_same_v<T, std::int32_t> || std::is_same_v<T, std::int64_t> || std::is_same_v<T, float> ||
                  std::is_same_v<T, double>;

// In-memory HDF5 type of T.
template <element T>
hid_t memory_type() {
  if constexpr (std::is_same_v<T, std::uint8_t>) return H5T_NATIVE_UINT8;
  else if constexpr (std::is_same_v<T, std::uint16_t>) return H5T_NATIVE_UINT16;
  else if constexpr (std::is_same_v<T, std::uint32_t>) return H5T_NATIVE_UINT32;
  else if constexpr (std::is_same_v<T, std::uint64_t>) return H5T_NATIVE_UINT64;
  else if constexpr (std::is_same_v<T, std::int32_t>) return H5T_NATIVE_INT32;
  else if constexpr (std::is_same_v<T, std::int64_t>) return H5T_NATIVE_INT64;
  else if constexpr (std::is_same_v<T, float>) return H5T_NATIVE_FLOAT;
  else return H5T_NATIVE_DOUBLE;
}

// On-disk HDF5 type of T: fixed little-endian, whatever the machine.
template <element T>
hid_t file_type() {
  if constexpr (std::is_same_v<T, std::uint8_t>) return H5T_STD_U8LE;
  else if constexpr (std::is_same_v<T, std::uint16_t>) return H5T_STD_U16LE;
  else if constexpr (std::is_same_v<T, std::uint32_t>) return H5T_STD_U32LE;
  else if constexpr (std::is_same_v<T, std::uint64_t>) return H5T_STD_U64LE;
  else if constexpr (std::is_same_v<T, std::int32_t>) return H5T_STD_I32LE;
  else if constexpr (std::is_same_v<T, std::int64_t>) return H5T_STD_I64LE;
  else if constexpr (std::is_same_v<T, float>) return H5T_IEEE_F32LE;
  else return H5T_IEEE_F64LE;
}

// Owns one HDF5 identifier and releases it with the H5?close that matches its kind.
class handle {
 public:
  using closer = herr_t (*)(hid_t);

  handle() noexcept = default;
  handle(hid_t id, closer close) noexcept : id_(id), close_(close) {}
  handle(handle&& other) noexcept;
  handle& operator=(handle&& other) noexcept;
  handle(const handle&) = delete;
  handle& operator=(const handle&) = delete;
  ~handle() { release(); }

  hid_t id() const noexcept { return id_; }
  bool is_open() const noexcept { return id_ >= 0; }
  // Closes now. False when HDF5 refuses; the handle then keeps the identifier (still valid).
  bool release() noexcept;

 private:
  hid_t id_ = H5I_INVALID_HID;
  closer close_ = nullptr;
};

// A dataset creation, file access or data transfer property list.
class property_list {
 public:
  // Parallel access through MPI-IO on the communicator's processes.
  static property_list mpio_file_access(const communicator& comm, const std::string& file_path);
  // Chunked layout with the given chunk shape; no fill values, no object time stamps.
  static property_list chunked_dataset_creation(std::span<const hsize_t> chunk_dims, const std::string& file_path);
  // Contiguous layout; no fill values, no object time stamps.
  static property_list contiguous_dataset_creation(const std::string& file_path);
  // Group creation without object time stamps.
  static property_list group_creation(const std::string& file_path);
  // Collective MPI-IO transfer: every process of the file's communicator takes part.
  static property_list collective_transfer(const std::string& file_path);
  // Dataset access without HDF5's chunk cache (see location::open_dataset).
  static property_list dataset_access_without_chunk_cache(const std::string& file_path);

  hid_t id() const noexcept { return handle_.id(); }

 private:
  property_list(hid_t property_class, const std::string& file_path, std::string_view purpose);
  void leave_unfilled_and_untimed(const std::string& file_path);
  handle handle_;
};

// The shape of a dataset or attribute, and a selection in it.
class dataspace {
 public:
  // dims.size() == max_dims.size(); an empty max_dims means max_dims == dims.
  dataspace(std::span<const hsize_t> dims, std::span<const hsize_t> max_dims, std::string file_path,
            std::string object_path);
  // Takes ownership of an existing dataspace id (checked).
  dataspace(hid_t id, std::string file_path, std::string object_path);

  std::vector<hsize_t> dims() const;
  // Selects the block [start, start + count); a zero count anywhere selects nothing.
  void select_block(std::span<const hsize_t> start, std::span<const hsize_t> count);
  void select_nothing();

  hid_t id() const noexcept { return handle_.id(); }

 private:
  handle handle_;
  std::string file_path_;
  std::string object_path_;  // what the space belongs to, for messages
};

// A file, group or dataset: a named object that carries attributes.
class object {
 public:
  hid_t id() const noexcept { return handle_.id(); }
  const std::string& file_path() const noexcept { return file_path_; }
  const std::string& path() const noexcept { return path_; }  // inside the file, e.g. /spikes/L23E
  bool is_open() const noexcept { return handle_.is_open(); }
  // Closes now and reports failures (the destructor closes silently).
  void close();

  bool has_attribute(std::string_view name) const;
  // Whether the attribute's stored element type is T's (same class, size, sign and byte order).
  template <element T>
  bool attribute_holds(std::string_view name) const {
    return attribute_type_equals(name, memory_type<T>());
  }
  // Whether the attribute is a string (fixed or variable length).
  bool attribute_is_string(std::string_view name) const;
  // Attributes are metadata: in a parallel file every process writes the same value.
  template <element T>
  void write_attribute(std::string_view name, T value) {
    write_attribute_raw(name, file_type<T>(), memory_type<T>(), {}, &value);
  }
  template <element T>
  void write_attribute(std::string_view name, std::span<const T> values) {
    const hsize_t n = values.size();
    write_attribute_raw(name, file_type<T>(), memory_type<T>(), std::span<const hsize_t>(&n, 1), values.data());
  }
  // A variable-length UTF-8 string, as h5py writes str (bmtk and libsonata read it as a string).
  void write_attribute(std::string_view name, std::string_view text);
  // A 1-D array of variable-length UTF-8 strings (h5py reads it as an array of str or bytes).
  void write_attribute(std::string_view name, std::span<const std::string> texts);
  // A scalar enum over uint8 (as h5py.enum_dtype(..., basetype='u1')): member names[i] has value i.
  void write_enum_attribute(std::string_view name, std::span<const std::string_view> names, std::uint8_t value);
  // The member name of a scalar enum attribute.
  std::string read_enum_attribute(std::string_view name) const;

  // Every element of a numeric attribute (one for a scalar), converted to T.
  template <element T>
  std::vector<T> read_attribute(std::string_view name) const {
    std::vector<T> values(attribute_size(name));
    read_attribute_raw(name, memory_type<T>(), values.data());
    return values;
  }
  // A string attribute, fixed or variable length.
  std::string read_string_attribute(std::string_view name) const;

 protected:
  object() = default;
  object(handle owned, std::string file_path, std::string path)
      : handle_(std::move(owned)), file_path_(std::move(file_path)), path_(std::move(path)) {}
  std::string child_path(std::string_view name) const;

  handle handle_;
  std::string file_path_;
  std::string path_;

 private:
  void write_string_attribute(std::string_view name, std::span<const std::string> texts, bool scalar);
  void write_attribute_raw(std::string_view name, hid_t stored_type, hid_t mem_type, std::span<const hsize_t> dims,
                           const void* data);
  std::size_t attribute_size(std::string_view name) const;
  void read_attribute_raw(std::string_view name, hid_t mem_type, void* data) const;
  bool attribute_type_equals(std::string_view name, hid_t mem_type) const;
};

class dataset : public object {
 public:
  dataset(handle owned, std::string file_path, std::string path)
      : object(std::move(owned), std::move(file_path), std::move(path)) {}

  std::vector<hsize_t> dims() const;
  dataspace space() const;
  // Whether the stored element type is T's (same class, size, sign and byte order).
  template <element T>
  bool holds() const {
    return stored_type_equals(memory_type<T>());
  }

  // Collective in a parallel file: every process passes the same dims.
  void set_extent(std::span<const hsize_t> dims);

  // Collective: writes values (row-major, product(count) elements) to [start, start + count).
  // Every process of the file's communicator calls it; one with nothing to write passes no
  // values and a zero count, and selects nothing.
  template <element T>
  void write_collective(std::span<const T> values, std::span<const hsize_t> start, std::span<const hsize_t> count) {
    write_raw(memory_type<T>(), values.data(), values.size(), start, count, /*collective=*/true);
  }
  // Local (a file without MPI-IO): writes values to the block [start, start + count).
  template <element T>
  void write(std::span<const T> values, std::span<const hsize_t> start, std::span<const hsize_t> count) {
    write_raw(memory_type<T>(), values.data(), values.size(), start, count, /*collective=*/false);
  }

  // Collective: the block [start, start + count), row-major; every process of the file's
  // communicator calls it (with its own block, possibly empty).
  template <element T>
  std::vector<T> read_collective(std::span<const hsize_t> start, std::span<const hsize_t> count) const {
    std::vector<T> values(readable_count(count));
    read_raw(memory_type<T>(), values.data(), values.size(), start, count, /*collective=*/true);
    return values;
  }

  // Local: the whole dataset, row-major.
  template <element T>
  std::vector<T> read() const {
    const std::vector<hsize_t> shape = dims();
    std::vector<hsize_t> start(shape.size(), 0);
    return read<T>(start, shape);
  }
  // Local: the block [start, start + count), row-major.
  template <element T>
  std::vector<T> read(std::span<const hsize_t> start, std::span<const hsize_t> count) const {
    std::vector<T> values(readable_count(count));
    read_raw(memory_type<T>(), values.data(), values.size(), start, count, /*collective=*/false);
    return values;
  }

 private:
  static std::size_t element_count(std::span<const hsize_t> count);
  // element_count(count), once the dataset is known to store what it claims: a damaged or
  // foreign file may claim any shape (671,088,640 elements in a 10 KB file, found by fuzzing),
  // and reading must not ask for more memory than the file can fill. Throws io_error when the
  // dataset's extent holds more bytes than its allocated storage (myelin's datasets are never
  // compressed and always fully allocated), or when the block's size overflows.
  std::size_t readable_count(std::span<const hsize_t> count) const;
  bool stored_type_equals(hid_t mem_type) const;
  void write_raw(hid_t mem_type, const void* data, std::size_t n, std::span<const hsize_t> start,
                 std::span<const hsize_t> count, bool collective);
  void read_raw(hid_t mem_type, void* data, std::size_t n, std::span<const hsize_t> start,
                std::span<const hsize_t> count, bool collective) const;
};

class group;

// What a name in a file or group refers to.
enum class member_kind { missing, group, dataset, other };

// A file or a group: holds groups and datasets. Names are relative (or absolute from the root).
class location : public object {
 public:
  // The names of the direct members, in name order.
  std::vector<std::string> member_names() const;
  // What `name` (a direct member) is; missing when there is no such link.
  member_kind kind_of(std::string_view name) const;

  // Collective in a parallel file (as is every creation).
  group create_group(std::string_view name);
  group open_group(std::string_view name) const;
  bool contains(std::string_view name) const;

  // A chunked dataset of T that can grow along every dimension (1-D or 2-D in practice),
  // starting with `dims`.
  template <element T>
  dataset create_extendible_dataset(std::string_view name, std::span<const hsize_t> dims,
                                    std::span<const hsize_t> chunk_dims) {
    return create_dataset_raw(name, file_type<T>(), dims, /*extendible=*/true, chunk_dims);
  }
  // A contiguous dataset of T with a fixed shape.
  template <element T>
  dataset create_fixed_dataset(std::string_view name, std::span<const hsize_t> dims) {
    return create_dataset_raw(name, file_type<T>(), dims, /*extendible=*/false, {});
  }
  // Datasets are created and opened without a chunk cache: collective writes bypass it, so a
  // cached chunk can only be stale, and H5Dset_extent, when it shrinks a dataset, would keep the
  // cut edge chunk there and write it back over later writes. Unfiltered chunks are read and
  // written directly, which the wrappers' large blocks and small random reads both suit.
  dataset open_dataset(std::string_view name) const;

 protected:
  using object::object;

 private:
  dataset create_dataset_raw(std::string_view name, hid_t stored_type, std::span<const hsize_t> dims, bool extendible,
                             std::span<const hsize_t> chunk_dims);
};

class group : public location {
 public:
  group(handle owned, std::string file_path, std::string path)
      : location(std::move(owned), std::move(file_path), std::move(path)) {}
};

// On-disk format of a new file. `compatible`: the oldest format that holds the content (read by
// every HDF5 since 1.8, what SONATA readers expect). `checksummed`: the 1.10 format, whose
// metadata carry checksums, so that damage to the file's structure is found on reading.
enum class file_format { compatible, checksummed };

// Whether `path` is an HDF5 file (has HDF5's signature); false for a missing or unreadable file.
bool is_hdf5_file(const std::filesystem::path& path);

class file : public location {
 public:
  // Collective: creates (or truncates) `path` for parallel writing by the communicator's processes.
  static file create_parallel(const std::filesystem::path& path, const communicator& comm,
                              file_format format = file_format::compatible);
  // Collective: opens an existing file for parallel reading and writing.
  static file open_read_write(const std::filesystem::path& path, const communicator& comm);
  // Local: opens an existing file for reading and writing, without MPI-IO.
  static file open_read_write(const std::filesystem::path& path);
  // Local: opens an existing file read-only, without MPI-IO.
  static file open_read_only(const std::filesystem::path& path);
  // Collective: opens an existing file read-only for the communicator's processes.
  static file open_read_only(const std::filesystem::path& path, const communicator& comm);

  // Closes now and reports failures (the destructor closes silently). Collective in a parallel
  // file. Every group and dataset of the file must be closed first.
  void close();
  // Collective in a parallel file: writes HDF5's cached metadata and asks the storage to make
  // every process's writes durable (MPI_File_sync), so that the file on disk is whole as of now
  // even if the run is killed before close().
  void flush();

 private:
  file(handle owned, std::string file_path) : location(std::move(owned), std::move(file_path), "/") {}
};

}  // namespace h5
}  // namespace myelin
