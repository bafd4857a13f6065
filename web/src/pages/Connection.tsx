// One connection: health (requests per day, last request, last error), its SCIM URL,
// token rotation (or, pulled from Google Workspace, its sync and runs), disable/enable,
// its settings, and tabs for users, groups and the log.
import { useState } from 'react';
import { Link } from 'wouter';
import { type Connection as Conn, type Health, api } from '../api';
import { CopyField } from '../components/CopyField';
import { ErrorNotice } from '../components/ErrorNotice';
import { IdpSteps } from '../components/IdpSteps';
import { RequestsChart } from '../components/RequestsChart';
import { SourcePanel } from '../components/SourcePanel';
import { formatDateTime, formatNumber, useT } from '../i18n';
import { useLoad } from '../useLoad';

export function ConnectionTabs({ id, current }: { id: string; current: 'overview' | 'users' | 'groups' | 'log' }) {
  const { t } = useT();
  const tabs = [
    ['overview', `/connections/${id}`],
    ['users', `/connections/${id}/users`],
    ['groups', `/connections/${id}/groups`],
    ['log', `/connections/${id}/log`],
  ] as const;
  return (
    <nav className="tabs" aria-label={t('conn.sections')}>
      {tabs.map(([name, href]) => (
        <Link key={name} href={href} aria-current={current === name ? 'page' : undefined}>
          {t(`conn.tab.${name}`)}
        </Link>
      ))}
    </nav>
  );
}

export function useConnection(id: string) {
  return useLoad(() => api.get<Conn>(`/connections/${id}`), [id]);
}

export function ConnectionHeader({ conn }: { conn: Conn | undefined }) {
  const { t } = useT();
  if (!conn) return <h1>{t('common.loading')}</h1>;
  return (
    <header className="page-header">
      <h1>
        {conn.name} <span className={`badge ${conn.status}`}>{t(`status.${conn.status}`)}</span>
      </h1>
      {conn.organization && (
        <p className="muted">
          <Link href={`/organizations/${conn.organization.id}`}>{conn.organization.name}</Link> · {t('wizard.workspace')}: {conn.workspace}
        </p>
      )}
    </header>
  );
}

export function Connection({ id }: { id: string }) {
  const { t, language } = useT();
  const conn = useConnection(id);
  const health = useLoad(() => api.get<Health>(`/connections/${id}/health`), [id]);
  const [token, setToken] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [settingsText, setSettingsText] = useState<string>();
  const act = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
      setError(undefined);
      await conn.reload();
    } catch (e) {
      setError(e);
    }
  };
  const rotate = () => act(async () => setToken((await api.post<{ token: string }>(`/connections/${id}/token`, { graceSeconds: 3600 })).token));
  const toggle = () => act(() => api.post(`/connections/${id}/${conn.value?.status === 'disabled' ? 'enable' : 'disable'}`));
  const save = () =>
    act(async () => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(settingsText ?? '{}');
      } catch {
        throw new Error(t('conn.settingsNotJson'));
      }
      await api.patch(`/connections/${id}/settings`, parsed);
      setSettingsText(undefined);
    });
  const h = health.value;
  const pulled = conn.value !== undefined && conn.value.kind !== 'scim' && conn.value.kind !== 'import';
  return (
    <main>
      <ConnectionHeader conn={conn.value} />
      <ConnectionTabs id={id} current="overview" />
      <ErrorNotice error={conn.error ?? health.error ?? error} />
      {conn.value && !pulled && <CopyField label={t('done.url')} value={conn.value.scimUrl} testId="scim-url" />}
      {pulled && <SourcePanel id={id} />}
      {!pulled && (
      <section>
        <h2>{t('health.title')}</h2>
        {h && (
          <>
            <dl className="facts">
              <dt>{t('health.last')}</dt>
              <dd>{h.lastRequestAt ? formatDateTime(h.lastRequestAt, language) : t('health.never')}</dd>
              <dt>{t('health.total30')}</dt>
              <dd>{formatNumber(h.days.reduce((n, d) => n + d.requests, 0), language)}</dd>
              <dt>{t('health.errors30')}</dt>
              <dd>{formatNumber(h.days.reduce((n, d) => n + d.errors, 0), language)}</dd>
            </dl>
            {h.lastError && (
              <div className="error">
                <p>
                  {t('health.lastError')}: {formatDateTime(h.lastError.at, language)} — {h.lastError.method} {h.lastError.path} → {h.lastError.status}
                </p>
                <p>
                  <Link href={`/connections/${id}/log/${h.lastError.id}`}>{h.lastError.error?.detail ?? t('log.open')}</Link>
                </p>
              </div>
            )}
            <RequestsChart days={h.days} />
            {!h.lastRequestAt && (
              <>
                <p>{t('health.waiting')}</p>
                <IdpSteps />
              </>
            )}
          </>
        )}
      </section>
      )}
      {!pulled && (
      <section>
        <h2>{t('conn.token')}</h2>
        <p>{t('conn.tokenIntro')}</p>
        <button type="button" onClick={() => void rotate()}>
          {t('conn.rotate')}
        </button>
        {token && (
          <div className="notice">
            <CopyField label={t('done.token')} value={token} secret testId="scim-token" />
            <p className="hint">{t('conn.rotated')}</p>
          </div>
        )}
      </section>
      )}
      <section>
        <h2>{t('conn.state')}</h2>
        <p>{conn.value?.status === 'disabled' ? (pulled ? t('source.disabledIntro') : t('conn.disabledIntro')) : pulled ? t('source.activeIntro') : t('conn.activeIntro')}</p>
        <button type="button" className="secondary" onClick={() => void toggle()}>
          {conn.value?.status === 'disabled' ? t('conn.enable') : t('conn.disable')}
        </button>
      </section>
      <section>
        <h2>{t('conn.settings')}</h2>
        <label htmlFor="settings-json">{t('conn.settingsJson')}</label>
        <textarea
          id="settings-json"
          rows={12}
          className="code"
          value={settingsText ?? JSON.stringify(conn.value?.settings ?? {}, null, 2)}
          onChange={(e) => setSettingsText(e.target.value)}
        />
        <button type="button" disabled={settingsText === undefined} onClick={() => void save()}>
          {t('conn.save')}
        </button>
      </section>
    </main>
  );
}
