#include "config/distribution_parser.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>

#include "config/value_parsers.hpp"

namespace myelin::config_detail {
namespace {

struct kind_syntax {
  distribution::kind kind;
  std::string_view name;
  std::array<std::string_view, 2> parameters;  // stored in distribution::a and ::b
};

constexpr std::array<kind_syntax, 3> kind_syntaxes{{
    {distribution::kind::normal, "normal", {"mean", "std"}},
    {distribution::kind::uniform, "uniform", {"low", "high"}},
    {distribution::kind::lognormal, "lognormal", {"mu", "sigma"}},
}};

const kind_syntax& syntax_of(distribution::kind kind) {
  for (const auto& syntax : kind_syntaxes) {
    if (syntax.kind == kind) return syntax;
  }
  return kind_syntaxes.front();  // constants have no syntax entry and never get here
}

// "normal(mean=M, std=S[, min=A][, max=B])"
std::string form_of(const kind_syntax& syntax) {
  const std::string_view first_placeholder = syntax.kind == distribution::kind::uniform ? "L" : "M";
  const std::string_view second_placeholder = syntax.kind == distribution::kind::uniform ? "H" : "S";
  return std::string(syntax.name) + "(" + std::string(syntax.parameters[0]) + "=" + std::string(first_placeholder) +
         ", " + std::string(syntax.parameters[1]) + "=" + std::string(second_placeholder) + "[, min=A][, max=B])";
}

// Hints for spellings NEST users bring along: NEST's uniform(min, max) is our uniform(low, high)
// (our min/max are redraw bounds) and NEST's lognormal(mean, std) is our lognormal(mu, sigma).
std::string hint_for(const kind_syntax& syntax, std::string_view argument) {
  if (syntax.kind == distribution::kind::uniform && (argument == "min" || argument == "max")) {
    return "; min= and max= are redraw bounds, the range is low= and high=";
  }
  if (syntax.kind == distribution::kind::lognormal && (argument == "mean" || argument == "std")) {
    return "; lognormal takes mu= and sigma= of the underlying normal";
  }
  if (syntax.kind == distribution::kind::normal && (argument == "mu" || argument == "sigma")) {
    return "; normal takes mean= and std=";
  }
  return "";
}

// Probability that a standard normal draw lies in [z_low, z_high], accurate in both tails.
double standard_normal_mass(double z_low, double z_high) {
  if (!(z_low < z_high)) return 0.0;
  const double inv_sqrt2 = 1.0 / std::sqrt(2.0);
  if (z_low > 0.0) return 0.5 * (std::erfc(z_low * inv_sqrt2) - std::erfc(z_high * inv_sqrt2));
  if (z_high < 0.0) return 0.5 * (std::erfc(-z_high * inv_sqrt2) - std::erfc(-z_low * inv_sqrt2));
  return 1.0 - 0.5 * std::erfc(-z_low * inv_sqrt2) - 0.5 * std::erfc(z_high * inv_sqrt2);
}

}  // namespace

parsed_distribution parse_distribution(std::string_view text, std::string_view example) {
  text = trim(text);
  const std::string generic =
      "a number or a distribution like " + std::string(example) + " (normal, uniform or lognormal)";
  distribution result;
  result.text = std::string(text);

  const auto open = text.find('(');
  if (open == std::string_view::npos) {
    try {
      result.a = parse_number(text, any_number());
    } catch (const invalid_value&) {
      throw invalid_value{generic};
    }
    return {result};
  }

  const auto kind_name = trim(text.substr(0, open));
  const kind_syntax* syntax = nullptr;
  for (const auto& candidate : kind_syntaxes) {
    if (candidate.name == kind_name) syntax = &candidate;
  }
  if (syntax == nullptr || text.back() != ')') throw invalid_value{generic};
  const std::string form = form_of(*syntax);
  const auto inside = text.substr(open + 1, text.size() - open - 2);
  if (inside.find_first_of("()") != std::string_view::npos) throw invalid_value{form};

  std::array<std::optional<double>, 2> parameters;
  std::optional<double> min;
  std::optional<double> max;
  bool seen_named = false;
  std::size_t positional_count = 0;
  for (const auto argument : split_list(inside)) {
    if (argument.empty()) throw invalid_value{form + " (an argument is missing between commas)"};
    const auto equals = argument.find('=');
    std::optional<double>* slot = nullptr;
    std::string_view argument_name;
    std::string_view value_text = argument;
    if (equals == std::string_view::npos) {
      if (seen_named) throw invalid_value{form + " (positional arguments come before named ones)"};
      if (positional_count == parameters.size()) {
        throw invalid_value{form + " (min and max need their names)"};
      }
      argument_name = syntax->parameters[positional_count];
      slot = &parameters[positional_count++];
    } else {
      seen_named = true;
      argument_name = trim(argument.substr(0, equals));
      value_text = argument.substr(equals + 1);
      if (argument_name == syntax->parameters[0]) slot = &parameters[0];
      if (argument_name == syntax->parameters[1]) slot = &parameters[1];
      if (argument_name == "min") slot = &min;
      if (argument_name == "max") slot = &max;
      if (slot == nullptr) {
        throw invalid_value{form + " (unknown argument '" + std::string(argument_name) + "'" +
                            hint_for(*syntax, argument_name) + ")"};
      }
    }
    if (slot->has_value()) throw invalid_value{form + " (" + std::string(argument_name) + " is given twice)"};
    const bool is_bound = slot == &min || slot == &max;
    try {
      // Bounds may be infinite (no bound); the distribution's own parameters may not.
      *slot = parse_number(value_text, {.allow_infinite = is_bound});
    } catch (const invalid_value&) {
      throw invalid_value{form + " with numeric arguments ('" + std::string(trim(value_text)) +
                          "' is not a finite number)"};
    }
  }
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    if (!parameters[i]) {
      const std::string hint = min || max ? hint_for(*syntax, "min") : "";
      throw invalid_value{form + " (" + std::string(syntax->parameters[i]) + " is missing" + hint + ")"};
    }
  }

  result.type = syntax->kind;
  result.a = *parameters[0];
  result.b = *parameters[1];
  if (min) result.min = *min;
  if (max) result.max = *max;
  switch (result.type) {
    case distribution::kind::normal:
      if (result.b < 0.0) throw invalid_value{"std >= 0 in " + form};
      break;
    case distribution::kind::uniform:
      if (!(result.b > result.a)) throw invalid_value{"high > low in " + form};
      break;
    case distribution::kind::lognormal:
      if (result.b < 0.0) throw invalid_value{"sigma >= 0 in " + form};
      break;
    case distribution::kind::constant:
      break;
  }
  check_bounds_usable(result);
  return {result, min.has_value(), max.has_value()};
}

std::string canonical_text(const distribution& value) {
  if (value.is_constant()) return format_number(value.a);
  const auto& syntax = syntax_of(value.type);
  std::string text = std::string(syntax.name) + "(" + std::string(syntax.parameters[0]) + "=" + format_number(value.a) +
                     ", " + std::string(syntax.parameters[1]) + "=" + format_number(value.b);
  if (std::isfinite(value.min)) text += ", min=" + format_number(value.min);
  if (std::isfinite(value.max)) text += ", max=" + format_number(value.max);
  return text + ")";
}

double unbounded_mean(const distribution& value) {
  switch (value.type) {
    case distribution::kind::uniform:
      return 0.5 * (value.a + value.b);
    case distribution::kind::lognormal:
      return std::exp(value.a + 0.5 * value.b * value.b);
    case distribution::kind::constant:
    case distribution::kind::normal:
      break;
  }
  return value.a;
}

double probability_within_bounds(const distribution& value) {
  switch (value.type) {
    case distribution::kind::constant:
      return value.a >= value.min && value.a <= value.max ? 1.0 : 0.0;
    case distribution::kind::normal:
      if (value.b == 0.0) return value.a >= value.min && value.a <= value.max ? 1.0 : 0.0;
      return standard_normal_mass((value.min - value.a) / value.b, (value.max - value.a) / value.b);
    case distribution::kind::uniform: {
      const double overlap = std::min(value.b, value.max) - std::max(value.a, value.min);
      return overlap > 0.0 ? overlap / (value.b - value.a) : 0.0;
    }
    case distribution::kind::lognormal: {
      if (value.b == 0.0) {
        const double only_value = std::exp(value.a);
        return only_value >= value.min && only_value <= value.max ? 1.0 : 0.0;
      }
      const double minus_inf = -std::numeric_limits<double>::infinity();
      const double z_low = value.min > 0.0 ? (std::log(value.min) - value.a) / value.b : minus_inf;
      const double z_high = value.max > 0.0 ? (std::log(value.max) - value.a) / value.b : minus_inf;
      return standard_normal_mass(z_low, z_high);
    }
  }
  return 0.0;
}

void check_bounds_usable(const distribution& value) {
  if (value.is_constant()) return;
  if (!(value.min < value.max)) {
    throw invalid_value{"min < max in " + form_of(syntax_of(value.type))};
  }
  const double acceptance = probability_within_bounds(value);
  if (acceptance < min_redraw_acceptance) {
    std::array<char, 32> kept_percent{};
    std::snprintf(kept_percent.data(), kept_percent.size(), "%.3g", acceptance * 100.0);
    throw invalid_value{"min/max keeping at least " + format_number(min_redraw_acceptance * 100.0) +
                        "% of the draws (draws outside are redrawn), but [" + format_number(value.min) + ", " +
                        format_number(value.max) + "] keeps " + kept_percent.data() + "% of " + canonical_text(value)};
  }
}

}  // namespace myelin::config_detail
