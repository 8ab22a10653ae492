#include "myelin/io/hdf5.hpp"

#include <algorithm>
#include <utility>

namespace myelin::h5 {

namespace {

// HDF5 prints its error stack to stderr by default; myelin reports through io_error instead.
// (HDF5 keeps this setting per library, so calling it again is harmless.)
void silence_error_printing() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

herr_t keep_innermost_description(unsigned position, const H5E_error2_t* entry, void* innermost) {
  if (position == 0 && entry->desc != nullptr) *static_cast<std::string*>(innermost) = entry->desc;
  return 0;
}

// The description of the innermost entry of HDF5's error stack (where the failure was first
// seen, usually the most telling), on one line; clears the stack.
std::string take_error_reason() {
  const hid_t stack = H5Eget_current_stack();
  if (stack < 0) return {};
  std::string reason;
  H5Ewalk2(stack, H5E_WALK_UPWARD, keep_innermost_description, &reason);
  H5Eclose_stack(stack);
  std::replace(reason.begin(), reason.end(), '\n', ' ');
  return reason;
}

[[noreturn]] void fail(const std::string& file_path, const std::string& operation) {
  std::string message = file_path + ": cannot " + operation;
  const std::string reason = take_error_reason();
  if (!reason.empty()) message += " (" + reason + ")";
  throw io_error(message);
}

// `describe` builds the operation's text only when it failed.
template <class Describe>
hid_t check_id(hid_t id, const std::string& file_path, Describe&& describe) {
  if (id < 0) fail(file_path, describe());
  return id;
}

template <class Describe>
herr_t check_status(herr_t status, const std::string& file_path, Describe&& describe) {
  if (status < 0) fail(file_path, describe());
  return status;
}

// Owners of attributes and datatypes, which live inside one function only.
handle open_attribute(hid_t object_id, std::string_view name, const std::string& file_path,
                      const std::string& object_path) {
  const std::string attribute_name(name);
  return handle(check_id(H5Aopen(object_id, attribute_name.c_str(), H5P_DEFAULT), file_path,
                         [&] { return "open attribute " + attribute_name + " of " + object_path; }),
                H5Aclose);
}

handle variable_length_string_type(const std::string& file_path) {
  handle type(check_id(H5Tcopy(H5T_C_S1), file_path, [] { return std::string("copy string type"); }), H5Tclose);
  check_status(H5Tset_size(type.id(), H5T_VARIABLE), file_path, [] { return std::string("size string type"); });
  check_status(H5Tset_cset(type.id(), H5T_CSET_UTF8), file_path, [] { return std::string("set string encoding"); });
  return type;
}

void check_rank(std::span<const hsize_t> values, std::size_t rank, const std::string& file_path,
                const std::string& operation) {
  if (values.size() != rank)
    throw io_error(file_path + ": cannot " + operation + " (" + std::to_string(values.size()) +
                   " coordinates for a dataset of rank " + std::to_string(rank) + ")");
}

}  // namespace

// --- handle ---

handle::handle(handle&& other) noexcept
    : id_(std::exchange(other.id_, H5I_INVALID_HID)), close_(std::exchange(other.close_, nullptr)) {}

handle& handle::operator=(handle&& other) noexcept {
  if (this != &other) {
    release();
    id_ = std::exchange(other.id_, H5I_INVALID_HID);
    close_ = std::exchange(other.close_, nullptr);
  }
  return *this;
}

bool handle::release() noexcept {
  if (id_ < 0 || close_ == nullptr) return true;
  // A refused close (a parallel file with objects still open) leaves the identifier valid, so
  // it is kept for another try.
  if (close_(id_) < 0) return false;
  id_ = H5I_INVALID_HID;
  return true;
}

// --- property_list ---

property_list::property_list(hid_t property_class, const std::string& file_path, std::string_view purpose)
    : handle_(check_id(H5Pcreate(property_class), file_path,
                       [&] { return "create " + std::string(purpose) + " property list"; }),
              H5Pclose) {}

property_list property_list::mpio_file_access(const communicator& comm, const std::string& file_path) {
  property_list access(H5P_FILE_ACCESS, file_path, "file access");
  check_status(H5Pset_fapl_mpio(access.id(), comm.native(), MPI_INFO_NULL), file_path,
               [] { return std::string("set MPI-IO file access"); });
  return access;
}

property_list property_list::chunked_dataset_creation(std::span<const hsize_t> chunk_dims,
                                                      const std::string& file_path) {
  property_list creation(H5P_DATASET_CREATE, file_path, "dataset creation");
  check_status(H5Pset_chunk(creation.id(), int(chunk_dims.size()), chunk_dims.data()), file_path,
               [] { return std::string("set chunk shape"); });
  creation.leave_unfilled_and_untimed(file_path);
  return creation;
}

property_list property_list::contiguous_dataset_creation(const std::string& file_path) {
  property_list creation(H5P_DATASET_CREATE, file_path, "dataset creation");
  creation.leave_unfilled_and_untimed(file_path);
  return creation;
}

void property_list::leave_unfilled_and_untimed(const std::string& file_path) {
  // Parallel HDF5 allocates storage when a dataset is created or extended and would write fill
  // values into all of it (a whole chunk per extension); the writers write every element anyway.
  check_status(H5Pset_fill_time(id(), H5D_FILL_TIME_NEVER), file_path,
               [] { return std::string("turn off fill values"); });
  // Time stamps in object headers would make every run's file differ.
  check_status(H5Pset_obj_track_times(id(), false), file_path,
               [] { return std::string("turn off object time stamps"); });
}

property_list property_list::group_creation(const std::string& file_path) {
  property_list creation(H5P_GROUP_CREATE, file_path, "group creation");
  check_status(H5Pset_obj_track_times(creation.id(), false), file_path,
               [] { return std::string("turn off object time stamps"); });
  return creation;
}

property_list property_list::collective_transfer(const std::string& file_path) {
  property_list transfer(H5P_DATASET_XFER, file_path, "data transfer");
  check_status(H5Pset_dxpl_mpio(transfer.id(), H5FD_MPIO_COLLECTIVE), file_path,
               [] { return std::string("set collective transfer"); });
  return transfer;
}

property_list property_list::dataset_access_without_chunk_cache(const std::string& file_path) {
  property_list access(H5P_DATASET_ACCESS, file_path, "dataset access");
  check_status(H5Pset_chunk_cache(access.id(), 0, 0, H5D_CHUNK_CACHE_W0_DEFAULT), file_path,
               [] { return std::string("turn off the chunk cache"); });
  return access;
}

// --- dataspace ---

dataspace::dataspace(std::span<const hsize_t> dims, std::span<const hsize_t> max_dims, std::string file_path,
                     std::string object_path)
    : file_path_(std::move(file_path)), object_path_(std::move(object_path)) {
  const auto describe = [&] { return "create dataspace for " + object_path_; };
  if (!max_dims.empty() && max_dims.size() != dims.size())
    throw io_error(file_path_ + ": cannot " + describe() + " (maximum shape has a different rank)");
  const hid_t id = dims.empty() ? H5Screate(H5S_SCALAR)
                                : H5Screate_simple(int(dims.size()), dims.data(),
                                                   max_dims.empty() ? nullptr : max_dims.data());
  handle_ = handle(check_id(id, file_path_, describe), H5Sclose);
}

dataspace::dataspace(hid_t id, std::string file_path, std::string object_path)
    : file_path_(std::move(file_path)), object_path_(std::move(object_path)) {
  handle_ = handle(check_id(id, file_path_, [&] { return "get dataspace of " + object_path_; }), H5Sclose);
}

std::vector<hsize_t> dataspace::dims() const {
  const auto describe = [&] { return "get shape of " + object_path_; };
  const int rank = check_status(H5Sget_simple_extent_ndims(id()), file_path_, describe);
  std::vector<hsize_t> shape(std::size_t(rank), 0);
  if (rank > 0) check_status(H5Sget_simple_extent_dims(id(), shape.data(), nullptr), file_path_, describe);
  return shape;
}

void dataspace::select_block(std::span<const hsize_t> start, std::span<const hsize_t> count) {
  if (std::any_of(count.begin(), count.end(), [](hsize_t n) { return n == 0; })) {
    select_nothing();
    return;
  }
  check_status(H5Sselect_hyperslab(id(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr), file_path_,
               [&] { return "select a block of " + object_path_; });
}

void dataspace::select_nothing() {
  check_status(H5Sselect_none(id()), file_path_, [&] { return "select nothing of " + object_path_; });
}

// --- object ---

std::string object::child_path(std::string_view name) const {
  if (!name.empty() && name.front() == '/') return std::string(name);
  if (path_ == "/") return "/" + std::string(name);
  return path_ + "/" + std::string(name);
}

void object::close() {
  if (!handle_.release()) fail(file_path_, "close " + path_);
}

bool object::has_attribute(std::string_view name) const {
  const std::string attribute_name(name);
  return check_status(H5Aexists(id(), attribute_name.c_str()), file_path_,
                      [&] { return "look for attribute " + attribute_name + " of " + path_; }) > 0;
}

bool object::attribute_type_equals(std::string_view name, hid_t mem_type) const {
  const auto describe = [&] { return "get element type of attribute " + std::string(name) + " of " + path_; };
  const handle attribute = open_attribute(id(), name, file_path_, path_);
  const handle stored_type(check_id(H5Aget_type(attribute.id()), file_path_, describe), H5Tclose);
  return check_status(H5Tequal(stored_type.id(), mem_type), file_path_, describe) > 0;
}

bool object::attribute_is_string(std::string_view name) const {
  const auto describe = [&] { return "get element type of attribute " + std::string(name) + " of " + path_; };
  const handle attribute = open_attribute(id(), name, file_path_, path_);
  const handle stored_type(check_id(H5Aget_type(attribute.id()), file_path_, describe), H5Tclose);
  const H5T_class_t type_class = H5Tget_class(stored_type.id());
  if (type_class == H5T_NO_CLASS) fail(file_path_, describe());
  return type_class == H5T_STRING;
}

void object::write_attribute_raw(std::string_view name, hid_t stored_type, hid_t mem_type,
                                 std::span<const hsize_t> dims, const void* data) {
  const std::string attribute_name(name);
  const auto describe = [&] { return "write attribute " + attribute_name + " of " + path_; };
  const dataspace space(dims, {}, file_path_, path_ + " attribute " + attribute_name);
  const handle attribute(check_id(H5Acreate2(id(), attribute_name.c_str(), stored_type, space.id(), H5P_DEFAULT,
                                             H5P_DEFAULT),
                                  file_path_, describe),
                         H5Aclose);
  const unsigned char no_values = 0;  // HDF5 refuses a null buffer even for zero elements
  check_status(H5Awrite(attribute.id(), mem_type, data != nullptr ? data : &no_values), file_path_, describe);
}

void object::write_attribute(std::string_view name, std::string_view text) {
  const std::string value(text);
  write_string_attribute(name, std::span<const std::string>(&value, 1), /*scalar=*/true);
}

void object::write_attribute(std::string_view name, std::span<const std::string> texts) {
  write_string_attribute(name, texts, /*scalar=*/false);
}

void object::write_string_attribute(std::string_view name, std::span<const std::string> texts, bool scalar) {
  const std::string attribute_name(name);
  std::vector<const char*> pointers;  // to the null-terminated values
  for (const std::string& t : texts) pointers.push_back(t.c_str());
  const auto describe = [&] { return "write attribute " + attribute_name + " of " + path_; };
  const handle type = variable_length_string_type(file_path_);
  const hsize_t n = texts.size();
  const dataspace space(scalar ? std::span<const hsize_t>() : std::span<const hsize_t>(&n, 1), {}, file_path_,
                        path_ + " attribute " + attribute_name);
  const handle attribute(check_id(H5Acreate2(id(), attribute_name.c_str(), type.id(), space.id(), H5P_DEFAULT,
                                             H5P_DEFAULT),
                                  file_path_, describe),
                         H5Aclose);
  check_status(H5Awrite(attribute.id(), type.id(), pointers.data()), file_path_, describe);
}

void object::write_enum_attribute(std::string_view name, std::span<const std::string_view> names,
                                  std::uint8_t value) {
  const std::string attribute_name(name);
  const auto describe = [&] { return "write attribute " + attribute_name + " of " + path_; };
  const handle type(check_id(H5Tenum_create(H5T_NATIVE_UINT8), file_path_, describe), H5Tclose);
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string member(names[i]);
    const auto v = std::uint8_t(i);
    check_status(H5Tenum_insert(type.id(), member.c_str(), &v), file_path_, describe);
  }
  const dataspace space({}, {}, file_path_, path_ + " attribute " + attribute_name);
  const handle attribute(check_id(H5Acreate2(id(), attribute_name.c_str(), type.id(), space.id(), H5P_DEFAULT,
                                             H5P_DEFAULT),
                                  file_path_, describe),
                         H5Aclose);
  check_status(H5Awrite(attribute.id(), type.id(), &value), file_path_, describe);
}

std::string object::read_enum_attribute(std::string_view name) const {
  const auto describe = [&] { return "read enum attribute " + std::string(name) + " of " + path_; };
  const handle attribute = open_attribute(id(), name, file_path_, path_);
  const handle type(check_id(H5Aget_type(attribute.id()), file_path_, describe), H5Tclose);
  if (H5Tget_class(type.id()) != H5T_ENUM) fail(file_path_, describe() + ": not an enum");
  const handle native(check_id(H5Tget_native_type(type.id(), H5T_DIR_ASCEND), file_path_, describe), H5Tclose);
  if (H5Tget_size(native.id()) > 8) fail(file_path_, describe() + ": enum too wide");
  unsigned char value[8] = {};
  check_status(H5Aread(attribute.id(), native.id(), value), file_path_, describe);
  char member[256] = {};
  check_status(H5Tenum_nameof(native.id(), value, member, sizeof member), file_path_, describe);
  return member;
}

std::size_t object::attribute_size(std::string_view name) const {
  const handle attribute = open_attribute(id(), name, file_path_, path_);
  const dataspace space(H5Aget_space(attribute.id()), file_path_, path_ + " attribute " + std::string(name));
  const hssize_t n = H5Sget_simple_extent_npoints(space.id());
  if (n < 0) fail(file_path_, "get size of attribute " + std::string(name) + " of " + path_);
  return std::size_t(n);
}

void object::read_attribute_raw(std::string_view name, hid_t mem_type, void* data) const {
  if (data == nullptr) return;  // empty attribute
  const handle attribute = open_attribute(id(), name, file_path_, path_);
  check_status(H5Aread(attribute.id(), mem_type, data), file_path_,
               [&] { return "read attribute " + std::string(name) + " of " + path_; });
}

std::string object::read_string_attribute(std::string_view name) const {
  const auto describe = [&] { return "read string attribute " + std::string(name) + " of " + path_; };
  const handle attribute = open_attribute(id(), name, file_path_, path_);
  const handle stored_type(check_id(H5Aget_type(attribute.id()), file_path_, describe), H5Tclose);
  if (H5Tget_class(stored_type.id()) != H5T_STRING)
    throw io_error(file_path_ + ": cannot " + describe() + " (not a string)");
  const htri_t variable_length = check_status(H5Tis_variable_str(stored_type.id()), file_path_, describe);
  if (variable_length > 0) {
    const handle type = variable_length_string_type(file_path_);
    char* text = nullptr;
    check_status(H5Aread(attribute.id(), type.id(), &text), file_path_, describe);
    std::string value = text != nullptr ? std::string(text) : std::string();
    H5free_memory(text);
    return value;
  }
  const std::size_t size = H5Tget_size(stored_type.id());
  const handle type(check_id(H5Tcopy(H5T_C_S1), file_path_, describe), H5Tclose);
  check_status(H5Tset_size(type.id(), size), file_path_, describe);
  std::string value(size, '\0');
  check_status(H5Aread(attribute.id(), type.id(), value.data()), file_path_, describe);
  value.resize(std::min(value.find('\0'), value.size()));  // null-terminated or null-padded
  return value;
}

// --- dataset ---

std::size_t dataset::element_count(std::span<const hsize_t> count) {
  std::size_t n = 1;
  for (hsize_t c : count) n *= std::size_t(c);
  return n;
}

std::vector<hsize_t> dataset::dims() const { return space().dims(); }

dataspace dataset::space() const { return dataspace(H5Dget_space(id()), file_path_, path_); }

std::size_t dataset::readable_count(std::span<const hsize_t> count) const {
  const auto describe = [&] { return "read dataset " + path_; };
  const auto refuse = [&](const std::string& why) {
    throw io_error(file_path_ + ": cannot " + describe() + " (" + why + ")");
  };
  constexpr std::uint64_t max_bytes = std::uint64_t(1) << 62;
  // Bytes of `shape` in elements of `size` bytes, or max_bytes when that overflows.
  const auto bytes_of = [&](std::span<const hsize_t> shape, std::uint64_t size) {
    std::uint64_t bytes = size;
    for (const hsize_t n : shape) {
      if (n != 0 && bytes > max_bytes / n) return max_bytes;
      bytes *= n;
    }
    return bytes;
  };
  const handle stored_type(check_id(H5Dget_type(id()), file_path_, describe), H5Tclose);
  const std::size_t stored_size = H5Tget_size(stored_type.id());
  if (stored_size == 0) fail(file_path_, describe());
  const std::vector<hsize_t> extent = dims();
  const std::uint64_t claimed = bytes_of(extent, stored_size);
  if (claimed >= max_bytes) refuse("its shape is too large to be real: a damaged file");
  if (bytes_of(count, stored_size) >= max_bytes) refuse("the block asked for is too large");
  if (claimed > 0) {
    const hsize_t stored = H5Dget_storage_size(id());
    if (stored < claimed)
      refuse("it claims " + std::to_string(claimed) + " bytes but the file stores " + std::to_string(stored) +
             ": a damaged or truncated file");
  }
  return element_count(count);
}

bool dataset::stored_type_equals(hid_t mem_type) const {
  const auto describe = [&] { return "get element type of " + path_; };
  const handle stored_type(check_id(H5Dget_type(id()), file_path_, describe), H5Tclose);
  return check_status(H5Tequal(stored_type.id(), mem_type), file_path_, describe) > 0;
}

void dataset::set_extent(std::span<const hsize_t> dims) {
  const auto describe = [&] { return "extend dataset " + path_; };
  check_rank(dims, this->dims().size(), file_path_, describe());
  check_status(H5Dset_extent(id(), dims.data()), file_path_, describe);
}

void dataset::write_raw(hid_t mem_type, const void* data, std::size_t n, std::span<const hsize_t> start,
                        std::span<const hsize_t> count, bool collective) {
  const auto describe = [&] { return "write dataset " + path_; };
  dataspace file_space = space();
  const std::vector<hsize_t> extent = file_space.dims();
  check_rank(start, extent.size(), file_path_, describe());
  check_rank(count, extent.size(), file_path_, describe());
  if (n != element_count(count))
    throw io_error(file_path_ + ": cannot " + describe() + " (" + std::to_string(n) + " values for a block of " +
                   std::to_string(element_count(count)) + ")");
  if (element_count(extent) == 0) {
    // An empty dataset has no storage and HDF5 refuses even an empty write to it; every process
    // sees the same extent, so all skip the collective call together.
    if (n != 0) throw io_error(file_path_ + ": cannot " + describe() + " (the dataset is empty)");
    return;
  }
  if (!collective) {
    if (n == 0) return;
    file_space.select_block(start, count);
    const dataspace memory_space(count, {}, file_path_, path_);
    check_status(H5Dwrite(id(), mem_type, memory_space.id(), file_space.id(), H5P_DEFAULT, data), file_path_,
                 describe);
    return;
  }
  // A process with nothing to write still takes part, with empty selections.
  const hsize_t one = 1;
  dataspace memory_space(n == 0 ? std::span<const hsize_t>(&one, 1) : count, {}, file_path_, path_);
  if (n == 0) {
    file_space.select_nothing();
    memory_space.select_nothing();
  } else {
    file_space.select_block(start, count);
  }
  const unsigned char no_values = 0;  // HDF5 refuses a null buffer even when nothing is selected
  const property_list transfer = property_list::collective_transfer(file_path_);
  check_status(H5Dwrite(id(), mem_type, memory_space.id(), file_space.id(), transfer.id(), n == 0 ? &no_values : data),
               file_path_, describe);
}

void dataset::read_raw(hid_t mem_type, void* data, std::size_t n, std::span<const hsize_t> start,
                       std::span<const hsize_t> count, bool collective) const {
  const auto describe = [&] { return "read dataset " + path_; };
  dataspace file_space = space();
  const std::vector<hsize_t> extent = file_space.dims();
  check_rank(start, extent.size(), file_path_, describe());
  check_rank(count, extent.size(), file_path_, describe());
  if (!collective) {
    if (n == 0) return;
    file_space.select_block(start, count);
    const dataspace memory_space(count, {}, file_path_, path_);
    check_status(H5Dread(id(), mem_type, memory_space.id(), file_space.id(), H5P_DEFAULT, data), file_path_,
                 describe);
    return;
  }
  // As in write_raw: an empty dataset has nothing to read on any process; a process with
  // nothing to read still takes part, with empty selections.
  if (element_count(extent) == 0) {
    if (n != 0) throw io_error(file_path_ + ": cannot " + describe() + " (the dataset is empty)");
    return;
  }
  const hsize_t one = 1;
  dataspace memory_space(n == 0 ? std::span<const hsize_t>(&one, 1) : count, {}, file_path_, path_);
  if (n == 0) {
    file_space.select_nothing();
    memory_space.select_nothing();
  } else {
    file_space.select_block(start, count);
  }
  unsigned char no_values = 0;
  const property_list transfer = property_list::collective_transfer(file_path_);
  check_status(H5Dread(id(), mem_type, memory_space.id(), file_space.id(), transfer.id(), n == 0 ? &no_values : data),
               file_path_, describe);
}

// --- location ---

std::vector<std::string> location::member_names() const {
  const auto describe = [&] { return "list the members of " + path_; };
  H5G_info_t info{};
  check_status(H5Gget_info(id(), &info), file_path_, describe);
  std::vector<std::string> names;
  names.reserve(std::size_t(info.nlinks));
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t length = H5Lget_name_by_idx(id(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (length < 0) fail(file_path_, describe());
    std::string name(std::size_t(length) + 1, '\0');
    if (H5Lget_name_by_idx(id(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(), H5P_DEFAULT) < 0)
      fail(file_path_, describe());
    name.resize(std::size_t(length));
    names.push_back(std::move(name));
  }
  return names;
}

member_kind location::kind_of(std::string_view name) const {
  if (!contains(name)) return member_kind::missing;
  const std::string link_name(name);
  // Opening the object tells its kind the same way in every HDF5 version (H5Oget_info's
  // signature differs between 1.10 and 1.12).
  const handle member(check_id(H5Oopen(id(), link_name.c_str(), H5P_DEFAULT), file_path_,
                               [&] { return "open " + child_path(name); }),
                      H5Oclose);
  switch (H5Iget_type(member.id())) {
    case H5I_BADID: fail(file_path_, "get the kind of " + child_path(name));
    case H5I_GROUP: return member_kind::group;
    case H5I_DATASET: return member_kind::dataset;
    default: return member_kind::other;
  }
}

group location::create_group(std::string_view name) {
  const std::string group_path = child_path(name);
  const std::string link_name(name);
  const property_list creation = property_list::group_creation(file_path_);
  return group(handle(check_id(H5Gcreate2(id(), link_name.c_str(), H5P_DEFAULT, creation.id(), H5P_DEFAULT),
                               file_path_, [&] { return "create group " + group_path; }),
                      H5Gclose),
               file_path_, group_path);
}

group location::open_group(std::string_view name) const {
  const std::string group_path = child_path(name);
  const std::string link_name(name);
  return group(handle(check_id(H5Gopen2(id(), link_name.c_str(), H5P_DEFAULT), file_path_,
                               [&] { return "open group " + group_path; }),
                      H5Gclose),
               file_path_, group_path);
}

bool location::contains(std::string_view name) const {
  const std::string link_name(name);
  return check_status(H5Lexists(id(), link_name.c_str(), H5P_DEFAULT), file_path_,
                      [&] { return "look for " + child_path(name); }) > 0;
}

dataset location::create_dataset_raw(std::string_view name, hid_t stored_type, std::span<const hsize_t> dims,
                                     bool extendible, std::span<const hsize_t> chunk_dims) {
  const std::string dataset_path = child_path(name);
  const std::string link_name(name);
  const auto describe = [&] { return "create dataset " + dataset_path; };
  std::vector<hsize_t> max_dims(dims.begin(), dims.end());
  if (extendible) {
    check_rank(chunk_dims, dims.size(), file_path_, describe());
    if (std::any_of(chunk_dims.begin(), chunk_dims.end(), [](hsize_t n) { return n == 0; }))
      throw io_error(file_path_ + ": cannot " + describe() + " (empty chunk shape)");
    std::fill(max_dims.begin(), max_dims.end(), H5S_UNLIMITED);
  }
  const dataspace space(dims, max_dims, file_path_, dataset_path);
  const property_list creation = extendible ? property_list::chunked_dataset_creation(chunk_dims, file_path_)
                                            : property_list::contiguous_dataset_creation(file_path_);
  const property_list access = property_list::dataset_access_without_chunk_cache(file_path_);
  return dataset(handle(check_id(H5Dcreate2(id(), link_name.c_str(), stored_type, space.id(), H5P_DEFAULT,
                                            creation.id(), access.id()),
                                 file_path_, describe),
                        H5Dclose),
                 file_path_, dataset_path);
}

dataset location::open_dataset(std::string_view name) const {
  const std::string dataset_path = child_path(name);
  const std::string link_name(name);
  const property_list access = property_list::dataset_access_without_chunk_cache(file_path_);
  return dataset(handle(check_id(H5Dopen2(id(), link_name.c_str(), access.id()), file_path_,
                                 [&] { return "open dataset " + dataset_path; }),
                        H5Dclose),
                 file_path_, dataset_path);
}

// --- file ---

bool is_hdf5_file(const std::filesystem::path& path) {
  silence_error_printing();
  const std::string file_path = path.string();
#if H5_VERSION_GE(1, 12, 0)
  const htri_t verdict = H5Fis_accessible(file_path.c_str(), H5P_DEFAULT);
#else
  const htri_t verdict = H5Fis_hdf5(file_path.c_str());
#endif
  // A negative verdict (no such file, unreadable) is an answer here, not a failure: its error
  // stack is dropped (a failure to drop it only leaves a stale stack behind).
  H5Eclear2(H5E_DEFAULT);
  return verdict > 0;
}

file file::create_parallel(const std::filesystem::path& path, const communicator& comm, file_format format) {
  silence_error_printing();
  const std::string file_path = path.string();
  const property_list access = property_list::mpio_file_access(comm, file_path);
  if (format == file_format::checksummed)
    check_status(H5Pset_libver_bounds(access.id(), H5F_LIBVER_V110, H5F_LIBVER_LATEST), file_path,
                 [] { return std::string("choose the checksummed file format"); });
  return file(handle(check_id(H5Fcreate(file_path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.id()), file_path,
                              [] { return std::string("create file"); }),
                     H5Fclose),
              file_path);
}

file file::open_read_only(const std::filesystem::path& path) {
  silence_error_printing();
  const std::string file_path = path.string();
  return file(handle(check_id(H5Fopen(file_path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), file_path,
                              [] { return std::string("open file"); }),
                     H5Fclose),
              file_path);
}

file file::open_read_only(const std::filesystem::path& path, const communicator& comm) {
  silence_error_printing();
  const std::string file_path = path.string();
  const property_list access = property_list::mpio_file_access(comm, file_path);
  return file(handle(check_id(H5Fopen(file_path.c_str(), H5F_ACC_RDONLY, access.id()), file_path,
                              [] { return std::string("open file"); }),
                     H5Fclose),
              file_path);
}

file file::open_read_write(const std::filesystem::path& path, const communicator& comm) {
  silence_error_printing();
  const std::string file_path = path.string();
  const property_list access = property_list::mpio_file_access(comm, file_path);
  return file(handle(check_id(H5Fopen(file_path.c_str(), H5F_ACC_RDWR, access.id()), file_path,
                              [] { return std::string("open file for writing"); }),
                     H5Fclose),
              file_path);
}

file file::open_read_write(const std::filesystem::path& path) {
  silence_error_printing();
  const std::string file_path = path.string();
  return file(handle(check_id(H5Fopen(file_path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), file_path,
                              [] { return std::string("open file for writing"); }),
                     H5Fclose),
              file_path);
}

void file::close() {
  if (!handle_.release()) fail(file_path_, "close file");
}

void file::flush() {
  check_status(H5Fflush(id(), H5F_SCOPE_LOCAL), file_path_, [] { return std::string("flush file"); });
}

}  // namespace myelin::h5
