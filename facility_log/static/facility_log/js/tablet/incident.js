// The incident screen of the guard tablet: a report with its photo and the people involved,
// saved as a draft or submitted for review, offline too. A submission is one more outbox
// record ("incident-submit", services/sync.py) after the incident and its photo; the
// fields the server needs to submit (bundle.required_to_submit) are checked here first, each
// refused with its own message next to its field.
(function () {
  "use strict";

  window.FacilityLogTabletIncident = function (ctx) {
    var $ = ctx.$;
    var t = ctx.t;
    var outbox = ctx.outbox;
    var text = window.FacilityLogTabletText;
    var persons = [];
    var zonesFilledFor = null;

    function state() { return ctx.state(); }

    // The incident form's times are the site's wall-clock time, whatever zone the tablet's
    // clock is set to.
    function siteZone() {
      var s = state().shift && ctx.site(state().shift.site);
      return s ? s.time_zone : Intl.DateTimeFormat().resolvedOptions().timeZone;
    }

    // "When it happened" shows the site's time now, until the guard changes it.
    function whenIsNow() {
      var field = $("incident-when");
      delete field.dataset.touched;
      var p = text.zoneParts(new Date(), siteZone());
      field.value = p.year + "-" + p.month + "-" + p.day + "T" + p.hour + ":" + p.minute;
    }

    // "2026-11-27T02:10" at the site → the instant (two passes settle a DST change).
    function instantFromInput(value) {
      var match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value || "");
      if (!match) return null;
      var wall = Date.UTC(+match[1], +match[2] - 1, +match[3], +match[4], +match[5]);
      var zone = siteZone();
      var guess = wall - text.zoneOffsetMs(new Date(wall), zone);
      return new Date(wall - text.zoneOffsetMs(new Date(guess), zone));
    }

    // ---- people involved -----------------------------------------------------------------

    function roleLabel(value) {
      var role = (ctx.bundle.person_roles || []).filter(function (r) { return r.value === value; })[0];
      return role ? role.label : value;
    }

    function drawPersons() {
      var list = $("person-list");
      list.textContent = "";
      persons.forEach(function (person, index) {
        var li = document.createElement("li");
        li.textContent = roleLabel(person.role) + ": " + (person.name || person.description) + " ";
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "secondary";
        remove.textContent = t("person_remove", { name: person.name || roleLabel(person.role) });
        remove.addEventListener("click", function () { persons.splice(index, 1); drawPersons(); });
        li.appendChild(remove);
        list.appendChild(li);
      });
    }

    function addPerson() {
      var person = {
        role: $("person-role").value, name: $("person-name").value.trim(),
        description: $("person-description").value.trim(),
      };
      var error = $("person-error");
      error.hidden = Boolean(person.name || person.description);
      error.textContent = error.hidden ? "" : t("person_needs_name");
      if (!error.hidden) { $("person-name").focus(); return; }
      persons.push(person);
      $("person-name").value = "";
      $("person-description").value = "";
      drawPersons();
      $("person-name").focus();
    }

    // ---- checking and saving -------------------------------------------------------------

    function fieldError(name, message) {
      var box = $("incident-" + name + "-error");
      box.textContent = message || "";
      box.hidden = !message;
      $("incident-" + name).setAttribute("aria-invalid", message ? "true" : "false");
    }

    // The fields a submission needs, each with its own message; a draft needs only what it
    // says happened and when. Returns the first field refused, or null.
    function check(body, submitting) {
      var fields = { category: "category", severity: "severity", occurred_from: "when", narrative: "narrative" };
      var required = submitting ? (ctx.bundle.required_to_submit || []) : ["occurred_from", "narrative"];
      var first = null;
      Object.keys(fields).forEach(function (name) {
        var missing = required.indexOf(name) >= 0 && !body[name];
        fieldError(fields[name], missing ? t(submitting ? "required_to_submit_" + name : "required_" + name) : "");
        if (missing && !first) first = fields[name];
      });
      return first;
    }

    function readForm() {
      var when = instantFromInput($("incident-when").value);
      var body = {
        site: state().shift.site, title: $("incident-title").value.trim(),
        severity: $("incident-severity").value, occurred_from: when ? when.toISOString() : "",
        narrative: $("incident-narrative").value.trim(),
      };
      if ($("incident-category").value) body.category = Number($("incident-category").value);
      if ($("incident-zone").value) body.zone = Number($("incident-zone").value);
      if (persons.length) body.persons = persons.slice();
      return body;
    }

    function saveIncident(event) {
      event.preventDefault();
      var submitting = Boolean(event.submitter && event.submitter.value === "submit");
      var body = readForm();
      var refused = check(body, submitting);
      if (refused) { $("incident-" + refused).focus(); return; }
      var uuid = outbox.newUuid();
      body.client_uuid = uuid;
      var shiftUuid = state().shift.uuid;
      var label = body.title ? t("label_incident_titled", { title: body.title }) : t("label_incident");
      var entries = [{ uuid: uuid, kind: "incident", kindLabel: t("kind_incident"), label: label, url: "/api/v1/incidents/", body: body }];
      var photo = $("incident-photo").files[0];
      if (photo) {
        entries.push({
          uuid: outbox.newUuid(), recordUuid: uuid, kind: "attachment", kindLabel: t("kind_photo"),
          label: t("label_photo"), url: "/api/v1/incidents/{incident}/attachments/",
          refs: { incident: uuid }, form: { description: t("photo_description") },
          file: { field: "file", blob: photo, name: photo.name || "photo.jpg" },
        });
      }
      // The procedure steps ticked for this report (procedure.js), before its submission.
      var procedure = window.FacilityLogTabletProcedure;
      var ticks = procedure ? procedure.entriesFor(uuid, label) : [];
      entries = entries.concat(ticks);
      if (submitting) {
        // After the photo: the report goes to review with everything the guard gave it.
        entries.push({
          uuid: outbox.newUuid(), recordUuid: uuid, kind: "incident-submit", kindLabel: t("kind_submission"),
          label: t("label_submission", { label: label }), url: "/api/v1/incidents/{incident}/submit/",
          refs: { incident: uuid }, body: { reason: "submitted from the guard tablet" },
        });
      }
      entries.forEach(function (e) { e.shiftUuid = shiftUuid; });
      var record = {
        uuid: uuid, type: "incident", site: body.site, at: new Date().toISOString(), occurredFrom: body.occurred_from,
        title: body.title, narrative: body.narrative, photo: photo ? photo.name || "photo" : null,
        persons: persons.length, submitted: submitting,
      };
      var message = t(submitting ? (photo ? "incident_submitted_photo" : "incident_submitted") : (photo ? "incident_saved_photo" : "incident_saved"));
      ctx.commit(entries, [record], ctx.copy(state()), message).then(function () {
        if (!ctx.saved()) return;
        $("incident-form").reset();
        if (procedure) { procedure.reset(); procedure.draw(); }
        if (ticks.length) ctx.say(message + " " + t("procedure_ticks_saved", { count: ticks.length }));
        persons = [];
        drawPersons();
        whenIsNow();
      });
    }

    // ---- drawing -------------------------------------------------------------------------

    function fillZones() {
      var shift = state().shift;
      if (!shift || zonesFilledFor === shift.site) return;
      zonesFilledFor = shift.site;
      var zones = $("incident-zone");
      zones.textContent = "";
      ctx.option(zones, "", t("no_zone"));
      var s = ctx.site(shift.site);
      if (s) s.zones.forEach(function (z) { ctx.option(zones, z.id, z.name); });
    }

    function draw(records, pending) {
      fillZones();
      var shift = state().shift;
      var list = $("incident-list");
      list.textContent = "";
      records.filter(function (r) { return r.type === "incident" && r.site === shift.site; }).forEach(function (r) {
        var words = ctx.formatTime(r.occurredFrom || r.at, shift.site) + " · " + (r.title || r.narrative.slice(0, 60)) +
          (r.photo ? " · " + t("with_photo") : "") + (r.persons ? " · " + t("with_persons", { count: r.persons }) : "") +
          " · " + t(r.submitted ? "status_submitted" : "status_draft");
        ctx.item(list, words, pending[r.uuid]);
      });
    }

    function bind() {
      var b = ctx.bundle;
      ctx.option($("incident-category"), "", t("choose_later"));
      b.categories.forEach(function (c) { ctx.option($("incident-category"), c.id, c.name); });
      b.severities.forEach(function (s) { ctx.option($("incident-severity"), s.value, s.label); });
      (b.person_roles || []).forEach(function (r) { ctx.option($("person-role"), r.value, r.label); });
      $("incident-when").addEventListener("input", function () { $("incident-when").dataset.touched = "yes"; });
      $("incident-form").addEventListener("submit", saveIncident);
      $("person-add").addEventListener("click", addPerson);
    }

    function leave(nextTab) {
      if (nextTab === "incident" && !$("incident-when").dataset.touched) whenIsNow();
      if (!nextTab) zonesFilledFor = null;
    }

    return { bind: bind, draw: draw, leave: leave };
  };
})();
