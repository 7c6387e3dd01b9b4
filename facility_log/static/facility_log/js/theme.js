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
    function label() {
      var next = root.dataset.theme === "dark" ? "light" : "dark";
      button.textContent = next === "dark" ? "Dark theme" : "Light theme";
      button.setAttribute("aria-label", "Switch to " + next + " theme");
    }
    label();
    button.addEventListener("click", function () {
      root.dataset.theme = root.dataset.theme === "dark" ? "light" : "dark";
      try { localStorage.setItem(KEY, root.dataset.theme); } catch (e) { /* ignore */ }
      label();
    });
  });
})();
