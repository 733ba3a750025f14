import { memo, useEffect, useRef, useState } from 'react';
import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip, type TooltipModel } from 'chart.js';
import { formatCredits, humanize } from '../format';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

export interface ChartSeries {
  readonly key: string;
  readonly values: readonly number[];
}

/** Distinct, colour-blind-friendly hues (Okabe–Ito), then repeats; styles.css has the same in `.swatch-N`. */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#999999'];

/** What the tooltip shows: the bucket and each visible series' value in it. */
interface Tip {
  readonly bucket: string;
  readonly values: readonly { readonly series: string; readonly credits: number }[];
  readonly x: number;
  readonly y: number;
}

const seriesName = (key: string) => (humanize(key) === '—' ? '(none)' : key);

function tipOf(tooltip: TooltipModel<'bar'>): Tip | null {
  if (tooltip.opacity === 0 || tooltip.dataPoints.length === 0) return null;
  return {
    bucket: String(tooltip.title[0] ?? ''),
    values: tooltip.dataPoints.map((p) => ({ series: p.dataset.label ?? '', credits: Number(p.raw) })),
    x: Math.round(tooltip.caretX),
    y: Math.round(tooltip.caretY),
  };
}

const sameTip = (a: Tip | null, b: Tip | null) => a === b || (a !== null && b !== null && a.x === b.x && a.y === b.y && a.bucket === b.bucket);

/**
 * Stacked bars per bucket, one series per group (Chart.js). The tooltip and the legend are HTML,
 * not drawn on the canvas: the legend's buttons toggle a series and are reachable by keyboard, and
 * the tooltip's values are text. Memoised and updated in place (no animation): a filter change
 * redraws the bars once, when the new series arrive.
 */
export const UsageChart = memo(function UsageChart({ labels, series, label }: { labels: readonly string[]; series: readonly ChartSeries[]; label: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<'bar'> | null>(null);
  const [hidden, setHidden] = useState<ReadonlySet<string>>(new Set());
  const [tip, setTip] = useState<Tip | null>(null);
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
          tooltip: { enabled: false, external: ({ tooltip }) => setTip((previous) => (sameTip(previous, tipOf(tooltip)) ? previous : tipOf(tooltip))) },
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
      label: seriesName(s.key),
      data: [...s.values],
      backgroundColor: PALETTE[i % PALETTE.length],
      borderWidth: 0,
      hidden: hidden.has(s.key),
    }));
    c.update('none');
  }, [labels, series, hidden]);
  const toggle = (key: string) =>
    setHidden((previous) => {
      const next = new Set(previous);
      if (!next.delete(key)) next.add(key);
      return next;
    });
  return (
    <div className="chart-block">
      <div
        className="chart"
        data-testid="usage-chart"
        data-series={series.map((s) => s.key).join('|')}
        data-buckets={labels.join('|')}
        data-hidden={series
          .filter((s) => hidden.has(s.key))
          .map((s) => s.key)
          .join('|')}
      >
        <canvas ref={canvas} role="img" aria-label={label} />
        {tip && (
          <div
            className={tip.x > (canvas.current?.clientWidth ?? 0) / 2 ? 'chart-tip to-left' : 'chart-tip'}
            role="tooltip"
            data-testid="chart-tooltip"
            style={{ left: tip.x, top: tip.y }}
          >
            <strong data-testid="chart-tooltip-bucket">{tip.bucket}</strong>
            <ul>
              {tip.values.map((v) => (
                <li key={v.series} data-series={v.series} data-credits={v.credits}>
                  {v.series}: {formatCredits(v.credits)}
                </li>
              ))}
            </ul>
          </div>
        )}
      </div>
      <ul className="chart-legend" aria-label="Series (press to hide or show)">
        {series.map((s, i) => (
          <li key={s.key}>
            <button type="button" aria-pressed={!hidden.has(s.key)} onClick={() => toggle(s.key)} data-testid={`legend-${s.key}`}>
              <span className={`swatch swatch-${i % PALETTE.length}`} aria-hidden="true" />
              {seriesName(s.key)}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
});
