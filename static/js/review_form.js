// Ticking a finding ticks the responses the guidance suggests for it (App. C) and says why; the practitioner
// can untick any of them. Nothing is saved until the form is submitted.
(function () {
  const data = document.getElementById("finding-suggestions");
  if (!data) return;
  const suggestions = JSON.parse(data.textContent);
  const note = document.getElementById("suggestion-note");
  document.querySelectorAll('input[name="findings"]').forEach(function (box) {
    box.addEventListener("change", function () {
      const suggestion = suggestions[box.value];
      if (!box.checked || !suggestion) return;
      suggestion.responses.forEach(function (code) {
        const response = document.querySelector('input[name="responses"][value="' + code + '"]');
        if (response) response.checked = true;
      });
      note.textContent = "Suggested: " + suggestion.why;
      note.hidden = false;
    });
  });
})();
