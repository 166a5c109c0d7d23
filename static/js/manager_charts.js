// Charts of the managers' pages. Each <canvas data-chart="ID"> is drawn from the JSON the page embeds in
// <script id="ID" type="application/json"> (Django's json_script): {type, labels, series: [{label, data, colour,
// line}], stacked, percent, x_title, y_title}. Each axis is titled, with its unit. A table on the page holds the
// same numbers for people who cannot see the chart (beside it, or under it as "The chart's numbers as a table").
// The charts follow the width of their box, so they fit a phone; text is the page's dark grey (#212b32).
(function () {
  "use strict";
  if (typeof Chart === "undefined") return;
  const palette = {
    upcoming: "#6c757d", due_soon: "#0d6efd", due: "#fd7e14", overdue: "#dc3545", awaiting_patient: "#6f42c1",
  };
  const fallback = ["#0d6efd", "#198754", "#dc3545", "#fd7e14", "#6f42c1", "#20c997", "#6c757d", "#d63384"];
  const ink = "#212b32";
  Chart.defaults.color = ink;
  function axisTitle(text) {
    return text ? { display: true, text: text, color: ink, font: { size: 12, weight: "bold" } } : { display: false };
  }
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    const source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    const spec = JSON.parse(source.textContent);
    new Chart(canvas, {
      type: spec.type || "bar",
      data: {
        labels: spec.labels,
        datasets: spec.series.map(function (series, i) {
          const colour = series.colour || palette[series.code] || fallback[i % fallback.length];
          return {
            label: series.label,
            data: series.data,
            type: series.line ? "line" : undefined,
            borderColor: colour,
            backgroundColor: colour,
            borderDash: series.dashed ? [6, 4] : undefined,
            pointRadius: series.line ? 2 : undefined,
            spanGaps: false,
            tension: 0,
          };
        }),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: {
          x: {
            stacked: !!spec.stacked,
            title: axisTitle(spec.x_title),
            ticks: { autoSkip: true, maxRotation: 45 },
          },
          y: {
            stacked: !!spec.stacked,
            beginAtZero: true,
            max: spec.percent ? 100 : undefined,
            title: axisTitle(spec.y_title),
            ticks: spec.percent ? { callback: function (v) { return v + "%"; } } : { precision: 0 },
          },
        },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 10, font: { size: 11 } } } },
      },
    });
  });
})();
