/* proclab's page to explore a run: draws the tree and the timeline from the run's data
   (the JSON above), and answers the pointer and the controls. Block comments only: the page
   holds no double slash at all, so nothing in it can be read as a reference elsewhere. */
(function () {
  "use strict";
  var run = JSON.parse(document.getElementById("run-data").textContent);
  var chart = document.getElementById("chart");
  var details = document.getElementById("details");
  var words = run.words;
  var LANE = 24, BAR = 16, FONT = 14, SMALL = 12, TOP = 64, INDENT = 16, FAR_CHILD = 8;
  /* The window on the axis (axis seconds: work, and a short gap for each pause). */
  var view = { from: 0, to: run.length };
  var MIN_WIDTH = 0.001;
  var picked = null;

  var measure = document.createElement("canvas").getContext("2d");
  function width(text, size, bold) {
    measure.font = (bold ? "bold " : "") + size + "px " + getComputedStyle(document.body).fontFamily;
    return measure.measureText(text).width;
  }
  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }[c];
    });
  }
  function fit(text, size, room, bold) {
    if (width(text, size, bold) <= room) return text;
    var chars = Array.from(text);
    while (chars.length && width(chars.join("") + "…", size, bold) > room) chars.pop();
    return chars.length ? chars.join("").trimEnd() + "…" : "";
  }
  /* A time for a label: 0, 850 µs, 12.5 ms, 1.25 s; step decides the digits. */
  function timeLabel(t, step) {
    if (t === 0) return words.zeroTime;
    var value = t, unit = "s", s = step;
    if (!(step >= 0.5 || (t >= 1 && step >= 0.001))) {
      if (step >= 0.0005) { value = t * 1e3; unit = "ms"; s = step * 1e3; }
      else { value = t * 1e6; unit = "µs"; s = step * 1e6; }
    }
    var digits = s >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(s)));
    return value.toFixed(digits) + " " + unit;
  }
  /* When an event happened: 686.862 ms, 4.9023 s. */
  function moment(t) {
    return t >= 1 ? t.toFixed(4) + " s" : (t * 1e3).toFixed(3) + " ms";
  }
  function duration(s) {
    if (s >= 1) return s.toFixed(2) + " s";
    if (s >= 0.001) return (s * 1e3).toFixed(s >= 0.01 ? 1 : 2) + " ms";
    return (s * 1e6).toFixed(0) + " µs";
  }
  /* Real time at axis position u (inside a stretch of work). */
  function timeAt(u) {
    for (var i = 0; i < run.segments.length; i++) {
      var s = run.segments[i];
      if (u <= s[1]) return s[4] ? s[2] : s[2] + (u - s[0]);
    }
    return run.segments.length ? run.segments[run.segments.length - 1][3] : 0;
  }
  function uAt(t) {
    for (var i = 0; i < run.segments.length; i++) {
      var s = run.segments[i];
      if (t < s[3]) {
        if (t <= s[2]) return s[0];
        return s[0] + (t - s[2]) / (s[3] - s[2]) * (s[1] - s[0]);
      }
    }
    return run.length;
  }

  function visibleLanes() {
    var filter = document.getElementById("filter").value.trim().toLowerCase();
    var threads = document.getElementById("threads").checked;
    var shown = [];
    run.lanes.forEach(function (lane, i) {
      if (!threads && !lane.process) return;
      if (filter && lane.label.toLowerCase().indexOf(filter) < 0) return;
      shown.push(i);
    });
    return shown;
  }

  function draw() {
    var total = Math.max(chart.clientWidth, 480);
    var lanes = visibleLanes();
    var row = {};
    lanes.forEach(function (lane, i) { row[lane] = i; });
    var labelWidth = 160;
    lanes.forEach(function (i) {
      var lane = run.lanes[i];
      labelWidth = Math.max(labelWidth, lane.depth * INDENT + width(lane.name, FONT, lane.process) + width(lane.ids, FONT) + 8);
    });
    labelWidth = Math.min(labelWidth, total * 0.42);
    var left = labelWidth + 14, right = total - 8;
    var scale = (right - left) / (view.to - view.from);
    function x(u) { return left + (u - view.from) * scale; }
    function clampX(u) { return Math.max(left, Math.min(right, x(u))); }
    var bottom = TOP + lanes.length * LANE;
    var out = [];
    out.push('<svg width="' + total + '" height="' + (bottom + 8) + '" font-size="' + FONT + '">');
    out.push('<defs><clipPath id="plot"><rect x="' + left + '" y="0" width="' + (right - left) + '" height="' + (bottom + 8) + '"/></clipPath>');
    var colours = {};
    run.lanes.forEach(function (lane) { colours[lane.colour] = true; });
    Object.keys(colours).forEach(function (c) {
      var id = c.slice(1);
      out.push('<pattern id="wait-' + id + '" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="' + c + '" fill-opacity="0.28"/><rect width="2" height="6" fill="' + c + '" fill-opacity="0.85"/></pattern>');
      out.push('<marker id="arrow-' + id + '" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="' + c + '"/></marker>');
    });
    out.push('</defs><g clip-path="url(#plot)">');
    /* Steps: a band each, every other one shaded; the title on top when it fits. */
    var lastLabelEnd = -Infinity;
    run.steps.forEach(function (step, i) {
      var a = x(step.at), b = x(step.to);
      if (b < left || a > right) return;
      if (i % 2 === 0) out.push('<rect x="' + a + '" y="' + (TOP - 44) + '" width="' + Math.max(b - a, 1) + '" height="' + (bottom - TOP + 44) + '" fill="var(--band)"/>');
      out.push('<line x1="' + a + '" x2="' + a + '" y1="' + (TOP - 44) + '" y2="' + bottom + '" stroke="var(--quiet)" stroke-dasharray="3 3"/>');
      var start = Math.max(a, left) + 4;
      if (start < lastLabelEnd + 8) return;
      var label = fit(step.index + " · " + step.title, FONT, Math.min(b, right) - start - 4, true);
      if (!label) return;
      lastLabelEnd = start + width(label, FONT, true);
      out.push('<text class="step-label" data-step="' + i + '" x="' + start + '" y="' + (TOP - 28) + '" font-weight="bold" fill="var(--text)" style="cursor:pointer">' + esc(label) + '</text>');
    });
    /* The axis: real times at a round step, in the stretches of work. */
    var wanted = Math.max((view.to - view.from) * 100 / (right - left), 1e-7);
    var power = Math.pow(10, Math.floor(Math.log10(wanted)));
    var step = [1, 2, 5, 10].map(function (m) { return m * power; }).find(function (s) { return s >= wanted; });
    var lastTickEnd = -Infinity;
    run.segments.forEach(function (s) {
      if (s[4] || s[1] < view.from || s[0] > view.to) return;
      for (var n = Math.ceil(s[2] / step); n * step <= s[3]; n++) {
        var t = n * step, u = uAt(t);
        if (u < view.from || u > view.to) continue;
        var tx = x(u), label = timeLabel(t, step), half = width(label, SMALL) / 2;
        out.push('<line x1="' + tx + '" x2="' + tx + '" y1="' + (TOP - 6) + '" y2="' + bottom + '" stroke="var(--quiet)" stroke-opacity="0.18"/>');
        var underGap = run.segments.some(function (p) { return p[4] && tx + half > x(p[0]) - 2 && tx - half < x(p[1]) + 2; });
        if (underGap || tx - half < lastTickEnd + 10) continue;
        lastTickEnd = tx + half;
        out.push('<text x="' + tx + '" y="' + (TOP - 8) + '" font-size="' + SMALL + '" text-anchor="middle" fill="var(--quiet)">' + esc(label) + '</text>');
      }
    });
    /* The spans of each visible lane. */
    lanes.forEach(function (l, r) {
      var lane = run.lanes[l], top = TOP + r * LANE + (LANE - BAR) / 2;
      lane.spans.forEach(function (span, s) {
        if (span[1] < view.from || span[0] > view.to) return;
        var a = x(span[0]), w = Math.max(x(span[1]) - a, 1.5);
        var fill = lane.colour, extra = "";
        if (span[4] === 1) fill = "url(#wait-" + lane.colour.slice(1) + ")";
        if (span[4] === 2) extra = ' fill-opacity="0.14" stroke="' + lane.colour + '" stroke-dasharray="3 2"';
        var isPicked = picked && picked[0] === l && picked[1] === s;
        out.push('<rect class="span' + (isPicked ? " picked" : "") + '" data-lane="' + l + '" data-span="' + s + '" x="' + a + '" y="' + top + '" width="' + w + '" height="' + BAR + '" fill="' + fill + '"' + extra + '/>');
        if (span[4] === 1) {
          var shownFrom = Math.max(a, left), shownTo = Math.min(a + w, right);
          if (shownTo - shownFrom > width(span[5], SMALL, true) + 8) {
            out.push('<text x="' + (shownFrom + shownTo) / 2 + '" y="' + (top + BAR / 2 + SMALL * 0.36) + '" font-size="' + SMALL + '" text-anchor="middle" font-weight="bold" fill="var(--text)" stroke="var(--bg)" stroke-width="3" paint-order="stroke" pointer-events="none">' + esc(span[5]) + '</text>');
          }
        }
      });
    });
    /* Forks between visible lanes. */
    run.forks.forEach(function (f) {
      if (!(f[0] in row) || !(f[1] in row)) return;
      if (f[3] < view.from || f[2] > view.to) return;
      var colour = run.lanes[f[1]].colour;
      var below = row[f[1]] > row[f[0]];
      var y2 = TOP + row[f[1]] * LANE + (below ? (LANE - BAR) / 2 : (LANE + BAR) / 2);
      var x2 = Math.max(x(f[3]), x(f[2]));
      /* A child far down the tree: the arrow's head only (the tree says whose child it is). */
      var far = Math.abs(row[f[1]] - row[f[0]]) > FAR_CHILD;
      var y1 = far ? y2 - LANE * 0.6 : TOP + (row[f[0]] + 0.5) * LANE;
      var x1 = far ? x2 : x(f[2]);
      out.push('<path d="M' + x1 + ',' + y1 + ' L' + x2 + ',' + y2 + '" stroke="' + colour + '" stroke-width="1.5" fill="none"' + (f[4] ? ' stroke-dasharray="4 3"' : '') + ' marker-end="url(#arrow-' + colour.slice(1) + ')" pointer-events="none"/>');
    });
    /* Pauses at prompts: a gap over every lane. */
    run.segments.forEach(function (s) {
      if (!s[4] || s[1] < view.from || s[0] > view.to) return;
      var a = x(s[0]), b = x(s[1]);
      out.push('<g><title>' + esc(words.pause + ": " + duration(s[3] - s[2])) + '</title><rect x="' + a + '" y="' + (TOP - 44) + '" width="' + (b - a) + '" height="' + (bottom - TOP + 44) + '" fill="var(--bg)"/><path d="M' + a + ',' + (TOP - 44) + ' V' + bottom + ' M' + b + ',' + (TOP - 44) + ' V' + bottom + '" stroke="var(--quiet)" stroke-dasharray="2 3"/></g>');
    });
    out.push('</g>');
    /* The tree: each visible lane's name, indented, with its ids. */
    lanes.forEach(function (l, r) {
      var lane = run.lanes[l], y = TOP + r * LANE + LANE / 2 + FONT * 0.36;
      var indent = 4 + lane.depth * INDENT;
      var room = labelWidth - indent;
      var name = fit(lane.name, FONT, room, lane.process);
      var ids = fit(lane.ids, FONT, room - width(name, FONT, lane.process) - 2);
      if (lane.depth > 0) {
        out.push('<path d="M' + (indent - INDENT + 5) + ',' + (TOP + r * LANE) + ' V' + (TOP + r * LANE + LANE / 2) + ' H' + (indent - 2) + '" fill="none" stroke="var(--quiet)" stroke-opacity="0.6"/>');
      }
      out.push('<text class="lane-label" data-lane="' + l + '" x="' + indent + '" y="' + y + '"><tspan fill="' + lane.colour + '"' + (lane.process ? ' font-weight="bold"' : '') + '>' + esc(name) + '</tspan><tspan fill="var(--quiet)">' + esc(ids) + '</tspan></text>');
    });
    out.push('</svg>');
    chart.innerHTML = out.join("");
    var shown = view.to - view.from;
    document.getElementById("window").textContent = words.shown + " " + duration(shown) + " " + words.ofWork;
    markCurrentStep();
  }

  function eventList(events) {
    if (!events.length) return '<p class="ran">' + esc(words.noEvents) + '</p>';
    return '<ol>' + events.map(function (e) {
      return '<li><span class="t">' + esc(moment(e[0])) + '</span>' + esc(e[1]) + '</li>';
    }).join("") + '</ol>';
  }

  function showSpan(l, s) {
    var lane = run.lanes[l], span = lane.spans[s];
    picked = [l, s];
    var slack = 1e-9;
    var events = lane.events.filter(function (e) { return e[0] >= span[2] - slack && e[0] <= span[3] + slack; });
    details.innerHTML = '<h3 style="color:' + lane.colour + '">' + esc(lane.label) + '</h3>' +
      '<div><strong>' + esc(span[6]) + '</strong></div>' +
      '<div class="ran">' + esc(moment(span[2])) + ' → ' + esc(moment(span[3])) + ' (' + esc(duration(span[3] - span[2])) + ')</div>' +
      eventList(events);
    chart.querySelectorAll(".span.picked").forEach(function (e) { e.classList.remove("picked"); });
    var rect = chart.querySelector('.span[data-lane="' + l + '"][data-span="' + s + '"]');
    if (rect) rect.classList.add("picked");
  }

  function showLane(l) {
    var lane = run.lanes[l];
    details.innerHTML = '<h3 style="color:' + lane.colour + '">' + esc(lane.label) + '</h3><div class="ran">' + esc(words.allEvents) + '</div>' + eventList(lane.events);
  }

  function zoomTo(from, to) {
    var length = run.length;
    var w = Math.min(Math.max(to - from, MIN_WIDTH), length);
    var middle = (from + to) / 2;
    from = Math.max(0, Math.min(middle - w / 2, length - w));
    view = { from: from, to: from + w };
    draw();
  }
  function zoomAround(u, factor) {
    var from = u - (u - view.from) * factor, to = u + (view.to - u) * factor;
    var w = Math.min(Math.max(to - from, MIN_WIDTH), run.length);
    var share = (u - view.from) / (view.to - view.from);
    from = Math.max(0, Math.min(u - share * w, run.length - w));
    view = { from: from, to: from + w };
    draw();
  }
  /* The axis position under the pointer: the plot is the clip rectangle of the drawing. */
  function plotBox() {
    var rect = chart.querySelector("clipPath rect");
    return rect ? { left: parseFloat(rect.getAttribute("x")), width: parseFloat(rect.getAttribute("width")) } : { left: 0, width: chart.clientWidth };
  }
  function uOfPointer(event) {
    var box = chart.getBoundingClientRect(), plot = plotBox();
    var share = (event.clientX - box.left - plot.left) / plot.width;
    return view.from + Math.max(0, Math.min(1, share)) * (view.to - view.from);
  }

  function markCurrentStep() {
    var middle = (view.from + view.to) / 2;
    var zoomed = view.to - view.from < run.length * 0.999;
    document.querySelectorAll(".step").forEach(function (section, i) {
      var step = run.steps[i];
      section.classList.toggle("current", zoomed && step.at <= middle && middle < step.to);
    });
  }

  /* The steps beside the chart: title (zooms to it), the lesson's notes, this run's notes. */
  var steps = document.getElementById("steps");
  steps.innerHTML = run.steps.map(function (step, i) {
    var ran = step.ran.length ? '<div class="ran"><strong>' + esc(words.ranNotes) + '</strong>' + eventList(step.ran) + '</div>' : "";
    return '<section class="step"><h3><button data-step="' + i + '">' + esc(words.step + " " + step.index + words.stepAfter + " · " + step.title) + '</button></h3><div class="notes">' + step.notes + '</div>' + ran + '</section>';
  }).join("");
  function zoomToStep(i) {
    var step = run.steps[i];
    var margin = (step.to - step.at) * 0.03;
    zoomTo(step.at - margin, step.to + margin);
  }
  steps.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-step]");
    if (button) zoomToStep(+button.dataset.step);
  });

  chart.addEventListener("mouseover", function (event) {
    var target = event.target;
    if (target.classList && target.classList.contains("span")) showSpan(+target.dataset.lane, +target.dataset.span);
  });
  var drag = null;
  chart.addEventListener("click", function (event) {
    if (drag && drag.moved) return;
    var target = event.target.closest("[data-lane],[data-step]");
    if (!target) return;
    if (target.classList.contains("span")) showSpan(+target.dataset.lane, +target.dataset.span);
    else if (target.classList.contains("lane-label")) showLane(+target.dataset.lane);
    else if (target.classList.contains("step-label")) zoomToStep(+target.dataset.step);
  });
  chart.addEventListener("wheel", function (event) {
    event.preventDefault();
    zoomAround(uOfPointer(event), event.deltaY > 0 ? 1.25 : 0.8);
  }, { passive: false });
  chart.addEventListener("pointerdown", function (event) {
    drag = { x: event.clientX, from: view.from, to: view.to, moved: false };
    chart.classList.add("dragging");
  });
  window.addEventListener("pointermove", function (event) {
    if (!drag || !(event.buttons & 1)) return;
    var plot = plotBox().width;
    var dx = event.clientX - drag.x;
    if (Math.abs(dx) > 3) drag.moved = true;
    if (!drag.moved) return;
    var w = drag.to - drag.from;
    var from = Math.max(0, Math.min(drag.from - dx / plot * w, run.length - w));
    view = { from: from, to: from + w };
    draw();
  });
  window.addEventListener("pointerup", function () {
    chart.classList.remove("dragging");
    setTimeout(function () { drag = null; }, 0);
  });
  document.getElementById("whole").addEventListener("click", function () { zoomTo(0, run.length); });
  document.getElementById("in").addEventListener("click", function () { zoomAround((view.from + view.to) / 2, 0.5); });
  document.getElementById("out").addEventListener("click", function () { zoomAround((view.from + view.to) / 2, 2); });
  document.getElementById("filter").addEventListener("input", draw);
  document.getElementById("threads").addEventListener("change", draw);
  window.addEventListener("resize", draw);
  draw();
})();
