// The rating page: time on the image, the mask after a timed exposure, full screen, and keys for the answers
// (R / S, 1-5, Shift+1-5, F, Enter).
(function () {
  var form = document.getElementById("rating-form");
  var image = document.querySelector(".study-image");
  var mask = document.querySelector(".study-mask");
  // No image on the page: a timed study's exposure of it is over, and the mask stands in its place.
  var exposure = image ? parseInt(image.dataset.exposureMs || "0", 10) : 0;
  var started = null;
  var masked = null;
  function hide() {
    masked = performance.now();
    mask.hidden = false;
    image.hidden = true;
    // Gone from the page, not only from view: the rater answers from what the exposure showed.
    image.removeAttribute("src");
  }
  function start() {
    if (started !== null) { return; }
    started = performance.now();
    if (exposure > 0) { setTimeout(hide, exposure); }
  }
  if (image && image.complete) { start(); } else if (image) { image.addEventListener("load", start); }
  // Full screen shows the image (or its mask) as large as the screen allows, scaled by the browser the same way
  // for every image; leaving it (F again, Esc) shows it at the study's display size.
  var view = document.querySelector(".study-view");
  function toggleFullScreen() {
    if (document.fullscreenElement) { document.exitFullscreen(); } else { view.requestFullscreen(); }
  }
  document.getElementById("enlarge").addEventListener("click", toggleFullScreen);
  form.addEventListener("submit", function () {
    if (started !== null) { form.elements["viewing_ms"].value = Math.round((masked || performance.now()) - started); }
    form.querySelector("button[type=submit]").disabled = true;
  });
  function choose(name, value) {
    var input = form.querySelector("input[name=" + name + "][value='" + value + "']");
    if (input) { input.checked = true; }
  }
  document.addEventListener("keydown", function (event) {
    if (event.target.tagName === "TEXTAREA") { return; }
    var key = event.key.toLowerCase();
    // Shift+digit types "!", "@", ... on most layouts: the physical key says which digit was meant.
    var digit = /^(Digit|Numpad)([1-5])$/.exec(event.code);
    if (event.shiftKey && digit) { choose("confidence", digit[2]); }
    else if (key === "f") { event.preventDefault(); toggleFullScreen(); }
    else if (key === "r") { choose("answer", "real"); }
    else if (key === "s") { choose("answer", "synthetic"); }
    else if (key >= "1" && key <= "5") { choose("quality", key); }
    else if (event.key === "Enter" && !event.repeat) { event.preventDefault(); if (form.reportValidity()) { form.requestSubmit(); } }
  });
})();
