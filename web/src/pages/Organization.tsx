// One organisation: its connections, its setup links (the admin's) and its audit trail.
import { useState } from 'react';
import { Link } from 'wouter';
import { type Connection, type Organization as Org, type SetupLink, api } from '../api';
import { CopyField } from '../components/CopyField';
import { ErrorNotice } from '../components/ErrorNotice';
import { formatDateTime, useT } from '../i18n';
import { useLoad } from '../useLoad';

interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
}

export function Organization({ id, isAdmin }: { id: string; isAdmin: boolean }) {
  const { t, language } = useT();
  const org = useLoad(() => api.get<Org>(`/organizations/${id}`), [id]);
  const conns = useLoad(() => api.get<{ connections: Connection[] }>(`/organizations/${id}/connections`).then((r) => r.connections.filter((c) => c.kind !== 'import')), [id]);
  const links = useLoad(() => (isAdmin ? api.get<{ setupLinks: SetupLink[] }>(`/organizations/${id}/setup-links`).then((r) => r.setupLinks) : Promise.resolve([])), [id, isAdmin]);
  const audit = useLoad(() => api.get<{ entries: AuditEntry[] }>(`/organizations/${id}/audit?limit=20`).then((r) => r.entries), [id]);
  const [expires, setExpires] = useState('7d');
  const [newLink, setNewLink] = useState<SetupLink>();
  const [error, setError] = useState<unknown>();
  const createLink = async () => {
    try {
      setNewLink(await api.post<SetupLink>(`/organizations/${id}/setup-links`, { expiresIn: expires }));
      setError(undefined);
      await links.reload();
      await audit.reload();
    } catch (e) {
      setError(e);
    }
  };
  const revoke = async (linkId: string) => {
    try {
      await api.delete(`/organizations/${id}/setup-links/${linkId}`);
      await links.reload();
      await audit.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <main>
      <h1>{org.value?.name ?? t('common.loading')}</h1>
      <ErrorNotice error={org.error ?? conns.error} />
      {org.value && (
        <p>
          {t('orgs.plan')}: <strong>{org.value.plan}</strong>
          {org.value.scimAllowed ? '' : ` — ${t('orgs.notInPlan')}`}
        </p>
      )}
      <section>
        <h2>{t('org.connections')}</h2>
        {conns.value?.length ? (
          <ul className="cards">
            {conns.value.map((c) => (
              <li key={c.id}>
                <Link href={`/connections/${c.id}`}>{c.name}</Link> <span className={`badge ${c.status}`}>{t(`status.${c.status}`)}</span>
                <div className="muted">{c.kind === 'google-workspace' ? 'Google Workspace' : c.scimUrl}</div>
              </li>
            ))}
          </ul>
        ) : (
          !conns.loading && (
            <p>
              {t('org.noConnection')}{' '}
              <Link href={`/organizations/${id}/connect`} className="button">
                {t('org.setUp')}
              </Link>
            </p>
          )
        )}
      </section>
      {isAdmin && (
        <section>
          <h2>{t('links.title')}</h2>
          <p>{t('links.intro')}</p>
          <div className="inline">
            <label htmlFor="link-expiry">{t('links.expiresIn')}</label>
            <select id="link-expiry" value={expires} onChange={(e) => setExpires(e.target.value)}>
              <option value="1d">{t('links.day1')}</option>
              <option value="7d">{t('links.days7')}</option>
              <option value="30d">{t('links.days30')}</option>
            </select>
            <button type="button" onClick={() => void createLink()}>
              {t('links.create')}
            </button>
          </div>
          {newLink?.url && (
            <div className="notice">
              <CopyField label={t('links.url')} value={newLink.url} secret testId="setup-link-url" />
              <p className="hint">{t('links.shownOnce', { until: formatDateTime(newLink.expiresAt, language) })}</p>
            </div>
          )}
          <ErrorNotice error={error ?? links.error} />
          {links.value?.length ? (
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('common.created')}</th>
                  <th scope="col">{t('links.until')}</th>
                  <th scope="col">{t('links.status')}</th>
                  <th scope="col">{t('links.uses')}</th>
                  <th scope="col">
                    <span className="visually-hidden">{t('links.revoke')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {links.value.map((l) => (
                  <tr key={l.id}>
                    <td>{formatDateTime(l.createdAt, language)}</td>
                    <td>{formatDateTime(l.expiresAt, language)}</td>
                    <td>{t(`links.${l.status}`)}</td>
                    <td>{l.uses}</td>
                    <td>
                      {l.status === 'active' && (
                        <button type="button" className="secondary" onClick={() => void revoke(l.id)}>
                          {t('links.revoke')}
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </section>
      )}
      <section>
        <h2>{t('audit.title')}</h2>
        {audit.value?.length ? (
          <ul className="timeline">
            {audit.value.map((e) => (
              <li key={e.id}>
                <time dateTime={e.at}>{formatDateTime(e.at, language)}</time> · <code>{e.action}</code> · {e.actor}
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">{t('audit.none')}</p>
        )}
      </section>
    </main>
  );
}
