// A pulled connection's sync (Google Workspace): where from, the schedule, the last
// runs with their counts and errors, and "Sync now". Refreshes while a run runs.
import { useEffect, useState } from 'react';
import { type SourceInfo, type SourceRun, GOOGLE_SCOPES, api } from '../api';
import { CopyField } from './CopyField';
import { ErrorNotice } from './ErrorNotice';
import { formatDateTime, formatNumber, useT } from '../i18n';
import { useLoad } from '../useLoad';

function RunSummary({ run }: { run: SourceRun }) {
  const { t, language } = useT();
  const c = run.counts;
  const n = (v: number) => formatNumber(v, language);
  return (
    <div className={run.status === 'failed' ? 'error' : 'notice'} data-testid="source-run">
      <p>
        <strong>{t(`source.status.${run.status}`)}</strong> · {t(`source.trigger.${run.trigger}`)} · {formatDateTime(run.startedAt, language)}
      </p>
      <p>
        {t('source.usersLine', { seen: n(c.usersSeen), created: n(c.usersCreated), updated: n(c.usersUpdated), deactivated: n(c.usersDeactivated), deleted: n(c.usersDeleted) })}
      </p>
      <p>{t('source.groupsLine', { seen: n(c.groupsSeen), created: n(c.groupsCreated), updated: n(c.groupsUpdated), deleted: n(c.groupsDeleted) })}</p>
      <p>{t('source.errorsLine', { errors: n(c.errors), requests: n(c.requests) })}</p>
      {run.message && <p>{t('source.stopped', { message: run.message })}</p>}
      {run.errors.length > 0 && (
        <ul>
          {run.errors.slice(0, 20).map((e) => (
            <li key={`${e.kind}:${e.sourceId}`}>
              {e.name}: {e.message} ({e.code})
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function SourcePanel({ id }: { id: string }) {
  const { t, language } = useT();
  const source = useLoad(() => api.get<SourceInfo>(`/connections/${id}/source`), [id]);
  const runs = useLoad(() => api.get<{ runs: SourceRun[] }>(`/connections/${id}/source/runs?limit=5`), [id]);
  const [error, setError] = useState<unknown>();
  const running = source.value?.running || runs.value?.runs.some((r) => r.status === 'running');
  useEffect(() => {
    if (!running) return;
    const timer = setTimeout(() => {
      void source.reload();
      void runs.reload();
    }, 1500);
    return () => clearTimeout(timer);
  }, [running, source, runs]);
  const syncNow = async () => {
    try {
      await api.post(`/connections/${id}/source/sync`);
      setError(undefined);
    } catch (e) {
      setError(e);
    }
    await Promise.all([source.reload(), runs.reload()]);
  };
  const s = source.value;
  return (
    <section>
      <h2>{t('source.title')}</h2>
      <ErrorNotice error={source.error ?? runs.error ?? error} />
      {s && (
        <>
          <dl className="facts">
            <dt>{t('google.adminEmail')}</dt>
            <dd>{s.config.adminEmail}</dd>
            <dt>{t('google.domain')}</dt>
            <dd>{s.config.domain}</dd>
            <dt>{t('google.orgUnits')}</dt>
            <dd>{s.config.orgUnits.length ? s.config.orgUnits.join(', ') : t('source.all')}</dd>
            <dt>{t('google.groups')}</dt>
            <dd>{s.config.groups.length ? s.config.groups.join(', ') : t('source.all')}</dd>
            <dt>{t('google.interval')}</dt>
            <dd>{formatNumber(s.intervalMinutes, language)}</dd>
            <dt>{t('source.nextRun')}</dt>
            <dd>{s.running ? t('source.runningNow') : s.nextRunAt ? formatDateTime(s.nextRunAt, language) : t('health.never')}</dd>
          </dl>
          <CopyField label={t('google.clientId')} value={s.config.clientId} testId="google-client-id" />
          <CopyField label={t('google.scopes')} value={GOOGLE_SCOPES.join(',')} />
          <button type="button" disabled={!!running} onClick={() => void syncNow()}>
            {t('source.syncNow')}
          </button>
        </>
      )}
      <h3>{t('source.runs')}</h3>
      {runs.value && (runs.value.runs.length ? runs.value.runs.map((r) => <RunSummary key={r.id} run={r} />) : <p>{t('source.noRuns')}</p>)}
    </section>
  );
}
