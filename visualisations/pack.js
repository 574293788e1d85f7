/* Board-pack pages: sortable tables and rows that open what they stand for.
 *
 * A table with class "sortable" gets a button in each heading: pressing it sorts the rows by
 * that column (a cell's data-v, a number, else its text), again to reverse. A row with a
 * data-href opens it when clicked anywhere but on a link of its own. The pages work without
 * this script (the tables come sorted, every row has its link); nothing here reads document
 * text into HTML: rows are only moved, never rebuilt.
 */
(function () {
  "use strict";

  function value(cell) {
    var v = cell.getAttribute("data-v");
    if (v !== null && v !== "" && !isNaN(Number(v))) return Number(v);
    var text = cell.textContent.trim();
    var n = Number(text.replace(/,/g, ""));
    return text !== "" && !isNaN(n) ? n : text.toLowerCase();
  }

  function sortBy(table, col, button) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var current = button.getAttribute("data-dir");
    // Numbers start largest first (the worst first), words from A.
    var numeric = rows.length && typeof value(rows[0].cells[col]) === "number";
    var dir = current ? (current === "desc" ? "asc" : "desc") : (numeric ? "desc" : "asc");
    var keyed = rows.map(function (r, i) { return { r: r, v: value(r.cells[col]), i: i }; });
    keyed.sort(function (a, b) {
      var c = a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
      if (dir === "desc") c = -c;
      return c || a.i - b.i;
    });
    keyed.forEach(function (k) { body.appendChild(k.r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.removeAttribute("aria-sort");
      var b = th.querySelector("button");
      if (b && b !== button) b.removeAttribute("data-dir");
    });
    button.setAttribute("data-dir", dir);
    table.tHead.rows[0].cells[col].setAttribute("aria-sort", dir === "asc" ? "ascending" : "descending");
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    if (!table.tHead || !table.tBodies.length) return;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      button.addEventListener("click", function () { sortBy(table, col, button); });
    });
  });

  Array.prototype.forEach.call(document.querySelectorAll("tr[data-href]"), function (row) {
    row.classList.add("clickable");
    row.addEventListener("click", function (ev) {
      if (ev.target.closest && ev.target.closest("a, button")) return;
      var href = row.getAttribute("data-href");
      if (/^(\.\.\/)*maps\/[A-Za-z0-9_.-]+\.html(#[A-Za-z0-9%._~=&-]*)?$/.test(href)) window.location.href = href;
    });
  });
})();
