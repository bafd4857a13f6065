// Requests and errors per day (30 days) with uPlot; the same numbers as a table for screen readers.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Health } from '../api';
import { formatDay, formatNumber, useT } from '../i18n';

export function RequestsChart({ days }: { days: Health['days'] }) {
  const { t, language } = useT();
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const xs = days.map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000);
    const plot = new uPlot(
      {
        width: Math.min(720, el.current.clientWidth || 720),
        height: 180,
        scales: { x: { time: true } },
        axes: [{ values: (_u, splits) => splits.map((s) => formatDay(new Date(s * 1000).toISOString().slice(0, 10), language)) }, {}],
        series: [
          {},
          { label: t('health.requests'), stroke: '#1d4ed8', fill: 'rgba(29,78,216,0.12)', width: 2 },
          { label: t('health.errors'), stroke: '#b91c1c', width: 2 },
        ],
      },
      [xs, days.map((d) => d.requests), days.map((d) => d.errors)],
      el.current,
    );
    return () => plot.destroy();
  }, [days, language, t]);
  return (
    <figure className="chart">
      <div ref={el} aria-hidden="true" />
      <figcaption>{t('health.chartCaption')}</figcaption>
      <details>
        <summary>{t('health.asTable')}</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">{t('health.day')}</th>
              <th scope="col">{t('health.requests')}</th>
              <th scope="col">{t('health.errors')}</th>
            </tr>
          </thead>
          <tbody>
            {days.map((d) => (
              <tr key={d.day}>
                <td>{formatDay(d.day, language)}</td>
                <td>{formatNumber(d.requests, language)}</td>
                <td>{formatNumber(d.errors, language)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
