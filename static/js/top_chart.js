// The TOP since entry, one chart per core domain (§2.10), from the data the page embeds. An item not answered is
// a gap in its line, never a zero. Each axis says what it counts; the lines of the patient's own substances, and
// of any used, are shown, the others one click away in the legend. The same figures are in a table under each
// chart (templates/patients/_top_chart_table.html), for anyone who cannot see it.
(function () {
  "use strict";
  const source = document.getElementById("top-chart-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  // An axis title in two lines, so that it fits beside a short chart on a phone.
  function twoLines(text) {
    const aside = text.indexOf(" (");
    if (aside > 0) return [text.slice(0, aside), text.slice(aside + 1)];
    const words = text.split(" ");
    const half = Math.ceil(words.length / 2);
    return words.length > 3 ? [words.slice(0, half).join(" "), words.slice(half).join(" ")] : text;
  }
  const colours = ["#0d6efd", "#dc3545", "#198754", "#fd7e14", "#6f42c1", "#20c997", "#6c757d", "#d63384", "#0dcaf0"];
  data.panels.forEach(function (panel) {
    const canvas = document.getElementById("top-chart-" + panel.domain);
    if (!canvas || !panel.series.length) return;
    new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: panel.series.map(function (series, i) {
          const colour = colours[i % colours.length];
          return {
            label: series.label,
            data: series.data,
            hidden: series.hidden,
            borderColor: colour,
            backgroundColor: colour,
            spanGaps: false,
            tension: 0,
            pointRadius: 3,
          };
        }),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "nearest", intersect: false },
        scales: {
          y: {
            min: 0,
            max: panel.max,
            ticks: { stepSize: panel.max === 20 ? 5 : 7 },
            title: { display: true, text: twoLines(panel.axis), color: "#212b32" },
          },
          x: {
            ticks: { maxRotation: 0, autoSkip: true },
            title: { display: true, text: "Date of the TOP", color: "#212b32" },
          },
        },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 10, font: { size: 11 } } },
          tooltip: {
            callbacks: {
              title: function (items) { return items.length ? data.stages[items[0].dataIndex] + ", " + items[0].label : ""; },
              label: function (ctx) { return ctx.dataset.label + ": " + (ctx.raw === null ? "not answered" : ctx.raw); },
            },
          },
        },
      },
    });
  });
})();
