import { useEffect, useRef } from 'react';
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import { formatCredits, humanize } from '../format';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

export interface ChartSeries {
  readonly key: string;
  readonly values: readonly number[];
}

/** Distinct, colour-blind-friendly hues (Okabe–Ito), then repeats. */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#999999'];

/**
 * Stacked bars per bucket, one series per group (Chart.js: hover shows the values, the legend
 * toggles a series). The data table next to it carries the same figures for screen readers.
 */
export function UsageChart({ labels, series, label }: { labels: readonly string[]; series: readonly ChartSeries[]; label: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart | null>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const dark = window.matchMedia?.('(prefers-color-scheme: dark)').matches ?? false;
    const text = dark ? '#e6e8eb' : '#1f2328';
    const grid = dark ? 'rgba(255,255,255,0.12)' : 'rgba(0,0,0,0.08)';
    chart.current = new Chart(canvas.current, {
      type: 'bar',
      data: { labels: [], datasets: [] },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: { stacked: true, ticks: { color: text, maxRotation: 0, autoSkip: true }, grid: { display: false } },
          y: { stacked: true, beginAtZero: true, ticks: { color: text, precision: 0 }, grid: { color: grid } },
        },
        plugins: {
          legend: { position: 'bottom', labels: { color: text, boxWidth: 12 } },
          tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${formatCredits(Number(item.raw))}` } },
        },
      },
    });
    return () => chart.current?.destroy();
  }, []);
  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    c.data.labels = [...labels];
    c.data.datasets = series.map((s, i) => ({
      label: humanize(s.key) === '—' ? '(none)' : s.key,
      data: [...s.values],
      backgroundColor: PALETTE[i % PALETTE.length],
      borderWidth: 0,
    }));
    c.update();
  }, [labels, series]);
  return (
    <div className="chart" data-testid="usage-chart" data-series={series.map((s) => s.key).join('|')} data-buckets={labels.join('|')}>
      <canvas ref={canvas} role="img" aria-label={label} />
    </div>
  );
}
