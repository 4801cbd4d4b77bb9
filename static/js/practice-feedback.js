// The practice round's feedback page: Enter goes on, as it does on the rating page.
(function () {
  var next = document.getElementById("practice-next");
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); next.click(); }
  });
})();
