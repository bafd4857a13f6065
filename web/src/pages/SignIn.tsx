// Sign in with the admin key; the server answers with a session cookie.
import { type FormEvent, useState } from 'react';
import { api } from '../api';
import { ErrorNotice } from '../components/ErrorNotice';
import { useT } from '../i18n';

export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const { t } = useT();
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      await api.post('/session', { adminKey: key.trim() });
      onSignedIn();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="narrow">
      <h1>{t('signIn.title')}</h1>
      <p>{t('signIn.intro')}</p>
      <form onSubmit={(e) => void submit(e)}>
        <label htmlFor="admin-key">{t('signIn.key')}</label>
        <input id="admin-key" name="adminKey" type="password" autoComplete="current-password" required value={key} onChange={(e) => setKey(e.target.value)} />
        <p className="hint">{t('signIn.keyHint')}</p>
        <button type="submit" disabled={busy}>
          {t('signIn.submit')}
        </button>
      </form>
      <ErrorNotice error={error} />
    </main>
  );
}
