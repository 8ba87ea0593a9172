/* Batch page: while a batch is processing, poll its status every second and update the
   progress bar and counts; reload the page when the status changes. Needs live.js. */
(function () {
  "use strict";
  var root = document.querySelector("[data-status-url]");
  if (!root || !window.fetch || !window.leadexLive) { return; }
  var live = window.leadexLive;
  var status = root.getAttribute("data-status");
  var bar = root.querySelector(".progress-bar");
  var meter = root.querySelector(".progress");

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
    setText("[data-field=processed]", live.format(done));
    setText("[data-field=total]", total === null || total === undefined ? "?" : live.format(total));
    setText("[data-field=percent]", String(percent));
    live.showCounts(batch.counts);
    return true;
  }

  live.poll(root.getAttribute("data-status-url"), show, 1000);
})();
