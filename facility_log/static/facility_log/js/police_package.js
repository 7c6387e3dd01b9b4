// The police-package form: one click, one disclosure. After "Export and download" the button
// is disabled and the page asks the server which disclosure the export made, then shows it
// (the download itself arrives as a file; the page would otherwise stay on the form).
(function () {
  "use strict";
  const form = document.getElementById("police-package-form");
  if (!form) return;
  // The sentence comes translated from the page (views/page_strings.py).
  const stringsElement = document.getElementById("police-package-strings");
  const strings = stringsElement ? JSON.parse(stringsElement.textContent) : {};
  const status = document.getElementById("police-package-status");
  const key = form.querySelector('input[name="export_key"]');

  function showResult(attempt) {
    const url = form.dataset.resultUrl + "?export=" + encodeURIComponent(key.value);
    fetch(url, { credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 200) {
          window.location.assign(url);
        } else if (attempt < 120) {
          window.setTimeout(function () { showResult(attempt + 1); }, 1000);
        }
      })
      .catch(function () {
        if (attempt < 120) window.setTimeout(function () { showResult(attempt + 1); }, 2000);
      });
  }

  form.addEventListener("submit", function () {
    if (!form.checkValidity()) return;
    const button = form.querySelector('button[type="submit"]');
    // Disabled after the browser has taken the submission (disabling first would cancel it).
    window.setTimeout(function () { button.disabled = true; }, 0);
    status.textContent = strings.making || "";
    showResult(0);
  });
})();
