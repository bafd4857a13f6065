// The connection wizard: workspace and role, then address rules, then value maps and
// group rules, then retention; it ends showing the SCIM URL and the token (only now).
import { type FormEvent, useState } from 'react';
import { Link } from 'wouter';
import { type Connection, api } from '../api';
import { CopyField } from '../components/CopyField';
import { ErrorNotice } from '../components/ErrorNotice';
import { IdpSteps } from '../components/IdpSteps';
import { useT } from '../i18n';
import { parseList, parseMap, parseRules } from '../settingsText';

const STEPS = ['basics', 'addresses', 'mapping', 'retention'] as const;

export function ConnectionWizard({ orgId }: { orgId: string }) {
  const { t } = useT();
  const [step, setStep] = useState(0);
  const [name, setName] = useState('Entra ID');
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

  const settings = () => {
    const g = parseMap(genders);
    const a = parseMap(attributes);
    const r = parseRules(rules);
    const bad = [...g.bad, ...a.bad, ...r.bad];
    if (bad.length) throw new Error(t('wizard.badLines', { lines: bad.join(' · ') }));
    return {
      defaultRole: role.trim() || 'member',
      domains: parseList(domains),
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
    if (step === 2) {
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
      setCreated(await api.post<Connection>(`/organizations/${orgId}/connections`, { name, workspace, settings: settings() }));
      setError(undefined);
    } catch (err) {
      setError(err);
    }
  };

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
      <h1>{t('wizard.title')}</h1>
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
        {step === 1 && (
          <fieldset>
            <legend>{t('wizard.step.addresses')}</legend>
            <label htmlFor="w-domains">{t('wizard.domains')}</label>
            <input id="w-domains" value={domains} placeholder="example.com, example.de" onChange={(e) => setDomains(e.target.value)} />
            <p className="hint">{t('wizard.domainsHint')}</p>
            <label className="check">
              <input type="checkbox" checked={rejectCollective} onChange={(e) => setRejectCollective(e.target.checked)} /> {t('wizard.rejectCollective')}
            </label>
            <label htmlFor="w-language">{t('wizard.language')}</label>
            <input id="w-language" value={language} placeholder="de-DE" onChange={(e) => setLanguage(e.target.value)} />
            <p className="hint">{t('wizard.languageHint')}</p>
          </fieldset>
        )}
        {step === 2 && (
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
        {step === 3 && (
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
