// Large files take a while: say so, and keep the button from being pressed twice.
const form = document.getElementById("import-form");
if (form) {
  form.addEventListener("submit", () => {
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    button.textContent = "Processing…";
    document.getElementById("import-status").textContent =
      "Uploading, then checking every line and storing the events; large files are imported in the background and the next page shows their progress.";
  });
}
