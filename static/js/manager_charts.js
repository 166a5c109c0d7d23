// Charts of the managers' pages. Each <canvas data-chart="ID"> is drawn from the JSON the page embeds in
// <script id="ID" type="application/json"> (Django's json_script): {type, labels, series: [{label, data, colour,
// line}], stacked, percent}. The tables beside each chart hold the same numbers for people who cannot see it.
(function () {
  "use strict";
  if (typeof Chart === "undefined") return;
  const palette = {
    upcoming: "#6c757d", due_soon: "#0d6efd", due: "#fd7e14", overdue: "#dc3545", awaiting_patient: "#6f42c1",
  };
  const fallback = ["#0d6efd", "#198754", "#dc3545", "#fd7e14", "#6f42c1", "#20c997", "#6c757d", "#d63384"];
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
          x: { stacked: !!spec.stacked, ticks: { autoSkip: true, maxRotation: 45 } },
          y: {
            stacked: !!spec.stacked,
            beginAtZero: true,
            max: spec.percent ? 100 : undefined,
            ticks: spec.percent ? { callback: function (v) { return v + "%"; } } : {},
          },
        },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 10, font: { size: 11 } } } },
      },
    });
  });
})();
