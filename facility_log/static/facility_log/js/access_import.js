// Large files take a while: say so, and keep the button from being pressed twice.
const form = document.getElementById("import-form");
if (form) {
  form.addEventListener("submit", () => {
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    button.textContent = "Processing…";
    document.getElementById("import-status").textContent =
      "Checking every line, then storing the events. Large files take a minute; keep this page open.";
  });
}
