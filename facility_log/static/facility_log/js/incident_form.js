// The report form: offer only the zones of the chosen site (for people at several sites).
(function () {
  "use strict";
  var site = document.getElementById("id_site");
  var zone = document.getElementById("id_zone");
  if (!site || !zone || site.tagName !== "SELECT") return;

  function siteCode() {
    var option = site.options[site.selectedIndex];
    return option ? option.text.split(" – ")[0] : "";
  }

  function filterZones() {
    var prefix = siteCode() + " / ";
    Array.prototype.forEach.call(zone.options, function (option) {
      var fits = option.value === "" || option.text.indexOf(prefix) === 0;
      option.hidden = !fits;
      option.disabled = !fits;
    });
    var chosen = zone.options[zone.selectedIndex];
    if (chosen && chosen.disabled) zone.value = "";
  }

  site.addEventListener("change", filterZones);
  filterZones();
})();
