// svg_plot.hpp - a self-contained SVG rendering of a calibration histogram with each method's threshold marked.
//
// The y axis is log10 of the bin count (empty bins are not drawn; the baseline sits at count 0.5 so that a bin with
// one element is visible). The x axis is the histogram's value range. Each threshold is a dashed vertical line with
// its value in the legend.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace qmath_calibrate {

struct PlotMarker {
  std::string label;  // e.g. "entropy"
  double value;       // threshold (amax)
};

struct PlotData {
  std::string title;                  // tensor name
  std::string subtitle;               // e.g. "1048576 values, 2048 bins of width 0.0049, 0 non-finite"
  double lo = 0.0, hi = 1.0;          // histogram range: bin b covers [lo + b * w, lo + (b + 1) * w)
  std::vector<std::uint64_t> counts;  // bin counts
  std::vector<PlotMarker> markers;
};

namespace detail {

inline std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // Control characters are not allowed in XML 1.0 text.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') out += '?';
        else out += c;
    }
  }
  return out;
}

inline std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `target` intervals over `span`.
inline double nice_step(double span, int target) {
  if (!(span > 0.0)) return 1.0;
  const double raw = span / target;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  const double m = raw / p;
  return (m < 1.5 ? 1.0 : m < 3.5 ? 2.0 : m < 7.5 ? 5.0 : 10.0) * p;
}

// <line> from (x1, y1) to (x2, y2) with `attributes` (e.g. a stroke).
inline std::string svg_line(double x1, double y1, double x2, double y2, const std::string& attributes = "") {
  return "<line x1=\"" + fmt("%.2f", x1) + "\" y1=\"" + fmt("%.2f", y1) + "\" x2=\"" + fmt("%.2f", x2) + "\" y2=\"" +
         fmt("%.2f", y2) + "\"" + attributes + "/>\n";
}

}  // namespace detail

inline std::string render_histogram_svg(const PlotData& d) {
  using detail::fmt;
  using detail::svg_line;
  const double W = 960, H = 540;
  const double left = 80, right = 250, top = 64, bottom = 64;  // right margin holds the legend
  const double pw = W - left - right, ph = H - top - bottom;
  const double lo = d.lo, hi = d.hi > d.lo ? d.hi : d.lo + 1.0;
  const std::size_t nb = d.counts.size();

  std::uint64_t maxc = 0;
  for (std::uint64_t c : d.counts) maxc = std::max(maxc, c);
  const double ymin = std::log10(0.5);
  const double ymax = std::max(1.0, std::ceil(std::log10(static_cast<double>(std::max<std::uint64_t>(maxc, 1)))));
  auto X = [&](double v) { return left + (v - lo) / (hi - lo) * pw; };
  auto Y = [&](double logc) { return top + ph - (logc - ymin) / (ymax - ymin) * ph; };

  std::string s;
  s += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"960\" height=\"540\" viewBox=\"0 0 960 540\" "
       "font-family=\"sans-serif\" font-size=\"12\">\n";
  s += "<title>" + detail::xml_escape(d.title) + "</title>\n";
  s += "<rect x=\"0\" y=\"0\" width=\"960\" height=\"540\" fill=\"white\"/>\n";
  s += "<text x=\"" + fmt("%.1f", left) + "\" y=\"24\" font-size=\"16\" font-weight=\"bold\">" +
       detail::xml_escape(d.title) + "</text>\n";
  s += "<text x=\"" + fmt("%.1f", left) + "\" y=\"44\" fill=\"#444\">" + detail::xml_escape(d.subtitle) +
       "</text>\n";

  // Grid and y ticks at every decade.
  s += "<g stroke=\"#ddd\" stroke-width=\"1\">\n";
  for (int k = 0; k <= static_cast<int>(ymax); ++k)
    s += svg_line(left, Y(k), left + pw, Y(k));
  s += "</g>\n";
  s += "<g text-anchor=\"end\">\n";
  for (int k = 0; k <= static_cast<int>(ymax); ++k)
    s += "<text x=\"" + fmt("%.1f", left - 6) + "\" y=\"" + fmt("%.1f", Y(k) + 4) + "\">" +
         (k <= 5 ? std::to_string(static_cast<long long>(std::pow(10.0, k) + 0.5)) : "1e" + std::to_string(k)) +
         "</text>\n";
  s += "</g>\n";

  // The histogram as one filled step path (exact: one step per bin).
  if (nb > 0) {
    const double w = (hi - lo) / static_cast<double>(nb);
    std::string path = "M" + fmt("%.2f", X(lo)) + "," + fmt("%.2f", Y(ymin));
    for (std::size_t b = 0; b < nb; ++b) {
      const double y = d.counts[b] ? Y(std::log10(static_cast<double>(d.counts[b]))) : Y(ymin);
      path += " L" + fmt("%.2f", X(lo + b * w)) + "," + fmt("%.2f", y);
      path += " L" + fmt("%.2f", X(lo + (b + 1) * w)) + "," + fmt("%.2f", y);
    }
    path += " L" + fmt("%.2f", X(hi)) + "," + fmt("%.2f", Y(ymin)) + " Z";
    s += "<path d=\"" + path + "\" fill=\"#8fb3d9\" stroke=\"#2b5c8a\" stroke-width=\"0.6\"/>\n";
  }

  // Axes and x ticks.
  s += "<g stroke=\"black\" stroke-width=\"1\">\n";
  s += svg_line(left, top + ph, left + pw, top + ph) + svg_line(left, top, left, top + ph);
  const double step = detail::nice_step(hi - lo, 8);
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push_back(t);
  for (double t : ticks)
    s += svg_line(X(t), top + ph, X(t), top + ph + 5);
  s += "</g>\n<g text-anchor=\"middle\">\n";
  for (double t : ticks)
    s += "<text x=\"" + fmt("%.1f", X(t)) + "\" y=\"" + fmt("%.1f", top + ph + 18) + "\">" +
         fmt("%g", std::fabs(t) < step * 1e-6 ? 0.0 : t) + "</text>\n";
  s += "</g>\n";
  s += "<text x=\"" + fmt("%.1f", left + pw / 2) + "\" y=\"" + fmt("%.1f", H - 18) +
       "\" text-anchor=\"middle\">value" + std::string(lo >= 0.0 ? " (absolute)" : "") + "</text>\n";
  s += "<text transform=\"translate(22," + fmt("%.1f", top + ph / 2) +
       ") rotate(-90)\" text-anchor=\"middle\">count per bin (log scale)</text>\n";

  // Threshold markers and legend.
  static const char* kColors[] = {"#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#17becf", "#8c564b", "#e377c2"};
  const double lx = left + pw + 20;
  s += "<text x=\"" + fmt("%.1f", lx) + "\" y=\"" + fmt("%.1f", top + 4) +
       "\" font-weight=\"bold\">thresholds</text>\n";
  for (std::size_t i = 0; i < d.markers.size(); ++i) {
    const PlotMarker& m = d.markers[i];
    const char* color = kColors[i % (sizeof kColors / sizeof kColors[0])];
    const std::string stroke = std::string(" stroke=\"") + color + "\" stroke-width=\"1.8\" stroke-dasharray=\"" +
                               ((i / 7) % 2 ? "2,3" : "6,4") + "\"";
    auto vline = [&](double v) {
      if (!(v >= lo && v <= hi)) return;
      s += svg_line(X(v), top, X(v), top + ph, stroke);
    };
    vline(m.value);
    const double ly = top + 24 + 20 * static_cast<double>(i);
    s += svg_line(lx, ly - 4, lx + 24, ly - 4, stroke);
    s += "<text x=\"" + fmt("%.1f", lx + 30) + "\" y=\"" + fmt("%.1f", ly) + "\">" + detail::xml_escape(m.label) +
         " " + fmt("%.6g", m.value) + "</text>\n";
  }
  s += "</svg>\n";
  return s;
}

}  // namespace qmath_calibrate
