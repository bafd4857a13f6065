// The console's frame: who is signed in, navigation, the language switch, and the pages.
import { useCallback, useEffect, useState } from 'react';
import { Link, Redirect, Route, Router, Switch, useLocation } from 'wouter';
import { ApiError, type Session, api } from './api';
import { ErrorNotice } from './components/ErrorNotice';
import { LANGUAGES, type Language, setLanguage, useT } from './i18n';
import { Connection } from './pages/Connection';
import { ConnectionWizard } from './pages/ConnectionWizard';
import { Groups } from './pages/Groups';
import { Organization } from './pages/Organization';
import { Organizations } from './pages/Organizations';
import { RequestDetail, RequestLog } from './pages/RequestLog';
import { Setup } from './pages/Setup';
import { SignIn } from './pages/SignIn';
import { UserDetail } from './pages/UserDetail';
import { Users } from './pages/Users';

function LanguageSwitch() {
  const { t, language } = useT();
  return (
    <label className="language">
      <span className="visually-hidden">{t('nav.language')}</span>
      <select aria-label={t('nav.language')} value={language} onChange={(e) => setLanguage(e.target.value as Language)}>
        {LANGUAGES.map((l) => (
          <option key={l.code} value={l.code} lang={l.code}>
            {l.name}
          </option>
        ))}
      </select>
    </label>
  );
}

function Shell() {
  const { t } = useT();
  const [location, navigate] = useLocation();
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [error, setError] = useState<unknown>();
  const load = useCallback(async () => {
    try {
      setSession(await api.get<Session>('/session'));
      setError(undefined);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) setSession(null);
      else setError(e);
    }
  }, []);
  useEffect(() => {
    if (location !== '/setup') void load();
  }, []);
  const signOut = async () => {
    await api.delete('/session').catch(() => undefined);
    setSession(null);
    navigate('/');
  };
  const home = session?.scope === 'organization' && session.organization ? `/organizations/${session.organization.id}` : '/organizations';

  return (
    <>
      <a href="#main" className="skip">
        {t('nav.skip')}
      </a>
      <header className="top">
        <Link href={session ? home : '/'} className="brand">
          Rollcall
        </Link>
        <nav aria-label={t('nav.main')}>
          {session?.scope === 'admin' && <Link href="/organizations">{t('nav.organizations')}</Link>}
          {session?.scope === 'organization' && session.organization && <Link href={home}>{session.organization.name}</Link>}
        </nav>
        <div className="spacer" />
        <LanguageSwitch />
        {session && (
          <button type="button" className="secondary" onClick={() => void signOut()}>
            {t('nav.signOut')}
          </button>
        )}
      </header>
      <div id="main">
        <ErrorNotice error={error} />
        <Switch>
          <Route path="/setup">
            <Setup onSession={load} />
          </Route>
          {session === undefined && location !== '/setup' ? (
            <Route>
              <main>
                <p>{t('common.loading')}</p>
              </main>
            </Route>
          ) : session === null ? (
            <Route>
              <SignIn onSignedIn={() => void load().then(() => navigate('/organizations'))} />
            </Route>
          ) : null}
          <Route path="/">
            <Redirect to={home} />
          </Route>
          <Route path="/organizations">
            <Organizations />
          </Route>
          <Route path="/organizations/:id/connect">{(p) => <ConnectionWizard orgId={p.id} />}</Route>
          <Route path="/organizations/:id">{(p) => <Organization id={p.id} isAdmin={session?.scope === 'admin'} />}</Route>
          <Route path="/connections/:id/users">{(p) => <Users id={p.id} />}</Route>
          <Route path="/connections/:id/groups">{(p) => <Groups id={p.id} />}</Route>
          <Route path="/connections/:id/log/:requestId">{(p) => <RequestDetail id={p.id} requestId={p.requestId} />}</Route>
          <Route path="/connections/:id/log">{(p) => <RequestLog id={p.id} />}</Route>
          <Route path="/connections/:id">{(p) => <Connection id={p.id} />}</Route>
          <Route path="/users/:id">{(p) => <UserDetail id={p.id} />}</Route>
          <Route>
            <main>
              <h1>{t('notFound.title')}</h1>
              <p>
                <Link href={home}>{t('notFound.home')}</Link>
              </p>
            </main>
          </Route>
        </Switch>
      </div>
    </>
  );
}

export function App() {
  return (
    <Router base="/admin">
      <Shell />
    </Router>
  );
}
