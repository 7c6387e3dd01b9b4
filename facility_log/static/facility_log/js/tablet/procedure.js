// The procedure of the incident category a guard reports under, shown under the tablet's
// incident form: the steps of the shift's site for the chosen category (data in the stored
// page, so it shows offline too). Read only here; ticks are made on the incident page.
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("tablet-procedures").textContent);
  var box = document.getElementById("tablet-procedure");
  var select = document.getElementById("incident-category");
  if (!box || !select) return;

  function currentSite() {
    var outbox = window.FacilityLogOutbox;
    var chosen = document.getElementById("shift-site");
    var fallback = chosen ? chosen.value : "";
    if (!outbox) return Promise.resolve(fallback);
    return outbox.getState("tablet").then(function (state) {
      return state && state.shift ? state.shift.site : fallback;
    });
  }

  function draw() {
    var category = Number(select.value);
    currentSite().then(function (site) {
      var found = data.filter(function (p) { return p.site === site && p.category === category; })[0];
      box.hidden = !found;
      if (!found) return;
      document.getElementById("tablet-procedure-name").textContent = found.title;
      var list = document.getElementById("tablet-procedure-steps");
      list.replaceChildren.apply(list, found.steps.map(function (text) {
        var item = document.createElement("li");
        item.textContent = text;
        return item;
      }));
    });
  }

  select.addEventListener("change", draw);
  document.addEventListener("DOMContentLoaded", draw);
})();
