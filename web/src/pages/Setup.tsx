// Where a setup link lands: the secret is in the URL fragment (never sent to a
// server); it is exchanged once for a session of the link's organisation.
import { useEffect, useState } from 'react';
import { useLocation } from 'wouter';
import { ApiError, type Organization, api } from '../api';
import { ErrorNotice } from '../components/ErrorNotice';
import { useT } from '../i18n';

export function Setup({ onSession }: { onSession: () => Promise<void> }) {
  const { t } = useT();
  const [, navigate] = useLocation();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    const secret = window.location.hash.slice(1);
    // The secret leaves the address bar (and the history) at once.
    history.replaceState(null, '', window.location.pathname);
    if (!secret) {
      setError(new ApiError(401, 'ROLLCALL_SETUP_LINK_INVALID', 'no secret in the link'));
      return;
    }
    void (async () => {
      try {
        const r = await api.post<{ organization: Organization }>('/session/setup', { secret });
        await onSession();
        navigate(`/organizations/${r.organization.id}`);
      } catch (e) {
        setError(e);
      }
    })();
  }, []);
  return (
    <main className="narrow">
      <h1>{t('setup.title')}</h1>
      {error ? (
        <>
          <ErrorNotice error={error} />
          <p>{t('setup.askAgain')}</p>
        </>
      ) : (
        <p>{t('setup.opening')}</p>
      )}
    </main>
  );
}
