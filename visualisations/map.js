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

  var data = JSON.parse(document.getElementById("map-data").textContent);
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
  data.edges.forEach(function (e) {
    if (!e.subr) return;
    for (var k = 1; k < e.subr.length; k++) e.subr[k] += e.subr[k - 1];
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

  function ready() {
    if (isReady) return;
    isReady = true;
    network.setOptions({ physics: { enabled: false } });
    if (data.options.physics && data.options.physics.enabled) untangle();
    network.fit({ animation: false });
    // Ready once drawn in place: from then on what is under the pointer is what is on screen.
    network.once("afterDrawing", function () {
      document.body.setAttribute("data-ready", "1");
    });
    network.redraw();
  }
  network.once("stabilizationIterationsDone", ready);
  network.once("stabilized", ready);
  if (!data.nodes.length || !(data.options.physics && data.options.physics.enabled)) ready();

  // ---------------------------------------------------------------- side panel
  var panel = document.getElementById("panel-body");
  var FIRST_ITEMS = 100; // longer lists get a "Show all" button

  function showIntro() {
    clear(panel);
    var box = el("div", "intro");
    box.appendChild(el("p", "kind", "How to read this map"));
    (data.intro || []).forEach(function (line) {
      box.appendChild(el("p", null, line));
    });
    panel.appendChild(box);
    panel.setAttribute("data-selected", "");
  }

  function renderItem(item) {
    var li = el("li", "item");
    if (item.review) {
      var r = reviews[item.review] || {};
      var head = el("div", "review");
      head.appendChild(el("strong", null, item.review));
      if (r.title) head.appendChild(document.createTextNode(" \u2014 " + r.title));
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

  function show(id) {
    var d = details[id];
    if (!d) {
      showIntro();
      return;
    }
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

  network.on("click", function (params) {
    if (params.nodes.length) show(params.nodes[0]);
    else if (params.edges.length) show(params.edges[0]);
    else showIntro();
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
  var form = document.getElementById("filters");

  function resetState() {
    filters.forEach(function (spec) {
      state[spec.key] = spec.type === "checks" ? new Set(spec.options.map(function (o) { return o[0]; })) : spec.default || "";
    });
  }

  function passes(f) {
    if (!f) return true;
    for (var i = 0; i < filters.length; i++) {
      var spec = filters[i];
      if (spec.type === "min") continue;
      var vals = f[spec.key];
      if (!vals) continue;
      var st = state[spec.key];
      if (spec.type === "select") {
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
    var rows = data.edges.map(function (e) {
      var ok = passes(e.f);
      var n = null;
      if (ok && e.subr) {
        n = 0;
        for (var k = 0; k < e.subr.length; k++) if (reviewPasses[e.subr[k]]) n += e.subn[k];
        ok = n > 0 && n >= minimum;
      }
      return { e: e, ok: ok, n: n };
    });
    // Line width: evidence behind the line, relative to the largest line now shown.
    var maxN = 1;
    rows.forEach(function (r) { if (r.ok && r.n !== null && r.n > maxN) maxN = r.n; });
    var shown = {};
    var edgeChanges = [];
    var shownEdges = 0;
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
      if (hiddenEdges[e.id] !== !r.ok || (r.ok && edgeWidth[e.id] !== width)) {
        hiddenEdges[e.id] = !r.ok;
        edgeWidth[e.id] = width;
        var change = r.ok ? { id: e.id, hidden: false, width: width } : { id: e.id, hidden: true };
        if (r.ok && e.dashes && !e.curated) {  // a curated link keeps its dotted pattern
          change.dashes = [Math.round(Math.max(8, 2.5 * width) * 10) / 10, Math.round(Math.max(5, 1.5 * width + 4) * 10) / 10];
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
  }

  function buildFilters() {
    clear(form);
    filters.forEach(function (spec) {
      if (spec.type === "select" || spec.type === "min") {
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
          box.checked = true;
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

  document.getElementById("fit").addEventListener("click", function () {
    network.fit({ animation: false });
  });
  document.getElementById("reset").addEventListener("click", function () {
    search.value = "";
    runSearch();
    resetState();
    buildFilters();
    applyFilters();
    showIntro();
  });

  // ---------------------------------------------------------------- start
  resetState();
  buildFilters();
  buildLegend();
  applyFilters();
  showIntro();

  // For tests and for anyone poking at the page from the browser console.
  window.sgMap = {
    network: network,
    nodes: nodes,
    edges: edges,
    show: show,
    applyFilters: applyFilters,
    isReady: function () { return isReady; },
    visibleEdgeIds: function () {
      return data.edges.filter(function (e) { return !hiddenEdges[e.id]; }).map(function (e) { return e.id; });
    },
    visibleNodeIds: function () {
      return data.nodes.filter(function (n) { return !hiddenNodes[n.id]; }).map(function (n) { return n.id; });
    },
  };
})();
