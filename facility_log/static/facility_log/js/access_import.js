// Large files take a while: say so, and keep the button from being pressed twice.
// Both sentences come translated from the page (views/page_strings.py, "access-import-strings").
const STRINGS = JSON.parse(document.getElementById("access-import-strings")?.textContent || "{}");
const form = document.getElementById("import-form");
if (form) {
  form.addEventListener("submit", () => {
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    button.textContent = STRINGS.processing ?? "";
    document.getElementById("import-status").textContent =
      STRINGS.uploading ?? "";
  });
}
