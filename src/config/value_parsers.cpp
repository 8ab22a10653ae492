#include "config/value_parsers.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <system_error>

namespace myelin::config_detail {

std::string_view trim(std::string_view text) {
  constexpr std::string_view whitespace = " \t\r\n\f\v";
  const auto first = text.find_first_not_of(whitespace);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(whitespace);
  return text.substr(first, last - first + 1);
}

std::vector<std::string_view> split_list(std::string_view text) {
  std::vector<std::string_view> items;
  if (trim(text).empty()) return items;
  std::size_t begin = 0;
  while (true) {
    const auto comma = text.find(',', begin);
    items.push_back(trim(text.substr(begin, comma == std::string_view::npos ? comma : comma - begin)));
    if (comma == std::string_view::npos) break;
    begin = comma + 1;
  }
  return items;
}

std::string format_number(double value) {
  std::array<char, 64> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  return std::string(buffer.data(), result.ptr);
}

bool number_range::contains(double value) const {
  if (std::isinf(value) && !allow_infinite) return false;
  if (min_exclusive ? !(value > min) : !(value >= min)) return false;
  if (max_exclusive ? !(value < max) : !(value <= max)) return false;
  return true;
}

std::string number_range::expected() const {
  const bool has_min = std::isfinite(min);
  const bool has_max = std::isfinite(max);
  std::string text = "a number";
  if (has_min && has_max) {
    text += " in ";
    text += min_exclusive ? "(" : "[";
    text += format_number(min) + ", " + format_number(max);
    text += max_exclusive ? ")" : "]";
  } else if (has_min) {
    text += (min_exclusive ? " > " : " >= ") + format_number(min);
  } else if (has_max) {
    text += (max_exclusive ? " < " : " <= ") + format_number(max);
  }
  if (allow_infinite) text += " (inf allowed)";
  return text;
}

number_range any_number() { return {}; }
number_range positive_number() { return {.min = 0.0, .min_exclusive = true}; }
number_range non_negative_number() { return {.min = 0.0}; }

namespace {

// std::from_chars takes no leading '+', which users write ("+5"); a sign-only text stays invalid.
std::string_view without_plus(std::string_view text) {
  if (text.size() > 1 && text.front() == '+' && text[1] != '-' && text[1] != '+') text.remove_prefix(1);
  return text;
}

bool read_double(std::string_view text, double& value) {
  text = without_plus(trim(text));
  if (text.empty()) return false;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  return result.ec == std::errc{} && result.ptr == text.data() + text.size() && !std::isnan(value);
}

bool read_uint64(std::string_view text, std::uint64_t& value) {
  text = without_plus(trim(text));
  if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  return result.ec == std::errc{} && result.ptr == text.data() + text.size();
}

}  // namespace

double parse_number(std::string_view text, const number_range& range) {
  double value = 0.0;
  if (!read_double(text, value) || !range.contains(value)) throw invalid_value{range.expected()};
  return value;
}

std::string integer_range::expected() const {
  constexpr auto unbounded = std::numeric_limits<std::uint64_t>::max();
  if (max == unbounded) return min == 1 ? "an integer > 0" : "an integer >= " + std::to_string(min);
  return "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
}

std::uint64_t parse_integer(std::string_view text, const integer_range& range) {
  std::uint64_t value = 0;
  if (!read_uint64(text, value) || value < range.min || value > range.max) throw invalid_value{range.expected()};
  return value;
}

bool parse_bool(std::string_view text) {
  std::string lower(trim(text));
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "true" || lower == "1" || lower == "yes") return true;
  if (lower == "false" || lower == "0" || lower == "no") return false;
  throw invalid_value{"a bool (true, false, 1, 0, yes or no)"};
}

std::vector<std::uint64_t> parse_node_ids(std::string_view text, std::uint64_t population_size) {
  const std::string form = "node ids like 0,1,5 or 0:100 (0..99) or 0:10,20";
  const std::string bound = " < " + std::to_string(population_size) + " (the population's n)";
  const auto items = split_list(text);
  if (items.empty()) throw invalid_value{form};

  std::vector<std::uint64_t> ids;
  for (const auto item : items) {
    const auto colon = item.find(':');
    std::uint64_t first = 0;
    if (colon == std::string_view::npos) {
      if (!read_uint64(item, first)) throw invalid_value{form};
      if (first >= population_size) throw invalid_value{"node ids" + bound};
      if (ids.size() >= max_node_ids)
        throw invalid_value{"at most " + std::to_string(max_node_ids) + " node ids in one list"};
      ids.push_back(first);
      continue;
    }
    std::uint64_t end = 0;  // exclusive, as in Python's range
    if (!read_uint64(item.substr(0, colon), first) || !read_uint64(item.substr(colon + 1), end)) {
      throw invalid_value{form};
    }
    if (end <= first) throw invalid_value{"ranges first:end with end > first (end is excluded)"};
    if (end > population_size)
      throw invalid_value{"node ids" + bound + ", so a range end <= " + std::to_string(population_size)};
    if (end - first > max_node_ids - std::min<std::uint64_t>(ids.size(), max_node_ids))
      throw invalid_value{"at most " + std::to_string(max_node_ids) + " node ids in one list"};
    for (std::uint64_t id = first; id < end; ++id) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  const auto repeated = std::adjacent_find(ids.begin(), ids.end());
  if (repeated != ids.end()) {
    throw invalid_value{"distinct node ids (" + std::to_string(*repeated) + " is listed more than once)"};
  }
  return ids;
}

std::string format_node_ids(const std::vector<std::uint64_t>& sorted_ids) {
  std::string text;
  std::size_t i = 0;
  while (i < sorted_ids.size()) {
    std::size_t run_end = i + 1;  // one past the last id of a consecutive run
    while (run_end < sorted_ids.size() && sorted_ids[run_end] == sorted_ids[run_end - 1] + 1) ++run_end;
    if (!text.empty()) text += ",";
    text += std::to_string(sorted_ids[i]);
    if (run_end - i > 1) text += ":" + std::to_string(sorted_ids[run_end - 1] + 1);
    i = run_end;
  }
  return text;
}

std::vector<double> parse_spike_times(std::string_view text) {
  const std::string form = "comma-separated non-negative, non-decreasing times in ms, like 10, 20.5, 30";
  const auto items = split_list(text);
  if (items.empty()) throw invalid_value{form};
  std::vector<double> times;
  for (const auto item : items) {
    double time_ms = 0.0;
    if (!read_double(item, time_ms) || !std::isfinite(time_ms) || time_ms < 0.0) throw invalid_value{form};
    if (!times.empty() && time_ms < times.back()) {
      throw invalid_value{"non-decreasing times (" + format_number(time_ms) + " comes after " +
                          format_number(times.back()) + ")"};
    }
    times.push_back(time_ms);
  }
  return times;
}

std::string format_numbers(const std::vector<double>& values) {
  std::string text;
  for (const double value : values) {
    if (!text.empty()) text += ", ";
    text += format_number(value);
  }
  return text;
}

}  // namespace myelin::config_detail
