// A bar chart (Chart.js, bundled: only the parts a bar chart needs are registered).

import { useEffect, useRef } from "preact/hooks";
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  LinearScale,
  Tooltip,
} from "chart.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

export function BarChart(props: {
  labels: string[];
  values: number[];
  label: string;
  /** Counts (units sold): whole-number ticks. */
  integer?: boolean;
  testId?: string;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const chart = new Chart(canvas.current, {
      type: "bar",
      data: {
        labels: props.labels,
        datasets: [{ label: props.label, data: props.values, backgroundColor: "#2f6f4f" }],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, ticks: props.integer ? { precision: 0 } : {} } },
      },
    });
    return () => chart.destroy();
  }, [props.labels.join("|"), props.values.join("|"), props.label, props.integer]);
  return (
    <div class="chart" data-testid={props.testId}>
      <canvas ref={canvas} aria-label={props.label} role="img" />
    </div>
  );
}
