// costloop web app: progressive enhancement only; every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function setupNav() {
    var toggle = document.querySelector(".nav-toggle");
    var nav = document.getElementById("nav");
    if (!toggle || !nav) return;
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  function showLoading() {
    var box = document.getElementById("loading");
    if (box) box.hidden = false;
    var main = document.getElementById("main");
    if (main) main.setAttribute("aria-busy", "true");
  }

  function setupLoading() {
    document.querySelectorAll("form").forEach(function (form) {
      form.addEventListener("submit", function () {
        showLoading();
        if (form.method.toLowerCase() === "post") {
          form.querySelectorAll("button[type=submit]").forEach(function (b) {
            // Disabled after the submit event, so the clicked button's value still goes.
            window.setTimeout(function () { b.disabled = true; }, 0);
          });
        }
      });
    });
    document.querySelectorAll("nav a, main a[href^='/']").forEach(function (link) {
      if (link.hasAttribute("download")) return;
      link.addEventListener("click", function (event) {
        if (!event.ctrlKey && !event.metaKey && !event.shiftKey && event.button === 0) showLoading();
      });
    });
    window.addEventListener("pageshow", function () {
      var box = document.getElementById("loading");
      if (box) box.hidden = true;
    });
  }

  function cellValue(row, index) {
    var cell = row.children[index];
    if (!cell) return "";
    var raw = cell.getAttribute("data-value");
    return raw !== null ? raw : cell.textContent.trim();
  }

  function compare(a, b) {
    var x = parseFloat(a), y = parseFloat(b);
    if (!isNaN(x) && !isNaN(y) && String(x) !== "NaN") return x - y;
    return a.localeCompare(b);
  }

  function setupSorting() {
    document.querySelectorAll("table.sortable").forEach(function (table) {
      var heads = table.querySelectorAll("thead th");
      heads.forEach(function (th, index) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "sort-button";
        button.textContent = th.textContent;
        th.textContent = "";
        th.appendChild(button);
        button.addEventListener("click", function () {
          var ascending = th.getAttribute("aria-sort") !== "ascending";
          heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
          th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
          var body = table.tBodies[0];
          var rows = Array.prototype.slice.call(body.rows);
          rows.sort(function (r1, r2) {
            var order = compare(cellValue(r1, index), cellValue(r2, index));
            return ascending ? order : -order;
          });
          rows.forEach(function (r) { body.appendChild(r); });
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupNav();
    setupLoading();
    setupSorting();
  });
})();
