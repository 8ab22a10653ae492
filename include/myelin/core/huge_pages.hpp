// Large arrays on 2 MiB pages (transparent huge pages, asked for with madvise): synapse tables are
// written and read at random rows, and with 4 KiB pages nearly every such access also misses the
// TLB (expensive, and more so in a virtual machine). Small allocations stay ordinary.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <new>
#include <vector>

namespace myelin {

template <class T>
struct huge_page_allocator {
  using value_type = T;
  static constexpr std::size_t huge_page_bytes = std::size_t(2) << 20;

  huge_page_allocator() = default;
  template <class U>
  huge_page_allocator(const huge_page_allocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < huge_page_bytes) return static_cast<T*>(::operator new(bytes));
    const std::size_t rounded = (bytes + huge_page_bytes - 1) / huge_page_bytes * huge_page_bytes;
    void* p = std::aligned_alloc(huge_page_bytes, rounded);
    if (p == nullptr) throw std::bad_alloc();
    madvise(p, rounded, MADV_HUGEPAGE);  // advice only: without THP the memory is still valid
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) < huge_page_bytes)
      ::operator delete(p);
    else
      std::free(p);
  }
  template <class U>
  bool operator==(const huge_page_allocator<U>&) const noexcept {
    return true;
  }
};

template <class T>
using huge_vector = std::vector<T, huge_page_allocator<T>>;

}  // namespace myelin
