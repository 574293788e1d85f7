/* The board pack's review-map page (maps/review.html#<review>): loads the review's map data,
 * maps/data/<review>.js, which calls sgReviewData with its JSON gzip-compressed and base64-encoded,
 * unpacks it (the browser's DecompressionStream; nothing leaves the machine) and runs map.js on it.
 *
 * The name after "#" is only ever used as a file name of the pack, and only if it is one of the
 * pack's own (letters, digits, "_" and "-"); the data is parsed as JSON, never run.
 */
(function () {
  "use strict";

  var me = document.currentScript;
  var mapJs = me.src.replace(/review-loader\.js(\?.*)?$/, "map.js");
  var loading = document.getElementById("loading");

  function fail(text) {
    if (loading) loading.textContent = text;
    document.getElementById("map-title").textContent = "Review map";
    document.body.setAttribute("data-failed", "1");
  }

  var name = "";
  try { name = decodeURIComponent(String(window.location.hash || "").replace(/^#/, "")); } catch (err) { name = ""; }
  if (!/^[A-Za-z0-9_-]{1,120}$/.test(name)) {
    fail("Open a review's map from the board pack's index or a review's page.");
    return;
  }

  window.sgReviewData = function (packed) {
    var bin = atob(packed);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    new Response(stream).text().then(function (text) {
      window.sgMapData = JSON.parse(text);
      var s = document.createElement("script");
      s.src = mapJs;
      document.body.appendChild(s);
    }, function () { fail("This review's map data could not be read."); });
  };
  window.addEventListener("hashchange", function () { window.location.reload(); });

  var s = document.createElement("script");
  s.src = "data/" + name + ".js";
  s.onerror = function () { fail("There is no map for this review in the pack."); };
  document.body.appendChild(s);
})();
