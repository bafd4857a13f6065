// One user: who it is, what the policies resolved, its groups, and its history.
import { Link } from 'wouter';
import { type HistoryEntry, type User, api } from '../api';
import { ErrorNotice } from '../components/ErrorNotice';
import { formatDateTime, useT } from '../i18n';
import { useLoad } from '../useLoad';

const show = (v: unknown) => (v === null || v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));

export function UserDetail({ id }: { id: string }) {
  const { t, language } = useT();
  const user = useLoad(() => api.get<User>(`/users/${id}`), [id]);
  const history = useLoad(() => api.get<{ history: HistoryEntry[] }>(`/users/${id}/history`).then((r) => r.history), [id]);
  const u = user.value;
  return (
    <main>
      <ErrorNotice error={user.error} />
      {u && (
        <>
          <header className="page-header">
            <h1>
              {u.displayName ?? u.userName} <span className={`badge ${u.state}`}>{t(`state.${u.state}`)}</span>
            </h1>
            <p className="muted">
              <Link href={`/connections/${u.connectionId}/users`}>{t('user.back')}</Link>
            </p>
          </header>
          <dl className="facts">
            <dt>{t('users.userName')}</dt>
            <dd>{u.userName}</dd>
            <dt>{t('user.email')}</dt>
            <dd>{u.email ?? '—'}</dd>
            <dt>{t('user.externalId')}</dt>
            <dd>{u.externalId ?? '—'}</dd>
            <dt>{t('wizard.role')}</dt>
            <dd>{u.role ?? '—'}</dd>
            <dt>{t('user.language')}</dt>
            <dd>{u.language ?? '—'}</dd>
            <dt>{t('wizard.workspace')}</dt>
            <dd>{u.workspace}</dd>
            <dt>{t('users.groups')}</dt>
            <dd>{u.groups.map((g) => g.displayName).join(', ') || '—'}</dd>
            <dt>{t('common.created')}</dt>
            <dd>{formatDateTime(u.createdAt, language)}</dd>
            {u.flags.length > 0 && (
              <>
                <dt>{t('user.flags')}</dt>
                <dd>{u.flags.join(', ')}</dd>
              </>
            )}
          </dl>
          {Object.keys(u.profile).length > 0 && (
            <section>
              <h2>{t('user.profile')}</h2>
              <dl className="facts">
                {Object.entries(u.profile).map(([k, v]) => (
                  <div key={k}>
                    <dt>{k}</dt>
                    <dd>{show(v)}</dd>
                  </div>
                ))}
              </dl>
            </section>
          )}
        </>
      )}
      <section>
        <h2>{t('user.history')}</h2>
        <ErrorNotice error={history.error} />
        {history.value?.length ? (
          <ol className="timeline" data-testid="history">
            {history.value.map((e, i) => (
              <li key={i}>
                <time dateTime={e.at}>{formatDateTime(e.at, language)}</time> <strong>{t(`history.${e.type}`)}</strong>
                {e.group && <> · {e.group.displayName}</>}
                {e.changes && (
                  <ul>
                    {e.changes.map((c, j) => (
                      <li key={j}>
                        <code>{c.path}</code>: {show(c.before)} → {show(c.after)}
                      </li>
                    ))}
                  </ul>
                )}
                {e.requestId && u && (
                  <>
                    {' '}
                    · <Link href={`/connections/${u.connectionId}/log/${e.requestId}`}>{t('history.request')}</Link>
                  </>
                )}
              </li>
            ))}
          </ol>
        ) : (
          <p className="muted">{history.loading ? t('common.loading') : t('history.none')}</p>
        )}
      </section>
    </main>
  );
}
