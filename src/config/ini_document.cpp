#include "config/ini_document.hpp"

#include <algorithm>
#include <boost/program_options/errors.hpp>
#include <boost/program_options/options_description.hpp>
#include <boost/program_options/parsers.hpp>
#include <cctype>
#include <sstream>

#include "config/value_parsers.hpp"
#include "myelin/config/config.hpp"

namespace myelin::config_detail {
namespace po = boost::program_options;

const ini_entry* ini_section::find(std::string_view key) const {
  for (const auto& entry : entries) {
    if (entry.key == key) return &entry;
  }
  return nullptr;
}

const ini_section* ini_document::find(std::string_view name) const {
  for (const auto& section : sections) {
    if (section.name == name) return &section;
  }
  return nullptr;
}

namespace {

std::string_view without_comment(std::string_view line) {
  const auto comment = line.find_first_of("#;");
  return trim(comment == std::string_view::npos ? line : line.substr(0, comment));
}

std::string origin_of(const std::string& file_name, std::size_t line_number) {
  return file_name + ":" + std::to_string(line_number);
}

// Dot-joined parts of letters, digits, '_' and '-': names end up in output paths and HDF5
// groups, and Boost joins section and key with a dot, so an empty part would be ambiguous.
bool is_section_name(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.back() == '.' || name.find("..") != std::string_view::npos) {
    return false;
  }
  return std::all_of(name.begin(), name.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '-' || c == '.'; });
}

struct scanned_entry {
  std::size_t section_index;
  std::size_t entry_index;
  std::size_t line_number;
};

}  // namespace

ini_document read_ini(std::string_view text, const std::string& file_name) {
  ini_document document;
  document.file_name = file_name;

  // Our scan: sections with their lines, entries with theirs, and the same lines normalized
  // ("[name]", "key=value") for Boost, so both readings agree entry by entry.
  constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";  // some editors start files with it
  if (text.starts_with(utf8_bom)) text.remove_prefix(utf8_bom.size());

  std::vector<scanned_entry> scanned;
  std::string normalized;
  std::size_t line_number = 0;
  std::size_t line_begin = 0;
  while (line_begin <= text.size()) {
    const auto line_end = std::min(text.find('\n', line_begin), text.size());
    const auto line = without_comment(text.substr(line_begin, line_end - line_begin));
    line_begin = line_end + 1;
    ++line_number;
    if (line.empty()) continue;
    const std::string origin = origin_of(file_name, line_number);

    if (line.front() == '[') {
      const std::string name(line.back() == ']' ? trim(line.substr(1, line.size() - 2)) : "");
      if (!is_section_name(name)) {
        throw config_error(origin + ": expected a section header like [population.L23E] (letters, digits, '_', " +
                           "'-', parts joined by '.'), got '" + std::string(line) + "'");
      }
      if (const auto* first = document.find(name)) {
        throw config_error(origin + ": [" + name + "]: duplicated section (first at " + first->origin + ")");
      }
      document.sections.push_back({name, origin, {}});
      normalized += "[" + name + "]\n";
      continue;
    }

    const auto equals = line.find('=');
    if (equals == std::string_view::npos || trim(line.substr(0, equals)).empty()) {
      throw config_error(origin + ": expected 'key = value' or a [section] header, got '" + std::string(line) + "'");
    }
    const std::string key(trim(line.substr(0, equals)));
    const std::string value(trim(line.substr(equals + 1)));
    if (document.sections.empty()) {
      throw config_error(origin + ": key '" + key + "' comes before any [section] header");
    }
    auto& section = document.sections.back();
    if (const auto* first = section.find(key)) {
      throw config_error(origin + ": [" + section.name + "] key '" + key + "': duplicated key (first at " +
                         first->origin + ")");
    }
    scanned.push_back({document.sections.size() - 1, section.entries.size(), line_number});
    section.entries.push_back({key, value, origin});
    normalized += key + "=" + value + "\n";
  }

  // Boost reads the values; its keys are "<section>.<key>", in file order like our scan.
  std::istringstream stream(normalized);
  po::parsed_options parsed(nullptr);
  try {
    parsed = po::parse_config_file(stream, po::options_description(), /*allow_unregistered=*/true);
  } catch (const po::error& error) {
    throw config_error(file_name + ": " + error.what());
  }
  std::size_t index = 0;
  for (const auto& option : parsed.options) {
    if (index == scanned.size()) {
      throw config_error(file_name + ": cannot read key '" + option.string_key + "' (internal reader mismatch)");
    }
    const auto& section = document.sections[scanned[index].section_index];
    auto& entry = document.sections[scanned[index].section_index].entries[scanned[index].entry_index];
    if (option.string_key != section.name + "." + entry.key) {
      throw config_error(entry.origin + ": cannot read key '" + entry.key + "' (internal reader mismatch)");
    }
    entry.value = option.value.empty() ? std::string() : option.value.front();
    ++index;
  }
  if (index != scanned.size()) {
    const auto& missed = scanned[index];
    throw config_error(origin_of(file_name, missed.line_number) + ": cannot read key '" +
                       document.sections[missed.section_index].entries[missed.entry_index].key +
                       "' (internal reader mismatch)");
  }
  return document;
}

void apply_override(ini_document& document, const std::string& override_text) {
  // A config holds one key per line: a line break in an override would not survive in the
  // resolved config.ini (it reads back as other lines, even other sections), nor in a one-line
  // error message.
  if (override_text.find_first_of("\n\r") != std::string::npos) {
    std::string shown;
    for (const char c : override_text) shown += c == '\n' ? "\\n" : c == '\r' ? "\\r" : std::string(1, c);
    throw config_error("--set " + shown + ": an override cannot contain a line break");
  }
  const std::string origin = "--set " + override_text;
  const auto equals = override_text.find('=');
  const std::string_view left = trim(std::string_view(override_text).substr(0, equals));
  const auto dot = left.rfind('.');
  if (equals == std::string::npos || dot == std::string_view::npos || dot == 0 || dot + 1 == left.size()) {
    throw config_error(origin + ": expected section.key=value, like projection.EE.weight=-0.5");
  }
  const std::string section_name(trim(left.substr(0, dot)));
  const std::string key(trim(left.substr(dot + 1)));
  const std::string value(trim(std::string_view(override_text).substr(equals + 1)));

  ini_section* section = nullptr;
  for (auto& candidate : document.sections) {
    if (candidate.name == section_name) section = &candidate;
  }
  if (section == nullptr) {
    document.sections.push_back({section_name, origin, {}});
    section = &document.sections.back();
  }
  for (auto& entry : section->entries) {
    if (entry.key == key) {
      entry.value = value;
      entry.origin = origin;
      return;
    }
  }
  section->entries.push_back({key, value, origin});
}

}  // namespace myelin::config_detail
