// The connection wizard: where users come from (an IdP pushing SCIM, or Google
// Workspace pulled by Rollcall) with workspace and role, for Google the service
// account and directory, then address rules, then value maps and group rules, then
// retention; it ends showing the SCIM URL and the token (only now), or for Google
// what to allow in the Admin console.
import { type FormEvent, useState } from 'react';
import { Link } from 'wouter';
import { type Connection, GOOGLE_SCOPES, api } from '../api';
import { CopyField } from '../components/CopyField';
import { ErrorNotice } from '../components/ErrorNotice';
import { IdpSteps } from '../components/IdpSteps';
import { useT } from '../i18n';
import { parseList, parseMap, parseRules } from '../settingsText';

const SCIM_STEPS = ['basics', 'addresses', 'mapping', 'retention'] as const;
const GOOGLE_STEPS = ['basics', 'google', 'addresses', 'mapping', 'retention'] as const;

export function ConnectionWizard({ orgId }: { orgId: string }) {
  const { t } = useT();
  const [step, setStep] = useState(0);
  const [source, setSource] = useState<'scim' | 'google'>('scim');
  const [name, setName] = useState('Entra ID');
  const [keyText, setKeyText] = useState('');
  const [adminEmail, setAdminEmail] = useState('');
  const [googleDomain, setGoogleDomain] = useState('');
  const [orgUnits, setOrgUnits] = useState('');
  const [googleGroups, setGoogleGroups] = useState('');
  const [syncInterval, setSyncInterval] = useState(40);
  const [workspace, setWorkspace] = useState('default');
  const [role, setRole] = useState('member');
  const [domains, setDomains] = useState('');
  const [language, setLanguage] = useState('');
  const [rejectCollective, setRejectCollective] = useState(true);
  const [genders, setGenders] = useState('');
  const [attributes, setAttributes] = useState('');
  const [rules, setRules] = useState('');
  const [retention, setRetention] = useState(30);
  const [error, setError] = useState<unknown>();
  const [problem, setProblem] = useState<string>();
  const [created, setCreated] = useState<Connection>();

  const STEPS = source === 'google' ? GOOGLE_STEPS : SCIM_STEPS;
  const chooseSource = (next: 'scim' | 'google') => {
    setSource(next);
    if (next === 'google' && name === 'Entra ID') setName('Google Workspace');
    if (next === 'scim' && name === 'Google Workspace') setName('Entra ID');
  };
  const readKey = async (file: File | undefined) => setKeyText(file ? await file.text() : '');

  const settings = () => {
    const g = parseMap(genders);
    const a = parseMap(attributes);
    const r = parseRules(rules);
    const bad = [...g.bad, ...a.bad, ...r.bad];
    if (bad.length) throw new Error(t('wizard.badLines', { lines: bad.join(' · ') }));
    const verified = parseList(domains);
    return {
      defaultRole: role.trim() || 'member',
      // Google: no domains given means the directory's domain (the server's default).
      ...(source === 'google' && !verified.length ? {} : { domains: verified }),
      defaultLanguage: language.trim() || null,
      rejectCollectiveAddresses: rejectCollective,
      genderValues: g.map,
      attributeMap: a.map,
      groupRules: r.rules,
      retentionDays: retention,
    };
  };

  const next = (e: FormEvent) => {
    e.preventDefault();
    setProblem(undefined);
    if (STEPS[step] === 'google' && !keyText) {
      setProblem(t('google.keyMissing'));
      return;
    }
    if (STEPS[step] === 'mapping') {
      try {
        settings();
      } catch (err) {
        setProblem((err as Error).message);
        return;
      }
    }
    if (step < STEPS.length - 1) setStep(step + 1);
    else void create();
  };

  const create = async () => {
    try {
      if (source === 'google') {
        setCreated(
          await api.post<Connection>(`/organizations/${orgId}/connections/google-workspace`, {
            name,
            workspace,
            settings: settings(),
            key: keyText,
            adminEmail,
            domain: googleDomain,
            orgUnits: parseList(orgUnits),
            groups: parseList(googleGroups),
            intervalMinutes: syncInterval,
          }),
        );
      } else {
        setCreated(await api.post<Connection>(`/organizations/${orgId}/connections`, { name, workspace, settings: settings() }));
      }
      setError(undefined);
    } catch (err) {
      setError(err);
    }
  };

  if (created?.source) {
    return (
      <main>
        <h1>{t('google.doneTitle')}</h1>
        <p>{t('google.doneIntro')}</p>
        <ol>
          <li>{t('google.doneStep1')}</li>
          <li>{t('google.doneStep2')}</li>
          <li>{t('google.doneStep3')}</li>
        </ol>
        <div className="notice">
          <CopyField label={t('google.clientId')} value={created.source.config.clientId} testId="google-client-id" />
          <CopyField label={t('google.scopes')} value={GOOGLE_SCOPES.join(',')} testId="google-scopes" />
        </div>
        <p>{t('google.doneSync')}</p>
        <p>
          <Link href={`/connections/${created.id}`} className="button">
            {t('done.open')}
          </Link>
        </p>
      </main>
    );
  }

  if (created?.token) {
    return (
      <main>
        <h1>{t('done.title')}</h1>
        <p>{t('done.intro')}</p>
        <div className="notice">
          <CopyField label={t('done.url')} value={created.scimUrl} testId="scim-url" />
          <CopyField label={t('done.token')} value={created.token} secret testId="scim-token" />
          <p className="hint">{t('done.tokenOnce')}</p>
        </div>
        <IdpSteps />
        <p>
          <Link href={`/connections/${created.id}`} className="button">
            {t('done.open')}
          </Link>
        </p>
      </main>
    );
  }

  return (
    <main className="narrow">
      <h1>{source === 'google' ? t('google.title') : t('wizard.title')}</h1>
      <ol className="steps" aria-label={t('wizard.progress')}>
        {STEPS.map((s, i) => (
          <li key={s} aria-current={i === step ? 'step' : undefined} className={i === step ? 'current' : i < step ? 'done' : ''}>
            {t(`wizard.step.${s}`)}
          </li>
        ))}
      </ol>
      <form onSubmit={next}>
        {step === 0 && (
          <fieldset>
            <legend>{t('wizard.step.basics')}</legend>
            <fieldset className="choice">
              <legend>{t('wizard.source')}</legend>
              <label className="check">
                <input type="radio" name="w-source" checked={source === 'scim'} onChange={() => chooseSource('scim')} /> {t('wizard.sourceScim')}
              </label>
              <label className="check">
                <input type="radio" name="w-source" checked={source === 'google'} onChange={() => chooseSource('google')} /> {t('wizard.sourceGoogle')}
              </label>
            </fieldset>
            <label htmlFor="w-name">{t('wizard.name')}</label>
            <input id="w-name" required value={name} onChange={(e) => setName(e.target.value)} />
            <label htmlFor="w-workspace">{t('wizard.workspace')}</label>
            <input id="w-workspace" required value={workspace} onChange={(e) => setWorkspace(e.target.value)} />
            <p className="hint">{t('wizard.workspaceHint')}</p>
            <label htmlFor="w-role">{t('wizard.role')}</label>
            <input id="w-role" required value={role} onChange={(e) => setRole(e.target.value)} />
            <p className="hint">{t('wizard.roleHint')}</p>
          </fieldset>
        )}
        {STEPS[step] === 'google' && (
          <fieldset>
            <legend>{t('wizard.step.google')}</legend>
            <p className="hint">{t('google.intro')}</p>
            <label htmlFor="w-key">{t('google.key')}</label>
            <input id="w-key" type="file" accept="application/json,.json" onChange={(e) => void readKey(e.target.files?.[0])} />
            <p className="hint">{keyText ? t('google.keyRead') : t('google.keyHint')}</p>
            <label htmlFor="w-admin">{t('google.adminEmail')}</label>
            <input id="w-admin" type="email" required value={adminEmail} placeholder="admin@example.com" onChange={(e) => setAdminEmail(e.target.value)} />
            <p className="hint">{t('google.adminEmailHint')}</p>
            <label htmlFor="w-gdomain">{t('google.domain')}</label>
            <input id="w-gdomain" required value={googleDomain} placeholder="example.com" onChange={(e) => setGoogleDomain(e.target.value)} />
            <label htmlFor="w-ous">{t('google.orgUnits')}</label>
            <input id="w-ous" value={orgUnits} placeholder="/Sales, /Engineering" onChange={(e) => setOrgUnits(e.target.value)} />
            <p className="hint">{t('google.orgUnitsHint')}</p>
            <label htmlFor="w-ggroups">{t('google.groups')}</label>
            <input id="w-ggroups" value={googleGroups} placeholder="staff@example.com" onChange={(e) => setGoogleGroups(e.target.value)} />
            <p className="hint">{t('google.groupsHint')}</p>
            <label htmlFor="w-interval">{t('google.interval')}</label>
            <input id="w-interval" type="number" min={5} max={1440} required value={syncInterval} onChange={(e) => setSyncInterval(Number(e.target.value))} />
          </fieldset>
        )}
        {STEPS[step] === 'addresses' && (
          <fieldset>
            <legend>{t('wizard.step.addresses')}</legend>
            <label htmlFor="w-domains">{t('wizard.domains')}</label>
            <input id="w-domains" value={domains} placeholder="example.com, example.de" onChange={(e) => setDomains(e.target.value)} />
            <p className="hint">{source === 'google' ? t('google.domainsHint') : t('wizard.domainsHint')}</p>
            <label className="check">
              <input type="checkbox" checked={rejectCollective} onChange={(e) => setRejectCollective(e.target.checked)} /> {t('wizard.rejectCollective')}
            </label>
            <label htmlFor="w-language">{t('wizard.language')}</label>
            <input id="w-language" value={language} placeholder="de-DE" onChange={(e) => setLanguage(e.target.value)} />
            <p className="hint">{t('wizard.languageHint')}</p>
          </fieldset>
        )}
        {STEPS[step] === 'mapping' && (
          <fieldset>
            <legend>{t('wizard.step.mapping')}</legend>
            <label htmlFor="w-genders">{t('wizard.genders')}</label>
            <textarea id="w-genders" rows={3} value={genders} placeholder={'m = male\nw = female\nx = diverse'} onChange={(e) => setGenders(e.target.value)} />
            <label htmlFor="w-attributes">{t('wizard.attributes')}</label>
            <textarea id="w-attributes" rows={3} value={attributes} placeholder={'jobTitle = title\ndepartment = urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department'} onChange={(e) => setAttributes(e.target.value)} />
            <label htmlFor="w-rules">{t('wizard.rules')}</label>
            <textarea id="w-rules" rows={3} value={rules} placeholder="title = Engineer, Developer -> Engineering" onChange={(e) => setRules(e.target.value)} />
            <p className="hint">{t('wizard.rulesHint')}</p>
          </fieldset>
        )}
        {STEPS[step] === 'retention' && (
          <fieldset>
            <legend>{t('wizard.step.retention')}</legend>
            <label htmlFor="w-retention">{t('wizard.retention')}</label>
            <input id="w-retention" type="number" min={0} max={3650} required value={retention} onChange={(e) => setRetention(Number(e.target.value))} />
            <p className="hint">{t('wizard.retentionHint')}</p>
          </fieldset>
        )}
        {problem && (
          <div className="error" role="alert">
            {problem}
          </div>
        )}
        <div className="actions">
          {step > 0 && (
            <button type="button" className="secondary" onClick={() => setStep(step - 1)}>
              {t('wizard.back')}
            </button>
          )}
          <button type="submit">{step < STEPS.length - 1 ? t('wizard.next') : t('wizard.create')}</button>
        </div>
      </form>
      <ErrorNotice error={error} />
    </main>
  );
}
