// The provisioning log: every SCIM request of the connection, filtered, newest first;
// and one request with its (redacted) body.
import { useState } from 'react';
import { Link } from 'wouter';
import type { ColumnDef } from '@tanstack/react-table';
import { type LoggedRequest, api, query } from '../api';
import { DataTable } from '../components/DataTable';
import { ErrorNotice } from '../components/ErrorNotice';
import { formatDateTime, formatNumber, useT } from '../i18n';
import { useLoad } from '../useLoad';
import { ConnectionHeader, ConnectionTabs, useConnection } from './Connection';
import { Pager, useCursorPages } from '../components/Pager';

/** The path below the connection's base: what the IdP asked for. */
const short = (path: string) => path.replace(/^\/scim\/v2\/[^/?]+/, '') || '/';

export function RequestLog({ id }: { id: string }) {
  const { t, language } = useT();
  const conn = useConnection(id);
  const [status, setStatus] = useState('');
  const [method, setMethod] = useState('');
  const [resource, setResource] = useState('');
  const [applied, setApplied] = useState({ status: '', method: '', resource: '' });
  const pages = useCursorPages();
  const before = pages.cursor;
  const page = useLoad(
    () => api.get<{ requests: LoggedRequest[]; next: string | null }>(`/connections/${id}/requests${query({ ...applied, before, limit: 50 })}`),
    [id, applied, before],
  );
  const columns: ColumnDef<LoggedRequest>[] = [
    { header: t('log.time'), cell: (c) => <Link href={`/connections/${id}/log/${c.row.original.id}`}>{formatDateTime(c.row.original.at, language)}</Link> },
    { header: t('log.request'), cell: (c) => <code>{`${c.row.original.method} ${decodeURIComponent(short(c.row.original.path))}`}</code> },
    { header: t('log.status'), cell: (c) => <span className={c.row.original.status >= 400 ? 'badge error' : 'badge ok'}>{c.row.original.status}</span> },
    { header: t('log.client'), cell: (c) => t(`client.${c.row.original.client}`) },
    { header: t('log.duration'), cell: (c) => `${formatNumber(c.row.original.durationMs, language, 1)} ms` },
    { header: t('log.problem'), cell: (c) => c.row.original.error?.detail ?? '' },
  ];
  return (
    <main>
      <ConnectionHeader conn={conn.value} />
      <ConnectionTabs id={id} current="log" />
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          pages.reset();
          setApplied({ status, method, resource: resource.trim() });
        }}
      >
        <label htmlFor="log-status">{t('log.status')}</label>
        <select id="log-status" value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">{t('log.any')}</option>
          <option value="error">{t('log.errors')}</option>
          <option value="2xx">2xx</option>
          <option value="4xx">4xx</option>
          <option value="5xx">5xx</option>
        </select>
        <label htmlFor="log-method">{t('log.method')}</label>
        <select id="log-method" value={method} onChange={(e) => setMethod(e.target.value)}>
          <option value="">{t('log.any')}</option>
          {['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </select>
        <label htmlFor="log-resource">{t('log.resource')}</label>
        <input id="log-resource" value={resource} onChange={(e) => setResource(e.target.value)} />
        <button type="submit">{t('log.filter')}</button>
      </form>
      <ErrorNotice error={page.error} />
      <DataTable columns={columns} data={page.value?.requests ?? []} caption={t('conn.tab.log')} empty={page.loading ? t('common.loading') : t('log.none')} />
      <Pager pages={pages} next={page.value?.next} />
    </main>
  );
}

export function RequestDetail({ id, requestId }: { id: string; requestId: string }) {
  const { t, language } = useT();
  const conn = useConnection(id);
  const r = useLoad(() => api.get<LoggedRequest>(`/connections/${id}/requests/${requestId}`), [id, requestId]);
  const v = r.value;
  return (
    <main>
      <ConnectionHeader conn={conn.value} />
      <ConnectionTabs id={id} current="log" />
      <ErrorNotice error={r.error} />
      {v && (
        <section>
          <h2>
            <code>
              {v.method} {decodeURIComponent(short(v.path))}
            </code>{' '}
            <span className={v.status >= 400 ? 'badge error' : 'badge ok'}>{v.status}</span>
          </h2>
          <dl className="facts">
            <dt>{t('log.time')}</dt>
            <dd>{formatDateTime(v.at, language)}</dd>
            <dt>{t('log.client')}</dt>
            <dd>
              {t(`client.${v.client}`)} {v.userAgent ? <span className="muted">({v.userAgent})</span> : null}
            </dd>
            <dt>{t('log.duration')}</dt>
            <dd>{formatNumber(v.durationMs, language, 1)} ms</dd>
            {v.resourceId && (
              <>
                <dt>{t('log.resource')}</dt>
                <dd>{v.resourceType === 'User' ? <Link href={`/users/${v.resourceId}`}>{v.resourceId}</Link> : v.resourceId}</dd>
              </>
            )}
          </dl>
          {v.error && (
            <div className="error" role="alert">
              <p>{v.error.detail}</p>
              <details>
                <summary>{t('errors.details')}</summary>
                <p>
                  <code>{v.error.code}</code> {v.error.scimType ? <code>scimType: {v.error.scimType}</code> : null}
                </p>
              </details>
            </div>
          )}
          <h3>{t('log.body')}</h3>
          {v.body === null || v.body === undefined ? <p className="muted">{t('log.noBody')}</p> : <pre className="code">{JSON.stringify(v.body, null, 2)}</pre>}
        </section>
      )}
    </main>
  );
}
