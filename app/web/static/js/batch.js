/* Batch page: while a batch is processing, poll its status every second and update the
   progress bar and counts; reload the page when the status changes. No dependencies. */
(function () {
  "use strict";
  var root = document.querySelector("[data-status-url]");
  if (!root || !window.fetch) { return; }
  var url = root.getAttribute("data-status-url");
  var status = root.getAttribute("data-status");
  var bar = root.querySelector(".progress-bar");
  var meter = root.querySelector(".progress");
  var failures = 0;

  function format(n) { return Number(n || 0).toLocaleString("en-US"); }
  function setText(selector, text) {
    var el = document.querySelector(selector);
    if (el) { el.textContent = text; }
  }

  function show(batch) {
    if (batch.status !== status) {
      window.location.reload();
      return false;
    }
    var done = batch.progress.processed || 0;
    var total = batch.progress.total;
    var percent = total ? Math.floor(100 * done / total) : 0;
    bar.style.width = percent + "%";
    meter.setAttribute("aria-valuenow", String(percent));
    setText("[data-field=processed]", format(done));
    setText("[data-field=total]", total === null || total === undefined ? "?" : format(total));
    setText("[data-field=percent]", String(percent));
    Object.keys(batch.counts).forEach(function (key) {
      var el = document.querySelector('[data-count="' + key + '"]');
      if (el) {
        el.textContent = format(batch.counts[key]);
        el.classList.toggle("is-zero", !batch.counts[key]);
      }
    });
    return true;
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.json();
      })
      .then(function (batch) {
        failures = 0;
        if (show(batch)) { window.setTimeout(poll, 1000); }
      })
      .catch(function () {
        // A blip (deploy, lost network): keep trying, more slowly after repeated failures.
        failures += 1;
        window.setTimeout(poll, failures > 5 ? 10000 : 1000);
      });
  }

  window.setTimeout(poll, 1000);
})();
