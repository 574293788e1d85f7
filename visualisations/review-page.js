/* The board pack's review page (reviews/review.html#<review>): loads reviews/data/<review>.js,
 * which calls sgReviewPage with the review's page, gzip-compressed and base64-encoded JSON of
 * {title, body}: the body is the HTML sgraph wrote with every document string escaped (as on a
 * static page), unpacked with the browser's DecompressionStream and parsed as an inert document
 * (DOMParser: nothing in it runs) before its nodes are moved into the page.
 *
 * The name after "#" is only ever used as a file name of the pack, and only if it is one of the
 * pack's own (letters, digits, "_" and "-").
 */
(function () {
  "use strict";

  var box = document.getElementById("review-body");

  function say(text) {
    var note = document.getElementById("review-loading");
    if (note) note.textContent = text;
    document.body.setAttribute("data-failed", "1");
  }

  var name = "";
  try { name = decodeURIComponent(String(window.location.hash || "").replace(/^#/, "")); } catch (err) { name = ""; }
  if (!/^[A-Za-z0-9_-]{1,120}$/.test(name)) {
    say("Open a review from the board pack's index.");
    return;
  }

  window.sgReviewPage = function (packed) {
    var bin = atob(packed);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    new Response(stream).text().then(function (text) {
      var doc = JSON.parse(text);
      var parsed = new DOMParser().parseFromString("<!DOCTYPE html><body>" + doc.body, "text/html");
      while (box.firstChild) box.removeChild(box.firstChild);
      while (parsed.body.firstChild) box.appendChild(document.adoptNode(parsed.body.firstChild));
      document.title = doc.title;
      document.body.setAttribute("data-ready", "1");
    }, function () { say("This review's page could not be read."); });
  };
  window.addEventListener("hashchange", function () { window.location.reload(); });
  // A link within the review's page (the chronology's "#timeline", "#missed") scrolls to its
  // heading: as an address it would name another review and reload the page.
  box.addEventListener("click", function (ev) {
    var a = ev.target && ev.target.closest ? ev.target.closest("a[href^='#']") : null;
    if (!a) return;
    var target = document.getElementById(a.getAttribute("href").slice(1));
    if (!target) return;
    ev.preventDefault();
    target.scrollIntoView();
  });

  var s = document.createElement("script");
  s.src = "data/" + name + ".js";
  s.onerror = function () { say("There is no such review in the pack."); };
  document.body.appendChild(s);
})();
