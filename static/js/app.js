// Small conveniences on the clinical pages. Every page works without them; they save typing and clicks.
(function () {
  "use strict";

  // A form is saved once: after a submit its buttons wait for the answer, since a second click would post it
  // again (a second appointment, a second test). They are disabled just after the submit, so that the clicked
  // button's name still goes with the form. Forms that htmx posts swap themselves out and are left alone.
  document.querySelectorAll('form[method="post"]:not([hx-post])').forEach(function (form) {
    form.addEventListener("submit", function () {
      setTimeout(function () {
        form.querySelectorAll('button[type="submit"], input[type="submit"]').forEach(function (button) {
          button.disabled = true;
        });
      }, 0);
    });
  });
  // Back to a page the browser kept whole: its buttons work again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form button[disabled][type=submit], form input[disabled][type=submit]").forEach(
      function (button) { button.disabled = false; }
    );
  });

  // A menu that moves the page on as soon as it changes (the record's choice of episode), with no inline handler:
  // the Content-Security-Policy allows no inline script.
  document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // Print buttons (the print stylesheet leaves out the application around the content).
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  // Pharmacy report: pick a missed date from a calendar and append it, as DD/MM/YYYY, to the list.
  const picker = document.getElementById("missed-date-picker");
  const add = document.getElementById("missed-date-add");
  if (picker && add) {
    const target = document.getElementById(picker.closest(".missed-dates").dataset.target);
    add.addEventListener("click", function () {
      if (!picker.value) return;
      const [y, m, d] = picker.value.split("-");
      const day = d + "/" + m + "/" + y;
      const listed = target.value.split(/[\s,;]+/).filter(Boolean);
      if (!listed.includes(day)) listed.push(day);
      target.value = listed.join(", ");
      picker.value = "";
      picker.focus();
    });
  }

  // Drug test: another substance row, numbered as the formset expects.
  document.querySelectorAll("[data-add-row]").forEach(function (button) {
    const prefix = button.dataset.addRow;
    button.addEventListener("click", function () {
      const total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
      const max = parseInt(document.getElementById("id_" + prefix + "-MAX_NUM_FORMS").value, 10);
      const index = parseInt(total.value, 10);
      if (index >= max) return;
      const template = document.getElementById("result-row-template");
      const html = template.innerHTML.replace(/__prefix__/g, String(index));
      document.querySelector("#results-table tbody").insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
    });
  });

  // TOP: the four weeks' total as they are typed, and "no use" fills 0 for each week.
  document.querySelectorAll(".top-grid tr[data-substance]").forEach(function (row) {
    const weeks = row.querySelectorAll("td.week input");
    const total = row.querySelector("td.total");
    function update() {
      const values = Array.from(weeks).map(function (w) { return w.value.trim(); });
      if (values.some(function (v) { return v === ""; })) {
        total.textContent = values.every(function (v) { return v === ""; }) ? "–" : "incomplete";
        return;
      }
      total.textContent = String(values.reduce(function (sum, v) { return sum + (parseInt(v, 10) || 0); }, 0));
    }
    weeks.forEach(function (w) { w.addEventListener("input", update); });
    const noUse = row.querySelector("[data-no-use]");
    if (noUse) {
      noUse.addEventListener("click", function () {
        weeks.forEach(function (w) { w.value = "0"; });
        update();
      });
    }
    update();
  });

  // A page that failed: focus moves to the summary of its errors, so a screen reader reads it first, and each
  // link in it moves focus to its answer, scrolled so that the answer's label shows too (as the GOV.UK and NHS
  // design systems do).
  const summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
    summary.addEventListener("click", function (event) {
      const link = event.target.closest("a[href^='#']");
      if (!link) return;
      const input = document.getElementById(link.getAttribute("href").slice(1));
      if (!input) return;
      event.preventDefault();
      const label = document.querySelector("label[for='" + input.id + "']");
      (label || input).scrollIntoView({ block: "start" });
      input.focus({ preventScroll: true });
    });
  }
})();
