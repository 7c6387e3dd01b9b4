// The tablet's words and times. Every sentence the tablet shows comes from the page (the
// "tablet-strings" JSON the server translates, views/tablet_strings.py), never from this
// code; times are written as the desk pages write them (templatetags site_time):
// "2026-03-29 03:15 CEST (UTC+02:00)", in the site's zone whatever the tablet's clock says.
(function () {
  "use strict";

  var element = document.getElementById("tablet-strings");
  var strings = element ? JSON.parse(element.textContent) : {};

  // "Saved: %(name)s." with {name: "Gate"} → "Saved: Gate." (Django's named placeholders).
  function t(key, values) {
    var text = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
    return text.replace(/%\((\w+)\)s/g, function (whole, name) {
      return values && values[name] !== undefined ? String(values[name]) : whole;
    });
  }

  function zoneParts(date, zone) {
    var parts = {};
    new Intl.DateTimeFormat("en-GB", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    }).formatToParts(date).forEach(function (p) { parts[p.type] = p.value; });
    return parts;
  }

  // How far `zone`'s wall clock is ahead of UTC at `date`, in milliseconds.
  function zoneOffsetMs(date, zone) {
    var p = zoneParts(date, zone);
    var asUtc = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
    return asUtc - Math.floor(date.getTime() / 1000) * 1000;
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // The zone's abbreviation (CET, EST, BST), or where the browser knows none the numeric
  // one tzdata uses ("+03", "+0530"), as Python's tzname() on the desk pages gives.
  function zoneName(date, zone, minutes) {
    var locales = ["en-US", "en-GB"];
    for (var i = 0; i < locales.length; i++) {
      var part = new Intl.DateTimeFormat(locales[i], { timeZone: zone, timeZoneName: "short" })
        .formatToParts(date).filter(function (p) { return p.type === "timeZoneName"; })[0];
      var value = part ? part.value : "";
      if (/^[A-Z]{2,5}$/.test(value) && (value !== "GMT" || minutes === 0)) return value;
    }
    var sign = minutes < 0 ? "-" : "+";
    var abs = Math.abs(minutes);
    return sign + pad(Math.floor(abs / 60)) + (abs % 60 ? pad(abs % 60) : "");
  }

  function formatTime(iso, zone) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) return "—";
    zone = zone || "UTC";
    var p = zoneParts(date, zone);
    var minutes = Math.round(zoneOffsetMs(date, zone) / 60000);
    var sign = minutes < 0 ? "-" : "+";
    var offset = "UTC" + sign + pad(Math.floor(Math.abs(minutes) / 60)) + ":" + pad(Math.abs(minutes) % 60);
    var name = zoneName(date, zone, minutes);
    var hour = p.hour === "24" ? "00" : p.hour;
    return p.year + "-" + p.month + "-" + p.day + " " + hour + ":" + p.minute +
      " " + name + " (" + offset + ")";
  }

  window.FacilityLogTabletText = {
    t: t, formatTime: formatTime, zoneParts: zoneParts, zoneOffsetMs: zoneOffsetMs,
  };
})();
