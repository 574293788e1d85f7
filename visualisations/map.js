/* Safeguarding graph maps.
 *
 * Reads the map's data from the JSON block with id "map-data", draws it with
 * vis-network, and builds the legend, filters, search and side panel.
 *
 * Every string in the data may come from a published document and is untrusted: it only ever
 * reaches the page through textContent, createTextNode, option.text or canvas drawing — never
 * innerHTML, never a URL, never vis-network's HTML "title" pop-ups.
 */
(function () {
  "use strict";

  // A map page carries its data; the board pack's review page gets it from review-loader.js.
  var data = window.sgMapData || JSON.parse(document.getElementById("map-data").textContent);
  if (data.page) {
    document.title = data.page.title;
    document.getElementById("map-title").textContent = data.page.title;
    document.getElementById("map-subtitle").textContent = data.page.subtitle;
    document.body.setAttribute("data-map", data.kind || "");
  }
  var filters = data.filters || [];
  var details = data.details || {};
  var reviews = data.reviews || {};
  // A text or quote that several items repeat is stored once, in data.strings: put it back.
  var strings = data.strings || [];
  Object.keys(details).forEach(function (id) {
    (details[id].lists || []).forEach(function (list) {
      list.items.forEach(function (item) {
        if (typeof item.text === "number") item.text = strings[item.text];
        if (typeof item.quote === "number") item.quote = strings[item.quote];
      });
    });
  });

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  // A line's reviews ("subr", indexes into "rf") come as steps from the one before: add them up.
  // (On the agency map a line is a pair: "subr" its broken links, "esubr" its effective ones.)
  data.edges.forEach(function (e) {
    [e.subr, e.esubr].forEach(function (steps) {
      if (!steps) return;
      for (var k = 1; k < steps.length; k++) steps[k] += steps[k - 1];
    });
  });
  // The reviews' filter values ("rf") come as rows of value lists in the order of "rfk", each
  // value a position in its filter's options: put back {key: [values]} (a null is no value).
  var specOf = {};
  filters.forEach(function (spec) { specOf[spec.key] = spec; });
  data.rf = (data.rf || []).map(function (row) {
    var out = {};
    (data.rfk || []).forEach(function (key, k) {
      var vals = row[k], spec = specOf[key];
      if (vals === null || vals === undefined) return;
      out[key] = vals.map(function (v) { return typeof v === "number" && spec && spec.options ? spec.options[v][0] : v; });
    });
    return out;
  });

  // ---------------------------------------------------------------- network
  var nodes = new vis.DataSet(data.nodes);
  var edges = new vis.DataSet(data.edges);
  var container = document.getElementById("network");
  var network = new vis.Network(container, { nodes: nodes, edges: edges }, data.options);
  var isReady = false;

  // Physics does not stop a node from settling on a line between two others, which would read
  // as two links that do not exist. Push such nodes off every link line (curves followed as drawn)
  // without letting them land on each other; a few rounds, deterministic like the layout.
  function untangle() {
    var body = network.body;
    var ids = Object.keys(body.nodes).filter(function (id) { return nodes.get(id); }).sort();
    var size = {};
    var halfWidth = {};
    data.nodes.forEach(function (n) {
      size[n.id] = n.size || 15;
      var font = (n.font && n.font.size) || 15;
      halfWidth[n.id] = Math.max(size[n.id], Math.min(170, String(n.label || "").length * font * 0.27));
    });
    function path(e) {
      var edge = body.edges[e.id];
      var pts = [];
      if (!edge || !edge.edgeType || e.from === e.to) return pts;
      var steps = e.smooth ? 12 : 1;
      for (var k = 0; k <= steps; k++) pts.push(edge.edgeType.getPoint(k / steps));
      return pts;
    }
    function push(p, ox, oy, by) {
      var len = Math.sqrt(ox * ox + oy * oy) || 1;
      p.x += (ox / len) * by;
      p.y += (oy / len) * by;
    }
    // Nodes, with the label under each, must not overlap: each is a box (the shape and its
    // label), pushed apart along the axis where the overlap is smaller.
    function separate() {
      var moved = false;
      for (var i = 0; i < ids.length; i++) {
        for (var j = i + 1; j < ids.length; j++) {
          var a = ids[i], b = ids[j];
          var p = body.nodes[a], q = body.nodes[b];
          var overX = halfWidth[a] + halfWidth[b] + 8 - Math.abs(q.x - p.x);
          var overY = (size[a] || 15) + (size[b] || 15) + 36 - Math.abs(q.y - p.y);
          if (overX <= 0 || overY <= 0) continue;
          if (overX < overY) {
            var sx = q.x >= p.x ? 1 : -1;
            q.x += sx * (overX / 2 + 0.5);
            p.x -= sx * (overX / 2 + 0.5);
          } else {
            var sy = q.y >= p.y ? 1 : -1;
            q.y += sy * (overY / 2 + 0.5);
            p.y -= sy * (overY / 2 + 0.5);
          }
          moved = true;
        }
      }
      return moved;
    }
    for (var round = 0; round < 40; round++) {
      var moved = false;
      data.edges.forEach(function (e) {
        if (!e.guard || hiddenEdges[e.id]) return;
        var pts = path(e);
        for (var i = 0; i + 1 < pts.length; i++) {
          var a = pts[i], b = pts[i + 1];
          var dx = b.x - a.x, dy = b.y - a.y, len2 = dx * dx + dy * dy;
          if (!len2) continue;
          ids.forEach(function (id) {
            if (id === e.from || id === e.to) return;
            var p = body.nodes[id];
            var t = Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2));
            var ox = p.x - (a.x + t * dx), oy = p.y - (a.y + t * dy);
            var d = Math.sqrt(ox * ox + oy * oy);
            var need = (size[id] || 15) + 14 + (e.width || 1);
            if (d >= need) return;
            if (d < 1e-6) { ox = -dy; oy = dx; }
            push(p, ox, oy, need - d + 1);
            moved = true;
          });
        }
      });
      if (separate()) moved = true;
      if (!moved) break;
    }
    // Whatever the lines, nodes must not end up on top of each other.
    for (var last = 0; last < 30 && separate(); last++);
    ids.forEach(function (id) { network.moveNode(id, body.nodes[id].x, body.nodes[id].y); });
  }

  // Labels at least data.min_label_px pixels high once the map is fitted to the window: fit, and
  // while the labels come out smaller, enlarge them (the boxes grow with them) and fit again.
  var labelSize = 0;
  var edgeFontSize = (data.options.edges && data.options.edges.font && data.options.edges.font.size) || 14;
  var dimmed = null; // {nodes: {id: true}, edges: {id: true}} kept bright while focused, else null

  function nodeStyle(n) {
    var font = Object.assign({}, n.font || {});
    if (labelSize) font.size = labelSize;
    var dim = dimmed && !dimmed.nodes[n.id];
    if (dim) font.color = "rgba(60,60,60,0.35)";
    return { id: n.id, font: font, opacity: dim ? 0.18 : 1 };
  }

  function restyleNodes() {
    nodes.update(data.nodes.map(nodeStyle));
  }

  function fitView() {
    network.fit({ animation: false });
    if (!data.min_label_px || !data.nodes.length) return;
    var base = (data.nodes[0].font && data.nodes[0].font.size) || 15;
    for (var round = 0; round < 6; round++) {
      var scale = network.getScale();
      var current = labelSize || base;
      if (current * scale >= data.min_label_px) break;
      labelSize = Math.ceil((data.min_label_px / scale) * 1.04 * 10) / 10;
      edgeFontSize = labelSize;
      restyleNodes();
      edges.update(data.edges.map(function (e) { return { id: e.id, font: { size: edgeFontSize } }; }));
      network.fit({ animation: false });
    }
  }

  function ready() {
    if (isReady) return;
    isReady = true;
    network.setOptions({ physics: { enabled: false } });
    if (data.options.physics && data.options.physics.enabled) untangle();
    fitView();
    openFromAddress();
    // Ready once drawn in place: from then on what is under the pointer is what is on screen.
    network.once("afterDrawing", function () {
      document.body.setAttribute("data-ready", "1");
    });
    network.redraw();
  }
  network.once("stabilizationIterationsDone", ready);
  network.once("stabilized", ready);

  // ---------------------------------------------------------------- focus
  var edgeColour = {};

  function edgeStyle(e) {
    var colour = edgeColour[e.id] || e.color;
    var dim = dimmed && !dimmed.edges[e.id];
    return { id: e.id, color: { color: colour, highlight: colour, hover: colour, opacity: dim ? 0.1 : 1 } };
  }

  // Everything but the given agencies and lines fades (null: nothing fades).
  function setFocus(nodeIds, edgeIds) {
    if (nodeIds) {
      dimmed = { nodes: {}, edges: {} };
      nodeIds.forEach(function (id) { dimmed.nodes[id] = true; });
      edgeIds.forEach(function (id) { dimmed.edges[id] = true; });
    } else {
      dimmed = null;
    }
    restyleNodes();
    edges.update(data.edges.map(edgeStyle));
    document.body.setAttribute("data-focus", nodeIds ? nodeIds.join("|") : "");
  }

  function focusAgency(id) {
    var keepN = [id], keepE = [];
    data.edges.forEach(function (e) {
      if (hiddenEdges[e.id] || (e.from !== id && e.to !== id)) return;
      keepE.push(e.id);
      keepN.push(e.from === id ? e.to : e.from);
    });
    setFocus(keepN, keepE);
  }

  // Select a line of the agency map, show its evidence and fade the rest; a line that the
  // "at least" filter hides is shown by lowering the filter to its lowest step.
  function openLine(id) {
    var e = null;
    data.edges.forEach(function (x) { if (x.id === id) e = x; });
    if (!e) return false;
    if (hiddenEdges[id] && state.min !== undefined && specOf.min) {
      state.min = specOf.min.options[0][0];
      var sel = document.getElementById("flt-min");
      if (sel) sel.value = state.min;
      applyFilters();
    }
    network.selectEdges([id]);
    setFocus([e.from, e.to], [id]);
    show(id);
    return true;
  }

  // "#a=<agency node>&b=<agency node>" (the board pack's table and matrix link so): open that line.
  function openFromAddress() {
    var hash = String(window.location.hash || "").replace(/^#/, "");
    if (!hash) return;
    var want = {};
    hash.split("&").forEach(function (part) {
      var kv = part.split("=");
      try { want[kv[0]] = decodeURIComponent(kv[1] || ""); } catch (err) { want[kv[0]] = ""; }
    });
    if (!want.a || !want.b) return;
    data.edges.forEach(function (e) {
      if ((e.from === want.a && e.to === want.b) || (e.from === want.b && e.to === want.a)) openLine(e.id);
    });
  }

  // ---------------------------------------------------------------- side panel
  var panel = document.getElementById("panel-body");
  var FIRST_ITEMS = 100; // longer lists get a "Show all" button

  function showIntro() {
    shownId = null;
    clear(panel);
    var box = el("div", "intro");
    box.appendChild(el("p", "kind", "How to read this map"));
    (data.intro || []).forEach(function (line) {
      box.appendChild(el("p", null, line));
    });
    panel.appendChild(box);
    if (data.ranking && data.ranking.length) {
      panel.appendChild(el("h3", null, "Where communication broke down most"));
      var ol = el("ol", "ranking");
      data.ranking.forEach(function (row) {
        var li = el("li");
        var button = el("button", "pair", row[1]);
        button.type = "button";
        button.setAttribute("data-line", row[0]);
        button.addEventListener("click", function () { openLine(row[0]); });
        li.appendChild(button);
        li.appendChild(el("span", "count", " " + row[2] + " broken, " + row[3] + (row[3] === 1 ? " review" : " reviews")));
        ol.appendChild(li);
      });
      panel.appendChild(ol);
    }
    panel.setAttribute("data-selected", "");
  }

  function renderItem(item) {
    var li = el("li", "item");
    if (item.review) {
      var r = reviews[item.review] || {};
      var head = el("div", "review");
      // A person reads the review's title (its id only when it has none).
      head.appendChild(el("strong", null, r.title || item.review));
      if (r.year) head.appendChild(document.createTextNode(" (" + r.year + ")"));
      li.appendChild(head);
      if (r.source) li.appendChild(el("div", "source", "Source file: " + r.source));
    }
    if (item.title) li.appendChild(el("div", "review", item.title));
    if (item.curated) li.appendChild(el("span", "curated-badge", "Curated"));
    if (item.status) li.appendChild(el("div", "status-" + (item.status === "broken" ? "broken" : "effective"), item.status === "broken" ? "Broken link" : "Effective link"));
    if (item.text) li.appendChild(el("p", "text", item.text));
    if (item.quote) li.appendChild(el("blockquote", "quote", item.quote));
    if (item.note) li.appendChild(el("p", "note", item.note));
    return li;
  }

  // ---------------------------------------------------------------- trend
  // On the agency map: broken links per year of the agency or pair in focus, as bars (every
  // year of the map, first to last), from the reviews the other filters keep; the years outside
  // the chosen range are drawn pale. Worked out from the lines' reviews ("subr") and the reviews'
  // years ("rf"): nothing more is stored for it.
  var isYear = function (v) { return /^[0-9]+$/.test(String(v)); };
  var trendYears = [];
  if (data.kind === "agencies" && specOf.year && specOf.year.type === "range") {
    var known = specOf.year.options.map(function (o) { return Number(o[0]); }).filter(function (y) { return isYear(y); });
    if (known.length) {
      var lo = Math.min.apply(null, known), hi = Math.max.apply(null, known);
      for (var y = lo; y <= hi; y++) trendYears.push(y);
    }
  }
  var nodeIds = {};
  data.nodes.forEach(function (n) { nodeIds[n.id] = true; });
  var shownId = null; // what the side panel shows

  function brokenByYear(id) {
    var counts = {};
    trendYears.forEach(function (y) { counts[y] = 0; });
    data.edges.forEach(function (e) {
      if (!e.subr || !(nodeIds[id] ? e.from === id || e.to === id : e.id === id)) return;
      for (var k = 0; k < e.subr.length; k++) {
        var row = data.rf[e.subr[k]] || {};
        var year = (row.year || [])[0];
        if (isYear(year) && counts[year] !== undefined && passes(row, "year")) counts[year] += e.subn[k];
      }
    });
    return counts;
  }

  function trendBox(id) {
    if (!trendYears.length || !(nodeIds[id] || (details[id] && data.edges.some(function (e) { return e.id === id && e.subr; })))) return null;
    var counts = brokenByYear(id);
    var st = state.year || {};
    var top = 1, total = 0;
    trendYears.forEach(function (y) { top = Math.max(top, counts[y]); total += counts[y]; });
    var text = trendYears.map(function (y) { return y + ": " + counts[y]; }).join(", ");
    var box = el("div", "trend");
    box.id = "trend";
    box.setAttribute("data-counts", text);
    box.appendChild(el("h3", null, "Broken links per year"));
    var bar = Math.max(4, Math.min(18, Math.floor(260 / trendYears.length)));
    var width = bar * trendYears.length, height = 44;
    var chart = svg("svg", { width: width, height: height + 14, viewBox: "0 0 " + width + " " + (height + 14), role: "img",
                             "aria-label": "Broken links per year: " + text });
    var title = document.createElementNS(SVG, "title");
    title.textContent = "Broken links per year: " + text;
    chart.appendChild(title);
    chart.appendChild(svg("line", { x1: 0, y1: height + 0.5, x2: width, y2: height + 0.5, stroke: "#999", "stroke-width": 1 }));
    trendYears.forEach(function (y, i) {
      var h = counts[y] ? Math.max(2, Math.round((counts[y] / top) * (height - 2))) : 0;
      var inside = inRange(String(y), st);
      var rect = svg("rect", { x: i * bar + 1, y: height - h, width: bar - 2, height: h, fill: inside ? "#d62728" : "#e8b4b4",
                               "data-year": y, "data-count": counts[y] });
      chart.appendChild(rect);
    });
    [[0, "start"], [trendYears.length - 1, "end"]].forEach(function (p, k) {
      if (k === 1 && trendYears.length < 2) return;
      var t = svg("text", { x: k ? width : 0, y: height + 12, "font-size": 10, "text-anchor": p[1], fill: "#555" });
      t.textContent = String(trendYears[p[0]]);
      chart.appendChild(t);
    });
    box.appendChild(chart);
    var most = trendYears.filter(function (y) { return counts[y] === top && top > 0; });
    box.appendChild(el("p", "note", total
      ? total.toLocaleString("en-GB") + " in all; most in " + most.join(", ") + " (" + top.toLocaleString("en-GB") + ")" +
        (st.from || st.to ? "; pale: outside the years chosen" : "")
      : "No broken links in the reviews the filters keep."));
    return box;
  }

  function refreshTrend() {
    var old = document.getElementById("trend");
    if (!old || shownId === null) return;
    var box = trendBox(shownId);
    if (box) old.parentNode.replaceChild(box, old);
  }

  function show(id) {
    var d = details[id];
    if (!d) {
      showIntro();
      return;
    }
    shownId = id;
    clear(panel);
    panel.appendChild(el("p", "kind", d.kind));
    panel.appendChild(el("h2", null, d.title));
    if (d.facts && d.facts.length) {
      var dl = el("dl");
      d.facts.forEach(function (pair) {
        dl.appendChild(el("dt", null, pair[0]));
        var dd = el("dd", null, pair[1]);
        if (pair[0] === "Status") dd.className = pair[1] === "broken" ? "status-broken" : "status-effective";
        dl.appendChild(dd);
      });
      panel.appendChild(dl);
    }
    var trend = trendBox(id);
    if (trend) panel.appendChild(trend);
    (d.lists || []).forEach(function (list) {
      panel.appendChild(el("h3", null, list.heading));
      // "Showing 5 of 312 — ..." goes first, so that nobody takes the few for all.
      if (list.note) panel.appendChild(el("p", "more", list.note));
      var ul = el("ul", "items");
      list.items.slice(0, FIRST_ITEMS).forEach(function (item) {
        ul.appendChild(renderItem(item));
      });
      panel.appendChild(ul);
      if (list.items.length > FIRST_ITEMS) {
        var all = el("button", "show-all", "Show all " + list.items.length);
        all.type = "button";
        all.addEventListener("click", function () {
          list.items.slice(FIRST_ITEMS).forEach(function (item) {
            ul.appendChild(renderItem(item));
          });
          all.parentNode.removeChild(all);
        });
        panel.appendChild(all);
      }
      if (list.more && !list.note) panel.appendChild(el("p", "more", "\u2026and " + list.more + " more (see the board pack pages)."));
      if (!list.items.length) panel.appendChild(el("p", "more", "None."));
    });
    panel.setAttribute("data-selected", String(id));
    panel.scrollTop = 0;
  }

  var focusable = data.kind === "agencies";
  network.on("click", function (params) {
    if (params.nodes.length) {
      show(params.nodes[0]);
      if (focusable) focusAgency(params.nodes[0]);
    } else if (params.edges.length) {
      show(params.edges[0]);
      if (focusable) {
        var e = edges.get(params.edges[0]);
        setFocus([e.from, e.to], [e.id]);
      }
    } else {
      showIntro();
      if (focusable && dimmed) setFocus(null);
    }
  });

  // ---------------------------------------------------------------- legend
  var SVG = "http://www.w3.org/2000/svg";

  function svg(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) {
      e.setAttribute(k, String(attrs[k]));
    });
    return e;
  }

  function swatch(item) {
    var s = svg("svg", { width: 26, height: 16, viewBox: "0 0 26 16", "aria-hidden": "true" });
    var fill = item.color || "#999";
    var stroke = item.border || "#555";
    if (item.type === "edge") {
      var line = svg("line", { x1: 1, y1: 8, x2: 25, y2: 8, stroke: fill, "stroke-width": item.width || 2 });
      if (item.dashes) line.setAttribute("stroke-dasharray", "5 3");
      s.appendChild(line);
      return s;
    }
    var common = { fill: fill, stroke: stroke, "stroke-width": item.borderWidth || 1 };
    var shape;
    switch (item.shape) {
      case "square":
        shape = svg("rect", Object.assign({ x: 7, y: 2, width: 12, height: 12 }, common));
        break;
      case "diamond":
        shape = svg("polygon", Object.assign({ points: "13,1 20,8 13,15 6,8" }, common));
        break;
      case "triangle":
        shape = svg("polygon", Object.assign({ points: "13,2 20,14 6,14" }, common));
        break;
      case "triangleDown":
        shape = svg("polygon", Object.assign({ points: "6,2 20,2 13,14" }, common));
        break;
      case "hexagon":
        shape = svg("polygon", Object.assign({ points: "9,2 17,2 21,8 17,14 9,14 5,8" }, common));
        break;
      default:
        shape = svg("circle", Object.assign({ cx: 13, cy: 8, r: 6 }, common));
    }
    s.appendChild(shape);
    return s;
  }

  function buildLegend() {
    var box = document.getElementById("legend");
    clear(box);
    box.appendChild(el("h2", null, "Legend"));
    var ul = el("ul");
    (data.legend || []).forEach(function (item) {
      var li = el("li");
      li.appendChild(swatch(item));
      li.appendChild(el("span", null, item.label));
      ul.appendChild(li);
    });
    box.appendChild(ul);
    (data.legend_notes || []).forEach(function (line) {
      box.appendChild(el("p", null, line));
    });
  }

  // ---------------------------------------------------------------- filters
  var state = {};
  var hiddenNodes = {};
  var hiddenEdges = {};
  var edgeWidth = {};
  var edgeLabel = {};
  var form = document.getElementById("filters");

  function resetState() {
    filters.forEach(function (spec) {
      // A "checks" filter starts with every box ticked but those in spec.off.
      var off = spec.off || [];
      if (spec.type === "range") state[spec.key] = { from: "", to: "" };
      else state[spec.key] = spec.type === "checks"
        ? new Set(spec.options.map(function (o) { return o[0]; }).filter(function (v) { return off.indexOf(v) < 0; }))
        : spec.default || "";
    });
  }

  // A year range: a value passes if it is a year within it (either end may be open); a value
  // that is not a year ("unknown") passes only while both ends are open.
  function inRange(v, st) {
    if (!st.from && !st.to) return true;
    if (!/^[0-9]+$/.test(v)) return false;
    var y = Number(v);
    return (!st.from || y >= Number(st.from)) && (!st.to || y <= Number(st.to));
  }

  // Does an item with filter values f pass every filter (but the one keyed "except", if given)?
  function passes(f, except) {
    if (!f) return true;
    for (var i = 0; i < filters.length; i++) {
      var spec = filters[i];
      if (spec.type === "min" || spec.key === except) continue;
      var vals = f[spec.key];
      if (!vals) continue;
      var st = state[spec.key];
      if (spec.type === "range") {
        if (!vals.some(function (v) { return inRange(v, st); })) return false;
      } else if (spec.type === "select") {
        if (st && vals.indexOf(st) < 0) return false;
      } else if (spec.match === "all") {
        if (!vals.every(function (v) { return st.has(v); })) return false;
      } else if (!vals.some(function (v) { return st.has(v); })) {
        return false;
      }
    }
    return true;
  }

  function applyFilters() {
    var reviewPasses = (data.rf || []).map(passes);
    var minimum = Number(state.min || 0);
    function evidence(steps, counts) {
      var n = 0;
      if (steps) for (var k = 0; k < steps.length; k++) if (reviewPasses[steps[k]]) n += counts[k];
      return n;
    }
    var status = state.status;
    var rows = data.edges.map(function (e) {
      var ok = passes(e.f);
      var n = null, broken = null;
      if (ok && e.esubr !== undefined || ok && e.subr && data.colors) {
        // A pair: its broken links (if "Broken" is ticked) and effective ones (if "Effective" is).
        var nb = status && !status.has("broken") ? 0 : evidence(e.subr, e.subn);
        var ne = status && !status.has("effective") ? 0 : evidence(e.esubr, e.esubn);
        broken = nb > 0;
        n = broken ? nb : ne;
        ok = nb + ne > 0 && nb + ne >= minimum;
      } else if (ok && e.subr) {
        n = evidence(e.subr, e.subn);
        ok = n > 0 && n >= minimum;
      }
      return { e: e, ok: ok, n: n, broken: broken };
    });
    // Line width: evidence behind the line, relative to the largest line now shown.
    var maxN = 1;
    rows.forEach(function (r) { if (r.ok && r.n !== null && r.n > maxN) maxN = r.n; });
    var shown = {};
    var edgeChanges = [];
    var shownEdges = 0;
    // The heaviest lines shown carry their count.
    var counted = {};
    if (data.counted_lines) {
      rows.filter(function (r) { return r.ok && r.n > 1; })
        .sort(function (a, b) { return (b.broken - a.broken) || (b.n - a.n) || (a.e.id < b.e.id ? -1 : 1); })
        .slice(0, data.counted_lines)
        .forEach(function (r) { counted[r.e.id] = r.n.toLocaleString("en-GB") + (r.broken ? " broken" : " effective"); });
    }
    rows.forEach(function (r) {
      var e = r.e;
      var width = e.width;
      if (r.n !== null && e.wb !== undefined) {
        var frac = maxN > 1 ? Math.sqrt((r.n - 1) / (maxN - 1)) : 0;
        width = Math.round((e.wb + (e.wm - e.wb) * frac) * 1000) / 1000;
      }
      if (r.ok) {
        shown[e.from] = true;
        shown[e.to] = true;
        shownEdges += 1;
      }
      var colour = r.broken === null ? e.color : data.colors[r.broken ? "broken" : "effective"];
      var label = data.counted_lines ? counted[e.id] || "" : undefined;
      if (hiddenEdges[e.id] !== !r.ok || (r.ok && (edgeWidth[e.id] !== width || edgeColour[e.id] !== colour || edgeLabel[e.id] !== label))) {
        hiddenEdges[e.id] = !r.ok;
        edgeWidth[e.id] = width;
        edgeColour[e.id] = colour;
        edgeLabel[e.id] = label;
        var change = r.ok ? { id: e.id, hidden: false, width: width } : { id: e.id, hidden: true };
        var dashed = r.broken === null ? e.dashes && !e.curated : !r.broken;  // a curated link keeps its dotted pattern
        if (r.ok && dashed) {
          change.dashes = [Math.round(Math.max(8, 2.5 * width) * 10) / 10, Math.round(Math.max(5, 1.5 * width + 4) * 10) / 10];
        } else if (r.ok && r.broken !== null) {
          change.dashes = false;
        }
        if (r.ok && r.broken !== null) {
          change.color = edgeStyle(e).color;
          change.label = label;
          change.font = { size: edgeFontSize };
        }
        edgeChanges.push(change);
      }
    });
    var nodeChanges = [];
    var shownNodes = 0;
    data.nodes.forEach(function (n) {
      var hide = !(passes(n.f) || shown[n.id]);
      if (!hide) shownNodes += 1;
      if (hiddenNodes[n.id] !== hide) {
        hiddenNodes[n.id] = hide;
        nodeChanges.push({ id: n.id, hidden: hide });
      }
    });
    if (nodeChanges.length) nodes.update(nodeChanges);
    if (edgeChanges.length) edges.update(edgeChanges);
    document.getElementById("visible-count").textContent =
      "Showing " + shownNodes + " of " + data.nodes.length + " " + (data.node_noun || "nodes") + " and " +
      shownEdges + " of " + data.edges.length + " " + (data.edge_noun || "lines") + ".";
    document.body.setAttribute("data-visible-edges", String(shownEdges));
    // Whatever the filters now show fills the view again.
    if (isReady) fitView();
    refreshTrend();
  }

  // The two ends of a year range: a "from" after the "to" moves the "to" along, and back.
  function rangeFilter(spec) {
    var fs = el("fieldset", "range");
    fs.id = "flt-" + spec.key;
    fs.appendChild(el("legend", null, spec.label));
    var years = spec.options.filter(function (o) { return /^[0-9]+$/.test(o[0]); });
    var selects = {};
    ["from", "to"].forEach(function (end) {
      var select = el("select");
      select.id = "flt-" + spec.key + "-" + end;
      select.name = spec.key + "-" + end;
      select.setAttribute("aria-label", spec.label + " " + end);
      var open = el("option", null, spec[end] || (end === "from" ? "From any" : "to any"));
      open.value = "";
      select.appendChild(open);
      years.forEach(function (o) {
        var opt = el("option", null, (end === "to" ? "to " : "from ") + o[1]);
        opt.value = o[0];
        select.appendChild(opt);
      });
      select.value = state[spec.key][end];
      selects[end] = select;
      fs.appendChild(select);
    });
    function changed(end) {
      var st = state[spec.key];
      st[end] = selects[end].value;
      if (st.from && st.to && Number(st.from) > Number(st.to)) {
        var other = end === "from" ? "to" : "from";
        st[other] = st[end];
        selects[other].value = st[end];
      }
      applyFilters();
    }
    selects.from.addEventListener("change", function () { changed("from"); });
    selects.to.addEventListener("change", function () { changed("to"); });
    return fs;
  }

  function buildFilters() {
    clear(form);
    filters.forEach(function (spec) {
      if (spec.type === "range") {
        form.appendChild(rangeFilter(spec));
      } else if (spec.type === "select" || spec.type === "min") {
        var label = el("label", "filter");
        label.appendChild(el("span", null, spec.label));
        var select = el("select");
        select.name = spec.key;
        select.id = "flt-" + spec.key;
        if (spec.type === "select") {
          var all = el("option", null, spec.all || "All");
          all.value = "";
          select.appendChild(all);
        }
        spec.options.forEach(function (o) {
          var opt = el("option", null, o[1]);
          opt.value = o[0];
          select.appendChild(opt);
        });
        select.value = state[spec.key];
        select.addEventListener("change", function () {
          state[spec.key] = select.value;
          applyFilters();
        });
        label.appendChild(select);
        form.appendChild(label);
      } else {
        var fs = el("fieldset");
        fs.id = "flt-" + spec.key;
        fs.appendChild(el("legend", null, spec.label));
        spec.options.forEach(function (o) {
          var lab = el("label", "check");
          var box = el("input");
          box.type = "checkbox";
          box.checked = state[spec.key].has(o[0]);
          box.value = o[0];
          box.name = spec.key;
          box.addEventListener("change", function () {
            if (box.checked) state[spec.key].add(o[0]);
            else state[spec.key].delete(o[0]);
            applyFilters();
          });
          lab.appendChild(box);
          lab.appendChild(el("span", null, o[1]));
          fs.appendChild(lab);
        });
        form.appendChild(fs);
      }
    });
    form.addEventListener("submit", function (ev) { ev.preventDefault(); });
  }

  // ---------------------------------------------------------------- search
  var search = document.getElementById("search");
  var searchCount = document.getElementById("search-count");
  var matches = [];
  var matchIndex = -1;
  var searchText = {};
  data.nodes.forEach(function (n) {
    searchText[n.id] = String(n.search || n.label || "").toLowerCase();
  });

  function runSearch() {
    var term = search.value.trim().toLowerCase();
    matchIndex = -1;
    if (!term) {
      matches = [];
      searchCount.textContent = "";
      network.unselectAll();
      return;
    }
    matches = data.nodes
      .filter(function (n) { return !hiddenNodes[n.id] && searchText[n.id].indexOf(term) >= 0; })
      .map(function (n) { return n.id; });
    network.selectNodes(matches, false);
    searchCount.textContent = matches.length === 1 ? "1 match" : matches.length + " matches";
  }

  search.addEventListener("input", runSearch);
  search.addEventListener("keydown", function (ev) {
    if (ev.key !== "Enter" || !matches.length) return;
    ev.preventDefault();
    matchIndex = (matchIndex + 1) % matches.length;
    var id = matches[matchIndex];
    network.selectNodes([id], false);
    network.focus(id, { scale: 1.2, animation: false });
    show(id);
  });

  document.getElementById("fit").addEventListener("click", fitView);
  document.getElementById("reset").addEventListener("click", function () {
    search.value = "";
    runSearch();
    resetState();
    buildFilters();
    network.unselectAll();
    if (dimmed) setFocus(null);
    applyFilters();
    showIntro();
  });

  // ---------------------------------------------------------------- start
  resetState();
  buildFilters();
  buildLegend();
  applyFilters();
  showIntro();
  // A map without physics (or without nodes) has nothing to settle: ready now.
  if (!data.nodes.length || !(data.options.physics && data.options.physics.enabled)) ready();

  // For tests and for anyone poking at the page from the browser console.
  window.sgMap = {
    network: network,
    nodes: nodes,
    edges: edges,
    show: show,
    openLine: openLine,
    focusAgency: focusAgency,
    applyFilters: applyFilters,
    brokenByYear: brokenByYear,
    isReady: function () { return isReady; },
    visibleEdgeIds: function () {
      return data.edges.filter(function (e) { return !hiddenEdges[e.id]; }).map(function (e) { return e.id; });
    },
    visibleNodeIds: function () {
      return data.nodes.filter(function (n) { return !hiddenNodes[n.id]; }).map(function (n) { return n.id; });
    },
  };
})();
