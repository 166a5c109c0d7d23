// Drug test: each row's labels name the row ("Substance, row 2"). A row added by "Add a substance" (app.js) is
// numbered here, once it is in the table.
(function () {
  "use strict";
  const table = document.getElementById("results-table");
  if (!table) return;
  function number() {
    table.querySelectorAll("tbody tr.result-row").forEach(function (row, index) {
      row.querySelectorAll("[data-row-number]").forEach(function (span) { span.textContent = String(index + 1); });
    });
  }
  new MutationObserver(number).observe(table.querySelector("tbody"), { childList: true });
  number();
})();
