// The report's document shell, stylesheet and script; see page.h.
#include "report/page.h"

#include "core/strings.h"
#include "report/html.h"

namespace grpo::report {
namespace {

const char* const kStyle = R"css(
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:20px 28px;color:#1f2328;background:#fff}
h1{margin:0 0 4px;font-size:24px}h3{font-size:14px;margin:14px 0 6px}h4{margin:12px 0 4px;font-size:13px}
.status{color:#57606a;font-size:13px;margin:0 0 14px}
details{border:1px solid #d0d7de;border-radius:6px;margin:10px 0;padding:4px 12px 8px}
details>summary{cursor:pointer;font-weight:600;font-size:16px;padding:6px 0}
details.area>summary,details.question>summary{font-size:15px}
#headline{display:grid;grid-template-columns:1fr;gap:0}
.charts,.heatmaps{display:flex;flex-wrap:wrap;gap:6px}
figure{margin:4px;position:relative}figcaption{font-size:12px;color:#57606a;margin-bottom:2px}
svg .plot{fill:#fbfbfc;stroke:#d8dee4}svg .tick{font-size:9px;fill:#57606a}
svg .raw{stroke-width:1;opacity:.25}svg .line{stroke-width:1.6}
svg .cursor{stroke:#8c959f;stroke-width:1;visibility:hidden}
.legend{font-size:11px;max-width:360px}.legend span,.split-legend span{margin-right:10px;white-space:nowrap}
.legend i,.split-legend i{display:inline-block;width:9px;height:9px;margin-right:3px;border-radius:2px}
#tooltip{position:fixed;pointer-events:none;background:#fff;border:1px solid #8c959f;border-radius:4px;
 padding:4px 6px;font-size:11px;display:none;z-index:10;box-shadow:0 2px 6px rgba(0,0,0,.15);white-space:nowrap}
table{border-collapse:collapse;font-size:12px;margin:6px 0}td,th{border:1px solid #d8dee4;padding:3px 6px;text-align:left}
table.numbers{font-size:11px;align-self:flex-start;margin:24px 4px 4px}table.numbers td{padding:1px 5px}
table.numbers td:nth-child(n+2){font-variant-numeric:tabular-nums}
.missing,.note{color:#57606a;font-size:12px}
.split{display:flex;align-items:center;gap:8px;margin:6px 0;font-size:12px}
.split-label{width:110px}.bar{display:flex;width:420px;height:14px;border-radius:3px;overflow:hidden;background:#eee}
.controls{display:flex;flex-wrap:wrap;gap:12px;align-items:center;font-size:13px;margin:6px 0}
.controls input[type=number]{width:70px}
#smoothing{position:fixed;top:8px;right:12px;z-index:5;background:#fff;border:1px solid #d0d7de;border-radius:6px;
 padding:4px 8px;font-size:12px;display:flex;align-items:center;gap:6px;box-shadow:0 1px 4px rgba(0,0,0,.08)}
#smoothing input{width:120px}#smoothing output{width:30px;font-variant-numeric:tabular-nums}
.prompt-group{border-left:3px solid #d0d7de;margin:10px 0;padding-left:10px}
.prompt pre{background:#f6f8fa}.completion{margin:6px 0 6px 12px}
.meta{font-size:12px;margin-bottom:2px}.kv{margin-left:10px;color:#57606a}.truncated{color:#bc4c00}
pre{white-space:pre-wrap;word-break:break-word;max-width:980px;margin:0;padding:4px 6px;font-size:12px;
 background:#fbfbfc;border-radius:4px}
mark{background:#fff3b0;padding:0 1px}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px}
canvas{image-rendering:pixelated;border:1px solid #d8dee4}.scale{font-size:10px;color:#57606a}
#script-error{background:#ffebe9;border:1px solid #d1242f;padding:6px;margin:8px 0}
)css";

const char* const kScript = R"js(
"use strict";
window.addEventListener("error", function (e) {
  var div = document.createElement("div");
  div.id = "script-error";
  div.textContent = "report script error: " + e.message;
  document.body.insertBefore(div, document.body.firstChild);
});
(function () {
  function readJson(id) { return JSON.parse(document.getElementById(id).textContent); }
  var charts = readJson("chart-data"), heatmaps = readJson("heatmap-data");
  var tip = document.createElement("div");
  tip.id = "tooltip";
  document.body.appendChild(tip);
  function fmt(v) { return v === null || v === undefined ? "-" : Number(v).toPrecision(4).replace(/\.?0+(e|$)/, "$1"); }
  function esc(s) { var d = document.createElement("span"); d.textContent = s; return d.innerHTML; }
  function showTip(html, ev) {
    tip.innerHTML = html;
    tip.style.display = "block";
    tip.style.left = Math.min(ev.clientX + 14, window.innerWidth - tip.offsetWidth - 4) + "px";
    tip.style.top = (ev.clientY + 14) + "px";
  }
  function nearest(steps, step) {
    var lo = 0, hi = steps.length - 1;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (steps[mid] < step) lo = mid + 1; else hi = mid; }
    if (lo > 0 && Math.abs(steps[lo - 1] - step) <= Math.abs(steps[lo] - step)) lo -= 1;
    return lo;
  }
  // The debiased EMA of report/series.cpp (ema), so that the lines drawn here match the page's
  // own at the same weight; null (a non-finite value) stays null and does not enter the average.
  function ema(values, weight) {
    var average = 0, kept = 1;
    return values.map(function (v) {
      if (v === null) return null;
      average = weight * average + (1 - weight) * v;
      kept *= weight;
      return average / (1 - kept);
    });
  }
  var svgNs = "http://www.w3.org/2000/svg";
  // The smoothed line of series `index` of chart `d`, redrawn as chart.cpp draws it: a polyline
  // per run of non-null values.
  function drawSmoothed(svg, d, index) {
    var group = svg.querySelector("g.line[data-series='" + index + "']"), s = d.series[index], run = "";
    while (group.firstChild) group.removeChild(group.firstChild);
    function close() {
      if (!run) return;
      var line = document.createElementNS(svgNs, "polyline");
      line.setAttribute("fill", "none");
      line.setAttribute("points", run);
      group.appendChild(line);
      run = "";
    }
    s.smoothed.forEach(function (v, k) {
      if (v === null) { close(); return; }
      var x = d.left + (s.steps[k] - d.x0) / (d.x1 - d.x0) * (d.right - d.left);
      var y = d.top + (1 - (v - d.y0) / (d.y1 - d.y0)) * (d.bottom - d.top);
      run += x.toFixed(1) + "," + y.toFixed(1) + " ";
    });
    close();
  }
  var slider = document.getElementById("smoothing-slider"), shownWeight = document.getElementById("smoothing-value");
  var drawnWeight = parseFloat(slider.value), storageKey = "grpo-report-smoothing";
  function setSmoothing(weight, redraw) {
    shownWeight.textContent = weight.toFixed(2);
    document.querySelectorAll("svg[data-chart]").forEach(function (svg) {
      var d = charts[svg.getAttribute("data-chart")];
      d.series.forEach(function (s, index) {
        s.smoothed = s.eval ? s.raw : ema(s.raw, weight);
        if (redraw && !s.eval) drawSmoothed(svg, d, index);
      });
    });
  }
  // The last weight chosen in any report on this machine, kept by the browser (no network). A
  // browser that refuses storage for local files still gets the slider, without the memory.
  var stored = null;
  try { stored = window.localStorage.getItem(storageKey); } catch (e) { stored = null; }
  var storedWeight = stored === null ? NaN : parseFloat(stored);
  if (storedWeight >= 0 && storedWeight <= 0.99) slider.value = storedWeight;
  setSmoothing(parseFloat(slider.value), parseFloat(slider.value) !== drawnWeight);
  slider.addEventListener("input", function () {
    var weight = parseFloat(slider.value);
    setSmoothing(weight, true);
    try { window.localStorage.setItem(storageKey, String(weight)); } catch (e) { /* no memory, as above */ }
  });
  document.querySelectorAll("svg[data-chart]").forEach(function (svg) {
    var d = charts[svg.getAttribute("data-chart")], cursor = svg.querySelector(".cursor");
    svg.addEventListener("mousemove", function (ev) {
      var pt = svg.createSVGPoint(); pt.x = ev.clientX; pt.y = ev.clientY;
      var x = pt.matrixTransform(svg.getScreenCTM().inverse()).x;
      var step = d.x0 + (x - d.left) / (d.right - d.left) * (d.x1 - d.x0);
      var html = "", shown = null;
      d.series.forEach(function (s) {
        if (!s.steps.length) return;
        var i = nearest(s.steps, step);
        if (shown === null) shown = s.steps[i];
        html += "<div><b style='color:" + s.color + "'>" + esc(s.label) + "</b> step " + s.steps[i] + ": " +
          fmt(s.raw[i]) + (s.eval ? "" : " (smoothed " + fmt(s.smoothed[i]) + ")") + "</div>";
      });
      if (shown === null) return;
      var cx = d.left + (shown - d.x0) / (d.x1 - d.x0) * (d.right - d.left);
      cursor.setAttribute("x1", cx); cursor.setAttribute("x2", cx); cursor.style.visibility = "visible";
      showTip(html, ev);
    });
    svg.addEventListener("mouseleave", function () { tip.style.display = "none"; cursor.style.visibility = "hidden"; });
  });
  function color(t) {
    var stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
    t = Math.max(0, Math.min(1, t)) * (stops.length - 1);
    var i = Math.min(Math.floor(t), stops.length - 2), f = t - i, a = stops[i], b = stops[i + 1];
    return "rgb(" + [0, 1, 2].map(function (k) { return Math.round(a[k] + (b[k] - a[k]) * f); }).join(",") + ")";
  }
  document.querySelectorAll("canvas[data-heatmap]").forEach(function (canvas) {
    var h = heatmaps[canvas.getAttribute("data-heatmap")];
    var rows = h.rows.length, cols = h.columns.length, min = Infinity, max = -Infinity;
    h.values.forEach(function (r) { r.forEach(function (v) { if (v !== null) { min = Math.min(min, v); max = Math.max(max, v); } }); });
    if (!(max > min)) { max = min + 1; }
    var cw = Math.max(2, Math.min(12, Math.floor(640 / Math.max(cols, 1)))), ch = Math.max(3, Math.min(14, Math.floor(320 / Math.max(rows, 1))));
    canvas.width = cols * cw; canvas.height = rows * ch;
    var g = canvas.getContext("2d");
    for (var r = 0; r < rows; r++) for (var c = 0; c < cols; c++) {
      var v = h.values[r][c];
      g.fillStyle = v === null ? "#eeeeee" : color((v - min) / (max - min));
      g.fillRect(c * cw, r * ch, cw, ch);
    }
    canvas.nextElementSibling.textContent = h.row_name + "s top to bottom, steps " + (cols ? h.columns[0] + " to " + h.columns[cols - 1] : "-") +
      " left to right; color from " + fmt(min === Infinity ? null : min) + " (dark) to " + fmt(max === -Infinity ? null : max) + " (yellow)";
    canvas.addEventListener("mousemove", function (ev) {
      var box = canvas.getBoundingClientRect();
      var c = Math.floor((ev.clientX - box.left) / box.width * cols), r = Math.floor((ev.clientY - box.top) / box.height * rows);
      if (r < 0 || r >= rows || c < 0 || c >= cols) return;
      showTip(esc(h.row_name + " " + h.rows[r]) + ", step " + h.columns[c] + ": " + fmt(h.values[r][c]), ev);
    });
    canvas.addEventListener("mouseleave", function () { tip.style.display = "none"; });
  });
  var browser = document.getElementById("sample-browser");
  if (browser) {
    var stepSelect = document.getElementById("sample-step"), count = document.getElementById("sample-count");
    var inputs = ["reward-min", "reward-max", "truncated-only", "sample-search"].map(function (id) { return document.getElementById(id); });
    stepSelect.value = stepSelect.options[stepSelect.options.length - 1].value;
    var filter = function () {
      var lo = parseFloat(inputs[0].value), hi = parseFloat(inputs[1].value), truncOnly = inputs[2].checked;
      var text = inputs[3].value.toLowerCase(), shown = 0, total = 0;
      browser.querySelectorAll(".sample-step").forEach(function (section) {
        var active = section.getAttribute("data-step") === stepSelect.value;
        section.style.display = active ? "" : "none";
        if (!active) return;
        section.querySelectorAll(".prompt-group").forEach(function (group) {
          var prompt = group.querySelector(".prompt").textContent.toLowerCase(), any = false;
          group.querySelectorAll(".completion").forEach(function (c) {
            var reward = parseFloat(c.getAttribute("data-reward"));
            var ok = !(reward < lo) && !(reward > hi) && (!truncOnly || c.getAttribute("data-truncated") === "1") &&
              (!text || c.textContent.toLowerCase().indexOf(text) >= 0 || prompt.indexOf(text) >= 0);
            c.style.display = ok ? "" : "none";
            total += 1; if (ok) { shown += 1; any = true; }
          });
          group.style.display = any ? "" : "none";
        });
      });
      count.textContent = shown + " of " + total + " completions of step " + stepSelect.value + " shown";
    };
    [stepSelect].concat(inputs).forEach(function (el) { el.addEventListener("input", filter); el.addEventListener("change", filter); });
    filter();
  }
  document.body.setAttribute("data-report-ready", "1");
})();
)js";

}  // namespace

std::string page_start(const std::string& title) {
  return "<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' "
         "content='width=device-width,initial-scale=1'><title>" +
         escape_html(title) + "</title><style>" + kStyle + "</style></head><body>";
}

std::string smoothing_control(double weight) {
  const std::string value = strformat("%.2f", weight);
  return "<div id='smoothing' title='weight of the exponential moving average of every chart; the raw values stay "
         "drawn faintly'><label for='smoothing-slider'>Smoothing</label><input type='range' id='smoothing-slider' "
         "min='0' max='0.99' step='0.01' value='" + value + "'><output id='smoothing-value' for='smoothing-slider'>" +
         value + "</output></div>";
}

std::string page_end(const nlohmann::json& chart_data, const nlohmann::json& heatmap_data) {
  return "<script type='application/json' id='chart-data'>" + json_for_script(chart_data) +
         "</script><script type='application/json' id='heatmap-data'>" + json_for_script(heatmap_data) +
         "</script><script>" + kScript + "</script></body></html>\n";
}

}  // namespace grpo::report
