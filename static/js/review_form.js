// The strategic review form. Ticking a finding ticks the responses the guidance suggests for it (App. C) and
// says why; ticking a response about dispensing fills in the dispensing change it names (App. C 1). The
// practitioner can untick or change any of it; nothing is saved until the form is submitted.
(function () {
  "use strict";
  const data = document.getElementById("finding-suggestions");
  const form = document.getElementById("review-form");
  if (!data || !form) return;
  const suggestions = JSON.parse(data.textContent);
  const note = document.getElementById("suggestion-note");
  const currentTakeHome = parseInt(form.dataset.currentTakeHome || "0", 10);
  const dispensingFor = {};
  Object.values(suggestions).forEach(function (s) { Object.assign(dispensingFor, s.dispensing); });

  const takeHome = document.getElementById("id_dispensing_take_home");
  const reason = document.getElementById("id_dispensing_reason");
  const reasonNote = document.getElementById("id_dispensing_note");

  function fillDispensing(response) {
    const change = dispensingFor[response];
    if (!change || !reason) return;
    if (change === "reinstate_supervision" && currentTakeHome === 0) return; // already supervised
    reason.value = change;
    if (change === "reinstate_supervision") {
      takeHome.value = "0";
      if (!reasonNote.value.trim()) {
        reasonNote.value = "Supervised dosing reinstated: adherence has deteriorated (App. C 1).";
      }
    } else if (!takeHome.value) {
      takeHome.focus();
    }
    reason.dispatchEvent(new Event("change", { bubbles: true }));
  }

  form.querySelectorAll('input[name="findings"]').forEach(function (box) {
    box.addEventListener("change", function () {
      const suggestion = suggestions[box.value];
      if (!box.checked || !suggestion) return;
      suggestion.responses.forEach(function (code) {
        const response = form.querySelector('input[name="responses"][value="' + code + '"]');
        if (response && !response.checked) {
          response.checked = true;
          fillDispensing(code);
        }
      });
      note.textContent = "Suggested: " + suggestion.why;
      note.classList.toggle("alert-warning", suggestion.against.length > 0);
      note.classList.toggle("alert-info", suggestion.against.length === 0);
      if (suggestion.against.length) {
        // App. C 1, 5-6: a suggestion that eases supervision or steps back names what contradicts it.
        note.textContent += " But the evidence pack holds against it: " + suggestion.against.join(" ");
      }
      note.hidden = false;
    });
  });
  form.querySelectorAll('input[name="responses"]').forEach(function (box) {
    box.addEventListener("change", function () {
      if (box.checked) fillDispensing(box.value);
    });
  });
})();
