(function () {
  "use strict";
  function cellKey(row, index) {
    var cell = row.cells[index];
    if (!cell) return "";
    return cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
  }
  function sortBy(th) {
    var table = th.closest("table");
    var body = table.tBodies[0];
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    // ascending, descending, then the report's own order (unstable order: the order to pick in)
    var was = th.getAttribute("aria-sort");
    var ascending = was !== "ascending";
    var original = was === "descending";
    var numeric = th.getAttribute("data-type") === "num";
    table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    if (!original) th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      if (original) return a.getAttribute("data-order") - b.getAttribute("data-order");
      var x = cellKey(a, index), y = cellKey(b, index);
      var order = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0)
                          : x.localeCompare(y, undefined, {numeric: true, sensitivity: "base"});
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  document.querySelectorAll("table.sortable th").forEach(function (th) {
    th.tabIndex = 0;
    th.addEventListener("click", function () { sortBy(th); });
    th.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortBy(th); }
    });
  });

  // The filter: rows that do not hold every word are hidden; a table left
  // without rows is hidden with its heading and commands, a section left
  // without tables too; counts say how many of how many are shown; a pick
  // command is rebuilt for the rows left, in their original (unstable) order.
  var box = document.getElementById("filter");
  var counter = document.getElementById("filter-count");
  var picks = Array.prototype.slice.call(document.querySelectorAll("pre[data-pick]"));
  picks.forEach(function (pre) { pre.setAttribute("data-full", pre.textContent); });

  function narrowed(pre, rows) {
    var commits = rows.map(function (row) { return row.getAttribute("data-commit"); });
    return pre.getAttribute("data-pick").replace("{commits}", commits.join(" "));
  }

  function filter() {
    var words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0, total = 0;
    document.querySelectorAll("[data-part]").forEach(function (part) {
      var rows = Array.prototype.slice.call(part.querySelectorAll("tbody tr"));
      var left = rows.filter(function (row) {
        var text = (row.textContent + " " + (row.getAttribute("data-search") || "")).toLowerCase();
        row.hidden = !words.every(function (w) { return text.indexOf(w) >= 0; });
        return !row.hidden;
      });
      total += rows.length;
      shown += left.length;
      part.hidden = left.length === 0;
      var count = part.querySelector(".n[data-total]");
      if (count) {
        var note = count.getAttribute("data-note");
        var n = left.length === rows.length ? String(rows.length) : left.length + " of " + rows.length;
        count.textContent = "(" + n + (note ? ", " + note : "") + ")";
      }
      var pre = part.querySelector("pre[data-pick]");
      if (pre) {
        left.sort(function (a, b) { return a.getAttribute("data-order") - b.getAttribute("data-order"); });
        pre.textContent = left.length === rows.length ? pre.getAttribute("data-full") : narrowed(pre, left);
      }
    });
    document.querySelectorAll("section.block").forEach(function (section) {
      var parts = section.querySelectorAll("[data-part]");
      var visible = Array.prototype.some.call(parts, function (p) { return !p.hidden; });
      section.hidden = words.length > 0 && !visible;
    });
    counter.textContent = words.length ? shown + " of " + total + " rows" : "";
  }
  box.addEventListener("input", filter);
  if (box.value) filter();

  document.querySelectorAll("button.copy").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = document.getElementById(button.getAttribute("data-for")).textContent;
      function done() {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = "Copy"; }, 1500);
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done);
      } else {
        var range = document.createRange();
        range.selectNodeContents(document.getElementById(button.getAttribute("data-for")));
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
      }
    });
  });
})();
