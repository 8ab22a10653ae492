// Parsers for single INI values (numbers, integers, bools, lists, node ids) and the matching
// formatters used to write the resolved config. A parser throws invalid_value saying what it
// expected; the section reader adds file, line, section, key and the value to make the
// one-line config_error, so the parsers stay free of that context.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace myelin::config_detail {

// A value that does not fit its key; `expected` completes "expected ..., got '<value>'".
struct invalid_value {
  std::string expected;
};

std::string_view trim(std::string_view text);

// Comma-separated items, each trimmed; "" gives no items, an empty item stays empty.
std::vector<std::string_view> split_list(std::string_view text);

// Shortest text that parses back to exactly `value` ("0.1", "-70", "1e-05", "inf", "-inf"), so
// the resolved config re-parses to the same doubles.
std::string format_number(double value);

struct number_range {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_exclusive = false;
  bool max_exclusive = false;
  bool allow_infinite = false;  // whether "inf" / "-inf" are accepted (stop_ms, V_min)

  bool contains(double value) const;
  std::string expected() const;  // "a number > 0", "a number in [0, 1]", ...
};

number_range any_number();
number_range positive_number();
number_range non_negative_number();

// A finite number, or +-inf where the range allows it; never nan.
double parse_number(std::string_view text, const number_range& range);

struct integer_range {
  std::uint64_t min = 0;
  std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  std::string expected() const;  // "an integer >= 0", "an integer > 0", "an integer in [1, 8]"
};

// Plain decimal digits only: "2.5", "1e4", "-1" and "abc" are rejected.
std::uint64_t parse_integer(std::string_view text, const integer_range& range);

// true/false/1/0/yes/no, any letter case.
bool parse_bool(std::string_view text);
inline const char* format_bool(bool value) { return value ? "true" : "false"; }

// The most node ids one list (a [record] or [input] section's neurons) may select: the list is
// held in full on every rank, so a text of a few bytes ("0:1000000000000") must not be able to
// ask for terabytes before the run's memory check.
inline constexpr std::uint64_t max_node_ids = std::uint64_t(1) << 24;  // 16,777,216

// "0,1,5", "0:100" (meaning 0..99) or mixed "0:10,20": distinct ids < population_size,
// returned sorted; at most max_node_ids of them.
std::vector<std::uint64_t> parse_node_ids(std::string_view text, std::uint64_t population_size);
// Sorted distinct ids back to the compact list syntax (runs as ranges).
std::string format_node_ids(const std::vector<std::uint64_t>& sorted_ids);

// Comma-separated, non-negative, non-decreasing times in ms; at least one.
std::vector<double> parse_spike_times(std::string_view text);
std::string format_numbers(const std::vector<double>& values);

}  // namespace myelin::config_detail
