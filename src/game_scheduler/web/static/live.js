// Live updates: every few seconds, fetch the page's live parts (?live=1) and swap in
// whatever changed. Without JavaScript the pages still read and post as plain HTML.
(function () {
  "use strict";
  var PERIOD = 2000; // milliseconds
  if (!document.querySelector("[data-live]")) return;

  function busy(region) {
    var active = document.activeElement;
    return active && region.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName);
  }

  function refresh() {
    if (document.hidden) { setTimeout(refresh, PERIOD); return; }
    var url = new URL(window.location.href);
    url.searchParams.set("live", "1");
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").body.firstElementChild;
        document.querySelectorAll("[data-live]").forEach(function (region) {
          if (fresh && fresh.innerHTML !== region.innerHTML && !busy(region)) {
            region.innerHTML = fresh.innerHTML;
          }
        });
      })
      .catch(function () { /* offline for a moment: try again next round */ })
      .finally(function () { setTimeout(refresh, PERIOD); });
  }
  setTimeout(refresh, PERIOD);
})();
