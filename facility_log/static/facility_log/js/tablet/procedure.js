// The procedure of the incident category a guard reports under, shown under the tablet's
// incident form: the steps of the shift's site for the chosen category (data in the stored
// page, so it shows offline too). The guard ticks the steps done; saving the report puts one
// `procedure-tick` record per ticked step in the outbox after the incident (and before its
// submission), naming the incident by the client_uuid the tablet gave it (services/sync.py).
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("tablet-procedures").textContent);
  var box = document.getElementById("tablet-procedure");
  var select = document.getElementById("incident-category");
  if (!box || !select) return;
  var shown = null;

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
    return currentSite().then(function (site) {
      var found = data.filter(function (p) { return p.site === site && p.category === category; })[0];
      shown = found || null;
      box.hidden = !found;
      if (!found) return;
      document.getElementById("tablet-procedure-name").textContent = found.title;
      var list = document.getElementById("tablet-procedure-steps");
      list.replaceChildren.apply(list, found.steps.map(function (text, i) {
        var item = document.createElement("li");
        var label = document.createElement("label");
        var tick = document.createElement("input");
        tick.type = "checkbox";
        tick.className = "procedure-tick";
        tick.value = String(i + 1);
        label.appendChild(tick);
        label.appendChild(document.createTextNode(" " + text));
        item.appendChild(label);
        return item;
      }));
    });
  }

  // The outbox entries of the steps ticked for the incident `incidentUuid` being saved.
  function entriesFor(incidentUuid, incidentLabel) {
    var outbox = window.FacilityLogOutbox;
    var t = window.FacilityLogTabletText.t;
    if (!shown || box.hidden) return [];
    var ticked = box.querySelectorAll("input.procedure-tick:checked");
    return Array.prototype.map.call(ticked, function (input) {
      var uuid = outbox.newUuid();
      return {
        uuid: uuid, recordUuid: incidentUuid, kind: "procedure-tick",
        kindLabel: t("kind_procedure_tick"),
        label: t("label_procedure_tick", { step: input.value, label: incidentLabel }),
        url: "/api/v1/procedure-ticks/", refs: { incident: incidentUuid },
        body: { client_uuid: uuid, step: Number(input.value) },
      };
    });
  }

  function reset() {
    box.querySelectorAll("input.procedure-tick").forEach(function (input) { input.checked = false; });
  }

  window.FacilityLogTabletProcedure = { entriesFor: entriesFor, reset: reset, draw: draw };

  select.addEventListener("change", draw);
  document.addEventListener("DOMContentLoaded", draw);
})();
