// The practice round's feedback page: Enter goes on, as it does on the rating page.
(function () {
  var next = document.getElementById("practice-next");
  document.addEventListener("keydown", function (event) {
    // A held Enter repeats: only a fresh press goes on, so the truth is not skipped unread.
    if (event.key === "Enter" && !event.repeat) { event.preventDefault(); next.click(); }
  });
})();
