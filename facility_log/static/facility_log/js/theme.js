// Night shifts read the screen in the dark: dark theme unless the guard chose otherwise.
// Loaded in <head> (not deferred) so the page never flashes white.
(function () {
  "use strict";
  var KEY = "facility_log.theme";
  var root = document.documentElement;

  function preferred() {
    var saved = null;
    try { saved = localStorage.getItem(KEY); } catch (e) { /* private mode */ }
    if (saved === "light" || saved === "dark") return saved;
    var hour = new Date().getHours();
    var night = hour >= 19 || hour < 7;
    if (night) return "dark";
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: light)").matches
      ? "light" : "dark";
  }

  root.dataset.theme = preferred();

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("theme-toggle");
    if (!button) return;
    // The words come translated from the page (views/page_strings.py, "page-strings" in
    // base.html); without them the button keeps its own translated "Theme".
    var element = document.getElementById("page-strings");
    var strings = element ? JSON.parse(element.textContent) : {};
    function label() {
      var next = root.dataset.theme === "dark" ? "light" : "dark";
      var text = strings["theme_" + next];
      var aria = strings["switch_to_" + next];
      if (text) button.textContent = text;
      if (aria) button.setAttribute("aria-label", aria);
    }
    label();
    button.addEventListener("click", function () {
      root.dataset.theme = root.dataset.theme === "dark" ? "light" : "dark";
      try { localStorage.setItem(KEY, root.dataset.theme); } catch (e) { /* ignore */ }
      label();
    });
  });
})();
